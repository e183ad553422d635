import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { householdSearchIndexed } from '../db/households.js';
import { createHouseholdIndex, type HouseholdIndex } from '../households/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Which household each installed detector is in (households/index.ts). */
    households: HouseholdIndex;
  }
}

/** Other instances' and the CLI's household changes reach this one within this long. */
const RELOAD_MS = 60_000;

/** The household registry's device index, read at start: the database must be up, as for accounts. */
async function householdsPlugin(app: FastifyInstance): Promise<void> {
  const index = createHouseholdIndex(app.db);
  await index.load();
  if (!(await householdSearchIndexed(app.db)))
    app.log.warn(
      "household search has no index (PostgreSQL extension pg_trgm could not be created): a search reads every home of the caller's areas. Create it as a superuser and add the indexes (docs/server.md, Households)",
    );
  const timer = setInterval(() => {
    index
      .load()
      .catch((err: unknown) => app.log.warn({ err }, 'reloading households failed; keeping the last'));
  }, RELOAD_MS);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
  app.decorate('households', index);
}

export default fp(householdsPlugin, { name: 'households', fastify: '5.x', dependencies: ['core', 'db'] });
