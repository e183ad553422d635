import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { type Principal, principalOf } from '../auth/principal.js';

/** How often an open socket's login is checked again. */
const RECHECK_MS = 15_000;
/** Close code of a socket whose login ended: in WebSocket's range for applications, 4000 + 401. */
export const LOGIN_ENDED = 4401;

/** /api/live: the WebSocket of live events; the hub (plugins/live-hub.ts) does the work. */
export default async function liveRoutes(app: FastifyInstance): Promise<void> {
  // A socket keeps the login it opened with; each is checked again every RECHECK_MS and at once
  // after a logout or a change to a user or token here, and closed when its login has ended or
  // its role or area changed (the console then logs in again, or opens a new socket as it is now).
  const open = new Map<WebSocket, { request: FastifyRequest; principal: Principal }>();
  const recheck = async () => {
    for (const [socket, { request, principal }] of open) {
      let now: Principal | null;
      try {
        now = await app.auth.recheck(request);
      } catch (err) {
        app.log.warn({ err }, 'could not check a live socket’s login again; keeping it open');
        continue;
      }
      if (now === null || now.role !== principal.role || now.area !== principal.area) {
        open.delete(socket);
        socket.close(LOGIN_ENDED, 'login ended or changed; log in again');
      }
    }
  };
  app.auth.onForget(() => void recheck());
  const timer = setInterval(() => void recheck(), RECHECK_MS);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));

  app.get(
    '/api/live',
    {
      config: { access: 'viewer' },
      websocket: true,
      schema: {
        description:
          'WebSocket: JSON messages {type: "reading"|"deviceState"|"alarm"|"deviceEvent"|"commandResult"|"maintenance"|"heartbeat", data} as they happen',
        tags: ['live'],
      },
    },
    (socket, request) => {
      // An area-scoped caller receives its area's events only (SPEC §9).
      const p = principalOf(request);
      app.liveHub.add(socket, p.area === null ? undefined : (area) => app.auth.canSee(p, area));
      open.set(socket, { request, principal: p });
      socket.on('close', () => open.delete(socket));
      // Clients only listen; anything they send is ignored.
      socket.on('message', () => {});
    },
  );
}
