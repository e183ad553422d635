/**
 * The maintenance panel of a device page (issue 14) in real headless Chromium against the real
 * server, in Chinese and in English. A supervisor opens a 4-gas detector never maintained: not to
 * be used for gas tests before work, with why in words. He records a calibration (due within the
 * reminder days: shown as coming due), a bump test the dialog refuses (a pass while a gas failed),
 * then a failed one (locked out, a maintenance alarm on the page), then a passed one from the
 * docking station (fit). He starts a bump test through the gateway (an MQTT client logged in as
 * the gateway answers as gateway/src/commands does); its failure arrives as the gateway's event and
 * the panel, pushed over /api/live, says so without a reload. An operator sees the panel without
 * the supervisor's buttons, on a phone. The screenshots are docs/console.md's.
 */
import {
  addDays,
  type Command,
  type CommandResult,
  dayInZone,
  encodePayload,
  type Reading,
  topics,
} from '@gaswatch/shared';
import type { MqttClient } from 'mqtt';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectGateway, createUser, startTestServer, type TestServer } from '../helpers.js';
import { deviceState, docImage, launchChromium, publish, publishEvent, publishState } from './browser.js';
import { ConsoleApp } from './console-app.js';
import { DevicesPage } from './console-devices.js';
import { MaintenancePanel } from './console-maintenance.js';

const GW = 'gw-wells';

const WORDS = {
  'zh-CN': {
    fit: '可用于作业前气体检测',
    lockedOut: '不可用于作业前气体检测',
    never: [
      ['no_bump_test', '没有冲击测试记录'],
      ['no_calibration', '没有标定记录'],
    ],
    failed: ['bump_test_failed', '最近一次冲击测试未通过，须标定或维修后重新测试'],
    dueIn: '还有 20 天',
    contradiction: '有气体未通过，结论不能为“通过”',
    alarm: '冲击测试未通过',
    station: '自动测试站',
    console: '值班台远程启动',
    gatewaySays: '网关回复：bump test of',
    pass: '通过',
  },
  'en-US': {
    fit: 'Fit for gas tests before work',
    lockedOut: 'Not to be used for gas tests before work',
    never: [
      ['no_bump_test', 'No bump test recorded'],
      ['no_calibration', 'No calibration recorded'],
    ],
    failed: ['bump_test_failed', 'Its last bump test failed: calibrate or repair it, then test again'],
    dueIn: 'in 20 days',
    contradiction: 'A gas failed: the result cannot be “passed”',
    alarm: 'Bump test failed',
    station: 'docking station',
    console: 'started from the console',
    gatewaySays: 'Gateway: bump test of',
    pass: 'passed',
  },
} as const;

const CASES = [
  { locale: 'zh-CN', dev: 'cs-well-3', name: 'zh-CN-desktop' },
  { locale: 'en-US', dev: 'cs-well-4', name: 'en-desktop' },
] as const;

describe('the maintenance panel in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let gateway: MqttClient;
  const apps: ConsoleApp[] = [];

  beforeAll(async () => {
    [server, browser] = await Promise.all([startTestServer(), launchChromium()]);
    await createUser(server.app.db, { username: 'wei', displayName: '韦国强', role: 'supervisor' });
    await createUser(server.app.db, { username: 'lin', displayName: '林建国', role: 'operator' });
    gateway = await connectGateway(server, GW);
    // The gateway's side of the command channel, as gateway/src/commands/bump-test.ts answers.
    await gateway.subscribeAsync(topics.cmd(GW), { qos: 1 });
    gateway.on('message', (topic, payload) => {
      if (topic !== topics.cmd(GW)) return;
      const cmd = JSON.parse(String(payload)) as Command;
      if (cmd.type !== 'bump_test') return;
      const result: CommandResult = {
        v: 1,
        id: cmd.id,
        ok: true,
        ts: new Date().toISOString(),
        message: `bump test of ${cmd.device} started: 120 s window, readings carry status bump_test, passes at O2 < 19.5 %vol, LEL ≥ 10 %LEL, CO ≥ 35 ppm, H2S ≥ 10 ppm; local alarms stay armed`,
      };
      void gateway.publishAsync(topics.cmdResult(GW), encodePayload('cmdResult', result), { qos: 1 });
    });
    for (const dev of [...CASES.map((c) => c.dev), 'cs-well-5']) {
      await publishState(
        gateway,
        GW,
        dev,
        deviceState({
          model: 'gaswatch-4gas',
          kind: 'multigas',
          site: 'wells',
          location: dev,
          pollIntervalS: 3600,
        }),
      );
      const r: Reading = {
        v: 1,
        ts: new Date().toISOString(),
        seq: 1,
        values: { O2: 20.9, LEL: 0, CO: 0, H2S: 0 },
        status: 'ok',
      };
      await publish(gateway, GW, dev, r);
    }
  }, 120_000);

  afterAll(async () => {
    for (const a of apps) await a.close();
    await browser?.close();
    await gateway?.endAsync();
    await server?.close();
  });

  it.each(CASES)(
    '$locale: locked out with why, a calibration coming due, a refused and a failed bump test, a pass, a gateway test failing live',
    { timeout: 120_000 },
    async (c) => {
      const words = WORDS[c.locale];
      const app = await ConsoleApp.create(browser, { locale: c.locale, width: 1400 });
      apps.push(app);
      const panel = new MaintenancePanel(app);
      const devices = new DevicesPage(app);
      await app.goto(server.url);
      await app.logIn('wei');
      await panel.open(server.url, c.dev);

      // Never maintained: locked out, and why.
      await expect.poll(() => panel.fit(), { timeout: 10_000 }).toBe('false');
      expect(await panel.verdict()).toBe(words.lockedOut);
      expect(await panel.reasons()).toEqual(words.never);

      // A calibration due in 20 days: within the reminder days, shown as coming due.
      const due = addDays(dayInZone(Date.now(), 'Asia/Shanghai'), 20);
      await panel.recordCalibration({ nextDue: due, by: '柳州市计量测试所', certificate: 'JL-2026-1187' });
      await expect.poll(() => panel.reasons()).toEqual([words.never[0]]);
      const [calibration] = await panel.dates();
      expect(calibration).toEqual(['calibration', 'soon', expect.stringContaining(`${due} ${words.dueIn}`)]);
      expect(await panel.text('last-calibration')).toContain('JL-2026-1187');

      // "Passed" while H2S failed: the dialog refuses it and says why; then it is sent as failed.
      await panel.recordBumpTest({
        method: 'manual',
        result: 'pass',
        peaks: { O2: 18, LEL: 26, CO: 52, H2S: 2 },
        fail: ['H2S'],
        by: '韦小明',
      });
      await expect.poll(() => panel.bumpProblem()).toBe(words.contradiction);
      // The detector's gases, in the order a 4-gas detector is tested.
      expect(await panel.dialogGases()).toEqual(['O2', 'LEL', 'CO', 'H2S']);
      await app.page.getByTestId('bump-result').selectOption('fail');
      await app.page.getByTestId('bump-submit').click();
      await panel.bumpDialogClosed();
      await expect.poll(() => panel.reasons()).toEqual([words.failed]);
      // Its maintenance alarm, on the same page.
      await expect
        .poll(() => devices.deviceAlarms().first().textContent(), { timeout: 10_000 })
        .toContain(words.alarm);

      // A pass from the docking station: fit.
      await panel.recordBumpTest({
        method: 'docking_station',
        result: 'pass',
        peaks: { O2: 18, LEL: 25, CO: 50, H2S: 12 },
        by: '韦小明',
      });
      await panel.bumpDialogClosed();
      await expect.poll(() => panel.fit()).toBe('true');
      expect(await panel.verdict()).toBe(words.fit);
      expect(await panel.text('last-bump')).toContain(words.station);
      expect(await panel.text('last-bump')).toContain(words.pass);
      await panel.screenshot(docImage(`console-maintenance-${c.name}.png`));

      // Through the gateway: it answers at once; its failure comes minutes later, pushed live.
      await panel.startBumpTest();
      expect(await panel.text('start-answer')).toContain(
        `${words.gatewaySays} ${c.dev} started: 120 s window`,
      );
      await publishEvent(gateway, GW, c.dev, {
        v: 1,
        ts: new Date().toISOString(),
        type: 'bump_test',
        result: 'fail',
        severity: 'warning',
        gas: 'H2S',
        value: 0,
        message: 'bump test failed: H2S peak 0 ppm, needs H2S ≥ 10 ppm within 120 s',
      });
      await expect.poll(() => panel.fit(), { timeout: 10_000 }).toBe('false');
      expect(await panel.reasons()).toEqual([words.failed]);
      const last = await panel.text('last-bump');
      expect(last).toContain(words.console);
      expect(last).toContain('韦国强'); // who started it
      expect(last).toContain('needs H2S ≥ 10 ppm');
      expect(app.errors).toEqual([]);
    },
  );

  it('an operator sees the panel without the buttons, and it fits a phone', { timeout: 60_000 }, async () => {
    const app = await ConsoleApp.create(browser, { locale: 'zh-CN', width: 390 });
    apps.push(app);
    const panel = new MaintenancePanel(app);
    const devices = new DevicesPage(app);
    await app.goto(server.url);
    await app.logIn('lin');
    await panel.open(server.url, 'cs-well-3');
    await expect.poll(() => panel.fit()).toBe('false');
    expect(await panel.buttons()).toBe(0);
    expect(await panel.panel.textContent()).toContain('登记和远程测试需主管及以上权限');
    expect(await devices.overflowX(), 'the device page fits the width').toBe(0);
    await panel.screenshot(docImage('console-maintenance-zh-CN-phone.png'));
    expect(app.errors).toEqual([]);
  });
});
