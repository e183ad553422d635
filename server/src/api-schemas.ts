import { z } from 'zod';

/** The body of every error answer (plugins/http.ts). */
export const ErrorSchema = z
  .object({
    error: z.string().describe('Stable snake_case code, e.g. bad_request, not_found, store_unavailable'),
    message: z.string().describe('What went wrong, for a person'),
  })
  .describe('Error');

export const IsoTimeSchema = z.iso
  .datetime({ offset: true })
  .describe('ISO 8601 time, e.g. 2026-11-23T18:00:00Z');

/** A list's `limit` query parameter: 1 … max, `byDefault` when absent. */
export const limitSchema = (max: number, byDefault: number, what: string) =>
  z.coerce.number().int().min(1).max(max).default(byDefault).describe(`Most ${what} returned`);
