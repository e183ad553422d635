import type { Role } from './api/types';

/** SPEC §9 roles, weakest first (shared/src/access.ts ROLES; the type checks they match). */
const ORDER: Record<Role, number> = { viewer: 0, operator: 1, supervisor: 2, admin: 3 };

/** True when `role` may do what `needed` may. */
export const roleAtLeastIn = (role: Role, needed: Role): boolean => ORDER[role] >= ORDER[needed];
