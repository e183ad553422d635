import { ServerError } from '../errors.js';

/** The SQL database could not be opened or reached (PostgreSQL down, a DATA_DIR it cannot write). */
export class DatabaseUnavailableError extends ServerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('database_unavailable', message, {
      ...options,
      statusCode: 503,
      publicMessage: 'the database is unreachable; try again shortly',
    });
  }
}

/** A migration failed at start; its transaction was rolled back, so the schema is as before. */
export class MigrationError extends ServerError {
  /** Name of the migration that failed, e.g. `0001-alarms`. */
  readonly migration: string;
  constructor(migration: string, message: string, options?: { cause?: unknown }) {
    super('migration_failed', message, options);
    this.migration = migration;
  }
}

/**
 * The alarm events kept before SQL could not be imported (the time-series store unreachable at
 * first start): the import is not marked done and is retried, and alarms are not served meanwhile.
 */
export class LegacyImportError extends ServerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('legacy_import_failed', message, options);
  }
}
