/**
 * A bump test started from the API through every real part: the server sends the `bump_test`
 * command over its embedded broker to a real gateway process polling a firmware-sim gaswatch-4gas
 * detector over Modbus TCP; the gateway opens its window, judges the readings against its alarm
 * levels and reports pass or fail as an event; the server records it as a bump test `how: gateway`
 * credited to whoever started it, and keeps the device's maintenance alarm in step.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDevice, createModbusTcpServer } from '@gaswatch/firmware-sim';
import type { MaintenanceView } from '@gaswatch/shared';
import { freePort, type Proc, startTsNode, waitFor } from '@gaswatch/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { apiFetch, gatewayLogin, startTestServer, type TestServer, tempDir } from './helpers.js';

const GATEWAY_MAIN = fileURLToPath(new URL('../../gateway/src/main.ts', import.meta.url));
const GW = 'gw-well';
const DEV = 'cs-well-9';
/** The gateway's window: long enough for a few polls, short enough to wait out a failure. */
const WINDOW_S = 3;

interface AlarmRow {
  dev: string;
  key: string;
  state: string;
  message: string;
}

describe('a bump test through a real gateway', () => {
  const tmp = tempDir('gaswatch-maint-gw-');
  let server: TestServer;
  let gateway: Proc | undefined;
  const detector = createDevice({ id: DEV, profile: 'gaswatch-4gas', unit: 1 });
  let sim: ReturnType<typeof createModbusTcpServer>;

  const api = async (method: string, path: string) => {
    const r = await apiFetch(`${server.url}${path}`, { method });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const maintenance = async () =>
    (await api('GET', `/api/devices/${DEV}/maintenance`)).body as unknown as MaintenanceView;
  const maintenanceAlarms = async () =>
    ((await api('GET', '/api/alarms?kind=maintenance')).body.alarms as AlarmRow[]).filter(
      (a) => a.dev === DEV,
    );

  beforeAll(async () => {
    server = await startTestServer();
    const port = await freePort();
    sim = createModbusTcpServer({ devices: [detector], port });
    await sim.start();
    const { password } = await gatewayLogin(server, GW);
    const config = join(tmp.dir, 'gateway.yaml');
    writeFileSync(
      config,
      stringify({
        gatewayId: GW,
        uplink: { url: server.mqttUrl, password, reconnectMs: 300 },
        outbox: { dir: join(tmp.dir, 'outbox') },
        alarms: { siteType: 'workplace' },
        bumpTestS: WINDOW_S,
        buses: [
          {
            id: 'tcp-0',
            type: 'modbus-tcp',
            host: '127.0.0.1',
            port,
            devices: [
              {
                id: DEV,
                unit: 1,
                profile: 'gaswatch-4gas',
                pollIntervalS: 0.5,
                site: 'well-9',
                location: '9号井',
              },
            ],
          },
        ],
      }),
    );
    gateway = startTsNode(GATEWAY_MAIN, ['--config', config], { env: { LOG_LEVEL: 'info' } });
    await gateway.waitForOutput(/"msg":"started"/, 60_000);
    await waitFor(() => server.app.devices.get(DEV)?.lastReading != null, 'readings of the detector', 30_000);
  }, 90_000);

  afterAll(async () => {
    await gateway?.stop('SIGTERM', 8_000);
    await sim?.stop();
    await server?.close();
    tmp.remove();
  });

  it("no test gas within the window: failed, recorded as the gateway's, a maintenance alarm; test gas next time: passed, cleared", {
    timeout: 60_000,
  }, async () => {
    for (const [gas, v] of [
      ['O2', 20.9],
      ['LEL', 0],
      ['CO', 0],
      ['H2S', 0],
    ] as const)
      detector.setConcentration(gas, v);
    const first = await api('POST', `/api/devices/${DEV}/maintenance/bump-tests/start`);
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    // The gateway's own words: its window and each gas's level (the confined-space alarm levels).
    expect(first.body).toMatchObject({ started: true, message: expect.stringMatching(/3 s window/) });
    expect(first.body.message).toMatch(/O2 < 19\.5 %vol.*LEL ≥ 10 %LEL.*CO ≥ 35 ppm.*H2S ≥ 10 ppm/);

    await waitFor(
      async () => (await maintenance()).bumpTests.total === 1,
      'the failed test recorded',
      20_000,
    );
    const failed = await maintenance();
    expect(failed.bumpTests.items[0]).toMatchObject({
      method: 'gateway',
      result: 'fail',
      by: 'test admin',
      recordedBy: `gateway:${GW}`,
      gases: [{ gas: 'O2', result: 'fail', peak: 20.9 }],
      note: expect.stringMatching(
        /^bump test failed: O2 lowest 20\.9 %vol, needs O2 < 19\.5 %vol; LEL peak 0 %LEL/,
      ),
    });
    expect(failed.fitness.reasons).toContain('bump_test_failed');
    await waitFor(async () => (await maintenanceAlarms()).length === 1, 'maintenance alarm raised', 10_000);
    expect((await maintenanceAlarms())[0]).toMatchObject({ key: 'maintenance', state: 'active' });

    const second = await api('POST', `/api/devices/${DEV}/maintenance/bump-tests/start`);
    expect(second.status, JSON.stringify(second.body)).toBe(202);
    // One window at a time: the gateway refuses another, and the API says why.
    const refused = await api('POST', `/api/devices/${DEV}/maintenance/bump-tests/start`);
    expect(refused).toMatchObject({ status: 409, body: { error: 'bump_test_refused' } });
    expect(refused.body.message).toMatch(
      new RegExp(`^gateway ${GW} refused: a bump test of ${DEV} is already running until `),
    );
    // The test gas of a 4-gas bump bottle: O2 down, the others up past their alarm levels.
    for (const [gas, v] of [
      ['O2', 18],
      ['LEL', 25],
      ['CO', 100],
      ['H2S', 25],
    ] as const)
      detector.setConcentration(gas, v);
    await waitFor(
      async () => (await maintenance()).bumpTests.total === 2,
      'the passed test recorded',
      20_000,
    );
    const passed = await maintenance();
    expect(passed.bumpTests.items[0]).toMatchObject({
      method: 'gateway',
      result: 'pass',
      gases: [{ gas: 'O2', result: 'pass' }],
    });
    expect(passed.bumpTests.items[0]?.note).toMatch(
      /^bump test passed after [\d.]+ s: O2 lowest 18 %vol, LEL peak 25 %LEL, CO peak 100 ppm, H2S peak 25 ppm/,
    );
    expect(passed.fitness.reasons).not.toContain('bump_test_failed');
    await waitFor(
      async () => (await maintenanceAlarms())[0]?.state === 'cleared_unacked',
      'maintenance alarm cleared',
      10_000,
    );
    for (const [gas, v] of [
      ['O2', 20.9],
      ['LEL', 0],
      ['CO', 0],
      ['H2S', 0],
    ] as const)
      detector.setConcentration(gas, v);
  });
});
