import type { FastifyInstance } from 'fastify';
import { principalOf } from '../auth/principal.js';

/** /api/live: the WebSocket of live events; the hub (plugins/live-hub.ts) does the work. */
export default async function liveRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/api/live',
    {
      config: { access: 'viewer' },
      websocket: true,
      schema: {
        description:
          'WebSocket: JSON messages {type: "reading"|"deviceState"|"alarm"|"deviceEvent"|"commandResult"|"heartbeat", data} as they happen',
        tags: ['live'],
      },
    },
    (socket, request) => {
      // An area-scoped caller receives its area's events only (SPEC §9).
      const p = principalOf(request);
      app.liveHub.add(socket, p.area === null ? undefined : (area) => app.auth.canSee(p, area));
      // Clients only listen; anything they send is ignored.
      socket.on('message', () => {});
    },
  );
}
