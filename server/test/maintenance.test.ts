/**
 * Detector maintenance over HTTP (issue 14, SPEC §11) on a real server with the test's clock, so
 * "today" is a known day in Asia/Shanghai: bump tests and calibrations recorded by hand, fitness
 * for a gas test before work across the site's midnight and a calibration's due day, the
 * `maintenance` alarm a failed bump test raises and a later pass clears, the due list, the dates,
 * a household alarm's expiry read from the household registry, a bump test started through a
 * gateway (an MQTT client logged in as the gateway answers the command and reports the result),
 * who may do what, and the errors for bad input.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Command,
  type CommandResult,
  type DeviceEvent,
  encodePayload,
  type MaintenanceView,
  topics,
} from '@gaswatch/shared';
import { waitFor } from '@gaswatch/shared/testing';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { listAudit } from '../src/db/audit.js';
import { deviceState, publishState } from './e2e/browser.js';
import {
  apiFetch,
  connectGateway,
  createAreas,
  liveUrl,
  mintToken,
  openLive,
  publishReading,
  startTestServer,
  type TestServer,
  tokenId,
} from './helpers.js';

const GW = 'gw-plant';
const WELL = 'cs-well-3'; // a 4-gas detector at a sewage well, area hexi (township shapu)
const PLANT = 'cs-plant-a'; // another at a plant in liujiang (township dapu)
const HOME_CO = 'co-home-7'; // a household CO alarm in liujiang
/** 2026-12-10 10:00 in Asia/Shanghai (02:00 UTC). */
const T0 = Date.UTC(2026, 11, 10, 2, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;
/** Midnight starting 2026-12-11 in Shanghai. */
const MIDNIGHT = Date.UTC(2026, 11, 10, 16, 0, 0);

type Json = Record<string, unknown>;
type AlarmRow = { id: string; dev: string; key: string; state: string; severity: string; message: string };

describe('detector maintenance', () => {
  let now = T0;
  let server: TestServer;
  let gateway: MqttClient;
  const dir = mkdtempSync(join(tmpdir(), 'gaswatch-maint-'));
  const tokens: Record<string, string> = {};
  /** What the fake gateway answers to the next bump_test command (null: nothing). */
  let answer: ((cmd: Command) => Omit<CommandResult, 'v' | 'id' | 'ts'> | null) | null = null;
  const commands: Command[] = [];

  const call = async (who: string | null, method: string, path: string, body?: unknown) => {
    const r = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(who === null ? {} : { authorization: `Bearer ${tokens[who]}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: r.status, body: (await r.json()) as Json };
  };
  const view = async (dev: string, who = 'viewerDapu') => {
    const r = await call(who, 'GET', `/api/devices/${dev}/maintenance`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body as unknown as MaintenanceView;
  };
  const maintenanceAlarms = async (dev: string) => {
    await server.app.maintenance.idle();
    await server.app.alarms.idle();
    const r = await apiFetch(`${server.url}/api/alarms?kind=maintenance&limit=100`);
    return ((await r.json()) as { alarms: AlarmRow[] }).alarms.filter((a) => a.dev === dev);
  };
  const iso = (ms: number) => new Date(ms).toISOString();
  const bump = (over: Json = {}) => ({ result: 'pass', method: 'manual', ...over });

  beforeAll(async () => {
    writeFileSync(
      join(dir, 'gaswatch.yaml'),
      stringify({
        sites: {
          'well-3': { type: 'workplace', area: 'hexi' },
          'plant-a': { type: 'workplace', area: 'liujiang' },
        },
        maintenance: { remindDays: 10 },
      }),
    );
    server = await startTestServer({ GASWATCH_CONFIG: join(dir, 'gaswatch.yaml') }, undefined, undefined, {
      clock: () => now,
    });
    await createAreas(server.url, [
      ['liucheng', 'county', null],
      ['dapu', 'township', 'liucheng'],
      ['shapu', 'township', 'liucheng'],
      ['liujiang', 'village', 'dapu'],
      ['hexi', 'village', 'shapu'],
    ]);
    for (const [name, role, area] of [
      ['supervisorDapu', 'supervisor', 'dapu'],
      ['operatorDapu', 'operator', 'dapu'],
      ['viewerDapu', 'viewer', 'dapu'],
      ['supervisorShapu', 'supervisor', 'shapu'],
      ['admin', 'admin', null],
    ] as const)
      tokens[name] = await mintToken(server.app.db, role, area);

    gateway = await connectGateway(server, GW);
    // The gateway's side of the command channel: answers as told, like gateway/src/commands.
    await gateway.subscribeAsync(topics.cmd(GW), { qos: 1 });
    gateway.on('message', (topic, payload) => {
      if (topic !== topics.cmd(GW)) return;
      const cmd = JSON.parse(String(payload)) as Command;
      commands.push(cmd);
      const a = answer?.(cmd);
      if (a == null) return;
      const result: CommandResult = { v: 1, id: cmd.id, ts: iso(now), ...a };
      void gateway.publishAsync(topics.cmdResult(GW), encodePayload('cmdResult', result), { qos: 1 });
    });
    const multigas = { model: 'gaswatch-4gas', kind: 'multigas' as const, pollIntervalS: 3600 };
    await publishState(
      gateway,
      GW,
      WELL,
      deviceState({ ...multigas, site: 'well-3', location: '3号污水井' }),
    );
    await publishState(gateway, GW, PLANT, deviceState({ ...multigas, site: 'plant-a', location: '罐区' }));
    await publishState(gateway, GW, HOME_CO, deviceState({ site: 'home-7', location: '卧室' }));
    await waitFor(() => [WELL, PLANT, HOME_CO].every((d) => server.app.devices.get(d)), 'devices known');
  });

  afterAll(async () => {
    await gateway?.endAsync();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a device never maintained: not fit, no bump test and no calibration; nothing recorded', async () => {
    const v = await view(PLANT);
    expect(v).toEqual({
      device: PLANT,
      fitness: {
        fit: false,
        reasons: ['no_bump_test', 'no_calibration'],
        reminders: [],
        today: '2026-12-10',
      },
      bumpTests: { items: [], total: 0, nextCursor: null },
      calibrations: { items: [], total: 0, nextCursor: null },
      sensorEndOfLife: null,
      lastSelfTest: null,
      householdAlarm: null,
    });
  });

  it('a supervisor records a calibration and a bump test by hand: fit; both are in the audit log', async () => {
    const cal = await call('supervisorDapu', 'POST', `/api/devices/${PLANT}/maintenance/calibrations`, {
      at: iso(T0 - 2 * HOUR),
      result: 'pass',
      nextDue: '2027-06-10',
      by: '柳州市计量测试所',
      certificate: 'JL-2026-1187',
    });
    expect(cal.status, JSON.stringify(cal.body)).toBe(201);
    expect(cal.body.calibration).toMatchObject({
      device: PLANT,
      result: 'pass',
      nextDue: '2027-06-10',
      by: '柳州市计量测试所',
      certificate: 'JL-2026-1187',
      recordedBy: tokenId(tokens.supervisorDapu as string),
    });
    expect((cal.body.maintenance as MaintenanceView).fitness.reasons).toEqual(['no_bump_test']);

    const b = await call('supervisorDapu', 'POST', `/api/devices/${PLANT}/maintenance/bump-tests`, {
      result: 'pass',
      method: 'docking_station',
      gases: [
        { gas: 'O2', result: 'pass', peak: 17.8 },
        { gas: 'LEL', result: 'pass', peak: 26 },
        { gas: 'CO', result: 'pass', peak: 52 },
        { gas: 'H2S', result: 'pass', peak: 13 },
      ],
      by: '韦小明',
    });
    expect(b.status, JSON.stringify(b.body)).toBe(201);
    expect(b.body.bumpTest).toMatchObject({ at: iso(T0), method: 'docking_station', by: '韦小明' });
    const v = b.body.maintenance as MaintenanceView;
    expect(v.fitness).toEqual({ fit: true, reasons: [], reminders: [], today: '2026-12-10' });
    expect(v.bumpTests.items.map((x) => x.gases.map((g) => g.gas))).toEqual([['O2', 'LEL', 'CO', 'H2S']]);

    const audit = await listAudit(server.app.db, { limit: 10, targetKind: 'device', targetId: PLANT });
    // One instant of the test's clock: the two rows' order within it is arbitrary.
    expect(audit.entries.map((e) => [e.action, e.actor]).sort()).toEqual([
      ['maintenance.bump_test.record', tokenId(tokens.supervisorDapu as string)],
      ['maintenance.calibration.record', tokenId(tokens.supervisorDapu as string)],
    ]);
    expect(audit.entries.find((e) => e.action === 'maintenance.calibration.record')?.after).toMatchObject({
      certificate: 'JL-2026-1187',
      nextDue: '2027-06-10',
    });
  });

  it("a bump test counts until the site's midnight, not a minute longer", async () => {
    now = MIDNIGHT - 10 * MIN; // 23:50 in Shanghai
    const b = await call('supervisorDapu', 'POST', `/api/devices/${PLANT}/maintenance/bump-tests`, bump());
    expect(b.status).toBe(201);
    now = MIDNIGHT - 1;
    expect((await view(PLANT)).fitness).toMatchObject({ fit: true, today: '2026-12-10' });
    now = MIDNIGHT;
    expect((await view(PLANT)).fitness).toEqual({
      fit: false,
      reasons: ['bump_test_not_today'],
      reminders: [],
      today: '2026-12-11',
    });
    // The morning's test.
    now = MIDNIGHT + 8 * HOUR;
    await call('supervisorDapu', 'POST', `/api/devices/${PLANT}/maintenance/bump-tests`, bump());
    expect((await view(PLANT)).fitness.fit).toBe(true);
  });

  it('a calibration is in date on its due day and overdue the day after; reminded ahead', async () => {
    now = MIDNIGHT + 9 * HOUR; // 2026-12-11 09:00
    await call('supervisorDapu', 'POST', `/api/devices/${PLANT}/maintenance/calibrations`, {
      result: 'pass',
      nextDue: '2026-12-12',
    });
    await call('supervisorDapu', 'POST', `/api/devices/${PLANT}/maintenance/bump-tests`, bump());
    expect((await view(PLANT)).fitness).toEqual({
      fit: true,
      reasons: [],
      reminders: [{ item: 'calibration', due: '2026-12-12', daysLeft: 1, overdue: false }],
      today: '2026-12-11',
    });
    now += 24 * HOUR; // the due day
    await call('supervisorDapu', 'POST', `/api/devices/${PLANT}/maintenance/bump-tests`, bump());
    expect((await view(PLANT)).fitness.fit).toBe(true);
    now += 24 * HOUR; // the day after
    await call('supervisorDapu', 'POST', `/api/devices/${PLANT}/maintenance/bump-tests`, bump());
    expect((await view(PLANT)).fitness).toEqual({
      fit: false,
      reasons: ['calibration_overdue'],
      reminders: [{ item: 'calibration', due: '2026-12-12', daysLeft: -1, overdue: true }],
      today: '2026-12-13',
    });
    // An earlier calibration recorded late does not hide the latest.
    await call('supervisorDapu', 'POST', `/api/devices/${PLANT}/maintenance/calibrations`, {
      at: iso(T0 - 30 * 24 * HOUR),
      result: 'pass',
      nextDue: '2027-11-10',
    });
    expect((await view(PLANT)).fitness.reasons).toEqual(['calibration_overdue']);
    // Calibrated today: fit again.
    await call('supervisorDapu', 'POST', `/api/devices/${PLANT}/maintenance/calibrations`, {
      result: 'pass',
      nextDue: '2027-12-13',
    });
    expect((await view(PLANT)).fitness.fit).toBe(true);
  });

  it('a failed bump test locks the detector out and raises a maintenance alarm; a later pass clears it', async () => {
    const live = await openLive<{ type: string; data: { dev?: string; maintenance?: MaintenanceView } }>(
      liveUrl(server.url),
    );
    try {
      const f = await call('supervisorDapu', 'POST', `/api/devices/${PLANT}/maintenance/bump-tests`, {
        result: 'fail',
        method: 'manual',
        gases: [
          { gas: 'CO', result: 'pass', peak: 51 },
          { gas: 'H2S', result: 'fail', peak: 2.1 },
        ],
        by: '韦小明',
        note: 'H2S 传感器无响应',
      });
      expect(f.status).toBe(201);
      expect((f.body.maintenance as MaintenanceView).fitness.reasons).toEqual(['bump_test_failed']);
      const [alarm, ...others] = await maintenanceAlarms(PLANT);
      expect(others).toEqual([]);
      expect(alarm).toMatchObject({
        dev: PLANT,
        key: 'maintenance',
        state: 'active',
        severity: 'warning',
        message: `${PLANT}: bump test failed (manual, 韦小明): H2S peak 2.1 — H2S 传感器无响应`,
      });
      // Its response card has the built-in procedure for a failed bump test.
      const card = await call('viewerDapu', 'GET', `/api/alarms/${encodeURIComponent(alarm?.id ?? '')}`);
      expect(JSON.stringify(card.body)).toContain('不得用于作业前检测');
      // Readings do not clear it (their rules know no such condition): only a bump test does.
      await publishReading(gateway, GW, PLANT, {
        v: 1,
        ts: iso(now),
        seq: 1,
        values: { O2: 20.9, LEL: 0, CO: 0, H2S: 0 },
        status: 'ok',
      });
      await waitFor(() => server.app.devices.get(PLANT)?.lastReading !== null, 'reading taken');
      expect((await maintenanceAlarms(PLANT)).map((a) => a.state)).toEqual(['active']);
      // Live consoles of the area hear of the change with the device's maintenance as it is now.
      await waitFor(
        () => live.messages.some((m) => m.type === 'maintenance' && m.data.dev === PLANT),
        'maintenance pushed live',
      );
      const pushed = live.messages.findLast((m) => m.type === 'maintenance')?.data.maintenance;
      expect(pushed?.fitness.reasons).toEqual(['bump_test_failed']);

      // A second failed test while the alarm is open: still one alarm.
      now += 10 * MIN;
      await call(
        'supervisorDapu',
        'POST',
        `/api/devices/${PLANT}/maintenance/bump-tests`,
        bump({ result: 'fail' }),
      );
      expect((await maintenanceAlarms(PLANT)).map((a) => a.state)).toEqual(['active']);

      now += 10 * MIN;
      const p = await call('supervisorDapu', 'POST', `/api/devices/${PLANT}/maintenance/bump-tests`, bump());
      expect((p.body.maintenance as MaintenanceView).fitness.fit).toBe(true);
      // Cleared, and latched until someone acknowledges it (SPEC §6).
      expect((await maintenanceAlarms(PLANT)).map((a) => a.state)).toEqual(['cleared_unacked']);

      // A failed test recorded late, done before the pass, changes nothing.
      await call(
        'supervisorDapu',
        'POST',
        `/api/devices/${PLANT}/maintenance/bump-tests`,
        bump({ result: 'fail', at: iso(now - 60 * MIN) }),
      );
      expect((await view(PLANT)).fitness.fit).toBe(true);
      expect((await maintenanceAlarms(PLANT)).map((a) => a.state)).toEqual(['cleared_unacked']);
    } finally {
      live.ws.close();
    }
  });

  it("a bump test started from the console: the gateway takes the command, its result is recorded as the starter's", async () => {
    answer = (cmd) => ({
      ok: true,
      message: `bump test of ${(cmd as { device: string }).device} started: 120 s window, passes at O2 < 19.5 %vol, LEL ≥ 10 %LEL`,
    });
    const s = await call('supervisorShapu', 'POST', `/api/devices/${WELL}/maintenance/bump-tests/start`);
    expect(s.status, JSON.stringify(s.body)).toBe(202);
    expect(s.body).toMatchObject({ started: true, message: expect.stringContaining('120 s window') });
    expect(commands.at(-1)).toMatchObject({ v: 1, type: 'bump_test', device: WELL, id: s.body.command });

    // The gateway's verdict, delivered twice (QoS 1 may): one record, one alarm.
    const failed: DeviceEvent = {
      v: 1,
      ts: iso(now + 2 * MIN),
      type: 'bump_test',
      result: 'fail',
      severity: 'warning',
      gas: 'O2',
      value: 20.6,
      message: 'bump test failed: O2 lowest 20.6 %vol, needs O2 < 19.5 %vol within 120 s',
    };
    for (let i = 0; i < 2; i++)
      await gateway.publishAsync(topics.event(GW, WELL), encodePayload('event', failed), { qos: 1 });
    await waitFor(
      async () => (await view(WELL, 'supervisorShapu')).bumpTests.total > 0,
      'gateway result recorded',
    );
    await new Promise((r) => setTimeout(r, 200));
    const v = await view(WELL, 'supervisorShapu');
    expect(v.bumpTests.total).toBe(1);
    expect(v.bumpTests.items[0]).toMatchObject({
      method: 'gateway',
      result: 'fail',
      at: failed.ts,
      gases: [{ gas: 'O2', result: 'fail', peak: 20.6 }],
      by: 'test supervisor',
      recordedBy: `gateway:${GW}`,
      note: failed.message,
    });
    expect(v.fitness.reasons).toContain('bump_test_failed');
    const alarms = await maintenanceAlarms(WELL);
    expect(alarms.map((a) => [a.state, a.message])).toEqual([['active', `${WELL}: ${failed.message}`]]);

    // Refused by the gateway: 409 with its reason.
    answer = () => ({
      ok: false,
      message: `${WELL} is not answering (timeout); a bump test needs a detector that answers`,
    });
    const r = await call('supervisorShapu', 'POST', `/api/devices/${WELL}/maintenance/bump-tests/start`);
    expect(r).toEqual({
      status: 409,
      body: {
        error: 'bump_test_refused',
        message: `gateway ${GW} refused: ${WELL} is not answering (timeout); a bump test needs a detector that answers`,
      },
    });
    const starts = await listAudit(server.app.db, { limit: 10, targetKind: 'device', targetId: WELL });
    expect(starts.entries.filter((e) => e.action === 'maintenance.bump_test.start')).toHaveLength(1);
  });

  it('dates: the sensor end of life locks out once past; the due list names what falls due', async () => {
    const today = (await view(PLANT)).fitness.today;
    // 12 days ahead: beyond this server's maintenance.remindDays (10), not reminded of yet.
    const far = await call('supervisorDapu', 'PUT', `/api/devices/${PLANT}/maintenance/dates`, {
      sensorEndOfLife: '2026-12-25',
      lastSelfTest: null,
    });
    expect(far.body).toMatchObject({ sensorEndOfLife: '2026-12-25', fitness: { fit: true, reminders: [] } });
    const put = await call('supervisorDapu', 'PUT', `/api/devices/${PLANT}/maintenance/dates`, {
      sensorEndOfLife: '2026-12-20',
      lastSelfTest: today,
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toMatchObject({
      sensorEndOfLife: '2026-12-20',
      lastSelfTest: today,
      fitness: { fit: true, reminders: [{ item: 'sensor_end_of_life', due: '2026-12-20', daysLeft: 7 }] },
    });

    const due = async (who: string, qs = '') => {
      const r = await call(who, 'GET', `/api/maintenance/due${qs}`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body as {
        devices: { device: string; area: string; fitness: { reasons: string[] } }[];
        total: number;
      };
    };
    // The admin sees both townships: the well's failed bump test first, then the plant's date.
    expect((await due('admin')).devices.map((d) => d.device)).toEqual([WELL, PLANT]);
    expect((await due('admin', '?days=5')).devices.map((d) => d.device)).toEqual([WELL]);
    expect((await due('admin', '?area=dapu')).devices).toMatchObject([{ device: PLANT, area: 'liujiang' }]);
    expect((await due('supervisorDapu')).devices.map((d) => d.device)).toEqual([PLANT]);
    expect((await due('supervisorShapu')).devices.map((d) => d.device)).toEqual([WELL]);
    const page1 = await call('admin', 'GET', '/api/maintenance/due?limit=1');
    expect(page1.body).toMatchObject({ total: 2, nextCursor: '1' });
    const page2 = await call('admin', 'GET', '/api/maintenance/due?limit=1&cursor=1');
    expect(page2.body).toMatchObject({ devices: [{ device: PLANT }], nextCursor: null });

    now = Date.UTC(2026, 11, 20, 16, 0, 0); // 2026-12-21 00:00 in Shanghai
    await call('supervisorDapu', 'POST', `/api/devices/${PLANT}/maintenance/bump-tests`, bump());
    expect((await view(PLANT)).fitness.reasons).toEqual(['sensor_end_of_life']);
    const audit = await listAudit(server.app.db, { limit: 50, targetKind: 'device', targetId: PLANT });
    // Both changes at one instant of the test's clock: told apart by what they set.
    const sets = audit.entries.filter((e) => e.action === 'maintenance.dates.set');
    expect(sets).toHaveLength(2);
    expect(
      sets.find((e) => (e.after as { sensorEndOfLife: string }).sensorEndOfLife === '2026-12-20'),
    ).toMatchObject({
      before: { sensorEndOfLife: '2026-12-25', lastSelfTest: null },
      after: { sensorEndOfLife: '2026-12-20', lastSelfTest: today },
    });
  });

  it("a household alarm's expiry comes from the household registry and counts", async () => {
    const h = await call('supervisorDapu', 'POST', '/api/households', {
      id: 'liujiang-7',
      area: 'liujiang',
      address: '柳江村 7 号',
    });
    expect(h.status, JSON.stringify(h.body)).toBe(201);
    const d = await call('supervisorDapu', 'PUT', `/api/households/liujiang-7/detectors/${HOME_CO}`, {
      location: '卧室',
      expiresOn: '2026-12-01',
    });
    expect(d.status, JSON.stringify(d.body)).toBe(200);
    const v = await view(HOME_CO);
    expect(v.householdAlarm).toEqual({ household: 'liujiang-7', expiresOn: '2026-12-01' });
    expect(v.fitness.reasons).toEqual(['no_bump_test', 'no_calibration', 'alarm_expired']);
    expect(v.fitness.reminders).toEqual([
      { item: 'alarm_expiry', due: '2026-12-01', daysLeft: -20, overdue: true },
    ]);
  });

  it('who may: viewers read, operators may not record, other townships see no such device, nobody without a login', async () => {
    const path = `/api/devices/${PLANT}/maintenance`;
    expect((await call('operatorDapu', 'GET', path)).status).toBe(200);
    for (const [method, sub, body] of [
      ['POST', '/bump-tests', bump()],
      ['POST', '/calibrations', { result: 'pass', nextDue: '2027-12-01' }],
      ['PUT', '/dates', { sensorEndOfLife: null, lastSelfTest: null }],
      ['POST', '/bump-tests/start', undefined],
    ] as const) {
      expect(await call('operatorDapu', method, `${path}${sub}`, body)).toMatchObject({
        status: 403,
        body: { error: 'forbidden' },
      });
      expect(await call('supervisorShapu', method, `${path}${sub}`, body)).toEqual({
        status: 404,
        body: { error: 'not_found', message: `no device ${PLANT}` },
      });
      expect((await call(null, method, `${path}${sub}`, body)).status).toBe(401);
    }
    expect((await call('supervisorShapu', 'GET', path)).status).toBe(404);
    expect((await call('supervisorShapu', 'GET', `${path}/bump-tests`)).status).toBe(404);
    expect((await call('admin', 'GET', '/api/devices/nobody/maintenance')).body).toEqual({
      error: 'not_found',
      message: 'no device nobody',
    });
  });

  it('bad input: a time in the future, a pass while a gas failed, a next due day not after the calibration', async () => {
    const post = (sub: string, body: unknown) =>
      call('supervisorDapu', 'POST', `/api/devices/${PLANT}/maintenance/${sub}`, body);
    expect(await post('bump-tests', bump({ at: iso(now + 6 * MIN) }))).toMatchObject({
      status: 400,
      body: { error: 'in_the_future', message: expect.stringContaining('is in the future') },
    });
    expect((await post('bump-tests', bump({ at: iso(now + 4 * MIN) }))).status).toBe(201);
    const contradiction = await post('bump-tests', bump({ gases: [{ gas: 'CO', result: 'fail' }] }));
    expect(contradiction).toMatchObject({ status: 400, body: { error: 'bad_request' } });
    expect(contradiction.body.message).toContain('cannot pass while CO failed');
    expect((await post('bump-tests', bump({ method: 'gateway' }))).status).toBe(400);
    expect((await post('bump-tests', bump({ gases: [{ gas: 'NH3', result: 'pass' }] }))).status).toBe(400);
    expect((await post('bump-tests', { ...bump(), extra: 1 })).status).toBe(400);
    const today = (await view(PLANT)).fitness.today;
    expect(await post('calibrations', { result: 'pass', nextDue: today })).toMatchObject({
      status: 400,
      body: {
        error: 'bad_next_due',
        message: `nextDue ${today} must be after the day of the calibration (${today})`,
      },
    });
    expect((await post('calibrations', { result: 'pass' })).body.message).toMatch(/nextDue/);
    expect((await call('admin', 'GET', `/api/devices/${PLANT}/maintenance/bump-tests?cursor=x`)).status).toBe(
      400,
    );
    expect((await call('admin', 'GET', '/api/maintenance/due?area=nowhere')).body).toMatchObject({
      error: 'unknown_area',
    });
  });

  it('lists every bump test, the last done first, page by page', async () => {
    const all = (await call('viewerDapu', 'GET', `/api/devices/${PLANT}/maintenance/bump-tests?limit=500`))
      .body as {
      bumpTests: { id: string; at: string }[];
      total: number;
    };
    expect(all.total).toBe(all.bumpTests.length);
    expect(all.total).toBeGreaterThan(8);
    const ats = all.bumpTests.map((b) => b.at);
    expect([...ats].sort().reverse()).toEqual(ats);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 20; i++) {
      const page = (
        await call(
          'viewerDapu',
          'GET',
          `/api/devices/${PLANT}/maintenance/bump-tests?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        )
      ).body as { bumpTests: { id: string }[]; nextCursor: string | null };
      seen.push(...page.bumpTests.map((b) => b.id));
      cursor = page.nextCursor;
      if (cursor === null) break;
    }
    expect(seen).toEqual(all.bumpTests.map((b) => b.id));
  });
});
