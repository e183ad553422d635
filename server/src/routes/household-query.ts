import { AreaIdSchema } from '@gaswatch/shared';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import { visibleAreas } from '../auth/scope.js';
import type { HouseholdQuery } from '../db/households.js';
import { ServerError } from '../errors.js';

/** An area the caller may not name: none by that id, or one outside the caller's (the same answer). */
export class AreaOutsideError extends ServerError {
  constructor(area: string) {
    super('unknown_area', `no area ${area} within your area (GET /api/areas lists them)`, {
      statusCode: 400,
    });
  }
}

/** The filters of the household list, which its export takes as well. */
export const HouseholdFilterFields = {
  area: AreaIdSchema.optional().describe('That area and the areas within it'),
  q: z.string().trim().max(64).optional().describe('Part of the address or of the household id'),
  vulnerable: z
    .enum(['true', 'false'])
    .optional()
    .describe('true: only households with a vulnerable occupant; false: only those without'),
};

/** The filters as the store reads them: the caller's areas, or `area`'s subtree within them. */
export function householdFilterOf(
  app: FastifyInstance,
  caller: Principal,
  q: { area?: string | undefined; q?: string | undefined; vulnerable?: 'true' | 'false' | undefined },
): Pick<HouseholdQuery, 'areas' | 'q' | 'vulnerable'> {
  let areas = visibleAreas(app, caller);
  if (q.area !== undefined) {
    if (!app.auth.areas.has(q.area) || !app.auth.areas.within(q.area, caller.area))
      throw new AreaOutsideError(q.area);
    areas = app.auth.areas.subtree(q.area);
  }
  return { areas, q: q.q, vulnerable: q.vulnerable === undefined ? undefined : q.vulnerable === 'true' };
}
