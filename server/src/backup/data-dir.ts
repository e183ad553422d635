import { createHash } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { copyFile, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { ClassicLevel } from 'classic-level';
import type { ServerConfig } from '../config.js';
import { ServerError } from '../errors.js';

/**
 * Backup and restore of DATA_DIR (docs/deploy.md "Backups"): the one-box shape's whole state
 * (SQLite records, embedded store, ingest journal, device registry), and the journal and registry
 * of a site whose records and readings live in PostgreSQL and InfluxDB (which their own tools back
 * up: deploy/backup.sh). A backup is a directory: the files, and a manifest with each file's size
 * and SHA-256 that the restore checks before it writes anything.
 */

/** The manifest's name inside a backup directory. */
export const MANIFEST = 'gaswatch-backup.json';
/** The SQLite file of DATA_DIR (config.ts) and the files SQLite keeps beside it. */
const SQLITE_FILE = 'gaswatch.db';
const SQLITE_SIDE_FILES = new Set([`${SQLITE_FILE}-wal`, `${SQLITE_FILE}-shm`, `${SQLITE_FILE}-journal`]);

export interface BackupManifest {
  format: 1;
  /** ISO time the backup was made. */
  createdAt: string;
  /** DATA_DIR it was made from. */
  dataDir: string;
  /** Where the records were: in the backup (sqlite) or not (postgres: pg_dump's). */
  database: 'sqlite' | 'postgres';
  /** Where the readings were: in the backup (embedded) or not (influx: influxd backup's). */
  store: 'embedded' | 'influx';
  files: Array<{ path: string; bytes: number; sha256: string }>;
}

/** A backup or restore refused for a reason the operator can fix (said in one line, exit 1). */
export class BackupError extends ServerError {
  constructor(code: string, message: string) {
    super(code, message, { statusCode: 409 });
  }
}

function sha256(file: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolvePromise(hash.digest('hex')))
      .on('error', reject);
  });
}

/** Every file under `dir` with its size and modification time: what a copy must see unchanged. */
function listing(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    try {
      const st = statSync(join(dir, f));
      if (st.isFile()) out.set(f, `${st.size}:${st.mtimeMs}`);
    } catch {
      // Gone between the listing and the look (a compaction): not there.
    }
  }
  return out;
}

const sameListing = (a: Map<string, string>, b: Map<string, string>) =>
  a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

/** Copies before the files under DATA_DIR are taken as settled, at most. */
const MAX_COPIES = 10;

/**
 * Copies the files under `from` (but `skip`) to `to` until a copy is taken while nothing changed:
 * opening the embedded store (to hold its lock) lets LevelDB finish its log and compact, which
 * deletes and writes table files for a while, so a copy made during it could miss a file or hold
 * one the store no longer lists. The listing (names, sizes, times) before and after a copy must
 * agree and every file must still be there; else it is copied again, a little later.
 */
async function copySettled(from: string, to: string, skip: (path: string) => boolean): Promise<string[]> {
  for (let attempt = 1; attempt <= MAX_COPIES; attempt++) {
    const before = listing(from);
    const paths = [...before.keys()].filter((p) => !skip(p)).sort();
    let complete = true;
    for (const path of paths) {
      mkdirSync(dirname(join(to, path)), { recursive: true, mode: 0o700 });
      try {
        await copyFile(join(from, path), join(to, path));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        complete = false;
        break;
      }
    }
    if (complete && sameListing(before, listing(from))) return paths;
    for (const path of paths) await rm(join(to, path), { force: true });
    await new Promise((r) => setTimeout(r, 200 * attempt));
  }
  throw new BackupError(
    'data_dir_busy',
    `the files under ${from} kept changing during ${MAX_COPIES} copies: is something else writing there? Try again`,
  );
}

/** Refuses a target that holds anything: a backup or restore never mixes with other files. */
function requireEmpty(dir: string, what: string, code: string): void {
  if (existsSync(dir) && readdirSync(dir).length > 0)
    throw new BackupError(code, `${what} ${dir} is not empty: give a new directory (or move this one aside)`);
}

/**
 * Opens the embedded store to hold its lock while the files are copied: it fails while the server
 * runs (LevelDB admits one process), and the server cannot start half-way through the copy.
 */
async function lockStore(dir: string): Promise<ClassicLevel | null> {
  if (!existsSync(dir)) return null;
  const db = new ClassicLevel(dir, { createIfMissing: false });
  try {
    await db.open();
    return db;
  } catch (err) {
    const locked = (err as { cause?: { code?: string } }).cause?.code === 'LEVEL_LOCKED';
    throw new BackupError(
      locked ? 'server_running' : 'store_unreadable',
      locked
        ? `the embedded store ${dir} is in use: stop the server first (systemctl stop gaswatch-server), back up, then start it again`
        : `cannot open the embedded store ${dir}: ${(err as Error).message}`,
    );
  }
}

export interface BackupResult {
  dir: string;
  manifest: BackupManifest;
}

/**
 * Backs DATA_DIR up into `target` (absent or empty). SQLite goes through its online backup API, so
 * the copy is consistent even while the server writes; the embedded store needs the server
 * stopped (its lock says so); the other files are copied as they are.
 */
export async function backupDataDir(config: ServerConfig, target: string): Promise<BackupResult> {
  const dataDir = config.dataDir;
  const to = resolve(target);
  if (!existsSync(dataDir)) throw new BackupError('no_data_dir', `DATA_DIR ${dataDir} does not exist`);
  if (to === dataDir || to.startsWith(`${dataDir}/`))
    throw new BackupError('backup_inside_data_dir', `the backup cannot go inside DATA_DIR ${dataDir}`);
  requireEmpty(to, 'the backup directory', 'backup_dir_not_empty');
  mkdirSync(to, { recursive: true, mode: 0o700 });
  const store = config.store.kind === 'embedded' ? await lockStore(join(dataDir, 'store')) : null;
  try {
    const sqlite = config.database.kind === 'sqlite' ? config.database.file : null;
    const files: BackupManifest['files'] = [];
    const add = async (path: string) => {
      const file = join(to, path);
      files.push({ path, bytes: statSync(file).size, sha256: await sha256(file) });
    };
    if (sqlite !== null && existsSync(sqlite)) {
      const db = new SQLite(sqlite, { readonly: true, fileMustExist: true });
      try {
        await db.backup(join(to, SQLITE_FILE));
      } finally {
        db.close();
      }
      await add(SQLITE_FILE);
    }
    const skip = (path: string) => path === SQLITE_FILE || SQLITE_SIDE_FILES.has(path);
    for (const path of await copySettled(dataDir, to, skip)) await add(path);
    const manifest: BackupManifest = {
      format: 1,
      createdAt: new Date().toISOString(),
      dataDir,
      database: config.database.kind,
      store: config.store.kind,
      files: files.sort((a, b) => (a.path < b.path ? -1 : 1)),
    };
    writeFileSync(join(to, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    return { dir: to, manifest };
  } finally {
    await store?.close();
  }
}

/** Reads and checks a backup: its manifest, and every file's size and SHA-256. */
export async function verifyBackup(source: string): Promise<BackupManifest> {
  const from = resolve(source);
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(readFileSync(join(from, MANIFEST), 'utf8')) as BackupManifest;
  } catch (err) {
    throw new BackupError(
      'not_a_backup',
      `${from} is not a gaswatch backup (${MANIFEST}: ${(err as Error).message})`,
    );
  }
  if (manifest.format !== 1 || !Array.isArray(manifest.files))
    throw new BackupError('not_a_backup', `${from}/${MANIFEST} is not a backup manifest this server reads`);
  for (const f of manifest.files) {
    const file = join(from, f.path);
    if (relative(from, file).startsWith('..'))
      throw new BackupError('backup_damaged', `${MANIFEST} names a file outside the backup: ${f.path}`);
    if (!existsSync(file)) throw new BackupError('backup_damaged', `${f.path} is missing from the backup`);
    if (statSync(file).size !== f.bytes || (await sha256(file)) !== f.sha256)
      throw new BackupError(
        'backup_damaged',
        `${f.path} in the backup is not the file that was backed up (checksum)`,
      );
  }
  return manifest;
}

/**
 * Restores a backup into DATA_DIR (absent or empty: the restore never overwrites a server's
 * state). Every file is checked first; nothing is written if one is damaged.
 */
export async function restoreDataDir(config: ServerConfig, source: string): Promise<BackupManifest> {
  const manifest = await verifyBackup(source);
  const from = resolve(source);
  const dataDir = config.dataDir;
  requireEmpty(dataDir, 'DATA_DIR', 'data_dir_not_empty');
  if (manifest.database === 'sqlite' && config.database.kind !== 'sqlite')
    throw new BackupError(
      'database_mismatch',
      'the backup holds SQLite records but DATABASE_URL names PostgreSQL: unset it to restore this backup',
    );
  mkdirSync(dataDir, { recursive: true });
  try {
    for (const f of manifest.files) {
      mkdirSync(dirname(join(dataDir, f.path)), { recursive: true });
      await copyFile(join(from, f.path), join(dataDir, f.path));
    }
    const sqlite = join(dataDir, SQLITE_FILE);
    if (existsSync(sqlite)) {
      const db = new SQLite(sqlite, { fileMustExist: true });
      try {
        const check = db.pragma('integrity_check', { simple: true });
        if (check !== 'ok')
          throw new BackupError(
            'backup_damaged',
            `the restored ${SQLITE_FILE} fails SQLite's integrity check: ${String(check)}`,
          );
      } finally {
        db.close();
      }
    }
  } catch (err) {
    // Half a restore is worse than none: the next start would run on it.
    for (const entry of readdirSync(dataDir))
      await rm(join(dataDir, entry), { recursive: true, force: true });
    throw err;
  }
  return manifest;
}
