import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { consoleCatalogue } from '../catalogue.js';

const PAGE = new URL('../../public/index.html', import.meta.url);
/** Where index.html takes the catalogue (a JSON script element the page reads at start). */
const SLOT = '{{CATALOGUE}}';

/** The plain status page: devices, latest readings, alarms with an Acknowledge button. */
export default async function pageRoutes(app: FastifyInstance): Promise<void> {
  const template = await readFile(PAGE, 'utf8');
  if (!template.includes(SLOT)) throw new Error(`${PAGE.pathname} has no ${SLOT} slot for the catalogue`);
  // Inside a <script> element: no "</script>" may appear, so every "<" is escaped.
  const html = template.replace(SLOT, JSON.stringify(consoleCatalogue()).replaceAll('<', '\\u003c'));
  app.get('/', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(html),
  );
}
