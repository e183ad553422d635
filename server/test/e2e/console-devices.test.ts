/**
 * The console's Devices pages (issue 12) in real headless Chromium against the real server, in
 * both languages at desk width (1400 px) and phone width (390 px). A gateway (a real MQTT login)
 * publishes detectors in two townships: one normal, one warming up, one over range, one faulty,
 * one offline, a canteen's combustible detector leaking, a well's 4-gas detector. The list shows
 * each device's status and the total, the area filter narrows it, readings pushed over /api/live
 * change a row without asking the list again. A device page draws its readings (a month of them
 * stored) with the set points of its alarm rules as lines, asks for each range with the `every`
 * that keeps the chart near 1 500 points, links its alarm to the alarm's card, and shows the valve
 * and fan as the gateway's interlock event reported them. Nothing uncaught in the browser. The
 * screenshots are docs/console.md's.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceState, Reading } from '@gaswatch/shared';
import type { MqttClient } from 'mqtt';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { StoredReading } from '../../src/store/types.js';
import {
  authHeaders,
  connectGateway,
  createUser,
  startTestServer,
  type TestServer,
  tempDir,
} from '../helpers.js';
import { deviceState, docImage, launchChromium, publish, publishEvent, publishState } from './browser.js';
import { ConsoleApp } from './console-app.js';
import { DevicesPage } from './console-devices.js';

const GW = 'gw-dapu';
const DAY = 86_400_000;

/** The area tree: a county, two townships, a village in each. */
const AREAS = [
  { id: 'liucheng', name: '柳城县', kind: 'county', parent: null },
  { id: 'dapu', name: '大埔镇', kind: 'township', parent: 'liucheng' },
  { id: 'shapu', name: '沙埔镇', kind: 'township', parent: 'liucheng' },
  { id: 'liujiang', name: '柳江村', kind: 'village', parent: 'dapu' },
  { id: 'hexi', name: '河西村', kind: 'village', parent: 'shapu' },
] as const;

/** The detectors, what they report every few seconds, and the status the list must show. */
const DEVICES: {
  id: string;
  state: Partial<DeviceState>;
  reading?: Omit<Reading, 'v' | 'ts' | 'seq'>;
  status: string;
}[] = [
  {
    id: 'co-liujiang-501',
    state: { site: 'liujiang-12-3-501', location: '厨房' },
    reading: { values: { CO: 3 }, status: 'ok' },
    status: 'online',
  },
  {
    id: 'co-liujiang-502',
    state: { site: 'liujiang-12-3-502', location: '卧室' },
    reading: { values: { CO: 0 }, status: 'warmup' },
    status: 'warmup',
  },
  {
    id: 'co-liujiang-101',
    state: { site: 'liujiang-7-1-101', location: '厨房' },
    reading: { values: { CO: 1000 }, status: 'ok', quality: { CO: 'bad' } },
    status: 'overRange',
  },
  {
    id: 'co-hexi-204',
    state: { site: 'hexi-3-204', location: '客厅' },
    reading: { values: { CO: 0 }, status: 'fault', faults: ['sensor_eol'] },
    status: 'fault',
  },
  {
    id: 'co-hexi-318',
    state: { site: 'hexi-3-318', location: '厨房', online: false, lastError: 'no answer from unit 6' },
    status: 'offline',
  },
  {
    id: 'lel-hexi-canteen',
    state: { site: 'hexi-canteen', location: '食堂后厨', model: 'gaswatch-lel', kind: 'combustible' },
    reading: { values: { LEL: 62, CO: 4 }, status: 'ok' },
    status: 'alarm',
  },
  {
    id: 'cs-hexi-well',
    state: { site: 'hexi-well-3', location: '3号污水井', model: 'gaswatch-4gas', kind: 'multigas' },
    reading: { values: { O2: 20.9, LEL: 0, CO: 2, H2S: 0 }, status: 'ok' },
    status: 'online',
  },
];
const LEL = 'lel-hexi-canteen';

const CASES = [
  { locale: 'zh-CN', width: 1400, name: 'zh-CN-desktop' },
  { locale: 'zh-CN', width: 390, name: 'zh-CN-phone' },
  { locale: 'en-US', width: 1400, name: 'en-desktop' },
  { locale: 'en-US', width: 390, name: 'en-phone' },
] as const;

const WORDS = {
  'zh-CN': {
    total: (n: number) => `共 ${n} 台`,
    valve: '切断阀已关闭',
    fan: '排风扇已开启',
    none: '暂无联动记录',
  },
  'en-US': {
    total: (n: number) => `${n} in all`,
    valve: 'Gas valve closed',
    fan: 'Exhaust fan on',
    none: 'No interlock reported',
  },
} as const;

/** The buckets each range asks for: the shortest round step within 1 500 points. */
const EVERY = { '1h': '3s', '6h': '15s', '24h': '1m', '7d': '10m', '30d': '30m' } as const;
const EVERY_MS = { '1h': 3_000, '6h': 15_000, '24h': 60_000, '7d': 600_000, '30d': 1_800_000 } as const;
const RANGE_MS = {
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': DAY,
  '7d': 7 * DAY,
  '30d': 30 * DAY,
} as const;

/**
 * A month of stored readings: every minute, the last 6 h every 5 s; a kitchen's gas rises at
 * meal times. Below every set point: the history raises no alarm.
 */
function history(dev: string, gas: 'CO' | 'LEL', now: number): StoredReading[] {
  const rows: StoredReading[] = [];
  let seq = 0;
  const meal = (ts: number) => {
    const h = new Date(ts).getHours() + new Date(ts).getMinutes() / 60;
    return Math.max(0, 1 - Math.abs(h - 11.5)) + Math.max(0, 1 - Math.abs(h - 18));
  };
  for (let ts = now - 30 * DAY; ts < now - 10_000; ts += ts < now - 6 * 3_600_000 ? 60_000 : 5_000) {
    const base = gas === 'CO' ? 1.5 + 9 * meal(ts) : 0.5 + 7 * meal(ts);
    const value = Math.round((base + Math.sin(ts / 600_000) * 0.6 + 0.6) * 10) / 10;
    rows.push({
      gw: GW,
      dev,
      ts,
      seq: seq++,
      values: { [gas]: value },
      status: 'ok',
      receivedAt: ts,
      late: false,
    });
  }
  return rows;
}

describe('the Devices pages in Chromium', () => {
  const tmp = tempDir('gaswatch-devices-');
  let server: TestServer;
  let browser: Browser;
  let gateway: MqttClient;
  let ticker: NodeJS.Timeout | undefined;
  let seq = 1_000_000;
  const apps: ConsoleApp[] = [];

  /**
   * Every online detector reports (each 3 s), so none turns offline during the run; the kitchen's
   * CO detector says something new each time.
   */
  let ticks = 0;
  async function tick(): Promise<void> {
    const now = Date.now();
    ticks++;
    for (const d of DEVICES) {
      if (d.reading === undefined) continue;
      const r =
        d.id === 'co-liujiang-501' ? { ...d.reading, values: { CO: 3 + (ticks % 10) / 2 } } : d.reading;
      await publish(gateway, GW, d.id, { v: 1, ts: new Date(now).toISOString(), seq: seq++, ...r });
    }
  }

  beforeAll(async () => {
    const site = (area: string, type = 'household') => ({ type, area });
    writeFileSync(
      join(tmp.dir, 'gaswatch.yaml'),
      stringify({
        sites: {
          'liujiang-12-3-501': site('liujiang'),
          'liujiang-12-3-502': site('liujiang'),
          'liujiang-7-1-101': site('liujiang'),
          'hexi-3-204': site('hexi'),
          'hexi-3-318': site('hexi'),
          'hexi-canteen': site('hexi', 'workplace'),
          'hexi-well-3': site('hexi', 'workplace'),
        },
      }),
    );
    [server, browser] = await Promise.all([
      startTestServer({ GASWATCH_CONFIG: join(tmp.dir, 'gaswatch.yaml') }),
      launchChromium(),
    ]);
    for (const a of AREAS) {
      const r = await server.app.inject({
        method: 'POST',
        url: '/api/areas',
        headers: authHeaders(server.url),
        payload: a,
      });
      expect(r.statusCode, r.body).toBe(201);
    }
    await createUser(server.app.db, { username: 'lin', displayName: '林建国', role: 'operator' });
    const now = Date.now();
    for (const rows of [history('co-liujiang-501', 'CO', now), history(LEL, 'LEL', now)])
      for (let i = 0; i < rows.length; i += 5_000)
        await server.app.store.writeReadings(rows.slice(i, i + 5_000));
    gateway = await connectGateway(server, GW);
    for (const d of DEVICES)
      await publishState(gateway, GW, d.id, deviceState({ pollIntervalS: 3, ...d.state }));
    await tick();
    ticker = setInterval(() => void tick().catch(() => undefined), 3_000);
  }, 120_000);

  afterAll(async () => {
    clearInterval(ticker);
    for (const a of apps) await a.close();
    await browser?.close();
    await gateway?.endAsync();
    await server?.close();
    tmp.remove();
  });

  it.each(CASES)(
    '$locale at $width px: list with status and total, area filter, device page with chart, set points, ranges, alarm link, valve state',
    { timeout: 120_000 },
    async (c) => {
      const words = WORDS[c.locale];
      const app = await ConsoleApp.create(browser, { locale: c.locale, width: c.width });
      apps.push(app);
      const devices = new DevicesPage(app);
      await app.goto(server.url);
      await app.logIn('lin');
      await devices.open();

      // Every device, by id, each with its status; the total in words.
      const all = DEVICES.map((d) => d.id).sort();
      await expect.poll(() => devices.ids(), { timeout: 15_000 }).toEqual(all);
      for (const d of DEVICES)
        await expect.poll(() => devices.status(d.id), { timeout: 15_000 }).toContain(d.status);
      expect(await devices.status('co-liujiang-501')).not.toContain('offline');
      expect(await devices.total()).toEqual({ n: all.length, text: words.total(all.length) });
      // The areas this login sees, each under its parent.
      expect((await devices.areaChoices()).slice(1).map((s) => s.trim())).toEqual([
        '柳城县',
        '大埔镇',
        '柳江村',
        '沙埔镇',
        '河西村',
      ]);

      // Live: a reading changes its row's values; the list is not asked again.
      const asked = devices.listRequests.length;
      const values = devices.row('co-liujiang-501').getByTestId('device-values');
      const shown = await values.textContent();
      await expect.poll(() => values.textContent(), { timeout: 10_000 }).not.toBe(shown);
      expect(await values.textContent()).toMatch(/\d ppm/);
      expect(devices.listRequests.length).toBe(asked);

      expect(await devices.overflowX(), 'the list fits the width').toBe(0);
      await devices.screenshot(docImage(`console-devices-${c.name}.png`));

      // The area filter: a township, then a village of the other one, then every area again.
      await devices.filterArea('dapu');
      await expect.poll(() => devices.ids()).toEqual(all.filter((d) => d.includes('liujiang')));
      expect((await devices.total()).n).toBe(3);
      expect(app.page.url()).toContain('area=dapu');
      expect(devices.listRequests.at(-1)?.get('area')).toBe('dapu');
      await devices.filterArea('hexi');
      await expect.poll(() => devices.ids()).toEqual(all.filter((d) => d.includes('hexi')));
      expect((await devices.total()).n).toBe(4);
      await devices.filterArea(null);
      await expect.poll(() => devices.ids()).toEqual(all);

      // The canteen's detector: its chart per gas, with the set points of its rules as lines.
      await devices.openDevice(LEL);
      await expect.poll(() => devices.every(), { timeout: 15_000 }).toBe(EVERY['24h']);
      await expect
        .poll(async () => (await devices.chartInfo('LEL')).points, { timeout: 15_000 })
        .toBeGreaterThan(1000);
      const lel = await devices.chartInfo('LEL');
      // A workplace's combustible alarm: first 25 %LEL, second 50 %LEL (GB/T 50493-2019).
      expect(lel).toMatchObject({ thresholds: '25,50', canvas: true });
      expect(lel.points).toBeLessThanOrEqual(1500);
      // Its CO channel runs EN 50291: the slow tier's dose, the fast tier.
      expect(await devices.chartInfo('CO')).toMatchObject({ thresholds: '40,300', canvas: true });

      // Each range asks for buckets that keep the chart near 1 500 points.
      for (const range of ['1h', '6h', '7d', '30d', '24h'] as const) {
        const before = devices.readingRequests.length;
        await devices.pickRange(range);
        await expect.poll(() => devices.every(), { timeout: 15_000 }).toBe(EVERY[range]);
        const q = devices.readingRequests.slice(before).at(-1);
        expect(q?.get('every')).toBe(EVERY[range]);
        expect(q?.get('device')).toBe(LEL);
        const span = Date.parse(q?.get('to') ?? '') - Date.parse(q?.get('from') ?? '');
        expect(span).toBeGreaterThanOrEqual(RANGE_MS[range]);
        expect(span / EVERY_MS[range]).toBeLessThanOrEqual(1501);
        const points = (await devices.chartInfo('LEL')).points;
        expect(points, range).toBeGreaterThan(0);
        expect(points, range).toBeLessThanOrEqual(1501);
      }

      // The gateway reports its interlock: valve closed, fan on (this model: a set coil closes the valve).
      if (c === CASES[0]) await expect.poll(() => devices.interlock().textContent()).toContain(words.none);
      const events = await devices.events().count();
      await publishEvent(gateway, GW, LEL, {
        v: 1,
        ts: new Date().toISOString(),
        type: 'interlock',
        severity: 'critical',
        gas: 'LEL',
        value: 62,
        outputs: { valve: true, fan: true },
        message: 'LEL 62 %LEL ≥ 50: valve closed, fan on',
      });
      await expect
        .poll(() => devices.outputs(), { timeout: 10_000 })
        .toEqual({
          valve: ['closed', words.valve],
          fan: ['on', words.fan],
        });
      await expect.poll(() => devices.events().count()).toBe(events + 1);

      // Its alarm, and a link to the alarm's card.
      await expect.poll(() => devices.deviceAlarms().count(), { timeout: 15_000 }).toBeGreaterThan(0);
      expect(await devices.overflowX(), 'the device page fits the width').toBe(0);
      await devices.screenshot(docImage(`console-device-${c.name}.png`));
      const first = devices.deviceAlarms().first();
      const id = (await first.getAttribute('data-alarm')) ?? '';
      expect(id).toMatch(new RegExp(`^${LEL}\\.`));
      await first.click();
      await app.page.getByTestId('alarm-detail').waitFor({ timeout: 10_000 });
      expect(decodeURIComponent(new URL(app.page.url()).hash)).toBe(`#/alarms/${id}`);

      expect(app.errors).toEqual([]);
    },
  );

  it('a login limited to a township sees only its devices, and the header names the township', {
    timeout: 60_000,
  }, async () => {
    await createUser(server.app.db, {
      username: 'wu',
      displayName: '吴海燕',
      role: 'operator',
      area: 'shapu',
    });
    const app = await ConsoleApp.create(browser, { locale: 'zh-CN', width: 1400 });
    apps.push(app);
    const devices = new DevicesPage(app);
    await app.goto(server.url);
    await app.logIn('wu');
    await expect.poll(() => app.who(), { timeout: 10_000 }).toBe('吴海燕（值班人员 · 沙埔镇）');
    await devices.open();
    await expect.poll(() => devices.ids(), { timeout: 10_000 }).not.toEqual([]);
    const ids = await devices.ids();
    expect(ids.every((id) => !id.includes('liujiang'))).toBe(true);
    expect(ids.some((id) => id.includes('hexi'))).toBe(true);
    expect(app.errors).toEqual([]);
  });

  it('a 4-gas detector: a chart per gas in its order, its set points, words after a language switch; an unknown device', {
    timeout: 60_000,
  }, async () => {
    const app = await ConsoleApp.create(browser, { locale: 'zh-CN', width: 1400 });
    apps.push(app);
    const devices = new DevicesPage(app);
    await app.goto(server.url);
    await app.logIn('lin');

    await app.page.goto(`${server.url}/console/#/devices/nobody-here`);
    await app.page.getByTestId('device-not-found').waitFor({ timeout: 10_000 });
    expect(await app.page.getByTestId('device-not-found').textContent()).toContain('未找到设备 nobody-here');

    await app.page.goto(`${server.url}/console/#/devices/cs-hexi-well`);
    await devices.chart('H2S').waitFor({ timeout: 10_000 });
    const gases = await app.page
      .getByTestId('readings-chart')
      .evaluateAll((cs) => cs.map((c) => c.getAttribute('data-gas')));
    expect(gases).toEqual(['O2', 'LEL', 'CO', 'H2S']);
    // The confined-space rules, each in the gas's unit: the GBZ 2.1 limits in mg/m³ as ppm.
    const api = await server.app.inject({
      url: '/api/devices/cs-hexi-well',
      headers: authHeaders(server.url),
    });
    const setPoints = (api.json() as { setPoints: { gas: string; value: number }[] }).setPoints;
    for (const gas of gases) {
      const want = setPoints.filter((s) => s.gas === gas).map((s) => s.value);
      expect(want.length, gas ?? '').toBeGreaterThan(0);
      expect((await devices.chartInfo(gas ?? '')).thresholds, gas ?? '').toBe(want.join(','));
    }
    expect((await devices.chartInfo('O2')).thresholds).toBe('19.5,23.5');
    // A language switch redraws the charts in the other words.
    const legend = app.page.locator('[data-gas="CO"] .u-legend');
    expect(await legend.textContent()).toContain('均值');
    await app.page.getByTestId('lang-switch').click();
    await expect.poll(() => legend.textContent()).toContain('mean');
    expect(await app.page.getByTestId('trend').textContent()).toContain('Readings');
    // The one error: Chromium logging the 404 of the unknown device, which the page said in words.
    expect(app.errors).toEqual([
      'console: Failed to load resource: the server responded with a status of 404 (Not Found)',
    ]);
  });
});
