/**
 * The console app in real headless Chromium when things go wrong: the alarm list cannot be loaded
 * (store down at start → 503 alarms_loading), the server stops answering (SIGSTOP), and an active
 * alarm followed by more than 100 closed ones. The app must never say "no alarms" when it could not
 * load them, must say it is stale and stop claiming a device is online, and must never lose an
 * open alarm.
 */
import { type Influxd, type Proc, startInfluxd, waitFor } from '@gaswatch/shared/testing';
import type { MqttClient } from 'mqtt';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectGateway,
  createUser,
  getJson,
  login,
  reading,
  startServerProcess,
  startTestServer,
  type TestServer,
  tempDir,
  withDatabase,
} from '../helpers.js';
import { deviceState, launchChromium, publish, publishState } from './browser.js';
import { ConsoleApp } from './console-app.js';
import { DevicesPage } from './console-devices.js';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

/** The app at `url`, logged in as `username`, in English at desk width. */
async function loggedIn(url: string, username: string): Promise<ConsoleApp> {
  const app = await ConsoleApp.create(browser, { locale: 'en-US', width: 1400 });
  await app.goto(url);
  await app.logIn(username);
  return app;
}

describe('the alarm list cannot be loaded', () => {
  let influxd: Influxd | undefined;
  let server: TestServer | undefined;
  afterAll(async () => {
    await server?.close();
    await influxd?.stop();
  });

  it('shows a red banner with the reason instead of "no alarms", and drops it once the store is back', {
    timeout: 60_000,
  }, async () => {
    influxd = await startInfluxd();
    await influxd.pause();
    server = await startTestServer({ INFLUX_URL: influxd.url, INFLUX_DB: 'console_outage' });
    expect((await getJson(`${server.url}/api/alarms`)).status).toBe(503);

    // Logging in needs the SQL database only, not the time-series store.
    await createUser(server.app.db, { username: 'duty', role: 'viewer' });
    const app = await loggedIn(server.url, 'duty');
    const banner = app.page.getByTestId('load-error');
    await banner.waitFor({ timeout: 15_000 });
    // The server's own reason (503 alarms_loading), not "no alarms".
    expect((await banner.textContent())?.trim()).toMatch(
      /^Alarm list unavailable: alarm state is still being loaded .*; trying again in 2 s$/,
    );
    expect(await app.board.textContent()).toContain('Loading alarms…');
    expect(await app.page.getByTestId('no-alarms').count()).toBe(0);

    await influxd.start();
    await banner.waitFor({ state: 'detached', timeout: 30_000 });
    await app.page.getByTestId('no-alarms').waitFor({ timeout: 10_000 });
    expect(await app.page.getByTestId('no-alarms').textContent()).toBe('No open alarms');
    expect(await app.staleBanner.isVisible()).toBe(false);
    await app.close();
  });
});

describe('the server stops answering', () => {
  const tmp = tempDir('gaswatch-console-hang-');
  let proc: Proc | undefined;
  let client: MqttClient | undefined;
  let stopped = false;
  afterAll(async () => {
    if (proc && stopped) process.kill(proc.pid, 'SIGCONT');
    await client?.endAsync();
    await proc?.stop();
    tmp.remove();
  });

  it('says so in red, stops claiming "online" on the list and the device page, and recovers', {
    timeout: 90_000,
  }, async () => {
    const env = { DATA_DIR: tmp.dir, STORE_FLUSH_MS: '20' };
    await withDatabase(env, (db) => createUser(db, { username: 'duty', role: 'viewer' }));
    const s = await startServerProcess(env);
    proc = s.proc;
    client = await connectGateway({ dataDir: tmp.dir, mqttUrl: s.mqttUrl }, 'gw-hang');
    // A 30 s offline window (poll interval 1 s): the device stays online across the freeze.
    await publishState(client, 'gw-hang', 'hall-co', deviceState({ pollIntervalS: 1 }));
    await publish(client, 'gw-hang', 'hall-co', reading(0, Date.now(), { CO: 3 }));

    const app = await loggedIn(s.url, 'duty');
    const list = new DevicesPage(app);
    await list.open();
    await expect.poll(() => list.status('hall-co'), { timeout: 15_000 }).toContain('online');
    // The device page, in a second tab of the same login.
    const tab = await app.page.context().newPage();
    await tab.goto(`${s.url}/console/#/devices/hall-co`);
    const tabStatus = () =>
      tab
        .getByTestId('device-page')
        .getByTestId('device-status')
        .locator('[data-status]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
    await expect.poll(tabStatus, { timeout: 15_000 }).toContain('online');

    process.kill(proc.pid, 'SIGSTOP');
    stopped = true;
    await app.staleBanner.waitFor({ timeout: 20_000 });
    expect(await app.staleBanner.textContent()).toMatch(/^STALE: nothing from the server for \d+ s/);
    expect(await app.page.title()).toMatch(/^⚠ /);
    await expect.poll(() => list.status('hall-co'), { timeout: 5_000 }).toContain('unknown');
    expect(await list.status('hall-co')).not.toContain('online');
    expect(await list.row('hall-co').getByTestId('device-status').textContent()).toContain(
      'Online status unknown',
    );
    await expect.poll(tabStatus, { timeout: 10_000 }).toContain('unknown');
    expect(await tabStatus()).not.toContain('online');

    process.kill(proc.pid, 'SIGCONT');
    stopped = false;
    // A fresh reading: on a slow machine the first one may be older than the 30 s offline window
    // by now, and then "offline" would be the right answer.
    await publish(client, 'gw-hang', 'hall-co', reading(1, Date.now(), { CO: 3 }));
    await app.staleBanner.waitFor({ state: 'detached', timeout: 20_000 });
    await expect.poll(() => list.status('hall-co'), { timeout: 10_000 }).toContain('online');
    await expect.poll(tabStatus, { timeout: 20_000 }).toContain('online');
    expect(await app.page.title()).not.toMatch(/⚠/);
    await app.close();
  });
});

describe('an active alarm followed by more than 100 closed ones', () => {
  let server: TestServer;
  let client: MqttClient;
  beforeAll(async () => {
    server = await startTestServer();
    client = await connectGateway(server, 'gw-many');
    await createUser(server.app.db, { username: 'tester', role: 'operator' });
    await createUser(server.app.db, { username: 'duty', role: 'viewer' });
  });
  afterAll(async () => {
    await client?.endAsync();
    await server?.close();
  });

  it('keeps the active alarm on the board, alone and first; the closed ones are in the history', {
    timeout: 90_000,
  }, async () => {
    const GW = 'gw-many';
    let ts = Date.now();
    const next = () => {
      ts = Math.max(Date.now(), ts + 1);
      return ts;
    };
    // The detector's own alarm output raises the 'detector' alarm at once, in every profile.
    await publishState(client, GW, 'boiler-co', deviceState({ pollIntervalS: 3600 }));
    await publish(client, GW, 'boiler-co', { ...reading(0, next(), { CO: 0 }), alarm: true });
    const openOf = async (dev: string, state = 'open') =>
      (await getJson<{ alarms: { id: string }[] }>(`${server.url}/api/alarms?state=${state}&device=${dev}`))
        .body.alarms;
    await waitFor(
      async () => (await openOf('boiler-co', 'active')).length === 1,
      'boiler alarm active',
      10_000,
    );

    await publishState(client, GW, 'flap-co', deviceState({ pollIntervalS: 3600 }));
    const tester = await login(server.url, 'tester');
    for (let i = 0; i < 101; i++) {
      await publish(client, GW, 'flap-co', { ...reading(2 * i, next(), { CO: 0 }), alarm: true });
      let active: { id: string }[] = [];
      await waitFor(
        async () => {
          active = await openOf('flap-co', 'active');
          return active.length === 1;
        },
        `flap alarm ${i} active`,
        10_000,
        10,
      );
      const ack = await tester.fetch(`${server.url}/api/alarms/${active[0]?.id}/ack`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ note: `flap ${i}` }),
      });
      expect(ack.status).toBe(200);
      await publish(client, GW, 'flap-co', { ...reading(2 * i + 1, next(), { CO: 0 }), alarm: false });
      await waitFor(async () => (await openOf('flap-co')).length === 0, `flap alarm ${i} closed`, 10_000, 10);
    }
    // The newest 100 of any state no longer hold the active alarm.
    const unfiltered = (await getJson<{ alarms: { dev: string }[] }>(`${server.url}/api/alarms`)).body.alarms;
    expect(unfiltered).toHaveLength(100);
    expect(unfiltered.some((a) => a.dev === 'boiler-co')).toBe(false);

    const app = await loggedIn(server.url, 'duty');
    const cards = app.page.getByTestId('alarm');
    await expect.poll(() => cards.count(), { timeout: 15_000 }).toBe(1);
    expect(await cards.first().getAttribute('data-state')).toBe('active');
    expect(await cards.first().textContent()).toContain('boiler-co');
    expect(await app.page.getByTestId('nav-unacked').textContent()).toBe('1');
    expect(await app.page.title()).toBe('(1) gaswatch');
    expect(await app.page.getByTestId('load-error').count()).toBe(0);

    // The closed ones, with who acknowledged them, are the history's.
    await app.page.getByTestId('nav-history').click();
    await expect
      .poll(() => app.page.getByTestId('history-total').textContent(), { timeout: 15_000 })
      .toBe('102 alarms');
    const rows = app.page.getByTestId('history-row').filter({ hasText: 'flap-co' });
    await expect.poll(() => rows.count()).toBeGreaterThan(10);
    expect(await rows.first().textContent()).toMatch(/Cleared[\s\S]*tester/);
    expect(app.errors).toEqual([]);
    await app.close();
  });
});
