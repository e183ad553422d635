import type { FastifyInstance } from 'fastify';

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
    (socket) => {
      app.liveHub.add(socket);
      // Clients only listen; anything they send is ignored.
      socket.on('message', () => {});
    },
  );
}
