import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';

const PAGE = new URL('../../public/index.html', import.meta.url);

/** The plain status page: devices, latest readings, alarms with an Acknowledge button. */
export default async function pageRoutes(app: FastifyInstance): Promise<void> {
  const html = await readFile(PAGE, 'utf8');
  app.get('/', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(html),
  );
}
