// Backup and restore of the one-box DATA_DIR (docs/deploy.md "Backups"): how long the server is
// down for a backup (the embedded store is copied with the server stopped) and how long a restore
// takes, at two sizes of the embedded store, in one run. A township's year: 1 000 detectors
// reporting once a minute are 1.44 million readings a day.
//
//   node --import tsx server/bench/backup.ts
//   BENCH_BACKUP_SIZES=100000,1000000,10000000 BENCH_ROUNDS=3 (defaults; seeding 10 M takes a minute)
import { statSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { backupDataDir, restoreDataDir, verifyBackup } from '../src/backup/data-dir.js';
import { loadConfig } from '../src/config.js';
import { createDatabase, migrateToLatest } from '../src/db/database.js';
import { createEmbeddedStore } from '../src/store/embedded.js';
import type { StoredReading } from '../src/store/types.js';
import { table } from './common.js';
import { tempDir } from './harness.js';

const SIZES = (process.env.BENCH_BACKUP_SIZES ?? '100000,1000000,10000000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DEVICES = 1_000;
const BATCH = 5_000;
const logger = pino({ level: 'silent' });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** A DATA_DIR with `n` readings of 1 000 detectors once a minute, and the migrated SQLite records. */
async function seed(dir: string, n: number): Promise<void> {
  const config = loadConfig({ DATA_DIR: dir });
  const db = createDatabase(config.database, logger);
  await migrateToLatest(db);
  await db.destroy();
  const store = createEmbeddedStore({ dir: join(dir, 'store'), logger });
  await store.start();
  const t0 = Date.parse('2026-11-01T00:00:00Z');
  for (let i = 0; i < n; i += BATCH) {
    const batch: StoredReading[] = [];
    for (let j = i; j < Math.min(n, i + BATCH); j++) {
      const minute = Math.floor(j / DEVICES);
      batch.push({
        gw: `gw-${j % 20}`,
        dev: `co-${j % DEVICES}`,
        ts: t0 + minute * 60_000,
        seq: minute,
        values: { CO: (j % 50) / 2 },
        status: 'ok',
        receivedAt: t0 + minute * 60_000 + 40,
        late: false,
      });
    }
    await store.writeReadings(batch);
  }
  await store.stop();
}

/** Bytes under `dir` as the backup's manifest counts them. */
const bytesOf = (files: { bytes: number }[]) => files.reduce((s, f) => s + f.bytes, 0);

const rows: string[][] = [];
const tmp = tempDir();
try {
  const results = new Map<number, { backup: number[]; verify: number[]; restore: number[]; mb: number }>();
  for (const n of SIZES) {
    const dataDir = join(tmp.dir, `data-${n}`);
    const t = performance.now();
    await seed(dataDir, n);
    process.stderr.write(`seeded ${n} readings in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
    results.set(n, { backup: [], verify: [], restore: [], mb: 0 });
  }
  // Rounds alternate between the sizes, so the machine's drift weighs on both.
  for (let round = 0; round < ROUNDS; round++) {
    for (const n of SIZES) {
      const r = results.get(n) as NonNullable<ReturnType<typeof results.get>>;
      const config = loadConfig({ DATA_DIR: join(tmp.dir, `data-${n}`) });
      const target = join(tmp.dir, `backup-${n}-${round}`);
      let t = performance.now();
      const { manifest } = await backupDataDir(config, target);
      r.backup.push(performance.now() - t);
      r.mb = bytesOf(manifest.files) / 1e6;
      t = performance.now();
      await verifyBackup(target);
      r.verify.push(performance.now() - t);
      const restored = loadConfig({ DATA_DIR: join(tmp.dir, `restored-${n}-${round}`) });
      t = performance.now();
      await restoreDataDir(restored, target);
      r.restore.push(performance.now() - t);
      if (statSync(join(restored.dataDir, 'gaswatch.db')).size === 0)
        throw new Error('restore left no records');
    }
  }
  const first = results.get(SIZES[0] as number);
  for (const [n, r] of results) {
    const b = median(r.backup);
    const ratio = first === undefined ? 1 : b / median(first.backup);
    rows.push([
      n.toLocaleString('en-US'),
      r.mb.toFixed(1),
      (b / 1000).toFixed(2),
      (r.mb / (b / 1000)).toFixed(0),
      (median(r.verify) / 1000).toFixed(2),
      (median(r.restore) / 1000).toFixed(2),
      `${ratio.toFixed(2)}×`,
    ]);
  }
  console.log(
    table(
      `DATA_DIR backup and restore (embedded store + SQLite), median of ${ROUNDS}`,
      ['readings', 'MB', 'backup s (server down)', 'MB/s', 'verify s', 'restore s', 'backup vs smallest'],
      rows,
    ),
  );
} finally {
  tmp.remove();
}
