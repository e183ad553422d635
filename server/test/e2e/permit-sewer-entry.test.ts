/**
 * Issue 14's gas test with the real processes: firmware-sim's sewer-entry manhole (its zones and
 * its 4-gas detector, served over Modbus TCP) → the gateway polling it every second → MQTT → the
 * server. The tester lowers the detector through the simulator's control port as a person lowers
 * it on its line, and records each position over HTTP as the console will: the detector is refused
 * until bump-tested; the H2S pocket at the bottom fails the test; after ventilation a new test
 * passes; entry starts; a release of H2S stops the work by itself with the evacuation alert;
 * close-out; the PDF holds the tests. Wall-clock time, so the detector's response time is set to
 * 2 s.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RunningSystem, startSystem } from '@gaswatch/firmware-sim/system';
import { waitFor } from '@gaswatch/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { apiFetch, createUser, type Login, login, tempDir, withDatabase } from '../helpers.js';

const DEV = 'entry-4gas';
const tmp = tempDir('gw-permit-e2e-');

/**
 * The built-in sewer-entry scenario without its script (the test moves the detector itself), with
 * two more layers of air: the shaft after the fan has run, and a release of H2S during the work.
 */
function scenario(): string {
  const builtin = parse(
    readFileSync(new URL('../../../firmware-sim/scenarios/sewer-entry.yaml', import.meta.url), 'utf8'),
  ) as { zones: unknown[]; devices: unknown[]; transports: { port: number }[] };
  return stringify({
    name: 'e2e-sewer-entry',
    description: 'sewer-entry, moved by the test',
    zones: [
      ...builtin.zones,
      { id: 'sewer-ventilated', fixed: { O2: 20.8, LEL: 0, CO: 0, H2S: 0.5 } },
      { id: 'sewer-release', fixed: { O2: 20.6, LEL: 1, CO: 2, H2S: 25 } },
    ],
    devices: builtin.devices,
    transports: builtin.transports.map((t) => ({ ...t, port: 0 })),
  });
}

describe('a sewer entry on a live 4-gas through gateway and simulator', () => {
  let system: RunningSystem;
  const users: Record<string, Login> = {};

  const call = async (who: string, method: string, path: string, body?: unknown) => {
    const init: RequestInit = {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    };
    const r = await (users[who]
      ? users[who].fetch(`${system.url}${path}`, init)
      : apiFetch(`${system.url}${path}`, init));
    const text = await r.text();
    return { status: r.status, body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> };
  };

  /** Lowers the detector to `zone`, places it at `position`, and records once its hold is over. */
  async function atPosition(permit: string, test: string, position: string, zone: string) {
    await system.sim.simulate({ device: DEV, zone });
    const placed = await call('li', 'POST', `/api/permits/${permit}/tests/${test}/placements`, { position });
    expect(placed.status, JSON.stringify(placed.body)).toBe(200);
    let r = await call('li', 'POST', `/api/permits/${permit}/tests/${test}/readings`, { position });
    // Held for its response time, then its next reading: each refusal says what to wait for.
    for (let i = 0; i < 60 && ['not_settled', 'no_settled_reading'].includes(String(r.body.error)); i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      r = await call('li', 'POST', `/api/permits/${permit}/tests/${test}/readings`, { position });
    }
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body as {
      test: { status: string; readings: { position: string; gas: string; pass: boolean; value: number }[] };
    };
  }

  async function gasTest(permit: string, zones: Record<string, string>) {
    const t = await call('li', 'POST', `/api/permits/${permit}/tests`, { device: DEV, responseTimeS: 2 });
    expect(t.status, JSON.stringify(t.body)).toBe(201);
    const id = (t.body.test as { id: string }).id;
    let last: Awaited<ReturnType<typeof atPosition>> | undefined;
    for (const [position, zone] of Object.entries(zones)) last = await atPosition(permit, id, position, zone);
    return last?.test;
  }

  beforeAll(async () => {
    writeFileSync(join(tmp.dir, 'scenario.yaml'), scenario());
    writeFileSync(
      join(tmp.dir, 'gaswatch.yaml'),
      stringify({ sites: { 'plant-a': { area: 'liujiang', permits: { ruleSet: 'gb30871' } } } }),
    );
    await withDatabase({ DATA_DIR: join(tmp.dir, 'system', 'server') }, async (db) => {
      await createUser(db, { username: 'wang', displayName: '王建国', role: 'supervisor' });
      await createUser(db, { username: 'li', displayName: '李明', role: 'operator' });
    });
    system = await startSystem({
      scenario: join(tmp.dir, 'scenario.yaml'),
      dataDir: join(tmp.dir, 'system'),
      gatewayId: 'gw-plant-a',
      pollIntervalS: 1,
      site: 'plant-a',
      serverEnv: { GASWATCH_CONFIG: join(tmp.dir, 'gaswatch.yaml') },
    });
    for (const who of ['wang', 'li']) users[who] = await login(system.url, who);
    users.admin = await login(system.url, system.login.username, system.login.password);
    for (const [id, kind, parent] of [
      ['liucheng', 'county', null],
      ['liujiang', 'village', 'liucheng'],
    ] as const)
      expect((await call('admin', 'POST', '/api/areas', { id, name: id, kind, parent })).status).toBe(201);
    await waitFor(
      async () => (await call('li', 'GET', `/api/devices/${DEV}`)).body.online === true,
      'the 4-gas reporting through the gateway',
      60_000,
    );
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
    tmp.remove();
  });

  it('tests top, middle, bottom live, stops the work on an H2S release, and prints the form', async () => {
    expect(
      (
        await call('wang', 'POST', '/api/spaces', {
          id: 'ws-12',
          name: '3号污水检查井',
          area: 'liujiang',
          site: 'plant-a',
          kind: 'manhole',
          gases: ['H2S', 'CH4'],
          large: true,
        })
      ).status,
    ).toBe(201);
    const drawn = await call('li', 'POST', '/api/permits', {
      kind: 'confined_space',
      space: 'ws-12',
      work: '清理井底淤泥',
      applicant: { name: '刘志远', unit: '柳江市政养护队' },
      crew: [{ name: '周强', certificate: 'YX-2026-0131' }],
      attendant: { name: '郑伟' },
      measures: [{ text: '打开上下游井盖通风' }],
      plannedStart: new Date(Date.now() - 60_000).toISOString(),
      plannedEnd: new Date(Date.now() + 4 * 3_600_000).toISOString(),
    });
    expect(drawn.status, JSON.stringify(drawn.body)).toBe(201);
    const id = (drawn.body.permit as { id: string }).id;
    await call('li', 'POST', `/api/permits/${id}/measures/1/confirm`);
    expect((await call('wang', 'POST', `/api/permits/${id}/actions/approve`, { note: '同意' })).status).toBe(
      200,
    );

    // Not fit to trust until calibrated and bump-tested today.
    const unfit = await call('li', 'POST', `/api/permits/${id}/tests`, { device: DEV });
    expect(unfit.body.error).toBe('detector_unfit');
    const m = `/api/devices/${DEV}/maintenance`;
    expect(
      (await call('wang', 'POST', `${m}/calibrations`, { result: 'pass', nextDue: '2099-01-01' })).status,
    ).toBe(201);
    expect(
      (await call('wang', 'POST', `${m}/bump-tests`, { result: 'pass', method: 'docking_station' })).status,
    ).toBe(201);

    const failed = await gasTest(id, { top: 'sewer-top', middle: 'sewer-middle', bottom: 'sewer-bottom' });
    expect(failed?.status).toBe('failed');
    // The live values of each layer, as the 4-gas read them through the gateway.
    expect(
      failed?.readings.filter((r) => r.position === 'bottom').map((r) => [r.gas, r.value, r.pass]),
    ).toEqual([
      ['O2', 17.2, false],
      ['LEL', 14, false],
      ['CO', 6, true],
      ['H2S', 42, false],
    ]);
    // The middle layer's 8 ppm H2S is over GB 30871's limit too (10 mg/m³ = 7.06 ppm).
    expect(failed?.readings.filter((r) => !r.pass).map((r) => `${r.position}:${r.gas}`)).toEqual([
      'middle:H2S',
      'bottom:O2',
      'bottom:LEL',
      'bottom:H2S',
    ]);

    const passed = await gasTest(id, {
      top: 'sewer-ventilated',
      middle: 'sewer-ventilated',
      bottom: 'sewer-ventilated',
    });
    expect(passed?.status).toBe('passed');
    const start = await call('li', 'POST', `/api/permits/${id}/actions/start`, { note: '入井' });
    expect(start.status, JSON.stringify(start.body)).toBe(200);
    await waitFor(
      async () =>
        ((await call('li', 'GET', `/api/permits/${id}`)).body.monitoring as { total: number }).total > 0,
      'the first monitoring record',
      20_000,
    );

    await system.sim.simulate({ device: DEV, zone: 'sewer-release' });
    await waitFor(
      async () =>
        ((await call('li', 'GET', `/api/permits/${id}`)).body.permit as { state: string }).state ===
        'suspended',
      'the work stopped by the server',
      20_000,
    );
    const detail = (await call('li', 'GET', `/api/permits/${id}`)).body as {
      events: { action: string; signed: { by: string }; data: { reason?: string } }[];
      actions: { action: string; refusals: { code: string }[] }[];
    };
    const stop = detail.events.at(-1);
    expect(stop).toMatchObject({ action: 'suspend', signed: { by: 'system' } });
    expect(['reading_failed', 'alarm']).toContain(stop?.data.reason);
    expect(detail.actions.find((a) => a.action === 'resume')?.refusals.map((r) => r.code)).toContain(
      'evacuated',
    );
    // The sounder at the manhole: the gateway switched the 4-gas's relay on, and said so.
    const sounder = async () => {
      const r = (await (await fetch(`${system.sim.controlUrl}/devices`)).json()) as {
        devices: { id: string; coils: Record<string, boolean> }[];
      };
      return r.devices.find((d) => d.id === DEV)?.coils.sounder;
    };
    await waitFor(async () => (await sounder()) === true, 'the sounder relay on', 10_000);
    await waitFor(
      async () =>
        (
          (await call('li', 'GET', `/api/permits/${id}`)).body.permit as {
            sounder: { status: string } | null;
          }
        ).sounder?.status === 'sounding',
      'the gateway’s answer kept with the permit',
      10_000,
    );

    expect(
      (await call('li', 'POST', `/api/permits/${id}/actions/close`, { note: '人员已撤出，作业终止' })).status,
    ).toBe(200);
    const pdf = await users.li?.fetch(`${system.url}/api/permits/${id}/pdf?lang=zh-CN`);
    const text = execFileSync('pdftotext', ['-layout', '-', '-'], {
      input: Buffer.from(await (pdf as Response).arrayBuffer()),
    }).toString('utf8');
    expect(text).toContain('受限空间安全作业票');
    expect(text).toMatch(/下部\s+硫化氢\s+42ppm\s+≤ 10 mg\/m³ \(7\.06 ppm\)\s+不合格/);
    expect(text).toMatch(/第 2 次分析：合格/);
  }, 120_000);
});
