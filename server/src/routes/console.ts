import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { consoleCatalogue } from '../catalogue.js';

/** Where the console app's build lands (server/console/dist; the same from dist/src/main.js). */
export const CONSOLE_DIST = fileURLToPath(new URL('../../console/dist', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

interface StaticFile {
  type: string;
  body: Buffer;
  /** Vite names what is under assets/ by content hash: cached for good; index.html never. */
  immutable: boolean;
}

/** Every file of the build, by URL path under /console/: only these are ever served. */
function loadBuild(dir: string): Map<string, StaticFile> | null {
  let names: string[];
  try {
    names = readdirSync(dir, { recursive: true, encoding: 'utf8' });
  } catch {
    return null;
  }
  const files = new Map<string, StaticFile>();
  for (const name of names) {
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    const url = relative(dir, path).split(sep).join('/');
    files.set(url, {
      type: TYPES[extname(url)] ?? 'application/octet-stream',
      body: readFileSync(path),
      immutable: url.startsWith('assets/'),
    });
  }
  return files.has('index.html') ? files : null;
}

/**
 * The console app (server/console, docs/console.md) at /console/, and the catalogue it reads its
 * gas units, alarm states and event types from. The build is read once at start; a path that is
 * not a file of it gets index.html (the app's own pages), so nothing outside the build is reachable.
 */
export default async function consoleRoutes(app: FastifyInstance): Promise<void> {
  const files = loadBuild(CONSOLE_DIST);
  if (files === null)
    app.log.warn(
      { dir: CONSOLE_DIST },
      'console app not built: /console/ answers 503 (npm run build:console)',
    );

  app.get(
    '/api/console/catalogue',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['console'],
        summary: 'Gas names and units, alarm lifecycle states and gateway event types, for the console',
      },
    },
    async () => consoleCatalogue(),
  );

  // The console is the app: the server's root and /console both lead to it.
  for (const path of ['/', '/console'])
    app.get(path, { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) =>
      reply.redirect('/console/'),
    );
  app.get<{ Params: { '*': string } }>(
    '/console/*',
    { config: { access: 'public' }, schema: { hide: true } },
    async (request, reply) => {
      if (files === null)
        return reply
          .code(503)
          .type('text/plain; charset=utf-8')
          .send('The console app is not built: run `npm run build:console` at the repository root.\n');
      const file = files.get(request.params['*']) ?? (files.get('index.html') as StaticFile);
      return reply
        .type(file.type)
        .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .send(file.body);
    },
  );
}
