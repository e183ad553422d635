/**
 * The household registry at county scale (issue 13, SPEC §10: "with 100 000 households in both
 * SQLite and PostgreSQL, the household list, search and the ledger for one township answer within
 * 2× of their time with 1 000 households"). Over HTTP against in-process servers, on both stores,
 * two registries side by side: a county of one township (1 000 homes), and the same county with
 * 99 more townships around it (100 000 homes). The measured township (大埔镇) is the same 1 000
 * homes in both; the estate grows, the township does not (household-estate.ts makes it).
 *
 * Callers: a supervisor of the county (sees every township) and one of 大埔镇. Each request's time
 * is the median of BENCH_RUNS, taken in turn on the two registries (which first alternating), after
 * an untimed pass over every request on both.
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
import { createDatabase } from '../src/db/database.js';
import { addDays } from '../src/reports/ledger-week.js';
import { ZoneClock } from '../src/zone.js';
import {
  mintToken,
  quietLogger,
  startTestServer,
  type TestServer,
  tempDir,
  withDatabase,
} from '../test/helpers.js';
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
      // Shorter than a trigram: no index can answer it, so it reads the caller's homes.
      { caller, what: 'search of 2 characters「柳江」', run: list(q('柳江')) },
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

/** A registry seeded and served: the county with the measured township only, or with all of them. */
interface Registry {
  server: TestServer;
  ctxs: Record<Case['caller'], Ctx>;
  households: number;
  detectors: number;
  inspections: number;
  seedMs: number;
  remove(): void;
}

/** Seeds a county of `codes` townships into a fresh database of `store` and starts a server over it. */
async function registry(store: 'sqlite' | 'postgres', pg: Postgres | null, name: string, codes: number[]) {
  const tmp = tempDir(`gaswatch-bench-households-${name}-`);
  const config = join(tmp.dir, 'gaswatch.yaml');
  writeFileSync(config, stringify({ ledger: { campaignStart: shape.campaignStart } }));
  const env: Record<string, string> = { DATA_DIR: tmp.dir, GASWATCH_CONFIG: config, TIME_ZONE };
  if (pg !== null) {
    const admin = createDatabase({ kind: 'postgres', url: pg.url }, quietLogger());
    await sql`create database ${sql.id(`bench_${name}`)}`.execute(admin);
    await admin.destroy();
    const u = new URL(pg.url);
    u.pathname = `/bench_${name}`;
    env.DATABASE_URL = u.toString();
  }
  const t = performance.now();
  const seeds = await withDatabase(env, async (db) => {
    await seedCounty(db, now);
    const out: TownshipSeed[] = [];
    for (const code of codes) out.push(await seedTownship(db, code, shape));
    // What autovacuum does by itself after so many new rows (visibility map, statistics);
    // SQLite gathers no statistics unless asked, and the server does not ask.
    if (store === 'postgres') await sql`vacuum analyze`.execute(db);
    return out;
  });
  const seedMs = performance.now() - t;
  const township = seeds.find((x) => x.name === MEASURED.name) as TownshipSeed;
  const server = await startTestServer(env, tmp.dir);
  for (let i = 0; i < 200 && !server.app.alarms.ready(); i++) await sleep(50);
  const sum = (k: 'households' | 'detectors' | 'inspections') => seeds.reduce((n, x) => n + x[k], 0);
  const reg: Registry = {
    server,
    ctxs: {
      county: { url: server.url, bearer: await mintToken(server.app.db, 'supervisor', COUNTY.id) },
      township: { url: server.url, bearer: await mintToken(server.app.db, 'supervisor', township.id) },
    },
    households: sum('households'),
    detectors: sum('detectors'),
    inspections: sum('inspections'),
    seedMs,
    remove: () => tmp.remove(),
  };
  return { reg, township };
}

/**
 * Both registries of a store served at once, each request timed on one and then the other in
 * turn (which goes first alternating): the machine's load, which drifts over a run, weighs on
 * both alike, so the ratio holds where the times do not.
 */
async function benchStore(store: 'sqlite' | 'postgres', pg: Postgres | null): Promise<string> {
  const { reg: small, township } = await registry(store, pg, 'small', [MEASURED.code]);
  let big: Registry | undefined;
  try {
    big = (await registry(store, pg, 'big', townshipCodes(TOWNSHIPS))).reg;
    const all = cases(township);
    // One untimed pass over everything first: the first request of a kind compiles its code.
    for (const r of [small, big]) for (const c of all) await c.run(r.ctxs[c.caller]);
    const rows: (string | number)[][] = [];
    for (const c of all) {
      const ms: [number[], number[]] = [[], []];
      const totals: [number | undefined, number | undefined] = [undefined, undefined];
      for (let i = 0; i < RUNS; i++)
        for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
          const reg = k === 0 ? small : big;
          const t = performance.now();
          totals[k] = (await c.run(reg.ctxs[c.caller])).total;
          ms[k]?.push(performance.now() - t);
        }
      const [a, b] = [median(ms[0]), median(ms[1])];
      const ratio = b / a;
      rows.push([
        c.caller,
        c.what,
        totals[0] === undefined ? '–' : `${totals[0]} / ${totals[1]}`,
        a.toFixed(1),
        b.toFixed(1),
        `${ratio.toFixed(2)}×${ratio > 2 ? ' **over 2×**' : ''}`,
      ]);
    }
    const k = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(n));
    return [
      `${store}: seeded ${small.households} homes in ${(small.seedMs / 1000).toFixed(1)} s; ${big.households} homes (${big.detectors} detectors, ${big.inspections} visits, ${ALARMS * TOWNSHIPS} alarms) in ${(big.seedMs / 1000).toFixed(1)} s`,
      '',
      table(
        `Households, ${store === 'sqlite' ? 'SQLite' : 'PostgreSQL'}: ${small.households} and ${big.households} homes (median of ${RUNS}, ms)`,
        [
          'caller',
          'request',
          `matches ${k(small.households)} / ${k(big.households)}`,
          k(small.households),
          k(big.households),
          'ratio',
        ],
        rows,
      ),
    ].join('\n');
  } finally {
    for (const r of [small, big]) {
      await r?.server.close();
      r?.remove();
    }
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
