/**
 * The console app keeps itself current from /api/live, in real headless Chromium against the real
 * server, with a gateway (a real MQTT login) publishing: a pushed reading, an alarm, doubtful
 * values (over range as ≥ full scale, bad and uncertain channels marked, a channel not read at
 * all, the detector's fault codes), an interlock action (valve closed — reset on site), a bump test result and an output of a
 * model whose wiring is unknown all change the device list or the device page with no request to
 * /api/*; after its socket drops, the app reconnects and loads each list once, so what happened
 * while it was disconnected is on screen.
 */
import { waitFor } from '@gaswatch/shared/testing';
import type { MqttClient } from 'mqtt';
import type { Browser, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectGateway, createUser, reading, startTestServer, type TestServer } from '../helpers.js';
import { deviceState, launchChromium, publish, publishEvent, publishState } from './browser.js';
import { ConsoleApp } from './console-app.js';
import { DevicesPage } from './console-devices.js';

const GW = 'gw-live';
const HALL = 'hall-co';

describe('the console app on /api/live', () => {
  let browser: Browser;
  let server: TestServer;
  let client: MqttClient;
  let app: ConsoleApp;
  let devices: DevicesPage;
  let seq = 0;
  const asked: string[] = [];
  const publishCo = (co: number, extra: { alarm?: boolean } = {}) =>
    publish(client, GW, HALL, { ...reading(seq++, Date.now(), { CO: co }), ...extra });
  const values = (dev: string) => devices.row(dev).getByTestId('device-values');
  /** Each shown value of a row: text and quality mark. */
  const channels = (dev: string) =>
    values(dev)
      .locator('[data-gas]')
      .evaluateAll((els) =>
        els.map((e) => [
          e.getAttribute('data-gas'),
          (e.textContent ?? '').trim(),
          e.getAttribute('data-quality'),
        ]),
      );

  beforeAll(async () => {
    [browser, server] = await Promise.all([launchChromium(), startTestServer()]);
    client = await connectGateway(server, GW);
    await publishState(client, GW, HALL, deviceState({ pollIntervalS: 3600 }));
    await publishCo(5);
    await createUser(server.app.db, { username: 'duty', role: 'operator' });
    app = await ConsoleApp.create(browser, { locale: 'zh-CN', width: 1400 });
    devices = new DevicesPage(app);
    app.page.on('request', (r: Request) => {
      const path = new URL(r.url()).pathname;
      if (path.startsWith('/api/') && r.resourceType() !== 'websocket') asked.push(path);
    });
    await app.goto(server.url);
    await app.logIn('duty');
    await app.page.getByTestId('no-alarms').waitFor({ timeout: 15_000 });
    await devices.open();
    await waitFor(
      async () => (await values(HALL).textContent()) === '一氧化碳 5 ppm',
      'the first reading',
      15_000,
      50,
    );
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await client?.endAsync();
    await browser?.close();
    await server?.close();
  });

  it('applies a pushed reading and alarm without asking the server again', async () => {
    asked.length = 0;
    await publishCo(6);
    await expect.poll(() => values(HALL).textContent(), { timeout: 10_000 }).toBe('一氧化碳 6 ppm');
    // The detector's own alarm output raises the 'detector' alarm at once, in every profile.
    await publishCo(7, { alarm: true });
    await expect.poll(() => devices.status(HALL), { timeout: 10_000 }).toContain('alarm');
    expect(await app.page.getByTestId('nav-unacked').textContent()).toBe('1');
    expect(await app.page.title()).toBe('(1) gaswatch');
    await app.page.getByTestId('nav-alarms').click();
    const alarm = app.alarms(HALL).first();
    await alarm.waitFor({ timeout: 10_000 });
    expect(await alarm.getAttribute('data-state')).toBe('active');
    expect(asked).toEqual([]);
    await devices.open();
  });

  it('marks doubtful values: over range as ≥ full scale, bad and uncertain channels, a channel not read', async () => {
    const now = Date.now();
    await publishState(client, GW, 'kitchen', deviceState({ model: 'gaswatch-lel', kind: 'combustible' }));
    await publishState(client, GW, 'pinned', deviceState({ model: 'gaswatch-co' }));
    await publishState(client, GW, 'hall', deviceState({ model: 'gaswatch-4gas', kind: 'multigas' }));
    await publish(client, GW, 'kitchen', { ...reading(0, now, { CO: 1000.4 }), quality: { CO: 'bad' } });
    // Exactly at full scale, not flagged by the gateway: the true value is still unknown, ≥ 1000.
    await publish(client, GW, 'pinned', reading(0, now, { CO: 1000 }));
    await publish(client, GW, 'hall', {
      ...reading(0, now, { O2: 0, CO: 4 }),
      status: 'fault',
      faults: ['sensor_eol'],
      quality: { O2: 'uncertain', H2S: 'bad' },
    });
    // New devices join the list where they sort, pushed.
    await expect
      .poll(() => channels('kitchen'), { timeout: 10_000 })
      .toEqual([['CO', '一氧化碳 ≥1000 ppm', 'bad']]);
    expect(await devices.status('kitchen')).toContain('overRange');
    await expect.poll(() => channels('pinned')).toEqual([['CO', '一氧化碳 ≥1000 ppm', null]]);
    expect(await devices.status('pinned')).toContain('overRange');
    await expect
      .poll(() => channels('hall'))
      .toEqual([
        ['O2', '氧气 0 %vol（读数存疑）', 'uncertain'],
        ['CO', '一氧化碳 4 ppm', null],
        ['H2S', '硫化氢 无法读取', 'bad'],
      ]);
    expect(await devices.status('hall')).toContain('fault');
    expect(await values('hall').getAttribute('class')).toMatch(/doubtful/);

    // The device page says the same, value by value.
    await app.page.goto(`${server.url}/console/#/devices/hall`);
    const last = app.page.getByTestId('last-reading');
    await expect
      .poll(() =>
        last
          .locator('[data-gas]')
          .evaluateAll((els) => els.map((e) => [e.getAttribute('data-gas'), e.getAttribute('data-quality')])),
      )
      .toEqual([
        ['O2', 'uncertain'],
        ['CO', null],
        ['H2S', 'bad'],
      ]);
    expect(await last.locator('[data-gas="O2"]').textContent()).toMatch(/0\s*%vol\s*读数存疑/);
    expect(await last.locator('[data-gas="H2S"]').textContent()).toMatch(/无法读取/);
    // The detector's own fault codes, as it reported them.
    expect(await app.page.getByTestId('faults').textContent()).toContain('探测器报告故障：sensor_eol');
    await app.page.goto(`${server.url}/console/#/devices/pinned`);
    await expect
      .poll(() => app.page.getByTestId('last-reading').locator('[data-gas="CO"]').textContent())
      .toMatch(/≥1000\s*ppm/);
  });

  it('shows interlock actions and bump test results on the device page as they arrive', async () => {
    const at = new Date();
    const page = app.page;
    await page.goto(`${server.url}/console/#/devices/kitchen`);
    await expect.poll(() => devices.interlock().textContent(), { timeout: 10_000 }).toContain('暂无联动记录');
    asked.length = 0;
    await publishEvent(client, GW, 'kitchen', {
      v: 1,
      ts: at.toISOString(),
      type: 'interlock',
      severity: 'critical',
      // gaswatch-lel: a set valve coil means the valve is closed.
      outputs: { valve: true, fan: true },
      message: 'CO 400 ppm ≥ 300',
    });
    await expect
      .poll(() => devices.outputs(), { timeout: 10_000 })
      .toEqual({ valve: ['closed', '切断阀已关闭'], fan: ['on', '排风扇已开启'] });
    expect(await page.getByTestId('reset-on-site').textContent()).toBe(
      '联动不会自动复位：险情排除后须到现场复位。',
    );
    const event = devices.events().first();
    expect(await event.textContent()).toMatch(/联动动作\s*切断阀已关闭，排风扇已开启\s*CO 400 ppm ≥ 300/);
    expect(await event.locator('.el-tag--danger').count()).toBe(1);
    expect(asked).toEqual([]);

    // gaswatch-co has no outputs: what a coil value means there is not known, and not guessed.
    await page.goto(`${server.url}/console/#/devices/pinned`);
    await page.getByTestId('device-events').waitFor({ timeout: 10_000 });
    await expect.poll(() => page.getByTestId('device-events').textContent()).toContain('暂无事件');
    asked.length = 0;
    await publishEvent(client, GW, 'pinned', {
      v: 1,
      ts: new Date(at.getTime() + 30_000).toISOString(),
      type: 'interlock',
      outputs: { valve: true },
    });
    await expect
      .poll(() => devices.events().first().textContent(), { timeout: 10_000 })
      .toMatch(/切断阀输出置为 1（该型号含义未知）/);
    expect(await devices.outputs()).toEqual({ valve: ['', '切断阀输出置为 1（该型号含义未知）'] });
    expect(await page.getByTestId('reset-on-site').count()).toBe(0);
    expect(asked).toEqual([]);

    await page.goto(`${server.url}/console/#/devices/hall`);
    await expect.poll(() => page.getByTestId('device-events').textContent()).toContain('暂无事件');
    asked.length = 0;
    await publishEvent(client, GW, 'hall', {
      v: 1,
      ts: new Date(at.getTime() + 60_000).toISOString(),
      type: 'bump_test',
      result: 'fail',
      gas: 'H2S',
      value: 2,
    });
    const bump = devices.events().first();
    await expect
      .poll(() => bump.textContent(), { timeout: 10_000 })
      .toMatch(/冲击测试\s*硫化氢 2 ppm · 未通过/);
    expect(await bump.locator('.el-tag--danger').count()).toBe(1);
    expect(asked).toEqual([]);
    expect(app.errors).toEqual([]);
    await devices.open();
  });

  it('after its socket drops, reconnects and loads each list once, missing nothing', async () => {
    await expect.poll(() => values(HALL).textContent(), { timeout: 10_000 }).toBe('一氧化碳 7 ppm');
    asked.length = 0;
    for (const socket of server.app.websocketServer.clients) socket.terminate();
    // Published while the page has no socket, or just got one back: either way it must show.
    await publishCo(9);
    await expect.poll(() => values(HALL).textContent(), { timeout: 10_000 }).toBe('一氧化碳 9 ppm');
    await expect.poll(() => server.app.liveHub.size).toBe(1);
    // The open alarms and the evacuations of stopped permits (the shell), and the devices shown:
    // once each.
    const once = ['/api/alarms', '/api/devices', '/api/permits'];
    await expect.poll(() => [...asked].sort()).toEqual(once);
    // … and nothing more after (a retry would come within 2 s).
    await new Promise((r) => setTimeout(r, 2_500));
    expect([...asked].sort()).toEqual(once);
    expect(await app.staleBanner.isVisible()).toBe(false);
    expect(app.errors).toEqual([]);
  });
});
