/**
 * Confined-space entry and hot-work permits over HTTP (issue 14, SPEC §7): the register of spaces,
 * a permit drawn up, its measures confirmed and approved, gas tests from a live 4-gas detector
 * whose readings a gateway publishes over MQTT (held at each position for the detector's response
 * time), monitoring records, an H2S spike that suspends the work with an evacuation alert, an
 * interruption past the limit that forces a new test, close-out, the PDF in both languages; the
 * state machine and every refusal with its words; who may do what, and scope. The server's clock
 * is the test's, so each window and limit is hit to the second.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePayload, type Permit, type Reading, topics } from '@gaswatch/shared';
import { waitFor } from '@gaswatch/shared/testing';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { stringify } from 'yaml';
import { listAudit } from '../src/db/audit.js';
import { brokenLink, permitEvents } from '../src/db/permits.js';
import {
  connectGateway,
  createUser,
  type Login,
  liveUrl,
  login,
  mintToken,
  publishReading,
  reading,
  startTestServer,
  type TestServer,
  tempDir,
} from './helpers.js';
import { channelsFor, type Providers, SMS_TOKEN, startProviders } from './notify/chain-rig.js';

const GW = 'gw-permits';
const DEV = 'entry-4gas';
/** 2026-12-10 09:00 in Asia/Shanghai. */
const T0 = Date.UTC(2026, 11, 10, 1, 0, 0);
const S = 1000;
const MIN = 60_000;
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** The air at each level of the sewer, as the 4-gas reads it. */
const TOP = { O2: 20.8, LEL: 0, CO: 0, H2S: 1.5 };
const MIDDLE = { O2: 20.4, LEL: 2, CO: 3, H2S: 3 };
/** The pocket at the bottom: oxygen short, methane and H2S (firmware-sim's sewer-entry scenario). */
const POCKET = { O2: 17.2, LEL: 14, CO: 6, H2S: 42 };
const VENTILATED = { O2: 20.7, LEL: 1, CO: 2, H2S: 2 };

type Json = Record<string, unknown>;
interface Refusal {
  code: string;
  message: string;
}
interface Action {
  action: string;
  allowed: boolean;
  refusals: Refusal[];
}
interface Detail {
  permit: Json & { id: string; state: string; validUntil: string; keepUntil: string | null } & Pick<
      Permit,
      'evacuation' | 'sounder'
    >;
  events: {
    seq: number;
    action: string;
    signed: { by: string; name: string; role: string };
    note: string;
    data: Json;
    hash: string;
  }[];
  tests: (Json & { id: string; status: string; readings: (Json & { pass: boolean; reasons: string[] })[] })[];
  monitoring: { records: (Json & { why: string; pass: boolean })[]; total: number; nextDue: string | null };
  actions: Action[];
}

let now = T0;
const tmp = tempDir('gw-permits-');
let server: TestServer;
let gateway: MqttClient;
/** Alibaba Cloud SMS and Tencent Cloud voice, stood in on loopback (the evacuation alert's way). */
let providers: Providers;
let seq = 0;
let air: Reading['values'] = TOP;
/** The commands the server sent the gateway (its cmd topic), as received. */
const commands: Json[] = [];
/** Supervisor 王建国 and operators 李明, 赵强 of township dapu; operator 陈刚 of township shapu. */
const users: Record<string, Login> = {};
const tokens: Record<string, string> = {};

/** Logs everyone in again: a session lasts 12 h of the server's clock, which the test moves on. */
async function relogin(): Promise<void> {
  for (const username of ['wang', 'li', 'zhao', 'chen']) users[username] = await login(server.url, username);
}

async function call(who: string, method: string, path: string, body?: unknown) {
  const init: RequestInit = {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  };
  const user = users[who];
  const r = user
    ? await user.fetch(`${server.url}${path}`, init)
    : await fetch(`${server.url}${path}`, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${tokens[who]}` },
      });
  const text = await r.text();
  return { status: r.status, body: (text === '' ? {} : JSON.parse(text)) as Json };
}
/** An SMS reply as Alibaba Cloud pushes it to the callback route. */
const smsReply = (from: string, content: string) =>
  fetch(`${server.url}/api/notify/callback/sms?token=${SMS_TOKEN}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([
      {
        phone_number: from,
        send_time: '2026-12-10 15:00:00',
        content,
        sign_name: '燃气安全',
        dest_code: '1234',
        sequence_id: 7,
      },
    ]),
  });
/** The evacuation alerts a permit sent by message, as its records list them. */
const evacuationSms = async (id: string) =>
  (await call('li', 'GET', `/api/permits/${id}/notifications`)).body as {
    notifications: { contact: { name: string }; medium: string; outcome: string; text: string }[];
    total: number;
  };
const detail = async (id: string) =>
  (await call('li', 'GET', `/api/permits/${id}`)).body as unknown as Detail;
const action = (d: Detail, name: string) => d.actions.find((a) => a.action === name) as Action;

/** The detector's next reading, sampled now, of the air where it is. */
async function publish(values: Reading['values'] = air): Promise<void> {
  await publishReading(gateway, GW, DEV, reading(seq++, now, values));
}

/** Lets `ms` pass with the detector reading every 10 min (its poll interval): it stays online. */
async function pass(ms: number): Promise<void> {
  const end = now + ms;
  while (now < end) {
    now = Math.min(end, now + 10 * MIN);
    await publish();
  }
}

async function state(dev: string, model: string, kind: string): Promise<void> {
  const s = {
    v: 1,
    ts: iso(now),
    online: true,
    model,
    kind,
    site: 'plant-a',
    location: 'sewer',
    lastError: null,
    pollIntervalS: 600,
  };
  await gateway.publishAsync(topics.state(GW, dev), encodePayload('state', s as never), {
    qos: 1,
    retain: true,
  });
}

/** A whole gas test with the 4-gas: at each position placed, held 30 s, read. */
async function gasTest(permit: string, airs: Reading['values'][], who = 'li') {
  const t = await call(who, 'POST', `/api/permits/${permit}/tests`, { device: DEV, responseTimeS: 30 });
  expect(t.status, JSON.stringify(t.body)).toBe(201);
  const test = t.body.test as { id: string; steps: { position: string }[] };
  const positions = [...new Set(test.steps.map((s) => s.position))];
  let last = t;
  for (const [i, position] of positions.entries()) {
    air = airs[i] ?? (airs.at(-1) as Reading['values']);
    expect(
      (await call(who, 'POST', `/api/permits/${permit}/tests/${test.id}/placements`, { position })).status,
    ).toBe(200);
    now += 30 * S;
    await publish();
    last = await call(who, 'POST', `/api/permits/${permit}/tests/${test.id}/readings`, { position });
    expect(last.status, JSON.stringify(last.body)).toBe(200);
  }
  return {
    id: test.id,
    body: last.body as Json & { test: Json & { status: string }; permit: Json & { state: string } },
  };
}

const SPACE = {
  id: 'ws-12',
  name: '3号污水检查井',
  area: 'liujiang',
  site: 'plant-a',
  location: '柳江路与江滨路交叉口',
  kind: 'manhole',
  hazards: ['oxygen_deficiency', 'toxic_gas', 'flammable_gas'],
  gases: ['H2S', 'CH4'],
  large: true,
};

const FORM = {
  kind: 'confined_space',
  space: 'ws-12',
  work: '清理井底淤泥，更换闸门',
  applicant: { name: '刘志远', unit: '柳江市政养护队', phone: '13800000101' },
  crew: [
    { name: '周强', certificate: 'YX-2026-0131', role: '作业人' },
    { name: '吴海', certificate: 'YX-2026-0132' },
  ],
  attendant: { name: '郑伟', certificate: 'JH-0088', phone: '138 0771 2045' },
  measures: [{ text: '打开上下游检查井井盖自然通风 30 min' }, { text: '设置围栏和警示标志' }],
};

beforeAll(async () => {
  providers = await startProviders();
  const file = join(tmp.dir, 'gaswatch.yaml');
  writeFileSync(
    file,
    stringify({
      channels: channelsFor(providers),
      sites: {
        'plant-a': {
          area: 'liujiang',
          permits: { ruleSet: 'gb30871' },
          steps: [
            { name: '安全科', contacts: [{ name: '安全科值班', to: '13900000077' }], channels: ['sms'] },
          ],
        },
        'factory-b': { area: 'liujiang', permits: { ruleSet: 'mem13' } },
      },
    }),
  );
  server = await startTestServer({ GASWATCH_CONFIG: file }, join(tmp.dir, 'data'), undefined, {
    clock: () => now,
    // Swept by hand (app.permits.sweep()), so the test says when.
    permits: { sweepMs: 24 * HOUR },
  });
  tokens.admin = await mintToken(server.app.db, 'admin');
  for (const [id, kind, parent] of [
    ['liucheng', 'county', null],
    ['dapu', 'township', 'liucheng'],
    ['shapu', 'township', 'liucheng'],
    ['liujiang', 'village', 'dapu'],
  ] as const) {
    const r = await call('admin', 'POST', '/api/areas', { id, name: id, kind, parent });
    expect(r.status).toBe(201);
  }
  for (const [username, displayName, role, area] of [
    ['wang', '王建国', 'supervisor', 'dapu'],
    ['li', '李明', 'operator', 'dapu'],
    ['zhao', '赵强', 'operator', 'dapu'],
    ['chen', '陈刚', 'operator', 'shapu'],
  ] as const) {
    await createUser(server.app.db, { username, displayName, role, area });
  }
  await relogin();
  tokens.viewer = await mintToken(server.app.db, 'viewer', 'dapu');
  tokens.chenViewer = await mintToken(server.app.db, 'viewer', 'shapu');
  gateway = await connectGateway(server, GW);
  gateway.on('message', (topic, payload) => {
    if (topic === topics.cmd(GW)) commands.push(JSON.parse(payload.toString('utf8')) as Json);
  });
  await gateway.subscribeAsync(topics.cmd(GW), { qos: 1 });
  await state(DEV, 'gaswatch-4gas', 'multigas');
  await state('bedroom-co', 'gaswatch-co', 'household-co');
  await publish();
  await publishReading(gateway, GW, 'bedroom-co', reading(0, now, { CO: 0 }));
  await waitFor(() => server.app.devices.get('bedroom-co') !== undefined, 'the devices are known');
}, 60_000);

afterAll(async () => {
  await gateway?.endAsync();
  await server?.close();
  await providers?.close();
  tmp.remove();
});

describe('the confined-space register', () => {
  it('a supervisor registers a space; operators read it; the rule set is its site’s', async () => {
    expect((await call('li', 'POST', '/api/spaces', SPACE)).status).toBe(403);
    const r = await call('wang', 'POST', '/api/spaces', SPACE);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.space).toMatchObject({
      id: 'ws-12',
      large: true,
      ruleSet: null,
      effectiveRuleSet: 'gb30871',
    });
    expect((await call('wang', 'POST', '/api/spaces', SPACE)).body.error).toBe('space_exists');
    const list = await call('li', 'GET', '/api/spaces?q=污水');
    expect(list.body).toMatchObject({ total: 1, nextCursor: null });
    // Another township does not see it, nor may it put a space in dapu.
    expect((await call('chen', 'GET', '/api/spaces/ws-12')).status).toBe(404);
    expect((await call('chenViewer', 'GET', '/api/spaces')).body.total).toBe(0);
    const mem = await call('wang', 'POST', '/api/spaces', {
      ...SPACE,
      id: 'tank-2',
      kind: 'tank',
      site: 'factory-b',
      large: false,
    });
    expect(mem.body.space).toMatchObject({ effectiveRuleSet: 'mem13' });
    const bad = await call('wang', 'POST', '/api/spaces', {
      ...SPACE,
      id: 'x',
      kind: 'cave',
      area: 'nowhere',
    });
    expect(bad).toMatchObject({ status: 400, body: { error: 'bad_request' } });
    expect(String(bad.body.message)).toMatch(/kind/);
    // What a permit drawn up there now would be judged by: the space's rule set over its site's.
    const rules = async (q: string) =>
      (await call('li', 'GET', `/api/permit-rules?${q}`)).body as { rules?: { id: string; validityH: Json } };
    expect((await rules('space=ws-12')).rules?.validityH.confined_space).toMatchObject({
      value: 24,
      source: 'GB 30871-2022 6.10',
    });
    expect((await rules('space=tank-2')).rules?.id).toBe('mem13');
    expect((await rules('site=factory-b')).rules?.id).toBe('mem13');
    expect((await rules('')).rules?.id).toBe('gb30871');
    expect((await call('chen', 'GET', '/api/permit-rules?space=ws-12')).status).toBe(404);
    expect((await call('li', 'GET', '/api/permit-rules?space=ws-12&site=factory-b')).status).toBe(400);
    const audit = await listAudit(server.app.db, { limit: 10, targetKind: 'space' });
    expect(audit.entries.map((e) => [e.action, e.actor])).toContainEqual(['space.create', 'wang']);
  });
});

describe('a confined-space entry from draft to close-out', () => {
  let id: string;
  let evacuations: Json[];
  let otherTownship: Json[];
  let sockets: WebSocket[];

  beforeAll(async () => {
    // An evacuation alert reaches the consoles of the permit's area, not those of another.
    const open = (token: string, into: Json[]) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(liveUrl(server.url), { headers: { authorization: `Bearer ${token}` } });
        ws.on('message', (m) => {
          const msg = JSON.parse(String(m)) as { type: string; data: Json };
          if (msg.type === 'permit') into.push(msg.data);
        });
        ws.once('open', () => resolve(ws)).once('error', reject);
      });
    evacuations = [];
    otherTownship = [];
    sockets = [
      await open(tokens.viewer as string, evacuations),
      await open(tokens.chenViewer as string, otherTownship),
    ];
  });
  afterAll(() => {
    for (const ws of sockets) ws.close();
  });

  it('is drawn up as a draft, its validity capped at 24 h (GB 30871-2022 6.10)', async () => {
    const r = await call('li', 'POST', '/api/permits', {
      ...FORM,
      plannedStart: iso(now),
      plannedEnd: iso(now + 30 * HOUR),
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const p = r.body.permit as Json & { id: string };
    id = p.id;
    expect(p).toMatchObject({
      state: 'draft',
      kind: 'confined_space',
      level: null,
      ruleSet: { id: 'gb30871', name: 'GB 30871-2022' },
      space: { id: 'ws-12', name: '3号污水检查井', kind: 'manhole' },
      area: 'liujiang',
      positions: ['top', 'middle', 'bottom'],
      validUntil: iso(now + 24 * HOUR),
      rules: {
        testWindowMin: 30,
        interruptionMin: 60,
        continuous: true,
        recordEveryMin: 120,
        validityH: 24,
        keepYears: 1,
      },
      createdBy: 'li',
    });
    expect(p.measures).toEqual([
      { n: 1, text: FORM.measures[0]?.text, confirmed: null },
      { n: 2, text: FORM.measures[1]?.text, confirmed: null },
    ]);
  });

  it('is approved by a supervisor once every measure is confirmed, never by whoever drew it up', async () => {
    let d = await detail(id);
    expect(action(d, 'approve').refusals.map((x) => x.code)).toEqual(['role_required']);
    expect((await call('li', 'POST', `/api/permits/${id}/actions/approve`, {})).status).toBe(403);
    const early = await call('wang', 'POST', `/api/permits/${id}/actions/approve`, {});
    expect(early.body).toEqual({
      error: 'measures_unconfirmed',
      message: '2 safety measures are not confirmed yet',
    });
    for (const n of [1, 2])
      expect((await call('zhao', 'POST', `/api/permits/${id}/measures/${n}/confirm`)).status).toBe(200);
    expect((await call('zhao', 'POST', `/api/permits/${id}/measures/1/confirm`)).body.error).toBe(
      'measure_confirmed',
    );
    const ok = await call('wang', 'POST', `/api/permits/${id}/actions/approve`, { note: '同意作业' });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    d = ok.body as unknown as Detail;
    expect(d.permit.state).toBe('approved');
    expect(d.permit.measures).toMatchObject([
      { confirmed: { by: 'zhao', name: '赵强', role: 'operator' } },
      {},
    ]);
    expect(d.events).toMatchObject([
      {
        seq: 1,
        action: 'approve',
        from: 'draft',
        to: 'approved',
        signed: { by: 'wang', name: '王建国', role: 'supervisor' },
        note: '同意作业',
      },
    ]);
    // Work cannot start on an approval alone.
    expect(action(d, 'start').refusals[0]?.code).toBe('invalid_transition');
    const start = await call('li', 'POST', `/api/permits/${id}/actions/start`, { note: '' });
    expect(start.body).toEqual({
      error: 'invalid_transition',
      message: '“Start work” is not possible while the permit is “Approved”',
    });
  });

  it('refuses a detector that cannot test the air of a confined space, and one it does not see', async () => {
    const co = await call('li', 'POST', `/api/permits/${id}/tests`, { device: 'bedroom-co' });
    expect(co.status).toBe(409);
    expect(co.body).toMatchObject({ error: 'detector_cannot_test' });
    expect(String(co.body.message)).toBe('Detector bedroom-co cannot test Oxygen, Combustible gas, H2S');
    expect((await call('li', 'POST', `/api/permits/${id}/tests`, { device: 'ghost' })).body.error).toBe(
      'device_not_found',
    );
    // The 4-gas can test it, but is not fit to trust until bump-tested today and calibrated (SPEC §11).
    const unfit = await call('li', 'POST', `/api/permits/${id}/tests`, { device: DEV });
    expect(unfit.body).toEqual({
      error: 'detector_unfit',
      message:
        'Detector entry-4gas may not be used for a gas test: no bump test recorded, no calibration recorded',
    });
    const m = `/api/devices/${DEV}/maintenance`;
    const cal = await call('wang', 'POST', `${m}/calibrations`, {
      result: 'pass',
      nextDue: '2027-06-30',
      certificate: 'JL-2026-3381',
    });
    expect(cal.status, JSON.stringify(cal.body)).toBe(201);
    const bump = await call('wang', 'POST', `${m}/bump-tests`, { result: 'pass', method: 'docking_station' });
    expect(bump.status, JSON.stringify(bump.body)).toBe(201);
    expect(
      (
        await call('li', 'POST', `/api/permits/${id}/tests`, {
          device: DEV,
          instrument: { id: 'x', gases: ['O2'], bumpTestedAt: iso(now), calibrationDue: '2027-01-01' },
        })
      ).status,
    ).toBe(400);
    expect((await detail(id)).permit.state).toBe('approved');
  });

  it('tests O2 → LEL → CO, H2S at top, middle and bottom; the H2S pocket at the bottom fails it', async () => {
    const t = await call('li', 'POST', `/api/permits/${id}/tests`, { device: DEV, responseTimeS: 30 });
    expect(t.status, JSON.stringify(t.body)).toBe(201);
    const test = t.body.test as { id: string; steps: { position: string; gas: string }[] };
    expect(test.steps.map((s) => `${s.position}:${s.gas}`)).toEqual(
      ['top', 'middle', 'bottom'].flatMap((p) => ['O2', 'LEL', 'CO', 'H2S'].map((g) => `${p}:${g}`)),
    );
    expect((t.body.permit as Json).state).toBe('testing');
    const base = `/api/permits/${id}/tests/${test.id}`;
    expect((await call('li', 'POST', `${base}/readings`, { position: 'top' })).body.error).toBe('not_placed');
    expect((await call('li', 'POST', `${base}/placements`, { position: 'middle' })).body.error).toBe(
      'out_of_order',
    );
    expect((await call('li', 'POST', `${base}/placements`, { position: 'top' })).status).toBe(200);
    now += 29 * S;
    await publish();
    const early = await call('li', 'POST', `${base}/readings`, { position: 'top' });
    expect(early.body.error).toBe('not_settled');
    expect(String(early.body.message)).toMatch(/^hold the detector at top 1 s more/);
    now += 1 * S;
    // Held 30 s, but the reading it has was sampled before: the next one counts.
    expect((await call('li', 'POST', `${base}/readings`, { position: 'top' })).body.error).toBe(
      'no_settled_reading',
    );
    await publish();
    const top = await call('li', 'POST', `${base}/readings`, { position: 'top' });
    expect(top.status, JSON.stringify(top.body)).toBe(200);
    expect((top.body.test as Json).next).toMatchObject({ position: 'middle', placedAt: null });
    // Typed values are for portable instruments; this detector's readings are taken live.
    expect(
      (
        await call('li', 'POST', `${base}/readings`, {
          position: 'middle',
          values: [{ gas: 'O2', value: 20, unit: '%vol' }],
        })
      ).status,
    ).toBe(400);

    for (const [position, values] of [
      ['middle', MIDDLE],
      ['bottom', POCKET],
    ] as const) {
      air = values;
      await call('li', 'POST', `${base}/placements`, { position });
      now += 30 * S;
      await publish();
      const r = await call('li', 'POST', `${base}/readings`, { position });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    }
    const d = await detail(id);
    const failed = d.tests[0] as Detail['tests'][number];
    expect(failed.status).toBe('failed');
    expect(failed.readings.filter((r) => !r.pass).map((r) => `${r.position}:${(r as Json).gas}`)).toEqual([
      'bottom:O2',
      'bottom:LEL',
      'bottom:H2S',
    ]);
    expect(failed.readings.filter((r) => !r.pass).flatMap((r) => r.reasons)).toEqual([
      'Oxygen 17.2 %vol, below 19.5 %vol',
      'Combustible gas 0.7 %vol (14 %LEL), above 0.5 %vol (10 %LEL)',
      'H2S 42 ppm (59.5 mg/m³), above the MAC of 10 mg/m³ (7.06 ppm)',
    ]);
    expect(d.permit.state).toBe('testing');
    expect(action(d, 'start').refusals[0]?.code).toBe('invalid_transition');
    expect((await call('li', 'POST', `${base}/placements`, { position: 'top' })).body.error).toBe(
      'test_complete',
    );
  });

  it('after ventilating, a new test passes and makes the permit ready, signed by the tester', async () => {
    const { body } = await gasTest(id, [VENTILATED]);
    expect(body.test.status).toBe('passed');
    expect(body.permit.state).toBe('ready');
    const d = await detail(id);
    expect(d.events.at(-1)).toMatchObject({
      action: 'pass_test',
      to: 'ready',
      signed: { by: 'li', name: '李明' },
    });
    expect(d.tests.map((t) => t.status)).toEqual(['failed', 'passed']);
  });

  it('entry must start within 30 min of the passed test: 30:01 later it must test again', async () => {
    await pass(30 * MIN + 1 * S);
    const d = await detail(id);
    expect(action(d, 'start').refusals).toEqual([
      {
        code: 'test_too_old',
        params: { limit: 30 },
        message: 'More than 30 min since the gas test passed: test again',
      },
    ]);
    const r = await call('li', 'POST', `/api/permits/${id}/actions/start`, { note: '' });
    expect(r).toMatchObject({ status: 409, body: { error: 'test_too_old' } });
  });

  it('a re-test from ready passes; entry exactly 30 min later starts the work, the detector bound to it', async () => {
    await gasTest(id, [VENTILATED]);
    await pass(30 * MIN);
    const r = await call('li', 'POST', `/api/permits/${id}/actions/start`, { note: '入井作业' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const d = r.body as unknown as Detail;
    expect(d.permit).toMatchObject({ state: 'in_progress', monitor: { device: DEV, gw: GW } });
    expect(d.events.at(-1)).toMatchObject({
      action: 'start',
      signed: { by: 'li' },
      data: { monitor: { device: DEV } },
    });
  });

  it('keeps a monitoring record at entry and at least every 2 h (GB 30871-2022 6.5)', async () => {
    await publish();
    await server.app.permits.idle();
    await pass(2 * HOUR);
    await server.app.permits.idle();
    const d = await detail(id);
    expect(d.monitoring.records.map((m) => m.why)).toEqual(['interval', 'start']);
    const [interval, start] = d.monitoring.records as unknown as { at: string }[];
    expect(Date.parse(interval?.at ?? '') - Date.parse(start?.at ?? '')).toBeLessThanOrEqual(2 * HOUR);
    expect(d.monitoring.nextDue).toBe(iso(Date.parse(interval?.at ?? '') + 2 * HOUR));
  });

  it('an H2S spike suspends the work by itself and raises the evacuation alert', async () => {
    air = { ...VENTILATED, H2S: 25 };
    now += 10 * MIN;
    await publish();
    await waitFor(async () => (await detail(id)).permit.state === 'suspended', 'the permit suspended');
    await server.app.permits.idle();
    const d = await detail(id);
    const suspension = d.events.at(-1);
    expect(suspension).toMatchObject({
      action: 'suspend',
      signed: { by: 'system', role: 'system' },
      data: { retest: true, device: DEV },
    });
    expect(['reading_failed', 'alarm']).toContain(suspension?.data.reason);
    await waitFor(
      () => evacuations.some((e) => e.kind === 'evacuate' && e.permitId === id),
      'the evacuation alert',
    );
    const alert = evacuations.find((e) => e.kind === 'evacuate') as Json & { text: Record<string, string> };
    expect(alert).toMatchObject({
      permitId: id,
      area: 'liujiang',
      state: 'suspended',
      device: DEV,
      seq: suspension?.seq,
    });
    // The permit says which suspension it is in, in the list too: a console opened later finds it.
    expect(d.permit.suspension).toMatchObject({
      seq: suspension?.seq,
      by: 'system',
      reason: suspension?.data.reason,
      retest: true,
    });
    const listed = await call('li', 'GET', '/api/permits?state=suspended');
    expect((listed.body.permits as Detail['permit'][]).find((p) => p.id === id)?.suspension).toEqual(
      d.permit.suspension,
    );
    expect(alert.text['zh-CN']).toMatch(
      /^3号污水检查井（柳江路与江滨路交叉口）：作业因(监测数据不合格|检测仪报警)中止：人员撤离后须重新进行气体分析/,
    );
    expect(otherTownship.filter((e) => e.kind === 'evacuate')).toEqual([]);

    // The work site hears it: the gateway of the bound detector is told to sound its sounder.
    await waitFor(() => commands.some((c) => c.type === 'evacuate'), 'the evacuate command');
    const evacuate = commands.find((c) => c.type === 'evacuate') as Json & { id: string };
    expect(evacuate).toEqual({
      v: 1,
      id: expect.stringMatching(/^evacuate-/),
      type: 'evacuate',
      device: DEV,
      reason: expect.stringContaining(`permit ${id} (3号污水检查井`),
    });
    expect(commands.filter((c) => c.type === 'evacuate')).toHaveLength(1);
    // What the gateway answered is kept with the permit and shown live.
    await gateway.publishAsync(
      topics.cmdResult(GW),
      encodePayload('cmdResult', {
        v: 1,
        id: evacuate.id,
        ok: true,
        ts: iso(now),
        message: `sounder of ${DEV} on for the evacuation; it sounds until a silence command`,
      }),
      { qos: 1 },
    );
    const sounderRows = async () =>
      (await listAudit(server.app.db, { limit: 50, targetKind: 'permit' })).entries.filter(
        (e) => e.action === 'permit.sounder' && e.target.id === id,
      );
    await waitFor(async () => (await sounderRows()).length === 2, 'the sounder records');
    // Both at the test clock's one instant, written by two paths: in the order of what happened.
    const order = (e: { after: unknown }) => ((e.after as { status?: string }).status === 'sent' ? 0 : 1);
    const rows = (await sounderRows()).sort((a, b) => order(a) - order(b));
    expect(rows.map((e) => [e.actor, e.after])).toEqual([
      ['system', expect.objectContaining({ command: evacuate.id, gw: GW, device: DEV, status: 'sent' })],
      [
        'system',
        expect.objectContaining({
          command: evacuate.id,
          status: 'sounding',
          message: `sounder of ${DEV} on for the evacuation; it sounds until a silence command`,
        }),
      ],
    ]);
    await waitFor(
      () => evacuations.some((e) => e.kind === 'sounder' && e.permitId === id && e.status === 'sounding'),
      'the sounder live event',
    );
    expect(otherTownship.filter((e) => e.kind === 'sounder')).toEqual([]);
    // The permit keeps the sounder's last word: the gateway's answer, whichever row came last.
    expect((await detail(id)).permit.sounder).toEqual({
      status: 'sounding',
      message: `sounder of ${DEV} on for the evacuation; it sounds until a silence command`,
      at: iso(now),
    });
    // The attendant and the applicant are told by SMS wherever they are, and the site's safety
    // office (the first step of its chain): one message each, kept under the permit.
    const notices = () => providers.sent.filter((m) => m.id.startsWith(`permit:${id}.`));
    await waitFor(() => notices().length === 3, 'the evacuation SMS');
    expect(notices().map((m) => [m.to, m.id])).toEqual([
      ['+8613807712045', `permit:${id}.s${suspension?.seq}.c0`],
      ['+8613800000101', `permit:${id}.s${suspension?.seq}.c1`],
      ['+8613900000077', `permit:${id}.s${suspension?.seq}.c2`],
    ]);
    expect(notices()[0]?.params).toEqual({
      household: '3号污水检查井（柳江路与江滨路交叉口）',
      event: expect.stringMatching(/^作业已停止：(监测数据不合格（硫化氢|检测仪报警（检测仪 entry-4gas）)/),
    });
    const told = () => evacuationSms(id);
    await waitFor(async () => (await told()).total === 3, 'the records of the evacuation SMS');
    expect((await told()).notifications.map((n) => [n.contact.name, n.medium, n.outcome])).toEqual([
      ['郑伟', 'sms', 'sent'],
      ['刘志远', 'sms', 'sent'],
      ['安全科值班', 'sms', 'sent'],
    ]);
    expect((await call('chen', 'GET', `/api/permits/${id}/notifications`)).status).toBe(404);

    // Any alarm means evacuate and test again: no resuming, however short the break.
    const resume = await call('li', 'POST', `/api/permits/${id}/actions/resume`, { note: '' });
    expect(resume.body.error).toBe('evacuated');
  });

  it('keeps the acknowledgement of the evacuation on the server: one person answers for every console', async () => {
    const seq = (await detail(id)).permit.evacuation?.seq as number;
    expect((await detail(id)).permit.evacuation).toEqual({
      seq,
      at: expect.any(String),
      reason: expect.stringMatching(/^(reading_failed|alarm)$/),
      acknowledged: null,
    });
    const ack = (who: string, s: number) =>
      call(who, 'POST', `/api/permits/${id}/evacuation/ack`, { seq: s });
    // A viewer watches; an operator of another township does not see the permit at all.
    expect(await ack('viewer', seq)).toEqual({
      status: 403,
      body: expect.objectContaining({
        error: 'forbidden',
        message: 'this needs the operator role or above; you have viewer',
      }),
    });
    expect((await ack('chen', seq)).status).toBe(404);
    // Of an evacuation it is not in now: said in words.
    expect(await ack('li', seq - 1)).toEqual({
      status: 409,
      body: {
        error: 'stale_evacuation',
        message: `record ${seq - 1} is not the evacuation permit ${id} is in now (record ${seq}): read the permit again and acknowledge that one`,
      },
    });
    const before = evacuations.length;
    const r = await ack('zhao', seq);
    expect(r.status).toBe(200);
    const acknowledged = { by: 'zhao', name: '赵强', at: iso(now) };
    expect((r.body.permit as Detail['permit']).evacuation?.acknowledged).toEqual(acknowledged);
    // Every console of the area hears it at once; another township's hears nothing.
    await waitFor(
      () => evacuations.slice(before).some((e) => e.kind === 'evacuation_ack'),
      'the acknowledgement pushed',
    );
    expect(evacuations.slice(before).find((e) => e.kind === 'evacuation_ack')).toMatchObject({
      permitId: id,
      seq,
      by: 'zhao',
      name: '赵强',
      state: 'suspended',
    });
    expect(otherTownship.filter((e) => e.kind === 'evacuation_ack')).toEqual([]);
    // A second answer changes nothing: the first stands, one audit row of who took it in.
    expect((await ack('li', seq)).status).toBe(200);
    const rows = (await listAudit(server.app.db, { limit: 50, targetId: id })).entries.filter(
      (e) => e.action === 'permit.evacuation_ack',
    );
    expect(rows.map((e) => [e.actor, e.after])).toEqual([['zhao', expect.objectContaining({ seq })]]);
    // A console opened later finds it acknowledged, in the list too.
    const listed = await call('viewer', 'GET', '/api/permits?state=suspended');
    expect(
      (listed.body.permits as Detail['permit'][]).find((p) => p.id === id)?.evacuation?.acknowledged,
    ).toEqual(acknowledged);
    // The attendant's "1" by SMS after that is kept on his message, and acknowledges nothing more.
    expect((await smsReply('13807712045', '1')).status).toBe(200);
    await waitFor(
      async () => (await evacuationSms(id)).notifications[0]?.outcome === 'replied',
      'the late reply on its record',
    );
    expect(
      (await listAudit(server.app.db, { limit: 50, targetId: id })).entries.filter(
        (e) => e.action === 'permit.evacuation_ack',
      ),
    ).toHaveLength(1);
  });

  it('after a new test, a break of exactly 60 min resumes; one of 60:01 needs a new test (6.3f)', async () => {
    air = VENTILATED;
    await publish();
    await gasTest(id, [VENTILATED]);
    expect((await call('li', 'POST', `/api/permits/${id}/actions/start`, { note: '' })).status).toBe(200);
    expect((await call('li', 'POST', `/api/permits/${id}/actions/suspend`, { note: '午休' })).status).toBe(
      200,
    );
    // The evacuation is over with the new test: nothing left to acknowledge.
    const over = await call('li', 'POST', `/api/permits/${id}/evacuation/ack`, { seq: 1 });
    expect([over.status, over.body.error]).toEqual([409, 'stale_evacuation']);
    expect(over.body.message).toMatch(/is suspended and in no evacuation now/);
    expect((await detail(id)).permit.evacuation).toBe(null);
    await pass(60 * MIN);
    expect((await call('zhao', 'POST', `/api/permits/${id}/actions/resume`, { note: '' })).status).toBe(200);
    expect((await call('zhao', 'POST', `/api/permits/${id}/actions/suspend`, { note: '换班' })).status).toBe(
      200,
    );
    await pass(60 * MIN + 1 * S);
    const d = await detail(id);
    expect(d.permit.suspension).toMatchObject({ by: 'zhao', reason: 'manual', retest: false, message: null });
    expect(action(d, 'resume').refusals.map((x) => [x.code, x.message])).toEqual([
      ['interruption_too_long', 'Work stopped for more than 60 min: test again before resuming'],
    ]);
    expect(action(d, 'start_test').allowed).toBe(true);
    await gasTest(id, [VENTILATED], 'zhao');
    expect((await call('zhao', 'POST', `/api/permits/${id}/actions/start`, { note: '' })).status).toBe(200);
  });

  it('closes with the acceptance signature and is kept a year; nobody deletes it before', async () => {
    expect((await call('li', 'POST', `/api/permits/${id}/actions/close`, { note: '' })).status).toBe(400);
    const r = await call('li', 'POST', `/api/permits/${id}/actions/close`, {
      note: '人员全部出井，现场已清理，井盖已恢复',
    });
    expect(r.status).toBe(200);
    const d = r.body as unknown as Detail;
    expect(d.permit.state).toBe('closed');
    const closedAt = Date.parse(String(d.permit.closedAt));
    expect(d.permit.keepUntil).toBe(iso(Date.UTC(2027, 11, 10) + (closedAt - Date.UTC(2026, 11, 10))));
    expect(d.actions.filter((a) => a.allowed)).toEqual([]);
    expect((await call('wang', 'DELETE', `/api/permits/${id}`)).status).toBe(403);
    expect((await call('admin', 'DELETE', `/api/permits/${id}`)).body.error).toBe('records_kept');
    // Every record hashes its predecessor: the chain holds.
    const events = await permitEvents(server.app.db, id);
    expect(brokenLink(events)).toBeNull();
    expect(events.map((e) => e.action)).toEqual([
      'approve',
      'start_test',
      'pass_test',
      'start_test',
      'pass_test',
      'start',
      'suspend',
      'start_test',
      'pass_test',
      'start',
      'suspend',
      'resume',
      'suspend',
      'start_test',
      'pass_test',
      'start',
      'close',
    ]);
  });

  it('prints the permit form with every gas test, in Chinese and in English', async () => {
    const text = async (lang: string) => {
      const r = await fetch(`${server.url}/api/permits/${id}/pdf?lang=${lang}`, {
        headers: { authorization: `Bearer ${tokens.viewer}` },
      });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('application/pdf');
      return execFileSync('pdftotext', ['-layout', '-', '-'], {
        input: Buffer.from(await r.arrayBuffer()),
      }).toString('utf8');
    };
    const zh = await text('zh-CN');
    expect(zh).toContain('受限空间安全作业票');
    expect(zh).toContain('3号污水检查井');
    expect(zh).toContain('周强 (YX-2026-0131)');
    // Whom the evacuation alert goes to, beside the name.
    expect(zh).toMatch(/郑伟 \(JH-0088\)\s+手机 138 0771 2045/);
    expect(zh).toMatch(/下部\s+硫化氢\s+42ppm\s+≤ 10 mg\/m³ \(7\.06 ppm\)\s+不合格\s+李明/);
    expect(zh).toMatch(/下部\s+氧气\s+17\.2%\s+19\.5–21%\s+不合格/);
    expect(zh.match(/第 \d+ 次分析/g)).toHaveLength(5);
    expect(zh).toContain('完工验收');
    expect(zh).toContain('人员全部出井，现场已清理，井盖已恢复');
    expect(zh).toContain('打开上下游检查井井盖自然通风 30 min');
    const en = await text('en');
    expect(en).toContain('Confined-space entry permit');
    expect(en).toMatch(/Bottom\s+H2S\s+42 ppm\s+≤ 10 mg\/m³ \(7\.06 ppm\)\s+Fail/);
    expect(en).toContain('Acceptance at close-out');
    expect(en).toMatch(/郑伟 \(JH-0088\), mobile 138 0771 2045/);
  });

  it('is found by space, state, window and person, a page at a time, only within the area', async () => {
    const q = async (query: string, who = 'li') => (await call(who, 'GET', `/api/permits?${query}`)).body;
    expect(await q('space=ws-12')).toMatchObject({ total: 1 });
    expect(await q('state=closed')).toMatchObject({ total: 1 });
    expect(await q('state=open')).toMatchObject({ total: 0 });
    expect(await q('person=周强')).toMatchObject({ total: 1 });
    expect(await q('person=王建国')).toMatchObject({ total: 1 });
    expect(await q('person=nobody')).toMatchObject({ total: 0 });
    expect(await q(`from=${iso(T0 + 48 * HOUR)}`)).toMatchObject({ total: 0 });
    expect(await q(`from=${iso(T0)}&to=${iso(T0 + HOUR)}`)).toMatchObject({ total: 1 });
    expect(await q('', 'chen')).toMatchObject({ total: 0 });
    expect((await call('chen', 'GET', `/api/permits/${id}`)).status).toBe(404);
    expect((await call('chen', 'POST', `/api/permits/${id}/actions/cancel`, { note: 'x' })).status).toBe(404);
    expect((await q('from=2026-12-11T00:00:00Z&to=2026-12-10T00:00:00Z')).error).toBe('bad_range');
  });
});

describe('the state machine and its refusals', () => {
  beforeAll(relogin);
  const draft = async (over: Json = {}) => {
    const r = await call('li', 'POST', '/api/permits', {
      ...FORM,
      plannedStart: iso(now),
      plannedEnd: iso(now + 8 * HOUR),
      ...over,
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return (r.body.permit as { id: string }).id;
  };

  it('is never approved by whoever drew it up or changed it as a draft', async () => {
    const own = await call('wang', 'POST', '/api/permits', {
      ...FORM,
      plannedStart: iso(now),
      plannedEnd: iso(now + 8 * HOUR),
    });
    const ownId = (own.body.permit as { id: string }).id;
    for (const n of [1, 2]) await call('zhao', 'POST', `/api/permits/${ownId}/measures/${n}/confirm`);
    expect((await call('wang', 'POST', `/api/permits/${ownId}/actions/approve`, {})).body).toEqual({
      error: 'own_permit',
      message: 'Whoever drew up or changed a permit cannot approve it',
    });
    // 李明 drew it up; 王建国 changed the work before approving: he wrote it too.
    const id = await draft();
    const patched = await call('wang', 'PATCH', `/api/permits/${id}`, {
      work: '清理井底淤泥，更换闸门及密封圈',
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    for (const n of [1, 2]) await call('zhao', 'POST', `/api/permits/${id}/measures/${n}/confirm`);
    const asWang = (await call('wang', 'GET', `/api/permits/${id}`)).body as unknown as Detail;
    expect(action(asWang, 'approve').refusals.map((x) => x.code)).toEqual(['own_permit']);
    const refused = await call('wang', 'POST', `/api/permits/${id}/actions/approve`, {});
    expect(refused).toMatchObject({ status: 409, body: { error: 'own_permit' } });
    // Someone who wrote none of it approves.
    expect((await call('admin', 'POST', `/api/permits/${id}/actions/approve`, {})).status).toBe(200);
    for (const p of [ownId, id])
      await call('admin', 'POST', `/api/permits/${p}/actions/cancel`, { note: '测试' });
  });

  it('refuses a bad form, listing every problem', async () => {
    const r = await call('li', 'POST', '/api/permits', {
      ...FORM,
      space: undefined,
      level: 'special',
      plannedStart: iso(now),
      plannedEnd: iso(now - HOUR),
    });
    expect(r.status).toBe(400);
    expect(r.body.message).toBe(
      'level: only hot work has a level; space: a confined-space entry names the registered space; area: hot work without a space names its area; location: hot work without a space says where the work is; plannedEnd: must be after plannedStart',
    );
    expect(
      (
        await call('li', 'POST', '/api/permits', {
          ...FORM,
          space: 'nope',
          plannedStart: iso(now),
          plannedEnd: iso(now + HOUR),
        })
      ).body.error,
    ).toBe('space_not_found');
    expect(
      (
        await call('chen', 'POST', '/api/permits', {
          ...FORM,
          plannedStart: iso(now),
          plannedEnd: iso(now + HOUR),
        })
      ).body.error,
    ).toBe('space_not_found');
    expect((await call('viewer', 'POST', '/api/permits', {})).status).toBe(403);
  });

  it('takes only the transitions PERMIT_TRANSITIONS has, and leaves the server’s own to the server', async () => {
    const id = await draft();
    expect((await call('li', 'POST', `/api/permits/${id}/actions/expire`, { note: '' })).body).toEqual({
      error: 'system_action',
      message: '“Permit expired” is taken by the server itself',
    });
    expect((await call('li', 'POST', `/api/permits/${id}/actions/pass_test`, { note: '' })).body.error).toBe(
      'system_action',
    );
    expect((await call('li', 'POST', `/api/permits/${id}/actions/start_test`, { note: '' })).body.error).toBe(
      'use_tests_route',
    );
    expect((await call('li', 'POST', `/api/permits/${id}/actions/resume`, { note: '' })).body.error).toBe(
      'invalid_transition',
    );
    expect((await call('li', 'POST', `/api/permits/${id}/actions/fly`, { note: '' })).status).toBe(400);
    // A draft can be changed; changed measures are unconfirmed again.
    await call('zhao', 'POST', `/api/permits/${id}/measures/1/confirm`);
    const p = await call('li', 'PATCH', `/api/permits/${id}`, {
      measures: [FORM.measures[0], { text: '井口配备正压式空气呼吸器' }],
    });
    expect((p.body.permit as Json).measures).toMatchObject([
      { confirmed: { by: 'zhao' } },
      { confirmed: null },
    ]);
    expect((await call('li', 'POST', `/api/permits/${id}/actions/cancel`, { note: '' })).status).toBe(400);
    expect((await call('li', 'POST', `/api/permits/${id}/actions/cancel`, { note: '改期' })).status).toBe(
      200,
    );
    const after = await call('li', 'POST', `/api/permits/${id}/actions/cancel`, { note: '再取消' });
    expect(after.body.error).toBe('invalid_transition');
    expect((await call('li', 'PATCH', `/api/permits/${id}`, { work: 'x' })).body.error).toBe('not_draft');
  });

  it('expires an approved permit whose validity passed, signed by the server', async () => {
    const id = await draft({ plannedEnd: iso(now + HOUR) });
    for (const n of [1, 2]) await call('zhao', 'POST', `/api/permits/${id}/measures/${n}/confirm`);
    expect((await call('wang', 'POST', `/api/permits/${id}/actions/approve`, {})).status).toBe(200);
    await pass(HOUR);
    await server.app.permits.sweep();
    await server.app.permits.idle();
    expect((await detail(id)).permit.state).toBe('approved');
    now += 1;
    await server.app.permits.sweep();
    await server.app.permits.idle();
    const d = await detail(id);
    expect(d.permit.state).toBe('expired');
    expect(d.events.at(-1)).toMatchObject({ action: 'expire', signed: { by: 'system' } });
    expect(d.permit.keepUntil).not.toBeNull();
  });

  it('stops work still going on when its permit expires, with the alert', async () => {
    const alerts: Json[] = [];
    const listen = (e: Json) => alerts.push(e);
    server.app.bus.on('permit', listen);
    try {
      const id = await draft({ plannedEnd: iso(now + HOUR) });
      for (const n of [1, 2]) await call('zhao', 'POST', `/api/permits/${id}/measures/${n}/confirm`);
      await call('wang', 'POST', `/api/permits/${id}/actions/approve`, {});
      air = VENTILATED;
      await gasTest(id, [VENTILATED]);
      expect((await call('li', 'POST', `/api/permits/${id}/actions/start`, { note: '' })).status).toBe(200);
      await pass(HOUR);
      now += 1;
      await publish();
      await server.app.permits.sweep();
      await server.app.permits.idle();
      expect((await detail(id)).permit.state).toBe('expired');
      expect(alerts.filter((e) => e.kind === 'evacuate')).toMatchObject([
        {
          permitId: id,
          reason: 'permit_expired',
          state: 'expired',
          text: { 'zh-CN': '3号污水检查井（柳江路与江滨路交叉口）：作业票已超过有效期，须重新办理' },
        },
      ]);
      // Expired with people inside: an evacuation like a suspension, acknowledged the same way.
      const evacuation = (await detail(id)).permit.evacuation;
      expect(evacuation).toMatchObject({ reason: 'permit_expired', acknowledged: null });
      const r = await call('li', 'POST', `/api/permits/${id}/evacuation/ack`, { seq: evacuation?.seq });
      expect((r.body.permit as Detail['permit']).evacuation?.acknowledged).toMatchObject({ by: 'li' });
    } finally {
      server.app.bus.off('permit', listen);
    }
  });

  it('suspends work whose detector goes offline', async () => {
    const id = await draft();
    for (const n of [1, 2]) await call('zhao', 'POST', `/api/permits/${id}/measures/${n}/confirm`);
    await call('wang', 'POST', `/api/permits/${id}/actions/approve`, {});
    air = VENTILATED;
    await gasTest(id, [VENTILATED]);
    expect((await call('li', 'POST', `/api/permits/${id}/actions/start`, { note: '' })).status).toBe(200);
    now += 31 * MIN; // silent past 3 × its 10-min poll interval
    await server.app.permits.sweep();
    await waitFor(async () => (await detail(id)).permit.state === 'suspended', 'suspended while offline');
    const d = await detail(id);
    expect(d.events.at(-1)).toMatchObject({ action: 'suspend', data: { reason: 'offline', retest: true } });
    // The applicant answers the evacuation SMS with "1": taken in as him, as at a console.
    const seq = d.events.at(-1)?.seq;
    await waitFor(async () => (await evacuationSms(id)).total === 3, 'the evacuation SMS');
    expect((await smsReply('13800000101', '1 收到')).status).toBe(200);
    const by = 'sms:+8613800000101 (刘志远)';
    await waitFor(
      async () => (await detail(id)).permit.evacuation?.acknowledged?.by === by,
      'acknowledged by reply',
    );
    expect((await detail(id)).permit.evacuation?.acknowledged).toEqual({ by, name: '刘志远', at: iso(now) });
    const rows = (await listAudit(server.app.db, { limit: 50, targetId: id })).entries.filter(
      (e) => e.action === 'permit.evacuation_ack',
    );
    expect(rows.map((e) => [e.actor, e.after])).toEqual([
      [by, { seq, reason: 'offline', name: '刘志远', note: '短信回复“1”确认' }],
    ]);
    expect((await evacuationSms(id)).notifications.map((n) => [n.contact.name, n.outcome])).toEqual([
      ['郑伟', 'sent'],
      ['刘志远', 'acknowledged'],
      ['安全科值班', 'sent'],
    ]);
    await publish();
    await call('li', 'POST', `/api/permits/${id}/actions/cancel`, { note: '检测仪故障，改日作业' });
  });
});

describe('hot work', () => {
  it('a level-1 permit: 8 h at most, the safety department approves, a portable instrument tests, a new day needs a new test', async () => {
    // 22:00 in Shanghai.
    now = Date.UTC(2026, 11, 20, 14, 0, 0);
    await publish();
    await relogin();
    const r = await call('li', 'POST', '/api/permits', {
      kind: 'hot_work',
      level: 'level1',
      area: 'liujiang',
      site: 'plant-a',
      location: '3号罐区 DN200 管线',
      work: '更换法兰，气焊切割',
      applicant: { name: '刘志远', unit: '检维修车间' },
      crew: [{ name: '孙立', certificate: 'T-H-0451', role: '动火人' }],
      attendant: { name: '郑伟' },
      measures: [{ text: '管线已吹扫置换，加盲板隔离' }],
      plannedStart: iso(now),
      plannedEnd: iso(now + 10 * HOUR),
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const p = r.body.permit as Json & { id: string };
    expect(p).toMatchObject({
      level: 'level1',
      approver: 'safety_department',
      positions: ['within_10m'],
      validUntil: iso(now + 8 * HOUR),
    });
    const id = p.id;
    await call('zhao', 'POST', `/api/permits/${id}/measures/1/confirm`);
    const a = await call('wang', 'POST', `/api/permits/${id}/actions/approve`, {});
    expect((a.body as unknown as Detail).events.at(-1)).toMatchObject({ data: { as: 'safety_department' } });

    const instrument = {
      id: 'BW-4471',
      gases: ['LEL'],
      bumpTestedAt: iso(now - 25 * HOUR),
      calibrationDue: '2027-03-01',
    };
    const stale = await call('li', 'POST', `/api/permits/${id}/tests`, { instrument });
    expect(stale.body).toMatchObject({
      error: 'detector_unfit',
      message: 'Detector BW-4471 may not be used for a gas test: not bump-tested today',
    });
    instrument.bumpTestedAt = iso(now - 30 * MIN);
    const t = await call('li', 'POST', `/api/permits/${id}/tests`, { instrument });
    expect(t.status, JSON.stringify(t.body)).toBe(201);
    const test = t.body.test as { id: string; manual: boolean; responseTimeS: number };
    expect(test).toMatchObject({ manual: true, responseTimeS: 30 });
    const base = `/api/permits/${id}/tests/${test.id}`;
    await call('li', 'POST', `${base}/placements`, { position: 'within_10m' });
    now += 30 * S;
    const wrong = await call('li', 'POST', `${base}/readings`, {
      position: 'within_10m',
      values: [{ gas: 'LEL', value: 0.1, unit: 'mg/m³' }],
    });
    expect(wrong).toMatchObject({ status: 400, body: { error: 'bad_request' } });
    const ok = await call('li', 'POST', `${base}/readings`, {
      position: 'within_10m',
      values: [{ gas: 'LEL', value: 3, unit: '%LEL' }],
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect((ok.body.test as Json).readings).toMatchObject([
      { source: 'manual', pass: true, value: 3, unit: '%LEL' },
    ]);
    expect((ok.body.permit as Json).state).toBe('ready');
    // Level 1 is not watched continuously: it starts without a detector.
    expect((await call('li', 'POST', `/api/permits/${id}/actions/start`, { note: '动火' })).status).toBe(200);
    now = Date.UTC(2026, 11, 20, 15, 50, 0); // 23:50
    await publish();
    expect((await call('li', 'POST', `/api/permits/${id}/actions/suspend`, { note: '' })).status).toBe(200);
    now += 20 * MIN; // 00:10 next day: a short break, but a new day
    await publish();
    const d = await detail(id);
    expect(action(d, 'resume').refusals.map((x) => x.message)).toEqual([
      'Hot work needs a gas test each day: last test on 2026-12-20, today is 2026-12-21',
    ]);
  });

  it('a special-level permit is watched continuously: no start without a detector or instrument', async () => {
    const r = await call('li', 'POST', '/api/permits', {
      kind: 'hot_work',
      level: 'special',
      area: 'liujiang',
      location: '加氢装置 反应器出口管线',
      hotWorkSite: 'equipment_wall',
      work: '带压开孔',
      applicant: { name: '刘志远' },
      crew: [{ name: '孙立', certificate: 'T-H-0451' }],
      attendant: { name: '郑伟' },
      measures: [{ text: '办理带压作业方案' }],
      plannedStart: iso(now),
      plannedEnd: iso(now + 4 * HOUR),
    });
    const p = r.body.permit as Json & { id: string };
    expect(p).toMatchObject({ approver: 'leader_in_charge', positions: ['within_10m', 'inside_equipment'] });
    const id = p.id;
    await call('zhao', 'POST', `/api/permits/${id}/measures/1/confirm`);
    await call('wang', 'POST', `/api/permits/${id}/actions/approve`, {});
    const t = await call('li', 'POST', `/api/permits/${id}/tests`, {
      instrument: {
        id: 'BW-4471',
        gases: ['LEL'],
        bumpTestedAt: iso(now - 5 * MIN),
        calibrationDue: '2027-03-01',
      },
    });
    expect(t.status, JSON.stringify(t.body)).toBe(201);
    const test = t.body.test as { id: string };
    for (const position of ['within_10m', 'inside_equipment']) {
      await call('li', 'POST', `/api/permits/${id}/tests/${test.id}/placements`, { position });
      now += 30 * S;
      await call('li', 'POST', `/api/permits/${id}/tests/${test.id}/readings`, {
        position,
        values: [{ gas: 'LEL', value: 2, unit: '%LEL' }],
      });
    }
    const d = await detail(id);
    expect(d.permit.state).toBe('ready');
    expect(action(d, 'start').refusals.map((x) => x.code)).toEqual(['no_monitor']);
    const s = await call('li', 'POST', `/api/permits/${id}/actions/start`, {
      note: '',
      monitor: { instrument: 'BW-4471' },
    });
    expect(s.status, JSON.stringify(s.body)).toBe(200);
    // The attendant types the instrument's readings; a failing one stops the work.
    const m = await call('li', 'POST', `/api/permits/${id}/monitoring`, {
      values: [{ gas: 'LEL', value: 12, unit: '%LEL' }],
    });
    expect(m.status).toBe(200);
    await server.app.permits.idle();
    const after = await detail(id);
    expect(after.permit.state).toBe('suspended');
    expect(after.monitoring.records).toMatchObject([{ why: 'manual', pass: false }]);
  });
});
