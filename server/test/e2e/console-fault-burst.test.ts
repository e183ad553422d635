/**
 * A fault burst on the alarm board (issue 18), in real headless Chromium against the real server:
 * the detectors behind one gateway report the same fault at once (its RS-485 bus failed), and the
 * board shows one alarm that counts and lists them, in both languages; none of them has an alarm
 * of its own, and each device still says which alarm stands for its fault. The zh-CN card's
 * screenshot is docs/alarm-engine.md's.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '../../src/alarms/model.js';
import {
  connectGateway,
  createUser,
  login,
  reading,
  startTestServer,
  type TestServer,
  tempDir,
} from '../helpers.js';
import { deviceState, docImage, launchChromium, publish, publishState } from './browser.js';
import { ConsoleApp } from './console-app.js';

const GW = 'gw-bus-3';
const DEVS = Array.from({ length: 14 }, (_, i) => `co-bus-${String(i).padStart(2, '0')}`);

const WORDS = {
  'zh-CN': {
    headline: '多台探测器同一故障',
    count: '网关下 14 台探测器报同一故障（comm_error），已并为一条报警，不再逐台报',
    list: /^故障设备：co-bus-00、co-bus-01、.*co-bus-11 等，另有 2 台$/,
  },
  'en-US': {
    headline: 'Same fault on many detectors',
    count: '14 detectors behind it report the same fault (comm_error): one alarm for them, none per detector',
    list: /^Faulty: co-bus-00, co-bus-01, .*co-bus-11 and 2 more$/,
  },
} as const;

describe('a fault burst on the alarm board, in Chromium', () => {
  const tmp = tempDir('gaswatch-burst-');
  let server: TestServer;
  let browser: Browser;
  let gateway: MqttClient;
  const apps: ConsoleApp[] = [];

  beforeAll(async () => {
    // A short window keeps the test short; ten detectors make a burst, as by default.
    writeFileSync(join(tmp.dir, 'gaswatch.yaml'), 'fold:\n  faultWindowS: 2\n  faultMinDevices: 10\n');
    [server, browser] = await Promise.all([
      startTestServer({ GASWATCH_CONFIG: join(tmp.dir, 'gaswatch.yaml') }),
      launchChromium(),
    ]);
    await createUser(server.app.db, { username: 'lin', displayName: '林建国', role: 'operator' });
    gateway = await connectGateway(server, GW);
    let seq = 0;
    for (const dev of DEVS) {
      await publishState(gateway, GW, dev, deviceState({ pollIntervalS: 600, site: 'estate-3' }));
      await publish(gateway, GW, dev, reading(seq++, Date.now(), { CO: 0 }));
    }
    // The bus fails: every detector behind the gateway reports comm_error.
    for (const dev of DEVS)
      await publish(gateway, GW, dev, {
        ...reading(seq++, Date.now(), { CO: 0 }),
        status: 'fault',
        faults: ['comm_error'],
      });
  }, 60_000);

  afterAll(async () => {
    for (const a of apps) await a.close();
    await browser?.close();
    await gateway?.endAsync();
    await server?.close();
    tmp.remove();
  });

  it.each(['zh-CN', 'en-US'] as const)(
    '%s: one card counts and lists the detectors; none has an alarm of its own',
    { timeout: 60_000 },
    async (locale) => {
      const words = WORDS[locale];
      const app = await ConsoleApp.create(browser, { locale, width: 1400 });
      apps.push(app);
      await app.goto(server.url);
      await app.logIn('lin');
      const card = app.page.locator(`[data-alarm^="${GW}.fault-burst-comm_error."]`);
      await expect.poll(() => card.count(), { timeout: 15_000 }).toBe(1);
      expect((await card.getByTestId('open-card').textContent())?.trim()).toBe(words.headline);
      // The card opens with the tenth detector; the other four join it as the engine takes their
      // readings in, and the board follows.
      await expect
        .poll(async () => (await card.getByTestId('fold-count').textContent())?.trim(), { timeout: 15_000 })
        .toBe(words.count);
      expect((await card.getByTestId('fold-devices').textContent())?.trim().replace(/\s+/g, ' ')).toMatch(
        words.list,
      );
      // Past the window: still the one card, no detector's own.
      await new Promise((r) => setTimeout(r, 2_500));
      expect(await app.page.getByTestId('alarm').count()).toBe(1);
      if (locale === 'zh-CN') await card.screenshot({ path: docImage('console-fault-burst.png') });

      const operator = await login(server.url, 'lin');
      const get = async <T>(path: string) =>
        (await (await operator.fetch(`${server.url}${path}`)).json()) as T;
      const { alarms } = await get<{ alarms: Alarm[] }>('/api/alarms?state=open');
      expect(alarms.map((a) => [a.dev, a.key, a.fold?.count, a.fold?.fault])).toEqual([
        [GW, 'fault-burst:comm_error', 14, 'comm_error'],
      ]);
      const device = await get<{ lastReading: { status: string }; faultFold: unknown }>(
        `/api/devices/${DEVS[3]}`,
      );
      expect(device).toMatchObject({
        lastReading: { status: 'fault' },
        faultFold: { scope: 'gateway', code: 'comm_error', alarmId: alarms[0]?.id },
      });
      expect(app.errors).toEqual([]);
    },
  );
});
