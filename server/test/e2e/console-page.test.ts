/**
 * What a person sees after `npm start`: the page at the console URL, in a real headless Chromium,
 * asks them to log in (in Chinese for a Chinese browser), says so in words when the password is
 * wrong or there were too many tries, then shows the simulated detector's reading within seconds
 * and its alarm. A viewer's acknowledgement is refused in words; an operator acknowledges with a
 * note through the Acknowledge button and the alarm shows their display name. After the
 * acknowledgement the row says whether the gateway silenced the detector's sounder. Logging out
 * ends the session at the server and returns to the login form.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningSystem, startSystem } from '@gaswatch/firmware-sim/system';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, withDatabase } from '../helpers.js';
import { launchChromium } from './browser.js';
import { ConsolePage } from './console.js';

const DEV = 'flat-7-kitchen';
const SCREENSHOT = fileURLToPath(new URL('../../../docs/img/console-login.png', import.meta.url));
// 400 ppm; the device is put on the confined-space profile (immediate CO ≥ 200 ppm critical) so
// the alarm appears without waiting for a household dose curve (see reading-to-alarm.test.ts).
const SCENARIO = `name: console-page
description: one CO detector holding 400 ppm
devices:
  - { id: ${DEV}, profile: gaswatch-co, unit: 1, constant: { CO: 400 } }
transports:
  - { type: modbus-tcp, host: 127.0.0.1, port: 0, devices: [${DEV}] }
`;

describe('the console page in Chromium', () => {
  let dir = '';
  let system: RunningSystem;
  let browser: Browser;
  const pages: ConsolePage[] = [];
  const open = async (locale = 'zh-CN') => {
    const c = await ConsolePage.create(browser, { locale });
    pages.push(c);
    await c.goto(system.url);
    return c;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gaswatch-page-'));
    writeFileSync(join(dir, 'scenario.yaml'), SCENARIO);
    writeFileSync(join(dir, 'gaswatch.yaml'), `devices:\n  ${DEV}: { profile: confined-space }\n`);
    // The duty room's accounts, in the server's database before it starts.
    await withDatabase({ DATA_DIR: join(dir, 'system', 'server') }, async (db) => {
      await createUser(db, { username: 'lin', displayName: '林建国', role: 'operator' });
      await createUser(db, { username: 'zhao', displayName: '赵敏', role: 'viewer' });
    });
    system = await startSystem({
      scenario: join(dir, 'scenario.yaml'),
      dataDir: join(dir, 'system'),
      pollIntervalS: 1,
      serverEnv: { GASWATCH_CONFIG: join(dir, 'gaswatch.yaml') },
    });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    for (const p of pages) await p.close();
    await browser?.close();
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('asks for a login first, and says why one is refused: wrong password, too many tries', {
    timeout: 60_000,
  }, async () => {
    const zh = await open('zh-CN');
    await zh.loginForm.waitFor({ state: 'visible', timeout: 15_000 });
    expect(await zh.board.isVisible()).toBe(false);
    expect(await zh.who()).toBe('');
    expect(await zh.page.title()).toBe('登录 — gaswatch');
    expect(await zh.loginForm.textContent()).toMatch(/登录[\s\S]*用户名[\s\S]*密码[\s\S]*登录/);
    await zh.page.setViewportSize({ width: 800, height: 420 });
    await zh.page.screenshot({ path: SCREENSHOT });

    await zh.submitLogin('lin', 'not-the-password');
    await expect.poll(() => zh.loginError(), { timeout: 15_000 }).toBe('用户名或密码错误');
    expect(await zh.board.isVisible()).toBe(false);

    const en = await open('en-US');
    await en.submitLogin('zhao', 'not-the-password');
    await expect.poll(() => en.loginError(), { timeout: 15_000 }).toBe('Wrong username or password');

    // Guessing at an account (one that does not exist is throttled alike): after 5 failures it
    // is locked for 1 s, then 2 s, 4 s …; the page says how long to wait.
    let said = '';
    for (let i = 0; i < 10 && !said.startsWith('登录尝试过多'); i++) {
      // Sending hides the line until the answer: each answer is read fresh.
      await zh.submitLogin('ghost', `guess-${i}`);
      await expect.poll(() => zh.loginError(), { timeout: 15_000 }).not.toBe('');
      said = await zh.loginError();
      expect(said).toMatch(/^(用户名或密码错误|登录尝试过多，请 \d+ 秒后再试)$/);
    }
    expect(said).toMatch(/^登录尝试过多，请 [1-9]\d* 秒后再试$/);
  });

  it('shows a viewer the reading and the alarm, and refuses their acknowledgement in words', {
    timeout: 90_000,
  }, async () => {
    const viewer = await open('zh-CN');
    await viewer.logIn('zhao');
    expect(await viewer.who()).toBe('赵敏（查看人员）');
    await expect
      .poll(() => viewer.page.locator(`tr[data-device="${DEV}"] td.values`).textContent(), {
        timeout: 30_000,
      })
      .toMatch(/CO 400 ppm/);
    const alarm = viewer.alarmRows(DEV).filter({ hasText: 'critical' }).first();
    await alarm.waitFor({ timeout: 30_000 });
    await expect.poll(() => alarm.locator('td').first().textContent()).toBe('active');

    viewer.answers.push('我来确认');
    await alarm.getByRole('button', { name: 'Acknowledge' }).click();
    await expect.poll(() => viewer.alerts.length, { timeout: 15_000 }).toBe(1);
    expect(viewer.prompts).toEqual(['确认报警（确认人：赵敏）\n请填写处置情况：']);
    expect(viewer.alerts[0]).toBe('您的角色（查看人员）无权确认报警，此报警仍未确认。');
    expect(await alarm.locator('td').first().textContent()).toBe('active');
  });

  it('an operator acknowledges with a note; the alarm shows their name; logging out ends the session', {
    timeout: 90_000,
  }, async () => {
    const lin = await open('zh-CN');
    await lin.logIn('lin');
    expect(await lin.who()).toBe('林建国（值班人员）');
    expect(await lin.page.locator('#logout').textContent()).toBe('退出登录');
    const alarmRow = lin.alarmRows(DEV).filter({ hasText: 'critical' });
    await alarmRow.first().waitFor({ timeout: 30_000 });
    await expect.poll(() => alarmRow.first().locator('td').first().textContent()).toBe('active');
    const ackButton = () => alarmRow.first().getByRole('button', { name: 'Acknowledge' });

    lin.answers.push('fan on, family moved to the balcony');
    await ackButton().click();
    await expect
      .poll(() => alarmRow.first().textContent(), { timeout: 15_000 })
      .toMatch(/acknowledged[\s\S]*林建国[\s\S]*fan on, family moved to the balcony/);
    expect(await alarmRow.first().locator('.ack-by').textContent()).toBe('林建国');
    expect(lin.prompts).toEqual(['确认报警（确认人：林建国）\n请填写处置情况：']);
    await expect.poll(() => ackButton().count()).toBe(0);
    // 400 ppm also raised the CO warning, still unacknowledged: the sounder stays on, and the row
    // says why.
    await expect
      .poll(() => alarmRow.first().locator('.sounder').textContent(), { timeout: 15_000 })
      .toMatch(/sounder not silenced: .*still active and unacknowledged/);
    // Acknowledging the device's other alarms sends the silence; the gateway answers, and every
    // row of the device shows its answer: this gateway drives no sounder for the detector (local
    // alarm outputs are off here), so its own buzzer must be silenced on site.
    const deviceAlarms = lin.alarmRows(DEV);
    const pending = deviceAlarms.filter({ has: lin.page.getByRole('button', { name: 'Acknowledge' }) });
    for (let i = 0; i < 5 && (await pending.count()) > 0; i++) {
      const before = await pending.count();
      lin.answers.push('all alarms seen');
      await pending.first().getByRole('button', { name: 'Acknowledge' }).click();
      await expect.poll(() => pending.count(), { timeout: 15_000 }).toBeLessThan(before);
    }
    expect(await pending.count()).toBe(0);
    await expect
      .poll(async () => [...new Set(await deviceAlarms.locator('.sounder').allTextContents())], {
        timeout: 15_000,
      })
      .toEqual([
        `sounder NOT silenced: ${DEV} has no sounder this gateway switches (the profile has no sounder output, or local alarms are off): a detector's own buzzer can only be silenced on site`,
      ]);
    expect(lin.alerts).toEqual([]);

    // The login outlives a reload (the session cookie), and is not asked for again.
    await lin.page.reload();
    await expect.poll(() => lin.who(), { timeout: 15_000 }).toBe('林建国（值班人员）');
    expect(await lin.loginForm.isVisible()).toBe(false);
    await expect
      .poll(() => alarmRow.first().locator('.ack-by').textContent(), { timeout: 15_000 })
      .toBe('林建国');

    // Logging out: the login form, no board, and the old cookie opens nothing at the server.
    const [cookie] = await lin.page.context().cookies(system.url);
    expect(cookie).toMatchObject({ name: 'gaswatch_session', httpOnly: true, sameSite: 'Strict' });
    await lin.logOut();
    expect(await lin.board.isVisible()).toBe(false);
    expect(await lin.who()).toBe('');
    expect(await lin.page.locator('#login-reason').textContent()).toBe('已退出登录。');
    const replayed = await fetch(`${system.url}/api/session`, {
      headers: { cookie: `${cookie?.name}=${cookie?.value}` },
    });
    expect(replayed.status).toBe(401);
    await lin.page.reload();
    await lin.loginForm.waitFor({ state: 'visible', timeout: 15_000 });
    expect(await lin.board.isVisible()).toBe(false);
  });
});
