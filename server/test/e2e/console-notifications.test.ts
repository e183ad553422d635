/**
 * `npm start` notifies somebody a newcomer can see (issue 15): with the one-box demo's chain
 * (DEMO_NOTIFY: log channels, nothing leaves the machine) and its township (seedDemoTownship), a
 * CO detector in an elderly woman's bedroom reaches 400 ppm, and her alarm's card in the console
 * shows the SMS the chain sent her, as she would read it, delivered. Every real part: firmware-sim,
 * the gateway, the server as its own process, Chromium. The screenshot is docs/notifications.md's.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seedDemoTownship } from '@gaswatch/firmware-sim/demo-township';
import { DEMO_NOTIFY, type RunningSystem, startSystem } from '@gaswatch/firmware-sim/system';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { tempDir } from '../helpers.js';
import { launchChromium } from './browser.js';
import { ConsoleApp } from './console-app.js';

const DEV = 'bedroom-co';
const SCENARIO = `name: e2e-notifications
description: a charcoal brazier lit in a bedroom
devices:
  - { id: ${DEV}, profile: gaswatch-co, unit: 1, constant: { CO: 0 } }
transports:
  - { type: modbus-tcp, host: 127.0.0.1, port: 0, devices: [${DEV}] }
`;
const IMG = (name: string) => new URL(`../../../docs/img/${name}`, import.meta.url).pathname;

describe('the one-box chain, seen in the console', () => {
  const tmp = tempDir('gaswatch-notify-e2e-');
  let system: RunningSystem;
  let browser: Browser;
  let app: ConsoleApp | undefined;

  beforeAll(async () => {
    writeFileSync(join(tmp.dir, 'scenario.yaml'), SCENARIO);
    // The demo's chain as `npm start` writes it; the detector on the confined-space profile so
    // 400 ppm alarms at once (CO ≥ 200 ppm) rather than after EN 50291's two minutes.
    writeFileSync(
      join(tmp.dir, 'gaswatch.yaml'),
      stringify({ devices: { [DEV]: { profile: 'confined-space' } }, ...DEMO_NOTIFY }),
    );
    [system, browser] = await Promise.all([
      startSystem({
        scenario: join(tmp.dir, 'scenario.yaml'),
        dataDir: join(tmp.dir, 'system'),
        pollIntervalS: 1,
        serverEnv: { GASWATCH_CONFIG: join(tmp.dir, 'gaswatch.yaml') },
      }),
      launchChromium(),
    ]);
    // The demo township: the detector goes into the first home, 王秀英's, who lives alone.
    expect(await seedDemoTownship(system.url, system.login, [DEV])).toBeGreaterThan(0);
    await system.sim.simulate({ device: DEV, set: { CO: 400 } });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await browser?.close();
    await system?.stop();
    tmp.remove();
  });

  it("her alarm's card shows the SMS the chain sent her, delivered", { timeout: 90_000 }, async () => {
    app = await ConsoleApp.create(browser, { locale: 'zh-CN', width: 1400 });
    await app.goto(system.url);
    await app.logIn(system.login.username, system.login.password);
    const critical = app.alarms(DEV).and(app.page.locator('[data-severity="critical"]')).first();
    await critical.waitFor({ timeout: 30_000 });
    const id = (await critical.getAttribute('data-alarm')) ?? '';
    await app.page.goto(`${system.url}/console/#/alarms/${encodeURIComponent(id)}`);
    const panel = app.page.getByTestId('card-notifications');
    const first = panel.getByTestId('notification').first();
    await first.waitFor({ timeout: 30_000 });
    expect(await first.getAttribute('data-medium')).toBe('sms');
    await expect.poll(() => first.getAttribute('data-outcome'), { timeout: 15_000 }).toBe('delivered');
    const text = (await first.textContent()) ?? '';
    expect(text).toContain('王秀英');
    expect(text).toContain('已送达');
    expect(text).toMatch(
      /【燃气安全】柳江村3组12号（王秀英，独居老人）卧室一氧化碳 400ppm 报警（\d\d:\d\d），请立即开窗、撤离并回复1确认。/,
    );
    // The card's response line: the log channel sends and delivers at once.
    await expect
      .poll(() => app?.page.getByTestId('card-response-times').textContent(), { timeout: 15_000 })
      .toMatch(/^响应用时：通知发出 [\d.]+ 秒 · 送达 [\d.]+ 秒$/);
    await panel.scrollIntoViewIfNeeded();
    await panel.screenshot({ path: IMG('console-notifications-zh-CN-desktop.png') });
    expect(app.errors).toEqual([]);
  });
});
