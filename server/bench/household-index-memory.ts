/**
 * What the household index (households/index.ts) keeps per installed detector: a county of
 * BENCH_HH_TOWNSHIPS townships (default 20) × 1 000 homes seeded into a fresh SQLite database as
 * in the households bench, the index loaded, and the V8 heap after a full GC compared with before
 * (issue 18: in a household CO programme every detector is in a home, so this is part of what a
 * device costs the server).
 *
 *   node --expose-gc --import tsx server/bench/household-index-memory.ts
 */
import { join } from 'node:path';
import pino from 'pino';
import { openDatabase } from '../src/db/database.js';
import { createHouseholdIndex } from '../src/households/index.js';
import { tempDir } from './harness.js';
import { type EstateShape, seedCounty, seedTownship, townshipCodes } from './household-estate.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const TOWNSHIPS = Number(process.env.BENCH_HH_TOWNSHIPS ?? 20);
const now = Date.parse('2026-12-07T12:00:00+08:00');
const shape: EstateShape = {
  households: 1_000,
  villages: 10,
  alarms: 0,
  campaignStart: '2026-11-01',
  today: '2026-12-07',
  now,
};

const heapUsed = () => {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
};

const tmp = tempDir();
try {
  const { db } = await openDatabase(
    { kind: 'sqlite', file: join(tmp.dir, 'gaswatch.db') },
    pino({ level: 'silent' }),
  );
  await seedCounty(db, now);
  let detectors = 0;
  for (const code of townshipCodes(TOWNSHIPS)) detectors += (await seedTownship(db, code, shape)).detectors;
  const index = createHouseholdIndex(db);
  const before = heapUsed();
  await index.load();
  const after = heapUsed();
  console.log(
    `${TOWNSHIPS * shape.households} homes, ${detectors} detectors: household index ${((after - before) / 1e6).toFixed(1)} MB, ${Math.round((after - before) / detectors)} B per detector`,
  );
  // Keep the index alive past the measurement.
  if (index.generation() < 0) console.log('');
  await db.destroy();
} finally {
  tmp.remove();
}
