import { z } from 'zod';
import { ID_PATTERN } from './ids.js';

/**
 * Roles (SPEC §9), weakest first: each may do what the ones before it may, and more.
 * viewer sees; operator acknowledges, resolves, logs calls and visits; supervisor edits
 * households and spaces, approves permits, records bump tests; admin manages users, tokens,
 * gateways, configuration and reads the audit log.
 */
export const ROLES = ['viewer', 'operator', 'supervisor', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const RoleSchema = z.enum(ROLES);

/** True when `role` may do what `needed` may. */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** Levels of the area tree (SPEC §10): county → township → village or community. */
export const AREA_KINDS = ['county', 'township', 'village', 'community'] as const;
export type AreaKind = (typeof AREA_KINDS)[number];

/** Area ids: lower-case like device ids, so they fit in URLs and topics unescaped. */
export const AreaIdSchema = z
  .string()
  .regex(ID_PATTERN, 'must match ^[a-z0-9][a-z0-9_-]{0,63}$')
  .describe('Area id: lowercase letters, digits, _ and -, 1 to 64 characters');
