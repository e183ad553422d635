import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { HttpError } from '../errors.js';

/** Parses request input with zod; a failure is a 400 listing every problem. */
export function parseOr400<T extends z.ZodType>(schema: T, data: unknown, code = 'bad_request'): z.infer<T> {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const message = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  throw new HttpError(400, code, message);
}

/** JSON schema of the error body, for the OpenAPI document. */
export const ErrorBody = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' } },
  required: ['error', 'message'],
} as const;

/**
 * Errors Fastify raises before routing (an id longer than maxParamLength, a malformed URL): the
 * same `{error, message}` 400 as every other bad request, not Fastify's own shape and 414.
 */
export function frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  void reply.code(400).send({ error: 'bad_request', message: err.message });
}
