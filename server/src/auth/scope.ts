import type { FastifyInstance } from 'fastify';
import { ServerError } from '../errors.js';
import type { Principal } from './principal.js';

/** An area named in a request that does not exist, or lies outside the caller's own area. */
export class AreaNotAssignableError extends ServerError {
  constructor(message: string) {
    super('area_not_assignable', message, { statusCode: 400 });
  }
}

/**
 * Checks that `caller` may give `area` to a user, token or gateway: it exists, and lies within
 * the caller's own area (an admin of a township cannot make an admin of the whole county).
 */
export function checkAssignableArea(app: FastifyInstance, caller: Principal, area: string | null): void {
  if (area === null) {
    if (caller.area !== null)
      throw new AreaNotAssignableError(`you may give areas within ${caller.area} only, not every area`);
    return;
  }
  if (!app.auth.areas.has(area))
    throw new AreaNotAssignableError(`no area ${area} (POST /api/areas creates one)`);
  if (!app.auth.areas.within(area, caller.area))
    throw new AreaNotAssignableError(`area ${area} lies outside your area ${caller.area}`);
}

/** Ids of the areas the caller sees, for a SQL `in`; null when it sees every area. */
export function visibleAreas(app: FastifyInstance, caller: Principal): string[] | null {
  return caller.area === null ? null : app.auth.areas.subtree(caller.area);
}
