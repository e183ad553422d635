import type { Migration, MigrationProvider } from 'kysely';
import * as alarms0001 from './0001-alarms.js';
import * as access0002 from './0002-access.js';
import * as legacyImport0003 from './0003-legacy-import.js';
import * as shifts0004 from './0004-shifts.js';
import * as households0005 from './0005-households.js';
import * as inspections0006 from './0006-inspections.js';
import * as advisories0007 from './0007-advisories.js';
import * as ledgers0008 from './0008-ledgers.js';
import * as householdIndexes0009 from './0009-household-indexes.js';
import * as maintenance0010 from './0010-maintenance.js';
import * as permits0011 from './0011-permits.js';
import * as notifications0012 from './0012-notifications.js';

/**
 * Every migration, by name, in the order they apply (Kysely sorts the names). Listed here rather
 * than found by scanning a directory: the production bundle is one file with no directory to scan.
 * Forward-only: a change to a released table is a new migration, never an edit of an old one.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-alarms': alarms0001,
  '0002-access': access0002,
  '0003-legacy-import': legacyImport0003,
  '0004-shifts': shifts0004,
  '0005-households': households0005,
  '0006-inspections': inspections0006,
  '0007-advisories': advisories0007,
  '0008-ledgers': ledgers0008,
  '0009-household-indexes': householdIndexes0009,
  '0010-maintenance': maintenance0010,
  '0011-permits': permits0011,
  '0012-notifications': notifications0012,
};

export const migrationProvider = (
  migrations: Readonly<Record<string, Migration>> = MIGRATIONS,
): MigrationProvider => ({
  getMigrations: async () => ({ ...migrations }),
});
