import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import { type Db, describeDatabase, openDatabase } from '../db/database.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The relational store (Kysely over SQLite or PostgreSQL): records people create or act on.
     * Routes never write SQL: they call a store module in server/src/db/.
     */
    db: Db;
  }
}

/**
 * Opens the database the config names and migrates it at registration, so a server that starts
 * has its schema; a failure (unreachable, a migration that fails and rolls back) fails the start.
 * Closed in onClose: registered before every plugin that uses it, it closes after them.
 */
async function dbPlugin(app: FastifyInstance): Promise<void> {
  const { config } = app;
  // buildServer hands Fastify a pino logger (loggerInstance), so its children are pino loggers.
  const logger = app.log as unknown as Logger;
  const { db, applied } = await openDatabase(config.database, logger);
  logger.info({ database: describeDatabase(config.database), migrationsApplied: applied }, 'database ready');
  app.decorate('db', db);
  app.addHook('onClose', async () => {
    await db.destroy();
  });
}

export default fp(dbPlugin, { name: 'db', fastify: '5.x', dependencies: ['core'] });
