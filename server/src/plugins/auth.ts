import { timingSafeEqual } from 'node:crypto';
import cookie from '@fastify/cookie';
import { roleAtLeast } from '@gaswatch/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Counter } from 'prom-client';
import { AreaTree } from '../auth/areas.js';
import { type AuditQueue, createAuditQueue } from '../auth/audit-queue.js';
import type { AreaSubject, Principal } from '../auth/principal.js';
import { LoginThrottle } from '../auth/throttle.js';
import { errorText } from '../db/database.js';
import { DatabaseUnavailableError } from '../db/errors.js';
import { findLiveSession, type LiveSession, pruneSessions, touchSession } from '../db/sessions.js';
import { findLiveToken, touchToken } from '../db/tokens.js';

/** The session cookie's name. */
export const SESSION_COOKIE = 'gaswatch_session';
/** The header a cookie-authenticated change carries the session's CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';

/** last_seen_at / last_used_at are written at most this often per session or token. */
const TOUCH_EVERY_MS = 60_000;
/** A login checked this recently is not checked again (see `cache` below). */
const CACHE_MS = 30_000;
/** Most logins cached, and most last-use times remembered (bounded memory under a flood). */
const CACHE_MAX = 10_000;
/** Ended sessions are deleted this long after they ended. */
const SESSION_KEEP_MS = 30 * 86_400_000;
/** Areas and gateways' areas changed through another server instance are seen within this. */
const AREA_REFRESH_MS = 30_000;

export interface Auth {
  throttle: LoginThrottle;
  areas: AreaTree;
  /**
   * The area of what a device did: its site's area (GASWATCH_CONFIG `sites`), else its gateway's
   * (set when the gateway was provisioned); null when neither says. The site is the one given,
   * else the device's reported one, else the one the config gives the device.
   */
  areaOf(subject: AreaSubject): string | null;
  /** True when the caller may see what lies in `area`. */
  canSee(principal: Principal | null, area: string | null): boolean;
  /** Re-reads the area tree and the gateways' areas (after a change). */
  reload(): Promise<void>;
  sessionTtlMs: number;
  failures: Counter<'reason'>;
  /** Forgets every cached login check: call after a logout or a change to a user or token. */
  forget(): void;
  /** Called after each `forget` (the live sockets check their logins again). */
  onForget(listener: () => void): void;
  /**
   * Checks the request's login again (for a WebSocket, which keeps its first check while open):
   * the caller now, or null when the login ended (logout, expiry, revocation, a disabled user).
   */
  recheck(request: FastifyRequest): Promise<Principal | null>;
  /** Audit rows written when the database answers (acknowledgements: see auth/audit-queue.ts). */
  auditLater: AuditQueue;
}

declare module 'fastify' {
  interface FastifyInstance {
    auth: Auth;
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Who may do what, for every route (SPEC §9): each route's `config.access` names the weakest
 * role that may call it, or `public`. Callers prove who they are with the session cookie
 * (`POST /api/session`) or an API token (`Authorization: Bearer`). Anonymous → 401, too low a
 * role → 403, a cookie-authenticated change without the session's CSRF token, or from another
 * origin → 403. What lies outside the caller's area is the routes' business (`auth.canSee`):
 * they answer 404 for it, as for what does not exist.
 */
async function authPlugin(app: FastifyInstance): Promise<void> {
  const { db, clock, config } = app;
  await app.register(cookie);
  app.decorateRequest('principal', null);

  const areas = new AreaTree(db);
  let gatewayAreas = new Map<string, string | null>();
  const reload = async () => {
    await areas.reload();
    const rows = await db
      .selectFrom('gateways')
      .select(['id', 'area'])
      .where('revoked_at', 'is', null)
      .execute();
    gatewayAreas = new Map(rows.map((r) => [r.id, r.area]));
  };
  await reload();
  const refresh = setInterval(() => {
    reload().catch((err: unknown) => app.log.warn({ err }, 'reloading areas failed; keeping the last ones'));
  }, AREA_REFRESH_MS);
  refresh.unref();
  const prune = () =>
    pruneSessions(db, clock(), SESSION_KEEP_MS).catch((err: unknown) =>
      app.log.warn({ err }, 'deleting old sessions failed; trying again in an hour'),
    );
  await prune();
  const pruning = setInterval(prune, 3_600_000);
  pruning.unref();
  app.addHook('onClose', async () => {
    clearInterval(refresh);
    clearInterval(pruning);
  });

  // Read when asked, not at registration: the device registry (plugins/ingest.ts) comes later.
  const siteOfDevice = (dev: string): string | null => {
    const devices = config.gaswatch.devices;
    return (
      app.devices.get(dev)?.state?.site || (Object.hasOwn(devices, dev) ? devices[dev]?.site : null) || null
    );
  };

  const failures = new Counter({
    name: 'gaswatch_auth_failures_total',
    help: 'Refused logins and requests, by reason (bad_credentials, throttled, unauthenticated, forbidden, csrf)',
    labelNames: ['reason'] as const,
    registers: [app.metrics],
  });

  const auditLater = createAuditQueue(db, app.log);
  const forgetListeners: Array<() => void> = [];
  app.addHook('onClose', async () => auditLater.stop());

  const auth: Auth = {
    throttle: new LoginThrottle(),
    areas,
    areaOf({ gw, dev, site, fold }) {
      // A gateway's or an area's alarm: its dev is no device, its area is its own.
      if (fold?.area) return fold.area;
      // A detector installed in a registered home is in the home's area, wherever it reports from.
      const home = dev === null ? undefined : app.households.ofDevice(dev);
      if (home !== undefined) return home.area;
      const s = site || (dev === null ? null : siteOfDevice(dev));
      const sites = config.gaswatch.sites;
      const siteArea = s && Object.hasOwn(sites, s) ? sites[s]?.area : undefined;
      return siteArea ?? gatewayAreas.get(gw) ?? null;
    },
    canSee(principal, area) {
      return principal !== null && areas.within(area, principal.area);
    },
    reload,
    sessionTtlMs: config.auth.sessionTtlMs,
    failures,
    forget() {
      cache.clear();
      for (const listener of forgetListeners) listener();
    },
    onForget(listener) {
      forgetListeners.push(listener);
    },
    recheck: async (request) => (await authenticate(request))?.principal ?? null,
    auditLater,
  };
  app.decorate('auth', auth);

  const touched = new Map<string, number>();
  function touch(id: string, now: number, write: () => Promise<void>): void {
    const last = touched.get(id) ?? 0;
    if (now - last < TOUCH_EVERY_MS) return;
    if (touched.size > CACHE_MAX) touched.clear();
    touched.set(id, now);
    // Bookkeeping only: a request never waits for it nor fails with it.
    write().catch((err: unknown) => app.log.warn({ err }, 'recording the last use of a login failed'));
  }

  type Who = { principal: Principal; session: LiveSession | null; expiresAt: number };
  /**
   * Logins checked lately, by their secret: a request within CACHE_MS of the last check does not
   * ask the database, and while the database is unreachable a login checked before keeps working
   * until it expires, so the duty room can still acknowledge. A change made here (logout, a user
   * or token changed) empties it at once; one made through another instance or the CLI takes
   * effect within CACHE_MS.
   */
  const cache = new Map<string, { who: Who | null; at: number }>();

  async function lookUp(kind: 'bearer' | 'cookie', secret: string, now: number): Promise<Who | null> {
    if (kind === 'bearer') {
      const token = await findLiveToken(db, secret, now);
      if (token === undefined) return null;
      touch(token.id, now, () => touchToken(db, token.id, now));
      return {
        principal: {
          kind: 'token',
          id: token.id,
          name: token.name,
          role: token.role,
          area: token.area,
          sessionId: null,
        },
        session: null,
        expiresAt: token.expires_at ?? Number.POSITIVE_INFINITY,
      };
    }
    const session = await findLiveSession(db, secret, now);
    if (session === undefined) return null;
    touch(session.id, now, () => touchSession(db, session.id, now));
    return {
      principal: {
        kind: 'user',
        id: session.username,
        name: session.displayName,
        role: session.role,
        area: session.area,
        sessionId: session.id,
      },
      session,
      expiresAt: session.expiresAt,
    };
  }

  async function authenticate(request: FastifyRequest): Promise<Who | null> {
    const now = clock();
    const header = request.headers.authorization;
    let kind: 'bearer' | 'cookie';
    let secret: string | undefined;
    if (header !== undefined) {
      kind = 'bearer';
      secret = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    } else {
      kind = 'cookie';
      secret = request.cookies[SESSION_COOKIE];
    }
    if (secret === undefined) return null;
    const key = `${kind}:${secret}`;
    const hit = cache.get(key);
    const valid = (w: Who | null) => w !== null && w.expiresAt > now;
    if (hit !== undefined && now - hit.at < CACHE_MS && (hit.who === null || valid(hit.who))) return hit.who;
    let who: Who | null;
    try {
      who = await lookUp(kind, secret, now);
    } catch (err) {
      if (hit !== undefined && valid(hit.who)) {
        request.log.warn({ err }, 'database unreachable: the login is taken as last checked');
        return hit.who;
      }
      throw new DatabaseUnavailableError(`cannot check the login: ${errorText(err)}`, { cause: err });
    }
    if (cache.size > CACHE_MAX) cache.clear();
    cache.set(key, { who, at: now });
    return who;
  }

  /** A browser's request from another site's page: its Origin names another host. */
  function crossOrigin(request: FastifyRequest): boolean {
    const origin = request.headers.origin;
    if (origin === undefined) return false;
    try {
      return new URL(origin).host !== request.host;
    } catch {
      return true;
    }
  }

  function refuse(reply: FastifyReply, status: 401 | 403, reason: string, error: string, message: string) {
    failures.inc({ reason });
    return reply.code(status).send({ error, message });
  }

  app.addHook('onRequest', async (request, reply) => {
    const access = request.routeOptions.config.access;
    // No route (the 404 handler) or a public one: nothing to check.
    if (access === undefined || access === 'public') return;
    const who = await authenticate(request);
    if (who === null)
      return refuse(
        reply,
        401,
        'unauthenticated',
        'unauthenticated',
        'log in first (POST /api/session), or send an API token as "Authorization: Bearer …"',
      );
    const { principal, session } = who;
    if (session !== null) {
      const upgrade = request.headers.upgrade?.toLowerCase() === 'websocket';
      if ((UNSAFE.has(request.method) || upgrade) && crossOrigin(request))
        return refuse(reply, 403, 'csrf', 'forbidden', 'a request from another site’s page is refused');
      const token = request.headers[CSRF_HEADER];
      if (UNSAFE.has(request.method) && (typeof token !== 'string' || !sameText(token, session.csrf)))
        return refuse(
          reply,
          403,
          'csrf',
          'forbidden',
          `a change made with the session cookie must carry the session's CSRF token in ${CSRF_HEADER} (GET /api/session gives it)`,
        );
    }
    if (!roleAtLeast(principal.role, access))
      return refuse(
        reply,
        403,
        'forbidden',
        'forbidden',
        `this needs the ${access} role or above; you have ${principal.role}`,
      );
    request.principal = principal;
  });
}

export default fp(authPlugin, { name: 'auth', fastify: '5.x', dependencies: ['core', 'db', 'households'] });
