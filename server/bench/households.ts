/**
 * The household registry at county scale (issue 13, SPEC §10: "with 100 000 households in both
 * SQLite and PostgreSQL, the household list, search and the ledger for one township answer within
 * 2× of their time with 1 000 households"). Over HTTP against the in-process server, on both
 * stores: first a county of one township (1 000 homes), then the same county with 99 more
 * townships around it (100 000 homes). The measured township (大埔镇) is the same 1 000 homes in
 * both; the estate grows, the township does not (household-estate.ts makes it).
 *
 * Callers: a supervisor of the county (sees every township) and one of 大埔镇. Each request's time
 * is the median of BENCH_RUNS after an untimed pass over every request and one more of its own.
 *
 *   node --import tsx server/bench/households.ts
 *     BENCH_TOWNSHIPS=100 (the big registry's townships), BENCH_TOWNSHIP_HOUSEHOLDS=1000,
 *     BENCH_TOWNSHIP_ALARMS=200 (alarms per township over the campaign), BENCH_RUNS=9,
 *     BENCH_STORES=sqlite,postgres
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Postgres, startPostgres } from '@gaswatch/shared/testing';
import { sql } from 'kysely';
import { stringify } from 'yaml';
import { ZoneClock } from '../src/alarm-export/zone.js';
import { createDatabase } from '../src/db/database.js';
import { addDays } from '../src/reports/ledger-week.js';
import { mintToken, quietLogger, startTestServer, tempDir, withDatabase } from '../test/helpers.js';
import { sleep, table } from './common.js';
import {
  COUNTY,
  type EstateShape,
  MEASURED,
  seedCounty,
  seedTownship,
  type TownshipSeed,
  townshipCodes,
} from './household-estate.js';

const TOWNSHIPS = Number(process.env.BENCH_TOWNSHIPS ?? 100);
const PER_TOWNSHIP = Number(process.env.BENCH_TOWNSHIP_HOUSEHOLDS ?? 1000);
const ALARMS = Number(process.env.BENCH_TOWNSHIP_ALARMS ?? 200);
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const STORES = (process.env.BENCH_STORES ?? 'sqlite,postgres').split(',').map((s) => s.trim());
const TIME_ZONE = 'Asia/Shanghai';
/** The campaign: the last 120 days, up to today. */
const CAMPAIGN_DAYS = 120;

const zone = new ZoneClock(TIME_ZONE);
const now = Date.now();
const today = zone.day(now);
const shape: EstateShape = {
  households: PER_TOWNSHIP,
  villages: 10,
  alarms: ALARMS,
  campaignStart: addDays(today, -CAMPAIGN_DAYS),
  today,
  now,
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** One request of the bench: what it asks, as whom; `total` what the answer says it matched. */
interface Case {
  caller: 'county' | 'township';
  what: string;
  run(ctx: Ctx): Promise<{ total?: number }>;
}

interface Ctx {
  url: string;
  bearer: string;
  /** The ledger made last by this caller (the file downloads render it). */
  ledger?: string;
}

async function call(ctx: Ctx, path: string, init: RequestInit = {}): Promise<Record<string, unknown>> {
  const res = await fetch(`${ctx.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${ctx.bearer}`, ...(init.headers as Record<string, string>) },
  });
  const type = res.headers.get('content-type') ?? '';
  if (!type.includes('json')) {
    const bytes = (await res.arrayBuffer()).byteLength;
    if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
    return { bytes };
  }
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${path}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body;
}

function cases(township: TownshipSeed): Case[] {
  // The 900th of the township's homes: a page deep in its list, and in the county's middle.
  const deep = township.ids[Math.floor(township.ids.length * 0.9)] ?? '';
  const liujiang = township.villages[0];
  const address = `${liujiang?.name ?? ''} 3 组`;
  const idPrefix = liujiang?.id ?? '';
  const list = (query: string) => async (ctx: Ctx) => {
    const b = await call(ctx, `/api/households${query}`);
    return { total: b.total as number };
  };
  const q = (s: string) => `?q=${encodeURIComponent(s)}`;
  const rows: Case[] = [];
  for (const caller of ['county', 'township'] as const) {
    rows.push(
      { caller, what: 'list, first page (50)', run: list('') },
      { caller, what: 'list, deep page (cursor at the 900th home of 大埔镇)', run: list(`?cursor=${deep}`) },
      { caller, what: `search an address part「${address}」`, run: list(q(address)) },
      { caller, what: `search an id prefix「${idPrefix}」`, run: list(q(idPrefix)) },
      { caller, what: 'search that matches nothing「没有这户」', run: list(q('没有这户')) },
    );
    if (caller === 'county')
      rows.push(
        { caller, what: 'list of 大埔镇 (?area=), first page', run: list(`?area=${township.id}`) },
        {
          caller,
          what: `search「${address}」within 大埔镇 (?area=)`,
          run: list(`${q(address)}&area=${township.id}`),
        },
      );
    rows.push(
      {
        caller,
        what: 'detectors needing a visit in 大埔镇 (attention, 200)',
        run: async (ctx) => {
          const b = await call(ctx, `/api/households/attention?area=${township.id}&today=${today}`);
          return { total: b.total as number };
        },
      },
      {
        caller,
        what: 'ledger of 大埔镇, last week: compute and store (POST)',
        run: async (ctx) => {
          const b = await call(ctx, '/api/reports/ledger', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ area: township.id }),
          });
          const ledger = b.ledger as {
            id: string;
            numbers: { total: { households: { registered: number } } };
          };
          ctx.ledger = ledger.id;
          return { total: ledger.numbers.total.households.registered };
        },
      },
      {
        caller,
        what: 'ledger XLSX download (rendered from the stored numbers)',
        run: async (ctx) => {
          await call(ctx, `/api/reports/ledgers/${ctx.ledger}/file?format=xlsx`);
          return {};
        },
      },
      {
        caller,
        what: 'ledger PDF download (rendered from the stored numbers)',
        run: async (ctx) => {
          await call(ctx, `/api/reports/ledgers/${ctx.ledger}/file?format=pdf`);
          return {};
        },
      },
    );
  }
  return rows;
}

interface Measured {
  ms: number;
  total: number | undefined;
}

/** Starts the server over the seeded database and times every case. */
async function measure(env: Record<string, string>, dataDir: string, township: TownshipSeed) {
  const server = await startTestServer(env, dataDir);
  try {
    for (let i = 0; i < 200 && !server.app.alarms.ready(); i++) await sleep(50);
    const ctxs: Record<Case['caller'], Ctx> = {
      county: { url: server.url, bearer: await mintToken(server.app.db, 'supervisor', COUNTY.id) },
      township: { url: server.url, bearer: await mintToken(server.app.db, 'supervisor', township.id) },
    };
    const all = cases(township);
    // One untimed pass over everything first: the first request of a kind compiles its code.
    for (const c of all) await c.run(ctxs[c.caller]);
    const out = new Map<string, Measured & { caller: string; what: string }>();
    for (const c of all) {
      const ctx = ctxs[c.caller];
      const { total } = await c.run(ctx);
      const ms: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t = performance.now();
        await c.run(ctx);
        ms.push(performance.now() - t);
      }
      out.set(`${c.caller} ${c.what}`, { caller: c.caller, what: c.what, ms: median(ms), total });
    }
    return out;
  } finally {
    await server.close();
  }
}

/** A county of one township, measured; then 99 more townships, measured again. */
async function benchStore(store: 'sqlite' | 'postgres', pg: Postgres | null): Promise<string> {
  const tmp = tempDir('gaswatch-bench-households-');
  const config = join(tmp.dir, 'gaswatch.yaml');
  writeFileSync(config, stringify({ ledger: { campaignStart: shape.campaignStart } }));
  const env: Record<string, string> = { DATA_DIR: tmp.dir, GASWATCH_CONFIG: config, TIME_ZONE };
  if (pg !== null) {
    const admin = createDatabase({ kind: 'postgres', url: pg.url }, quietLogger());
    await sql`create database bench_households`.execute(admin);
    await admin.destroy();
    const u = new URL(pg.url);
    u.pathname = '/bench_households';
    env.DATABASE_URL = u.toString();
  }
  try {
    const codes = townshipCodes(TOWNSHIPS);
    let t = performance.now();
    const township = await withDatabase(env, async (db) => {
      await seedCounty(db, now);
      const seed = await seedTownship(db, MEASURED.code, shape);
      if (store === 'postgres') await sql`analyze`.execute(db);
      return seed;
    });
    const seed1k = performance.now() - t;
    const small = await measure(env, tmp.dir, township);

    t = performance.now();
    let totals = {
      households: township.households,
      detectors: township.detectors,
      inspections: township.inspections,
    };
    await withDatabase(env, async (db) => {
      for (const code of codes) {
        if (code === MEASURED.code) continue;
        const s = await seedTownship(db, code, shape);
        totals = {
          households: totals.households + s.households,
          detectors: totals.detectors + s.detectors,
          inspections: totals.inspections + s.inspections,
        };
      }
      // What autovacuum does by itself after so many rows; SQLite gathers no statistics unasked.
      if (store === 'postgres') await sql`analyze`.execute(db);
    });
    const seedBig = performance.now() - t;
    const big = await measure(env, tmp.dir, township);

    const rows = [...small.entries()].map(([key, a]) => {
      const b = big.get(key) as Measured;
      const ratio = b.ms / a.ms;
      return [
        a.caller,
        a.what,
        a.total === undefined ? '–' : `${a.total} / ${b.total}`,
        a.ms.toFixed(1),
        b.ms.toFixed(1),
        `${ratio.toFixed(2)}×${ratio > 2 ? ' **over 2×**' : ''}`,
      ];
    });
    const title = `Households, ${store === 'sqlite' ? 'SQLite' : 'PostgreSQL'}: ${township.households} → ${totals.households} homes (median of ${RUNS}, ms)`;
    return [
      `${store}: seeded ${township.households} homes in ${(seed1k / 1000).toFixed(1)} s, then ${totals.households - township.households} more (${totals.detectors} detectors, ${totals.inspections} visits, ${ALARMS * TOWNSHIPS} alarms in all) in ${(seedBig / 1000).toFixed(1)} s`,
      '',
      table(title, ['caller', 'request', 'matches 1k / 100k', '1k', '100k', '100k / 1k'], rows),
    ].join('\n');
  } finally {
    tmp.remove();
  }
}

const pg = STORES.includes('postgres') ? await startPostgres() : null;
try {
  for (const store of ['sqlite', 'postgres'] as const) {
    if (!STORES.includes(store)) continue;
    console.log(await benchStore(store, store === 'postgres' ? pg : null));
  }
} finally {
  await pg?.stop();
}
