import { backupDataDir, restoreDataDir } from '../backup/data-dir.js';
import { type FileCommand, UsageError } from './command.js';

function dirArg(args: string[]): string {
  if (args.length !== 1)
    throw new UsageError(
      args.length === 0 ? 'which directory? give a DIR' : `one DIR only, got: ${args.join(' ')}`,
    );
  return args[0] as string;
}

/** What a backup of this configuration leaves to PostgreSQL's and InfluxDB's own tools. */
function elsewhere(
  m: { database: 'sqlite' | 'postgres'; store: 'embedded' | 'influx' },
  step: 'backup' | 'restore',
) {
  const lines: string[] = [];
  if (m.database === 'postgres')
    lines.push(
      step === 'backup'
        ? 'not in it: the PostgreSQL records (DATABASE_URL): pg_dump them (deploy/backup.sh does)'
        : 'restore the PostgreSQL records separately: pg_restore (deploy/restore.sh does)',
    );
  if (m.store === 'influx')
    lines.push(
      step === 'backup'
        ? 'not in it: the readings in InfluxDB (INFLUX_URL): influxd backup -portable (deploy/backup.sh does)'
        : 'restore the readings into InfluxDB separately: influxd restore -portable (deploy/restore.sh does)',
    );
  return lines;
}

/**
 * `backup DIR`: DATA_DIR into DIR (absent or empty), with a manifest of checksums. The SQLite
 * records are copied online; the embedded store needs the server stopped.
 */
export const backup: FileCommand = {
  usage: 'backup DIR',
  summary: 'backs DATA_DIR up (SQLite records, embedded store, journal) into DIR',
  database: false,
  async run(args, { config, out }) {
    const { dir, manifest } = await backupDataDir(config, dirArg(args));
    const bytes = manifest.files.reduce((n, f) => n + f.bytes, 0);
    out(`backed up ${manifest.dataDir} into ${dir}: ${manifest.files.length} files, ${bytes} bytes`);
    for (const line of elsewhere(manifest, 'backup')) out(line);
  },
};

/**
 * `restore DIR`: a backup into DATA_DIR, which must be absent or empty; every file's checksum is
 * checked before anything is written.
 */
export const restore: FileCommand = {
  usage: 'restore DIR',
  summary: 'restores a backup made by `backup DIR` into an empty DATA_DIR',
  database: false,
  async run(args, { config, out }) {
    const manifest = await restoreDataDir(config, dirArg(args));
    out(
      `restored ${manifest.files.length} files of the backup of ${manifest.createdAt} into ${config.dataDir}`,
    );
    for (const line of elsewhere(manifest, 'restore')) out(line);
    out('start the server now');
  },
};
