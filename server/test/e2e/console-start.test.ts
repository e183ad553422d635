/**
 * What a person sees after `npm start`, with every real part: a firmware-sim CO detector holding
 * 400 ppm, polled by the real gateway, its readings through the server to the console app in real
 * headless Chromium. A viewer sees the reading on the device list and the alarm on the board, with
 * no Acknowledge button. An operator acknowledges with a note and the card shows their display
 * name; once every alarm of the device is acknowledged the server sends the gateway the silence
 * command, and the alarm's card says what the gateway answered: this detector has no sounder the
 * gateway switches, so its own buzzer can only be silenced on site.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningSystem, startSystem } from '@gaswatch/firmware-sim/system';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, withDatabase } from '../helpers.js';
import { launchChromium } from './browser.js';
import { ConsoleApp } from './console-app.js';
import { DevicesPage } from './console-devices.js';

const DEV = 'flat-7-kitchen';
// 400 ppm; the device is put on the confined-space profile (immediate CO ≥ 200 ppm critical) so
// the alarm appears without waiting for a household dose curve (see reading-to-alarm.test.ts).
const SCENARIO = `name: console-start
description: one CO detector holding 400 ppm
devices:
  - { id: ${DEV}, profile: gaswatch-co, unit: 1, constant: { CO: 400 } }
transports:
  - { type: modbus-tcp, host: 127.0.0.1, port: 0, devices: [${DEV}] }
`;

describe('the console app after npm start', () => {
  let dir = '';
  let system: RunningSystem;
  let browser: Browser;
  const apps: ConsoleApp[] = [];
  const open = async () => {
    const app = await ConsoleApp.create(browser, { locale: 'zh-CN', width: 1400 });
    apps.push(app);
    await app.goto(system.url);
    return app;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gaswatch-start-'));
    writeFileSync(join(dir, 'scenario.yaml'), SCENARIO);
    writeFileSync(join(dir, 'gaswatch.yaml'), `devices:\n  ${DEV}: { profile: confined-space }\n`);
    // The duty room's accounts, in the server's database before it starts.
    await withDatabase({ DATA_DIR: join(dir, 'system', 'server') }, async (db) => {
      await createUser(db, { username: 'lin', displayName: '林建国', role: 'operator' });
      await createUser(db, { username: 'zhao', displayName: '赵敏', role: 'viewer' });
    });
    [system, browser] = await Promise.all([
      startSystem({
        scenario: join(dir, 'scenario.yaml'),
        dataDir: join(dir, 'system'),
        pollIntervalS: 1,
        serverEnv: { GASWATCH_CONFIG: join(dir, 'gaswatch.yaml') },
      }),
      launchChromium(),
    ]);
  }, 120_000);

  afterAll(async () => {
    for (const a of apps) await a.close();
    await browser?.close();
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows a viewer the reading and the alarm, with no Acknowledge button', {
    timeout: 90_000,
  }, async () => {
    const zhao = await open();
    await zhao.logIn('zhao');
    expect(await zhao.who()).toBe('赵敏（查看人员）');
    const alarm = zhao.alarms(DEV).and(zhao.page.locator('[data-severity="critical"]')).first();
    await alarm.waitFor({ timeout: 30_000 });
    expect(await alarm.getAttribute('data-state')).toBe('active');
    expect(await alarm.textContent()).toContain('一氧化碳报警');
    expect(await zhao.page.getByTestId('ack').count()).toBe(0);

    const devices = new DevicesPage(zhao);
    await devices.open();
    await expect
      .poll(() => devices.row(DEV).getByTestId('device-values').textContent(), { timeout: 30_000 })
      .toMatch(/一氧化碳 400 ppm/);
    expect(await devices.status(DEV)).toEqual(expect.arrayContaining(['alarm', 'online']));
    expect(zhao.errors).toEqual([]);
  });

  it('an operator acknowledges with a note; the card shows their name and what the gateway said to the silence', {
    timeout: 90_000,
  }, async () => {
    const lin = await open();
    await lin.logIn('lin');
    expect(await lin.who()).toBe('林建国（值班人员）');
    const critical = lin.alarms(DEV).and(lin.page.locator('[data-severity="critical"]')).first();
    await critical.waitFor({ timeout: 30_000 });
    const id = (await critical.getAttribute('data-alarm')) ?? '';

    await lin.acknowledge(critical, 'fan on, family moved to the balcony');
    await expect
      .poll(() => critical.getByTestId('acked-by').textContent(), { timeout: 15_000 })
      .toMatch(/林建国[\s\S]*fan on, family moved to the balcony/);
    expect(await critical.getByTestId('ack').count()).toBe(0);
    // 400 ppm also raised the CO warnings: acknowledging the last of them sends the silence.
    const pending = lin.alarms(DEV).filter({ has: lin.page.getByTestId('ack') });
    for (let i = 0; i < 5 && (await pending.count()) > 0; i++) {
      const n = await pending.count();
      await lin.acknowledge(pending.first(), 'all alarms seen');
      await expect.poll(() => pending.count(), { timeout: 15_000 }).toBeLessThan(n);
    }
    expect(await pending.count()).toBe(0);

    // The gateway drives no sounder for this detector (its profile has none): it refuses, and
    // the card says so with the gateway's own reason.
    await lin.page.goto(`${system.url}/console/#/alarms/${encodeURIComponent(id)}`);
    const silence = lin.page.getByTestId('card-silence');
    await expect.poll(() => silence.getAttribute('data-status'), { timeout: 30_000 }).toBe('refused');
    expect(await silence.textContent()).toMatch(
      new RegExp(`网关拒绝消音：${DEV} has no sounder this gateway switches .*silenced on site`),
    );
    expect(lin.errors).toEqual([]);
  });
});
