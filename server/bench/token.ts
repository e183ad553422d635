import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { createDatabase, migrateToLatest } from '../src/db/database.js';
import { insertToken } from '../src/db/tokens.js';

/**
 * An API token (role viewer: /metrics needs one, as Prometheus has) in the database of a server
 * that will run with DATA_DIR `dataDir`, made before it starts, so the timed run has no login in it.
 */
export async function benchToken(dataDir: string): Promise<string> {
  const db = createDatabase(loadConfig({ DATA_DIR: dataDir }).database, pino({ level: 'silent' }));
  try {
    await migrateToLatest(db);
    const { secret } = await insertToken(db, {
      name: 'bench',
      role: 'viewer',
      area: null,
      createdBy: 'bench',
      now: Date.now(),
      expiresAt: null,
    });
    return secret;
  } finally {
    await db.destroy();
  }
}
