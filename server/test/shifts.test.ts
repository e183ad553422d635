import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePayload, topics } from '@gaswatch/shared';
import { waitFor } from '@gaswatch/shared/testing';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Alarm } from '../src/alarms/model.js';
import {
  apiFetch,
  connectGateway,
  createUser,
  type Login,
  login,
  publishReading,
  reading,
  startTestServer,
  type TestServer,
  tempDir,
} from './helpers.js';

/**
 * Shift handover and response times (issue 12) through the whole server: CO alarms raised by
 * readings a gateway publishes over MQTT, acknowledged and resolved over HTTP by two operators of
 * one township, the shift report, the handover, its confirmation by the incoming operator, and
 * the response-time report — on a clock the test moves, so every figure is known to the second.
 */
const GW = 'gw-shifts';
const T0 = Date.UTC(2026, 11, 1, 8, 0, 0);
const S = 1000;
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

let now = T0;
const tmp = tempDir('gw-shifts-');
let server: TestServer;
let gateway: MqttClient;
/** Operators lin and zhao and viewer wang of township A; operator chen of township B. */
let lin: Login;
let zhao: Login;
let wang: Login;
let chen: Login;
/** Alarm ids by device. */
const alarm: Record<string, string> = {};

const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

async function as<T = Record<string, unknown>>(who: Login | null, path: string, init?: RequestInit) {
  const url = `${server.url}${path}`;
  const res = await (who === null ? apiFetch(url, init) : who.fetch(url, init));
  return { status: res.status, body: (await res.json()) as T };
}

const state = (site: string) =>
  encodePayload('state', {
    v: 1,
    ts: iso(now),
    online: true,
    model: 'gaswatch-co',
    kind: 'household-co',
    site,
    location: 'bedroom',
    lastError: null,
  });

beforeAll(async () => {
  const file = join(tmp.dir, 'gaswatch.yaml');
  writeFileSync(
    file,
    stringify({
      sites: {
        'home-a1': { type: 'household', area: 'tw-a' },
        'home-a2': { type: 'household', area: 'tw-a' },
        'home-a3': { type: 'household', area: 'tw-a' },
        'home-b1': { type: 'household', area: 'tw-b' },
      },
    }),
  );
  server = await startTestServer(
    { GASWATCH_CONFIG: file, DATA_DIR: join(tmp.dir, 'data') },
    undefined,
    undefined,
    // The test's clock; no offline sweep, whose wall-clock alarms would come with every step.
    { clock: () => now, alarms: { offlineSweepMs: 2_000_000_000 } },
  );
  for (const [id, kind, parent] of [
    ['county', 'county', null],
    ['tw-a', 'township', 'county'],
    ['tw-b', 'township', 'county'],
  ] as const) {
    const r = await as(null, '/api/areas', json({ id, name: id, kind, parent }));
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  }
  const db = server.app.db;
  await createUser(db, { username: 'lin', role: 'operator', area: 'tw-a' });
  await createUser(db, { username: 'zhao', role: 'operator', area: 'tw-a' });
  await createUser(db, { username: 'wang', role: 'viewer', area: 'tw-a' });
  await createUser(db, { username: 'chen', role: 'operator', area: 'tw-b' });
  lin = await login(server.url, 'lin');
  zhao = await login(server.url, 'zhao');
  wang = await login(server.url, 'wang');
  chen = await login(server.url, 'chen');

  // 400 ppm CO for 3 min in four homes, stamped up to T0 and arriving at T0: EN 50291's fast
  // tier (≥ 300 ppm held 2 min) raises each alarm from the reading of T0 − 60 s, at T0 by the clock.
  gateway = await connectGateway(server, GW);
  for (const [dev, site] of [
    ['co-a1', 'home-a1'],
    ['co-a2', 'home-a2'],
    ['co-a3', 'home-a3'],
    ['co-b1', 'home-b1'],
  ] as const) {
    await gateway.publishAsync(topics.state(GW, dev), state(site), { qos: 1, retain: true });
    for (let i = 0; i <= 18; i++)
      await publishReading(gateway, GW, dev, reading(i, T0 - 180 * S + i * 10 * S, { CO: 400 }));
  }
  await waitFor(async () => {
    await server.app.alarms.idle();
    const open = server.app.alarms.list({ state: 'open' });
    for (const a of open) alarm[a.dev] = a.id;
    return open.length === 4;
  }, 'an alarm in each home');
  for (const a of server.app.alarms.list({})) expect([a.detectedAt, a.late]).toEqual([T0, false]);
}, 60_000);

afterAll(async () => {
  await gateway?.endAsync();
  await server?.close();
  tmp.remove();
});

const ack = (who: Login, dev: string, note: string) =>
  as(who, `/api/alarms/${encodeURIComponent(alarm[dev] ?? '')}/ack`, json({ note }));
const resolve = (who: Login, dev: string, reason: string, note: string) =>
  as(who, `/api/alarms/${encodeURIComponent(alarm[dev] ?? '')}/resolve`, json({ reason, note }));

type Report = Record<string, unknown> & {
  stillOpen: Alarm[];
  notes: Array<Record<string, unknown>>;
  responseTimes: Record<string, unknown>;
};
type ShiftAnswer = { shift: Record<string, unknown> & { id: string; report: Report } };

describe('a shift of township A: answered, handed over, confirmed', () => {
  let shiftId = '';
  let handedOver: Report;

  it('two operators acknowledge and resolve; one alarm of the shift ends', async () => {
    now = T0 + 60 * S;
    expect((await ack(lin, 'co-a1', '')).status).toBe(200);
    now = T0 + 120 * S;
    expect((await ack(zhao, 'co-a2', '已电话联系住户，开窗通风')).status).toBe(200);
    now = T0 + 300 * S;
    expect((await resolve(lin, 'co-a1', 'real_event', '煤炉未封好，已熄灭')).status).toBe(200);
    // Resolving an alarm nobody acknowledged acknowledges it too, with the same note.
    now = T0 + 600 * S;
    expect((await resolve(zhao, 'co-a3', 'false_alarm', '住户做饭油烟')).status).toBe(200);
    // Township B's alarm is answered by its own operator; A's reports never see it.
    now = T0 + 630 * S;
    expect((await ack(chen, 'co-b1', '')).status).toBe(200);
    // Clean air in home a1: its alarm (acknowledged and resolved) closes.
    for (let i = 1; i <= 30; i++)
      await publishReading(gateway, GW, 'co-a1', reading(18 + i, T0 + i * 10 * S, { CO: 0 }));
    await waitFor(async () => {
      await server.app.alarms.idle();
      return server.app.alarms.get(alarm['co-a1'] ?? '')?.state === 'cleared';
    }, 'the alarm of home a1 cleared');
  });

  it('the current shift report: counts, reasons, what is still open, notes and response times', async () => {
    now = T0 + 700 * S;
    const { status, body } = await as<{ area: string; startedAt: string; previous: unknown; report: Report }>(
      lin,
      '/api/shifts/current',
    );
    expect(status).toBe(200);
    // No handover yet in township A: the shift began 12 h ago.
    expect(body).toMatchObject({ area: 'tw-a', startedAt: iso(now - 12 * HOUR), previous: null });
    const r = body.report;
    expect(r).toMatchObject({
      from: iso(now - 12 * HOUR),
      to: iso(now),
      raised: 3,
      acknowledged: 3,
      resolved: 2,
      byReason: { real_event: 1, false_alarm: 1, test: 0, maintenance: 0, device_fault: 0 },
      open: 2,
      notesTotal: 3,
    });
    expect(r.stillOpen.map((a) => [a.dev, a.state, a.ack?.actor, a.resolution?.reason])).toEqual(
      expect.arrayContaining([
        ['co-a2', 'acknowledged', 'zhao', undefined],
        ['co-a3', 'acknowledged', 'zhao', 'false_alarm'],
      ]),
    );
    expect(r.notes).toEqual([
      {
        alarmId: alarm['co-a2'],
        dev: 'co-a2',
        site: 'home-a2',
        kind: 'ack',
        at: T0 + 120 * S,
        actor: 'zhao',
        text: '已电话联系住户，开窗通风',
      },
      {
        alarmId: alarm['co-a1'],
        dev: 'co-a1',
        site: 'home-a1',
        kind: 'resolve',
        at: T0 + 300 * S,
        actor: 'lin',
        text: '煤炉未封好，已熄灭',
        reason: 'real_event',
      },
      {
        alarmId: alarm['co-a3'],
        dev: 'co-a3',
        site: 'home-a3',
        kind: 'resolve',
        at: T0 + 600 * S,
        actor: 'zhao',
        text: '住户做饭油烟',
        reason: 'false_alarm',
      },
    ]);
    // Acknowledged after 60, 120 and 600 s: nearest rank p50 = 120, p90 = 600 (not 504).
    // Resolved after 300 and 600 s: p50 = 300, p90 = 600.
    expect(r.responseTimes).toEqual({
      overall: {
        acknowledge: { count: 3, p50: 120, p90: 600 },
        resolve: { count: 2, p50: 300, p90: 600 },
      },
      byOperator: [
        {
          operator: 'lin',
          acknowledge: { count: 1, p50: 60, p90: 60 },
          resolve: { count: 1, p50: 300, p90: 300 },
        },
        {
          operator: 'zhao',
          acknowledge: { count: 2, p50: 120, p90: 600 },
          resolve: { count: 1, p50: 600, p90: 600 },
        },
      ],
    });

    // A viewer of A reads the same; township B's operator reads B's shift only.
    expect((await as(wang, '/api/shifts/current')).body).toEqual(body);
    const b = await as<{ area: string; report: Report }>(chen, '/api/shifts/current');
    expect(b.body.area).toBe('tw-b');
    expect(b.body.report).toMatchObject({ raised: 1, acknowledged: 1, resolved: 0, open: 1 });
    expect(b.body.report.responseTimes).toMatchObject({
      overall: { acknowledge: { count: 1, p50: 630, p90: 630 } },
      byOperator: [{ operator: 'chen' }],
    });
  });

  it('a viewer may not hand over; the operator hands over and the report is kept as it stood', async () => {
    const refused = await as(wang, '/api/shifts/handover', json({ note: 'x' }));
    expect([refused.status, refused.body.error]).toEqual([403, 'forbidden']);

    now = T0 + 720 * S;
    const note = '3号楼王奶奶家(a2)仍在报警，已约好明早回访';
    const { status, body } = await as<ShiftAnswer>(lin, '/api/shifts/handover', json({ note }));
    expect(status).toBe(201);
    expect(body.shift).toMatchObject({
      area: 'tw-a',
      startedAt: iso(now - 12 * HOUR),
      endedAt: iso(now),
      handedOverBy: 'lin',
      note,
      confirmation: null,
      report: { raised: 3, acknowledged: 3, resolved: 2, open: 2 },
    });
    shiftId = body.shift.id;
    handedOver = body.shift.report;

    // The next shift of A begins at the handover and names it, unconfirmed.
    now = T0 + 750 * S;
    const next = await as<{ startedAt: string; previous: Record<string, unknown>; report: Report }>(
      zhao,
      '/api/shifts/current',
    );
    expect(next.body.startedAt).toBe(iso(T0 + 720 * S));
    expect(next.body.previous).toEqual({
      id: shiftId,
      area: 'tw-a',
      startedAt: iso(T0 + 720 * S - 12 * HOUR),
      endedAt: iso(T0 + 720 * S),
      handedOverBy: 'lin',
      note,
      confirmation: null,
    });
    expect(next.body.report).toMatchObject({ raised: 0, acknowledged: 0, resolved: 0, open: 2, notes: [] });
    // Township B hands over on its own: its shift still began 12 h ago.
    expect((await as(chen, '/api/shifts/current')).body).toMatchObject({
      startedAt: iso(now - 12 * HOUR),
      previous: null,
    });
  });

  it('is confirmed once, by someone else of the area', async () => {
    const own = await as(lin, `/api/shifts/${shiftId}/confirm`, json({ note: '' }));
    expect([own.status, own.body.error]).toEqual([409, 'own_handover']);
    const viewer = await as(wang, `/api/shifts/${shiftId}/confirm`, json({}));
    expect([viewer.status, viewer.body.error]).toEqual([403, 'forbidden']);
    const otherArea = await as(chen, `/api/shifts/${shiftId}/confirm`, json({}));
    expect([otherArea.status, otherArea.body.error]).toEqual([404, 'shift_not_found']);
    const none = await as(zhao, '/api/shifts/00000000000-0000000000000000/confirm', json({}));
    expect([none.status, none.body.error]).toEqual([404, 'shift_not_found']);

    now = T0 + 780 * S;
    const ok = await as<ShiftAnswer>(
      zhao,
      `/api/shifts/${shiftId}/confirm`,
      json({ note: '收到，明早回访' }),
    );
    expect(ok.status).toBe(200);
    expect(ok.body.shift.confirmation).toEqual({ by: 'zhao', at: iso(now), note: '收到，明早回访' });
    const again = await as(zhao, `/api/shifts/${shiftId}/confirm`, json({}));
    expect([again.status, again.body.error]).toEqual([409, 'shift_already_confirmed']);
    expect(String(again.body.message)).toContain('zhao');
    // No body is an empty note; but a body must say nothing else.
    const extra = await as(zhao, `/api/shifts/${shiftId}/confirm`, json({ note: '', by: 'lin' }));
    expect([extra.status, extra.body.error]).toEqual([400, 'bad_request']);
  });

  it('the handed-over report never changes; the list and one shift show it to the area only', async () => {
    // Zhao resolves the alarm left open, in the next shift.
    now = T0 + 900 * S;
    expect((await resolve(zhao, 'co-a2', 'real_event', '回访：热水器烟道堵塞，已报修')).status).toBe(200);

    const one = await as<ShiftAnswer>(wang, `/api/shifts/${shiftId}`);
    expect(one.status).toBe(200);
    expect(one.body.shift.report).toEqual(handedOver);
    expect(one.body.shift.confirmation).toMatchObject({ by: 'zhao' });

    const list = await as<{ shifts: ShiftAnswer['shift'][]; total: number; nextCursor: string | null }>(
      wang,
      '/api/shifts?limit=10',
    );
    expect([list.body.total, list.body.nextCursor, list.body.shifts.map((s) => s.id)]).toEqual([
      1,
      null,
      [shiftId],
    ]);
    expect(list.body.shifts[0]?.report).toEqual(handedOver);
    expect((await as(chen, '/api/shifts')).body).toEqual({ shifts: [], total: 0, nextCursor: null });
    expect((await as(chen, `/api/shifts/${shiftId}`)).status).toBe(404);
    // An admin of every area sees it.
    expect((await as(null, '/api/shifts')).body).toMatchObject({ total: 1 });
  });

  it('handover and confirmation are in the audit log', async () => {
    const { body } = await as<{ entries: Array<Record<string, unknown>> }>(
      null,
      `/api/audit?targetKind=shift&targetId=${shiftId}`,
    );
    expect(body.entries).toMatchObject([
      {
        action: 'shift.confirm',
        actor: 'zhao',
        actorKind: 'user',
        after: { confirmation: { by: 'zhao', note: '收到，明早回访' } },
      },
      {
        action: 'shift.handover',
        actor: 'lin',
        after: { area: 'tw-a', raised: 3, acknowledged: 3, resolved: 2, open: 2 },
      },
    ]);
  });

  it('response times over a range: overall, by operator and by handed-over shift', async () => {
    now = T0 + 1000 * S;
    const from = iso(T0 - HOUR);
    const to = iso(now);
    const { status, body } = await as(wang, `/api/reports/response-times?from=${from}&to=${to}`);
    expect(status).toBe(200);
    // In the range: the shift's answers and zhao's resolution of a2 at 900 s.
    expect(body).toEqual({
      from,
      to,
      overall: {
        acknowledge: { count: 3, p50: 120, p90: 600 },
        resolve: { count: 3, p50: 600, p90: 900 },
      },
      byOperator: [
        {
          operator: 'lin',
          acknowledge: { count: 1, p50: 60, p90: 60 },
          resolve: { count: 1, p50: 300, p90: 300 },
        },
        {
          operator: 'zhao',
          acknowledge: { count: 2, p50: 120, p90: 600 },
          resolve: { count: 2, p50: 600, p90: 900 },
        },
      ],
      // The shift's own figures, over the whole shift: the report it was handed over with.
      byShift: [
        {
          id: shiftId,
          area: 'tw-a',
          startedAt: iso(T0 + 720 * S - 12 * HOUR),
          endedAt: iso(T0 + 720 * S),
          handedOverBy: 'lin',
          ...(handedOver.responseTimes as { overall: object }).overall,
        },
      ],
      shiftsTotal: 1,
    });

    // Township B: chen's acknowledgement only, no shift.
    expect((await as(chen, `/api/reports/response-times?from=${from}&to=${to}`)).body).toMatchObject({
      overall: { acknowledge: { count: 1, p50: 630, p90: 630 }, resolve: { count: 0, p50: null, p90: null } },
      byOperator: [{ operator: 'chen' }],
      byShift: [],
      shiftsTotal: 0,
    });

    // A range that ends before the first answer has none; `to` is exclusive.
    expect(
      (await as(wang, `/api/reports/response-times?from=${from}&to=${iso(T0 + 60 * S)}`)).body,
    ).toMatchObject({ overall: { acknowledge: { count: 0, p50: null, p90: null } }, byOperator: [] });

    // Without a range: the last 7 days.
    expect((await as(wang, '/api/reports/response-times')).body).toMatchObject({
      from: iso(now - 7 * 24 * HOUR),
      to: iso(now),
      overall: { acknowledge: { count: 3 } },
    });
  });
});

describe('bad parameters are 400 with a clear message', () => {
  it.each([
    ['/api/reports/response-times?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z', 'bad_range', /after/],
    [
      '/api/reports/response-times?from=2026-01-01T00:00:00Z&to=2026-12-01T00:00:00Z',
      'range_too_large',
      /334 days; at most 93/,
    ],
    ['/api/reports/response-times?from=yesterday', 'bad_request', /^from: /],
    ['/api/reports/response-times?operator=lin', 'bad_request', /Unrecognized key: "operator"/],
    ['/api/shifts?limit=0', 'bad_request', /^limit: /],
    ['/api/shifts?limit=101', 'bad_request', /^limit: /],
    [`/api/shifts?cursor=${'x'.repeat(65)}`, 'bad_request', /^cursor: /],
  ])('GET %s', async (path, error, message) => {
    const { status, body } = await as<{ error: string; message: string }>(wang, path);
    expect([status, body.error]).toEqual([400, error]);
    expect(body.message).toMatch(message);
  });

  it('a handover note too long, or a body with more than a note', async () => {
    for (const body of [{ note: 'x'.repeat(4001) }, { note: '', actor: 'lin' }, { note: 7 }]) {
      const r = await as<{ error: string; message: string }>(zhao, '/api/shifts/handover', json(body));
      expect([r.status, r.body.error], JSON.stringify(body)).toEqual([400, 'bad_request']);
    }
    // Nothing was handed over by them.
    expect((await as(zhao, '/api/shifts')).body).toMatchObject({ total: 1 });
  });
});
