import type { Role } from '@gaswatch/shared';
import type { FastifyRequest } from 'fastify';
import type { Actor } from '../db/audit.js';

/**
 * Who may call a route (SPEC §9): `public` (anyone, no login), or the weakest role that may.
 * Every route declares it in `config.access`; a route without one fails the start
 * (plugins/http.ts), so a new route cannot ship unguarded.
 */
export type Access = 'public' | Role;

/** Who is calling: a logged-in user (session cookie) or an API token (Authorization: Bearer). */
export interface Principal {
  kind: 'user' | 'token';
  /** Username, or the token's public id. */
  id: string;
  /** Display name of the user, name of the token. */
  name: string;
  role: Role;
  /** Area subtree the caller sees and acts in; null for every area. */
  area: string | null;
  /** Session id (hash), when authenticated by cookie: changes must then pass the CSRF check. */
  sessionId: string | null;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    /** Set by the auth plugin on every route that is not public; null on public ones. */
    principal: Principal | null;
  }
}

/** The authenticated caller of a guarded route (the auth plugin refused the request otherwise). */
export function principalOf(request: FastifyRequest): Principal {
  const p = request.principal;
  if (p === null) throw new Error(`${request.method} ${request.url}: no principal on a guarded route`);
  return p;
}

/** Who made a change, for the audit log. */
export function auditActor(request: FastifyRequest): Actor {
  const p = principalOf(request);
  return { actor: p.id, actorKind: p.kind, address: request.ip };
}

/** What a scope check is about: a device (or, with dev null, a gateway's command result). */
export interface AreaSubject {
  gw: string;
  dev: string | null;
  site?: string | null | undefined;
  /** A folded alarm (a gateway's or an area's) names its own area; it wins when it does. */
  fold?: { area: string | null } | undefined;
}
