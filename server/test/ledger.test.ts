/**
 * The weekly ledger (issue 13, SPEC §10) through the whole server: a known campaign week built
 * through the real API (areas, households, detectors, visits with hazards found and put right,
 * weather advisories) and alarms raised by readings a gateway publishes over MQTT, acknowledged and
 * resolved over HTTP, all on a clock the test moves. The schedule makes Friday 16:00's ledger;
 * every number of it is checked against what the test put in, then its XLSX (read back) and PDF
 * (its text extracted with pdftotext), in both languages; who may make and see ledgers.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePayload, INSPECTION_ITEMS, type Reading, topics } from '@gaswatch/shared';
import { waitFor } from '@gaswatch/shared/testing';
import ExcelJS from 'exceljs';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type Alarm, type AlarmKind, alarmKind } from '../src/alarms/model.js';
import { listAudit } from '../src/db/audit.js';
import { PdfFontMissingError } from '../src/reports/cjk-font.js';
import { ledgerPdf } from '../src/reports/ledger-pdf.js';
import type { HazardItemCounts, Ledger, LedgerHead, LedgerRow } from '../src/reports/ledger-schema.js';
import { ZoneClock } from '../src/zone.js';
import {
  apiFetch,
  connectGateway,
  mintToken,
  publishReading,
  reading,
  startTestServer,
  type TestServer,
  tempDir,
  tokenId,
} from './helpers.js';

const GW = 'gw-ledger';
const S = 1000;
/** A local time in Beijing (TIME_ZONE's default), ms. */
const at = (day: string, time = '10:00:00') => Date.parse(`${day}T${time}+08:00`);
const iso = (ms: number) => new Date(ms).toISOString();

/** The ledger week under test: Friday 4 to Thursday 10 December 2026; Friday 11th 16:00 makes it. */
const WEEK = { start: '2026-12-04', end: '2026-12-10' };
const RUN = at('2026-12-11', '16:00:00');

let now = at('2026-11-20', '09:00:00');
const tmp = tempDir('gw-ledger-');
const dataDir = join(tmp.dir, 'data');
let file = '';
let server: TestServer;
let gateway: MqttClient;
const token: Record<'sup' | 'op' | 'viewer' | 'supB', string> = { sup: '', op: '', viewer: '', supB: '' };

async function call<T = Record<string, unknown>>(
  who: keyof typeof token | 'admin',
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const init: RequestInit = {
    method,
    headers: {
      ...(who === 'admin' ? {} : { authorization: `Bearer ${token[who]}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  };
  const res = await (who === 'admin' ? apiFetch : fetch)(`${server.url}${path}`, init);
  return { status: res.status, body: (await res.json()) as T };
}

async function ok(r: Promise<{ status: number; body: unknown }>, status = 201) {
  const { status: got, body } = await r;
  expect(got, JSON.stringify(body)).toBe(status);
  return body as Record<string, unknown>;
}

const household = (id: string, area: string, flags: string[], detectors: object[] = []) =>
  ok(
    call('sup', 'POST', '/api/households', {
      id,
      area,
      address: `${id} 号`,
      occupants: { count: 2, flags },
      detectors,
    }),
  );

const visit = (household: string, date: string, found: string[], rectification: object | null = null) =>
  ok(
    call('op', 'POST', '/api/inspections', {
      household,
      date,
      inspectors: ['李国强'],
      items: [
        ...found.map((item) => ({ item, result: 'found' })),
        ...(found.length === 0 ? [{ item: 'flue_blocked', result: 'not_found' }] : []),
      ],
      rectification,
    }),
  ) as Promise<{ inspection: { id: string } }>;

const advisory = (area: string, day: string, grade: number) =>
  ok(call('admin', 'POST', '/api/advisories', { area, day, grade, text: `${area} 第${grade}级` }));

const seqs: Record<string, number> = {};
async function send(dev: string, ts: number, values: Reading['values'], extra: Partial<Reading> = {}) {
  seqs[dev] = (seqs[dev] ?? 0) + 1;
  await publishReading(gateway, GW, dev, { ...reading(seqs[dev], ts, values), ...extra });
}

/** Waits for the device's alarm of `kind` raised at `t` by the clock, and answers it. */
async function alarmOf(dev: string, kind: AlarmKind, t: number): Promise<Alarm> {
  let found: Alarm | undefined;
  await waitFor(async () => {
    await server.app.alarms.idle();
    found = server.app.alarms.list({ dev }).find((a) => alarmKind(a) === kind && a.detectedAt === t);
    return found !== undefined;
  }, `${kind} alarm of ${dev}`);
  return found as Alarm;
}

/** CO 400 ppm for 3 min, arriving at `t`: EN 50291's fast tier raises a gas alarm at `t`. */
async function coEvent(dev: string, t: number): Promise<Alarm> {
  now = t;
  for (let i = 0; i <= 18; i++) await send(dev, t - 180 * S + i * 10 * S, { CO: 400 });
  return alarmOf(dev, 'gas', t);
}

const ack = (id: string) =>
  ok(call('op', 'POST', `/api/alarms/${encodeURIComponent(id)}/ack`, { note: '' }), 200);
const resolve = (id: string, reason: string) =>
  ok(call('op', 'POST', `/api/alarms/${encodeURIComponent(id)}/resolve`, { reason, note: '' }), 200);

const scheduled = async (area: string, weekStart: string): Promise<LedgerHead[]> => {
  const r = await call<{ ledgers: LedgerHead[] }>(
    'admin',
    'GET',
    `/api/reports/ledgers?area=${area}&limit=200`,
  );
  return r.body.ledgers.filter(
    (l) => l.area === area && l.week.start === weekStart && l.generatedBy === 'schedule',
  );
};

beforeAll(async () => {
  file = join(tmp.dir, 'gaswatch.yaml');
  writeFileSync(
    file,
    stringify({
      sites: Object.fromEntries(
        ['liujiang-1', 'liujiang-2', 'liujiang-3', 'hexi-1', 'hexi-2', 'beiling-1'].map((s) => [
          s,
          { type: 'household' },
        ]),
      ),
      ledger: { weekday: 5, time: '16:00', campaignStart: '2026-11-01' },
      // Fault alarms at once (no wait for a fault burst): the ledger counts them, it does not time them.
      fold: { faultMinDevices: 0 },
    }),
  );
  server = await startTestServer({ GASWATCH_CONFIG: file, DATA_DIR: dataDir }, dataDir, undefined, {
    clock: () => now,
    // No offline sweep: its wall-clock alarms would come with every step of the clock.
    alarms: { offlineSweepMs: 2_000_000_000 },
    ledgers: { checkMs: 50 },
  });
  for (const [id, name, kind, parent] of [
    ['liucheng', '柳城县', 'county', null],
    ['dapu', '大埔镇', 'township', 'liucheng'],
    ['shapu', '沙埔镇', 'township', 'liucheng'],
    ['liujiang', '柳江村', 'village', 'dapu'],
    ['hexi', '河西村', 'village', 'dapu'],
    ['beiling', '北岭村', 'village', 'shapu'],
  ] as const)
    await ok(call('admin', 'POST', '/api/areas', { id, name, kind, parent }));
  const db = server.app.db;
  token.sup = await mintToken(db, 'supervisor', 'dapu');
  token.op = await mintToken(db, 'operator', 'dapu');
  token.viewer = await mintToken(db, 'viewer', 'dapu');
  token.supB = await mintToken(db, 'supervisor', 'shapu');

  gateway = await connectGateway(server, GW);
  for (const dev of ['co-l1', 'co-l2', 'co-h1'])
    await gateway.publishAsync(
      topics.state(GW, dev),
      encodePayload('state', {
        v: 1,
        ts: iso(now),
        online: true,
        model: 'gaswatch-co',
        kind: 'household-co',
        site: dev === 'co-h1' ? 'hexi-1' : dev === 'co-l1' ? 'liujiang-1' : 'liujiang-2',
        location: 'bedroom',
        lastError: null,
      }),
      { qos: 1, retain: true },
    );

  // Friday 20 November: the registry as the campaign found it.
  await household(
    'liujiang-1',
    'liujiang',
    ['elderly_alone'],
    [{ device: 'co-l1', location: '卧室', installedOn: '2026-11-20', expiresOn: '2031-11-20' }],
  );
  await household(
    'liujiang-2',
    'liujiang',
    [],
    [{ device: 'co-l2', location: '厨房', installedOn: '2026-11-20', expiresOn: '2026-12-09' }],
  );
  await household('hexi-1', 'hexi', ['infant']);
  await ok(
    call('admin', 'POST', '/api/households', {
      id: 'beiling-1',
      area: 'beiling',
      address: '北岭村 1 号',
      detectors: [{ device: 'co-b1', installedOn: '2026-11-20' }],
    }),
  );
  const v1 = await visit('liujiang-1', '2026-11-20', ['flue_blocked'], { deadline: '2026-11-25' });
  await visit('liujiang-2', '2026-10-20', []); // before the campaign: in no cumulative figure
  await advisory('liucheng', '2026-11-15', 1);

  now = at('2026-11-21');
  await visit('hexi-1', '2026-11-21', ['co_alarm_missing'], { deadline: '2026-12-01' });

  // Wednesday 25 November: a test of co-l2's alarm, before the week.
  const td = at('2026-11-25');
  const test = await coEvent('co-l2', td);
  now = td + 600 * S;
  await resolve(test.id, 'test');
  for (let i = 1; i <= 30; i++) await send('co-l2', td + i * 10 * S, { CO: 0 });

  // The week.
  now = at('2026-12-05');
  await household('liujiang-3', 'liujiang', ['bedridden']);
  await household('hexi-2', 'hexi', [], [{ device: 'co-h2', location: '客厅', installedOn: '2026-12-06' }]);
  await ok(
    call('sup', 'PUT', '/api/households/hexi-1/detectors/co-h1', {
      location: '卧室',
      installedOn: '2026-12-05',
      expiresOn: '2031-12-05',
    }),
    200,
  );
  await visit('liujiang-1', '2026-12-05', []);
  await visit('liujiang-3', '2026-12-05', ['burning_in_bedroom', 'room_sealed'], {
    deadline: '2026-12-05',
    outcome: 'rectified',
    rectifiedOn: '2026-12-05',
  });
  await ok(
    call('op', 'PATCH', `/api/inspections/${v1.inspection.id}`, {
      rectification: { outcome: 'rectified', rectifiedOn: '2026-12-05' },
    }),
    200,
  );

  now = at('2026-12-06');
  await visit('hexi-2', '2026-12-06', ['gas_hose_rubber'], { deadline: '2026-12-20' });
  await advisory('dapu', '2026-12-06', 3);
  await advisory('shapu', '2026-12-06', 4);
  await ok(
    call('admin', 'POST', '/api/inspections', {
      household: 'beiling-1',
      date: '2026-12-06',
      inspectors: ['赵'],
      items: [{ item: 'flue_missing', result: 'found' }],
      rectification: { deadline: '2026-12-10' },
    }),
  );
  now = at('2026-12-07');
  await advisory('hexi', '2026-12-07', 2);

  const ta = at('2026-12-07', '20:00:00');
  const gas = await coEvent('co-l1', ta);
  now = ta + 60 * S;
  await ack(gas.id);
  now = ta + 300 * S;
  await resolve(gas.id, 'real_event');

  const tb = at('2026-12-08', '09:00:00');
  now = tb;
  await send('co-h1', tb, { CO: 5 }, { alarm: true });
  const detector = await alarmOf('co-h1', 'detector', tb);
  now = tb + 120 * S;
  await resolve(detector.id, 'false_alarm');
  now = at('2026-12-08');
  await visit('liujiang-1', '2026-12-08', []);

  const tc = at('2026-12-09');
  now = tc;
  await send('co-l2', tc, { CO: 0 }, { status: 'fault' });
  const fault = await alarmOf('co-l2', 'fault', tc);
  now = tc + 30 * S;
  await ack(fault.id);

  // Friday 11 December, after the week: none of this is in its ledger.
  now = at('2026-12-11');
  await resolve(fault.id, 'device_fault');
  await visit('hexi-1', '2026-12-11', ['co_alarm_expired'], { deadline: '2026-12-18' });
  await advisory('liujiang', '2026-12-11', 4);
  await ok(
    call('sup', 'PUT', '/api/households/liujiang-1/detectors/co-l4', { installedOn: '2026-12-11' }),
    200,
  );

  // co-l1 reports ten seconds before the run: online when the ledger is made.
  now = RUN - 10 * S;
  await send('co-l1', now, { CO: 0 });
  await waitFor(async () => server.app.devices.get('co-l1')?.lastSeen === now, 'co-l1 seen');
}, 120_000);

afterAll(async () => {
  await gateway?.endAsync();
  await server?.close();
  tmp.remove();
});

/** Counts of every checklist item: zero but those given as [foundWeek, rectifiedWeek, foundCum, rectifiedCum]. */
function items(given: Record<string, [number, number, number, number]>): Record<string, HazardItemCounts> {
  return Object.fromEntries(
    INSPECTION_ITEMS.map((id) => {
      const [foundWeek, rectifiedWeek, foundCumulative, rectifiedCumulative] = given[id] ?? [0, 0, 0, 0];
      return [id, { foundWeek, rectifiedWeek, foundCumulative, rectifiedCumulative }];
    }),
  );
}

const kinds = (k: Partial<Record<AlarmKind, number>>) => ({
  gas: 0,
  detector: 0,
  offline: 0,
  fault: 0,
  maintenance: 0,
  ...k,
});
const outcomes = (o: Record<string, number>) => ({
  real_event: 0,
  false_alarm: 0,
  test: 0,
  maintenance: 0,
  device_fault: 0,
  unresolved: 0,
  ...o,
});
const figures = (count: number, p50: number | null, p90: number | null) => ({ count, p50, p90 });
/** No chain is configured and nobody goes on site: no alarm is sent, delivered or reached. */
const unnotified = {
  sent: figures(0, null, null),
  delivered: figures(0, null, null),
  onSite: figures(0, null, null),
};

/** Every number the week above must give, worked out by hand from what it put in. */
const HEXI: LedgerRow = {
  area: 'hexi',
  name: '河西村',
  // hexi-1 (Nov 20), hexi-2 (Dec 5); hexi-2 visited in the week, hexi-1 on Nov 21 (and Dec 11: after).
  households: {
    registered: 2,
    registeredWeek: 1,
    visitedWeek: 1,
    visitedCumulative: 2,
    visitsWeek: 1,
    visitsCumulative: 2,
  },
  // hexi-1 (infant), its co-h1 installed Dec 5.
  vulnerable: { registered: 1, covered: 1, uncovered: 0, visitedWeek: 0, visitedCumulative: 1 },
  // gas_hose_rubber (Dec 6, pending, deadline Dec 20), co_alarm_missing (Nov 21, deadline Dec 1: overdue).
  hazards: {
    foundWeek: 1,
    rectifiedWeek: 0,
    foundCumulative: 2,
    rectifiedCumulative: 0,
    outstanding: 2,
    overdue: 1,
    byItem: items({
      gas_hose_rubber: [1, 0, 1, 0],
      co_alarm_missing: [0, 0, 1, 0],
    }) as LedgerRow['hazards']['byItem'],
  },
  // co-h1 (Dec 5, last seen Dec 8), co-h2 (Dec 6, never reported).
  detectors: {
    installedWeek: 2,
    installedCumulative: 2,
    inService: 2,
    expired: 0,
    online: 0,
    offline: 1,
    neverReported: 1,
  },
  // co-h1's detector alarm, resolved as a false alarm 120 s after.
  alarms: {
    week: { raised: 1, byKind: kinds({ detector: 1 }), byOutcome: outcomes({ false_alarm: 1 }) },
    cumulative: { raised: 1, byKind: kinds({ detector: 1 }), byOutcome: outcomes({ false_alarm: 1 }) },
  },
  responseTimes: {
    week: { acknowledge: figures(1, 120, 120), resolve: figures(1, 120, 120), ...unnotified },
    cumulative: { acknowledge: figures(1, 120, 120), resolve: figures(1, 120, 120), ...unnotified },
  },
  // dapu's (Dec 6, grade 3) and hexi's (Dec 7, grade 2); the county's (Nov 15) cumulative.
  advisories: { week: 2, highestGradeWeek: 3, cumulative: 3 },
};

const LIUJIANG: LedgerRow = {
  area: 'liujiang',
  name: '柳江村',
  // liujiang-1, -2 (Nov 20), -3 (Dec 5); visits: -1 Nov 20, Dec 5, Dec 8; -3 Dec 5 (-2's Oct 20: before the campaign).
  households: {
    registered: 3,
    registeredWeek: 1,
    visitedWeek: 2,
    visitedCumulative: 2,
    visitsWeek: 3,
    visitsCumulative: 4,
  },
  // liujiang-1 (elderly alone, co-l1), liujiang-3 (bedridden, no detector); both visited in the week.
  vulnerable: { registered: 2, covered: 1, uncovered: 1, visitedWeek: 2, visitedCumulative: 2 },
  // flue_blocked (Nov 20, put right Dec 5); burning_in_bedroom and room_sealed (Dec 5, on the spot).
  hazards: {
    foundWeek: 2,
    rectifiedWeek: 3,
    foundCumulative: 3,
    rectifiedCumulative: 3,
    outstanding: 0,
    overdue: 0,
    byItem: items({
      flue_blocked: [0, 1, 1, 1],
      burning_in_bedroom: [1, 1, 1, 1],
      room_sealed: [1, 1, 1, 1],
    }) as LedgerRow['hazards']['byItem'],
  },
  // co-l1 and co-l2 (Nov 20; co-l2 expired Dec 9, last seen Dec 9); co-l4 (Dec 11) is after the week.
  detectors: {
    installedWeek: 0,
    installedCumulative: 2,
    inService: 2,
    expired: 1,
    online: 1,
    offline: 1,
    neverReported: 0,
  },
  // co-l1's CO (ack 60 s, real event at 300 s), co-l2's fault (ack 30 s, resolved only on Dec 11),
  // and before the week co-l2's test (resolved, so acknowledged, at 600 s).
  alarms: {
    week: {
      raised: 2,
      byKind: kinds({ gas: 1, fault: 1 }),
      byOutcome: outcomes({ real_event: 1, unresolved: 1 }),
    },
    cumulative: {
      raised: 3,
      byKind: kinds({ gas: 2, fault: 1 }),
      byOutcome: outcomes({ real_event: 1, test: 1, unresolved: 1 }),
    },
  },
  responseTimes: {
    week: { acknowledge: figures(2, 30, 60), resolve: figures(1, 300, 300), ...unnotified },
    cumulative: { acknowledge: figures(3, 60, 600), resolve: figures(2, 300, 600), ...unnotified },
  },
  advisories: { week: 1, highestGradeWeek: 3, cumulative: 2 },
};

const TOTAL: LedgerRow = {
  area: null,
  name: '大埔镇',
  households: {
    registered: 5,
    registeredWeek: 2,
    visitedWeek: 3,
    visitedCumulative: 4,
    visitsWeek: 4,
    visitsCumulative: 6,
  },
  vulnerable: { registered: 3, covered: 2, uncovered: 1, visitedWeek: 2, visitedCumulative: 3 },
  hazards: {
    foundWeek: 3,
    rectifiedWeek: 3,
    foundCumulative: 5,
    rectifiedCumulative: 3,
    outstanding: 2,
    overdue: 1,
    byItem: items({
      flue_blocked: [0, 1, 1, 1],
      burning_in_bedroom: [1, 1, 1, 1],
      room_sealed: [1, 1, 1, 1],
      gas_hose_rubber: [1, 0, 1, 0],
      co_alarm_missing: [0, 0, 1, 0],
    }) as LedgerRow['hazards']['byItem'],
  },
  detectors: {
    installedWeek: 2,
    installedCumulative: 4,
    inService: 4,
    expired: 1,
    online: 1,
    offline: 2,
    neverReported: 1,
  },
  alarms: {
    week: {
      raised: 3,
      byKind: kinds({ gas: 1, detector: 1, fault: 1 }),
      byOutcome: outcomes({ real_event: 1, false_alarm: 1, unresolved: 1 }),
    },
    cumulative: {
      raised: 4,
      byKind: kinds({ gas: 2, detector: 1, fault: 1 }),
      byOutcome: outcomes({ real_event: 1, false_alarm: 1, test: 1, unresolved: 1 }),
    },
  },
  // Acknowledged in the week: 30, 60, 120 s; resolved: 120, 300 s. Since Nov 1: 600 s more of each.
  responseTimes: {
    week: { acknowledge: figures(3, 60, 120), resolve: figures(2, 120, 300), ...unnotified },
    cumulative: { acknowledge: figures(4, 60, 600), resolve: figures(3, 300, 600), ...unnotified },
  },
  // shapu's advisory and liujiang's of Dec 11 are not in it.
  advisories: { week: 2, highestGradeWeek: 3, cumulative: 3 },
};

const NUMBERS = {
  version: 1,
  area: 'dapu',
  areaName: '大埔镇',
  week: WEEK,
  campaignStart: '2026-11-01',
  timeZone: 'Asia/Shanghai',
  rows: [HEXI, LIUJIANG], // by name: 河西村 (hé) before 柳江村 (liǔ)
  total: TOTAL,
};

let ledger: Ledger;

describe('the scheduled ledger', () => {
  it('is not made before Friday 16:00', async () => {
    await new Promise((r) => setTimeout(r, 300)); // several checks of the schedule
    expect(await scheduled('dapu', WEEK.start)).toEqual([]);
  });

  it("is made at Friday 16:00 for every township, once, audited as the system's", async () => {
    now = RUN;
    await waitFor(async () => (await scheduled('dapu', WEEK.start)).length > 0, "dapu's ledger");
    await waitFor(async () => (await scheduled('shapu', WEEK.start)).length > 0, "shapu's ledger");
    await new Promise((r) => setTimeout(r, 200));
    const [head, ...more] = await scheduled('dapu', WEEK.start);
    expect(more).toEqual([]);
    expect(head).toMatchObject({ area: 'dapu', areaName: '大埔镇', week: WEEK, generatedAt: iso(RUN) });
    const r = await call<{ ledger: Ledger }>('viewer', 'GET', `/api/reports/ledgers/${head?.id}`);
    expect(r.status).toBe(200);
    ledger = r.body.ledger;
    const { entries } = await listAudit(server.app.db, { limit: 500 });
    expect(
      entries.filter((e) => e.action === 'ledger.generate' && e.target.id === head?.id).map((e) => e.actor),
    ).toEqual(['system']);
  });

  it('holds every number of the week as the records give it', () => {
    expect(ledger.numbers.rows).toEqual([HEXI, LIUJIANG]);
    expect(ledger.numbers.total).toEqual(TOTAL);
    expect(ledger.numbers).toEqual(NUMBERS);
  });
});

describe('made on request', () => {
  it('a supervisor makes the same ledger of the week now; audited as theirs', async () => {
    const r = await call<{ ledger: Ledger }>('sup', 'POST', '/api/reports/ledger', {
      area: 'dapu',
      week: '2026-12-08',
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.ledger).toMatchObject({ area: 'dapu', week: WEEK, generatedBy: tokenId(token.sup) });
    expect(r.body.ledger.numbers).toEqual(NUMBERS);
    const { entries } = await listAudit(server.app.db, { limit: 500 });
    expect(entries.find((e) => e.target.id === r.body.ledger.id)).toMatchObject({
      action: 'ledger.generate',
      actor: tokenId(token.sup),
      after: { area: 'dapu', week: WEEK, generatedBy: tokenId(token.sup) },
    });
    // Without a week: the last one ended, this one.
    const last = await call<{ ledger: Ledger }>('sup', 'POST', '/api/reports/ledger', { area: 'dapu' });
    expect(last.body.ledger.week).toEqual(WEEK);
  });

  it('refuses a week that has not begun, and an area outside the caller’s', async () => {
    const future = await call('sup', 'POST', '/api/reports/ledger', { area: 'dapu', week: '2026-12-20' });
    expect([future.status, future.body.error]).toEqual([400, 'future_week']);
    const other = await call('supB', 'POST', '/api/reports/ledger', { area: 'dapu' });
    expect([other.status, other.body.error]).toEqual([400, 'unknown_area']);
  });

  it('a viewer may read and download but not make one', async () => {
    const r = await call('viewer', 'POST', '/api/reports/ledger', { area: 'dapu' });
    expect([r.status, r.body.error]).toEqual([403, 'forbidden']);
  });
});

describe('scope', () => {
  it("another township's supervisor sees none of it: 404, and not in the list", async () => {
    for (const path of [
      `/api/reports/ledgers/${ledger.id}`,
      `/api/reports/ledgers/${ledger.id}/file?format=pdf`,
    ]) {
      const r = await call('supB', 'GET', path);
      expect([r.status, r.body.error]).toEqual([404, 'ledger_not_found']);
    }
    const list = await call<{ ledgers: LedgerHead[]; total: number }>('supB', 'GET', '/api/reports/ledgers');
    expect(list.body.ledgers.length).toBeGreaterThan(0);
    expect(list.body.ledgers.every((l) => l.area === 'shapu')).toBe(true);
    const mine = await call<{ ledgers: LedgerHead[] }>('viewer', 'GET', '/api/reports/ledgers?limit=1');
    expect(mine.body.ledgers[0]?.area).toBe('dapu');
  });

  it('pages newest first', async () => {
    const all = await call<{ ledgers: LedgerHead[]; total: number }>(
      'viewer',
      'GET',
      '/api/reports/ledgers?limit=200',
    );
    const ids = all.body.ledgers.map((l) => l.id);
    expect(ids).toEqual([...ids].sort().reverse());
    const first = await call<{ ledgers: LedgerHead[]; nextCursor: string }>(
      'viewer',
      'GET',
      '/api/reports/ledgers?limit=2',
    );
    const second = await call<{ ledgers: LedgerHead[] }>(
      'viewer',
      'GET',
      `/api/reports/ledgers?limit=2&cursor=${first.body.nextCursor}`,
    );
    expect([...first.body.ledgers, ...second.body.ledgers].map((l) => l.id)).toEqual(ids.slice(0, 4));
    expect(all.body.total).toBe(ids.length);
  });
});

async function download(format: 'xlsx' | 'pdf', lang: 'zh-CN' | 'en') {
  const res = await fetch(
    `${server.url}/api/reports/ledgers/${ledger.id}/file?format=${format}&lang=${lang}`,
    {
      headers: { authorization: `Bearer ${token.viewer}` },
    },
  );
  expect(res.status).toBe(200);
  expect(res.headers.get('content-disposition')).toContain(
    `filename="gaswatch-ledger-dapu-2026-12-04.${format}"`,
  );
  return Buffer.from(await res.arrayBuffer());
}

describe('the XLSX', () => {
  const values = (sheet: ExcelJS.Worksheet, row: number) => (sheet.getRow(row).values as unknown[]).slice(1);

  it('in Chinese: a sheet per table, titled with the township and the week, every row of the numbers', async () => {
    const book = new ExcelJS.Workbook();
    await book.xlsx.load((await download('xlsx', 'zh-CN')) as unknown as ArrayBuffer);
    expect(book.worksheets.map((s) => s.name)).toEqual([
      '住户走访情况',
      '重点人群覆盖情况',
      '隐患排查整改情况',
      '隐患分项统计',
      '报警器安装及运行情况',
      '报警分类统计',
      '报警处置结果',
      '报警响应时间（秒）',
      '一氧化碳中毒气象预警',
      '说明',
    ]);
    const households = book.getWorksheet('住户走访情况') as ExcelJS.Worksheet;
    expect(households.getCell('A1').value).toBe('大埔镇冬季一氧化碳中毒防范工作周报');
    expect(String(households.getCell('A2').value)).toContain('统计周期：2026-12-04 至 2026-12-10');
    expect(String(households.getCell('A3').value)).toContain('定时生成');
    expect(['A4', 'B4', 'C4', 'F4'].map((c) => households.getCell(c).value)).toEqual([
      '村（社区）',
      '截至周末',
      '本周',
      '累计',
    ]);
    expect(values(households, 5).slice(1)).toEqual([
      '登记户数',
      '新登记户数',
      '走访户数',
      '走访户次',
      '走访户数',
      '走访户次',
    ]);
    expect(values(households, 6)).toEqual(['河西村', 2, 1, 1, 1, 2, 2]);
    expect(values(households, 7)).toEqual(['柳江村', 3, 1, 2, 3, 2, 4]);
    expect(values(households, 8)).toEqual(['合计', 5, 2, 3, 4, 4, 6]);

    const times = book.getWorksheet('报警响应时间（秒）') as ExcelJS.Worksheet;
    // First sent, delivered (p50, p90), acknowledged (count, p50, p90), on site, resolved; the
    // week's, then cumulative: no chain here, so the times of notifications and on site are empty.
    const _ = undefined;
    expect(values(times, 9)).toEqual([
      ...['合计', _, _, _, _, 3, 60, 120, _, _, 2, 120, 300],
      ...[_, _, _, _, 4, 60, 600, _, _, 3, 300, 600],
    ]);
    const items = book.getWorksheet('隐患分项统计') as ExcelJS.Worksheet;
    // Rows 6 on: the checklist in order; flue_blocked is the 5th item.
    expect(values(items, 10)).toEqual(['烟道', '烟道堵塞', 0, 1, 1, 1]);
    expect(values(items, 6 + INSPECTION_ITEMS.length)).toEqual(['合计', '', 3, 3, 5, 3]);
    const detectors = book.getWorksheet('报警器安装及运行情况') as ExcelJS.Worksheet;
    expect(values(detectors, 8)).toEqual(['合计', 2, 4, 4, 1, 1, 2, 1]);
    const advisories = book.getWorksheet('一氧化碳中毒气象预警') as ExcelJS.Worksheet;
    expect(values(advisories, 6)).toEqual(['河西村', 2, 3, 3]);
  });

  it('in English', async () => {
    const book = new ExcelJS.Workbook();
    await book.xlsx.load((await download('xlsx', 'en')) as unknown as ArrayBuffer);
    expect(book.worksheets[0]?.name).toBe('Households and visits');
    expect(book.worksheets.at(-1)?.name).toBe('About');
    const households = book.worksheets[0] as ExcelJS.Worksheet;
    expect(households.getCell('A1').value).toBe('大埔镇: weekly CO-poisoning prevention ledger');
    expect(values(households, 5).slice(1, 3)).toEqual(['Registered', 'Newly registered']);
    expect(values(households, 8)).toEqual(['Total', 5, 2, 3, 4, 4, 6]);
    const outcomes = book.getWorksheet('Alarms by outcome') as ExcelJS.Worksheet;
    expect(values(outcomes, 5).slice(1, 7)).toEqual([
      'Real event',
      'False alarm',
      'Test',
      'Maintenance work',
      'Device fault',
      'Not resolved',
    ]);
    expect(values(outcomes, 8)).toEqual(['Total', 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 1]);
  });
});

describe('the PDF', () => {
  const text = (pdf: Buffer) =>
    execFileSync('pdftotext', ['-layout', '-', '-'], { input: pdf }).toString('utf8');

  it('in Chinese: the township, the week and the numbers, in a CJK font', async () => {
    const pdf = await download('pdf', 'zh-CN');
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const t = text(pdf);
    expect(t).toContain('大埔镇冬季一氧化碳中毒防范工作周报');
    expect(t).toContain('统计周期：2026-12-04 至 2026-12-10');
    expect(t).toMatch(/柳江村\s+3\s+1\s+2\s+3\s+2\s+4/);
    expect(t).toMatch(/合计\s+5\s+2\s+3\s+4\s+4\s+6/);
    expect(t).toContain('烟道堵塞');
  });

  it('in English', async () => {
    const t = text(await download('pdf', 'en'));
    expect(t).toContain('大埔镇: weekly CO-poisoning prevention ledger');
    expect(t).toContain('Week: 2026-12-04 to 2026-12-10');
    expect(t).toMatch(/Total\s+5\s+2\s+3\s+4\s+4\s+6/);
    expect(t).toContain('Households and visits');
  });

  it('without a CJK font, fails naming the package to install', async () => {
    const missing = [{ file: join(tmp.dir, 'none.ttc'), face: 'X', package: 'fonts-wqy-microhei' }];
    const made = { at: RUN, by: 'schedule' };
    await expect(
      ledgerPdf(ledger.numbers, 'zh-CN', made, new ZoneClock('Asia/Shanghai'), missing),
    ).rejects.toThrow(PdfFontMissingError);
    await expect(
      ledgerPdf(ledger.numbers, 'zh-CN', made, new ZoneClock('Asia/Shanghai'), missing),
    ).rejects.toThrow(/apt-get install fonts-wqy-microhei/);
  });
});

describe('a run missed while the server was down', () => {
  it('is made at the next start, once per township, however many checks race for it', async () => {
    await gateway.endAsync();
    await server.close();
    now = at('2026-12-18', '17:30:00'); // the server was down at 16:00
    server = await startTestServer({ GASWATCH_CONFIG: file, DATA_DIR: dataDir }, dataDir, undefined, {
      clock: () => now,
      alarms: { offlineSweepMs: 2_000_000_000 },
      ledgers: { checkMs: 10 },
    });
    await Promise.all([
      server.app.ledgers.runDue(),
      server.app.ledgers.runDue(),
      server.app.ledgers.runDue(),
    ]);
    await waitFor(async () => (await scheduled('shapu', '2026-12-11')).length > 0, "shapu's missed ledger");
    expect(await scheduled('dapu', '2026-12-11')).toHaveLength(1);
    expect(await scheduled('shapu', '2026-12-11')).toHaveLength(1);
    gateway = await connectGateway(server, GW);
  });
});
