import { mintToken, withDatabase } from '../test/helpers.js';

/**
 * An API token (role viewer: /metrics needs one, as Prometheus has) in the database of a server
 * that will run with DATA_DIR `dataDir`, made before it starts, so the timed run has no login in it.
 */
export const benchToken = (dataDir: string): Promise<string> =>
  withDatabase({ DATA_DIR: dataDir }, (db) => mintToken(db, 'viewer'));
