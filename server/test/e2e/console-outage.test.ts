/**
 * The console page in a real headless Chromium when things go wrong: the alarm list cannot be
 * loaded (store down at start → 503 alarms_loading), the server stops answering (SIGSTOP), and an
 * active alarm followed by more than 100 closed ones. The page must never say "no alarms" when it
 * could not load them, must turn visibly stale, and must never lose an open alarm.
 */
import { type Influxd, type Proc, startInfluxd, waitFor } from '@gaswatch/shared/testing';
import type { MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
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
import { ConsolePage } from './console.js';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

/** The banner's text while it is shown, '' while it is hidden. */
const bannerText = async (page: Page): Promise<string> => {
  const banner = page.locator('#banner');
  return (await banner.isVisible()) ? ((await banner.textContent()) ?? '') : '';
};

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
    const { page } = await ConsolePage.loggedIn(browser, server.url, 'duty');
    await expect
      .poll(() => bannerText(page), { timeout: 15_000 })
      .toMatch(/alarm list unavailable: HTTP 503 alarms_loading: alarm state is still being loaded/);
    const alarms = page.locator('#alarms tbody');
    await expect.poll(() => alarms.textContent()).toMatch(/alarm list unavailable: HTTP 503 alarms_loading/);
    expect(await alarms.textContent()).not.toMatch(/no (open )?alarms/);
    expect(await page.locator('#alarms tbody tr.unavailable').count()).toBe(1);

    await influxd.start();
    await expect.poll(() => bannerText(page), { timeout: 30_000 }).toBe('');
    await expect.poll(() => alarms.textContent()).toMatch(/^\s*no open alarms\s*$/);
    expect((await page.locator('#status').getAttribute('class')) ?? '').not.toMatch(/stale/);
    await page.context().close();
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

  it('turns the page red and stale, stops claiming "online", and recovers when it answers again', {
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

    const { page } = await ConsolePage.loggedIn(browser, s.url, 'duty');
    const online = page.locator('tr[data-device="hall-co"] td.online');
    await expect.poll(() => online.textContent(), { timeout: 15_000 }).toBe('yes');
    await expect.poll(() => page.locator('#status').textContent()).toMatch(/^updated /);

    process.kill(proc.pid, 'SIGSTOP');
    stopped = true;
    await expect.poll(() => page.locator('#status').getAttribute('class'), { timeout: 20_000 }).toBe('stale');
    expect(await page.locator('#status').textContent()).toMatch(/^STALE — .*last good refresh .* s ago/);
    expect(await page.title()).toMatch(/^STALE — /);
    await expect.poll(() => online.textContent(), { timeout: 5_000 }).toBe('unknown (page stale)');
    await expect
      .poll(() => bannerText(page), { timeout: 10_000 })
      .toMatch(/alarm list unavailable: no answer within 5 s/);
    expect(await page.evaluate('getComputedStyle(document.getElementById("status")).backgroundColor')).toBe(
      'rgb(187, 0, 0)',
    );

    process.kill(proc.pid, 'SIGCONT');
    stopped = false;
    // A fresh reading: on a slow machine the first one may be older than the 30 s offline window
    // by now, and then "no" would be the right answer.
    await publish(client, 'gw-hang', 'hall-co', reading(1, Date.now(), { CO: 3 }));
    await expect.poll(() => bannerText(page), { timeout: 20_000 }).toBe('');
    await expect.poll(() => page.locator('#status').getAttribute('class')).toBe('');
    await expect.poll(() => online.textContent()).toBe('yes');
    await page.context().close();
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

  it('keeps the active alarm on the page, listed first; the closed ones are listed separately', {
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
    // What the old page fetched (newest 100 of any state) no longer has the active alarm.
    const unfiltered = (await getJson<{ alarms: { dev: string }[] }>(`${server.url}/api/alarms`)).body.alarms;
    expect(unfiltered).toHaveLength(100);
    expect(unfiltered.some((a) => a.dev === 'boiler-co')).toBe(false);

    const { page } = await ConsolePage.loggedIn(browser, server.url, 'duty');
    const first = page.locator('#alarms tbody tr[data-alarm]').first();
    await expect.poll(() => first.textContent(), { timeout: 15_000 }).toMatch(/^\s*active\s*\S+\s*boiler-co/);
    expect(await page.locator('#alarms tbody tr[data-alarm]').count()).toBe(1);
    expect(await page.locator('#open-count').textContent()).toBe('(1)');
    expect(await page.title()).toBe('(1) gaswatch');
    await expect.poll(() => page.locator('#closed tbody tr[data-alarm]').count()).toBeGreaterThan(10);
    expect(await page.locator('#closed tbody').textContent()).toMatch(/cleared[\s\S]*flap-co[\s\S]*tester/);
    expect(await bannerText(page)).toBe('');
    await page.context().close();
  });
});
