import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import {
  Kysely,
  type Migration,
  Migrator,
  PostgresAdapter,
  PostgresDialect,
  SqliteAdapter,
  SqliteDialect,
  sql,
} from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import { DatabaseUnavailableError, MigrationError } from './errors.js';
import { MIGRATIONS, migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';

/** Where the relational store lives: a SQLite file (default) or PostgreSQL (DATABASE_URL). */
export type DatabaseConfig = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

export type Db = Kysely<Database>;

/** How long a writer waits for SQLite's lock, and PostgreSQL for a connection, before failing. */
const WAIT_MS = 5_000;

/** For logs and errors: the file, or the PostgreSQL host, port and database, never the password. */
export function describeDatabase(config: DatabaseConfig): string {
  if (config.kind === 'sqlite') return `SQLite ${config.file}`;
  try {
    const u = new URL(config.url);
    return `PostgreSQL ${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'PostgreSQL (unparsable DATABASE_URL)';
  }
}

// node-pg hands int8 (`bigint`, our ms timestamps and counts) back as strings, since they may
// exceed 2^53; ours never do, so both dialects return numbers.
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary'
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * SQLite runs DDL inside transactions, but Kysely's adapter says it does not (0.28), so its
 * Migrator would run SQLite migrations without one: a migration failing half-way would leave its
 * first tables behind. Saying so makes both dialects migrate in one transaction (tested).
 */
class TransactionalSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}
class TransactionalSqliteDialect extends SqliteDialect {
  override createAdapter(): SqliteAdapter {
    return new TransactionalSqliteAdapter();
  }
}

/**
 * A Kysely instance over the configured database. Nothing is opened until the first query
 * (openDatabase makes one at once).
 */
export function createDatabase(config: DatabaseConfig, logger: Logger): Db {
  if (config.kind === 'sqlite') {
    const { file } = config;
    return new Kysely<Database>({
      dialect: new TransactionalSqliteDialect({
        database: async () => {
          mkdirSync(dirname(file), { recursive: true });
          const db = new SQLite(file, { timeout: WAIT_MS });
          // WAL: the console's reads never wait for the engine's writes, nor they for the reads.
          db.pragma('journal_mode = WAL');
          // Off by default in SQLite, per connection: without it `references` is decoration.
          db.pragma('foreign_keys = ON');
          return db;
        },
      }),
    });
  }
  const pool = new pg.Pool({
    connectionString: config.url,
    max: 10,
    connectionTimeoutMillis: WAIT_MS,
    types: pgTypes,
  });
  // An idle connection that PostgreSQL closes (restart, failover) is reported here; unhandled,
  // it would crash the server. The next query opens a new connection.
  pool.on('error', (err) => logger.warn({ err }, 'PostgreSQL connection lost'));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** True on PostgreSQL: for the few queries each database answers best in its own way (household search). */
export const isPostgres = (db: Kysely<unknown> | Db): boolean =>
  db.getExecutor().adapter instanceof PostgresAdapter;

/** Applies every pending migration in one transaction; returns the names applied (none: up to date). */
export async function migrateToLatest(
  db: Db,
  migrations: Readonly<Record<string, Migration>> = MIGRATIONS,
): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider(migrations) });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName ?? '(before any migration)';
    const cause = errorText(error);
    throw new MigrationError(
      failed,
      `database migration ${failed} failed, nothing was applied (rolled back): ${cause}`,
      { cause: error },
    );
  }
  return results.map((r) => r.migrationName);
}

/**
 * An error's text for a one-line reason. node-pg's connection errors may be an AggregateError
 * with an empty message (one per address `localhost` resolves to): name the first one's.
 */
export function errorText(err: unknown): string {
  if (err instanceof AggregateError && err.message === '' && err.errors.length > 0)
    return errorText(err.errors[0]);
  if (err instanceof Error) return err.message || (err as NodeJS.ErrnoException).code || err.name;
  return String(err);
}

/** null when a trivial query answers within `timeoutMs`, else why not (for /readyz). */
export async function pingDatabase(db: Db, timeoutMs = 2_000): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      sql`select 1`.execute(db),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return null;
  } catch (err) {
    return errorText(err);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Opens the database, checks it answers and migrates it: what the server does at start. Throws
 * DatabaseUnavailableError or MigrationError (the database is closed again then).
 */
export async function openDatabase(
  config: DatabaseConfig,
  logger: Logger,
): Promise<{ db: Db; applied: string[] }> {
  const db = createDatabase(config, logger);
  try {
    try {
      await sql`select 1`.execute(db);
    } catch (err) {
      const why = errorText(err);
      throw new DatabaseUnavailableError(`cannot open the database (${describeDatabase(config)}): ${why}`, {
        cause: err,
      });
    }
    return { db, applied: await migrateToLatest(db) };
  } catch (err) {
    await db.destroy().catch(() => {});
    throw err;
  }
}
