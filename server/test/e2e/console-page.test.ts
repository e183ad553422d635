/**
 * What a person sees after `npm start`: the page at the console URL, in a real headless Chromium,
 * shows the simulated detector's reading within seconds, shows its alarm, and acknowledges it
 * with a note through the Acknowledge button — as an operator the server knows (`users` is
 * configured, as in the shipped example): the page asks for the operator id once, remembers it,
 * and shows the server's reason when it refuses one. After the acknowledgement the row says
 * whether the gateway silenced the detector's sounder.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningSystem, startSystem } from '@gaswatch/firmware-sim/system';
import type { Browser, Dialog } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './browser.js';

const DEV = 'flat-7-kitchen';
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

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gaswatch-page-'));
    writeFileSync(join(dir, 'scenario.yaml'), SCENARIO);
    writeFileSync(
      join(dir, 'gaswatch.yaml'),
      `devices:\n  ${DEV}: { profile: confined-space }\nusers:\n  - { id: lin, name: Lin (duty room) }\n`,
    );
    system = await startSystem({
      scenario: join(dir, 'scenario.yaml'),
      dataDir: join(dir, 'system'),
      pollIntervalS: 1,
      serverEnv: { GASWATCH_CONFIG: join(dir, 'gaswatch.yaml') },
    });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the reading, then the alarm, and acknowledges it with a note', { timeout: 90_000 }, async () => {
    const page = await browser.newPage();
    await page.goto(`${system.url}/`);

    const deviceRow = page.locator(`tr[data-device="${DEV}"]`);
    await expect
      .poll(() => deviceRow.locator('td.values').textContent(), { timeout: 30_000 })
      .toMatch(/CO 400 ppm/);

    const alarmRow = page
      .locator('#alarms tr[data-alarm]')
      .filter({ hasText: DEV })
      .filter({ hasText: 'critical' });
    await alarmRow.first().waitFor({ timeout: 30_000 });
    await expect.poll(() => alarmRow.first().locator('td').first().textContent()).toBe('active');

    // Dialogs in order: prompts get the next answer, alerts are read and closed.
    const answers: string[] = [];
    const alerts: string[] = [];
    const prompts: string[] = [];
    page.on('dialog', (d: Dialog) => {
      if (d.type() === 'alert') {
        alerts.push(d.message());
        void d.accept();
        return;
      }
      prompts.push(d.message());
      const answer = answers.shift();
      void (answer === undefined ? d.dismiss() : d.accept(answer));
    });
    const ackButton = () => alarmRow.first().getByRole('button', { name: 'Acknowledge' });

    // An operator id the server does not know: refused, with the server's reason on screen.
    answers.push('nobody', 'checked the kitchen');
    await ackButton().click();
    await expect.poll(() => alerts.length, { timeout: 15_000 }).toBe(1);
    expect(prompts[0]).toMatch(/operator id/);
    expect(alerts[0]).toMatch(
      /refused \(HTTP 400 unknown_actor\): "nobody" is not a user allowed to acknowledge/,
    );
    expect(await alarmRow.first().locator('td').first().textContent()).toBe('active');
    expect(await page.locator('#operator').textContent()).toBe('not set');

    // Asked again (the refused id was forgotten); a known operator acknowledges.
    answers.push('lin', 'fan on, family moved to the balcony');
    await ackButton().click();
    await expect
      .poll(() => alarmRow.first().textContent(), { timeout: 15_000 })
      .toMatch(/acknowledged[\s\S]*lin[\s\S]*fan on, family moved to the balcony/);
    await expect.poll(() => ackButton().count()).toBe(0);
    // 400 ppm also raised the CO warning, still unacknowledged: the sounder stays on, and the row
    // says why.
    await expect
      .poll(() => alarmRow.first().locator('.sounder').textContent(), { timeout: 15_000 })
      .toMatch(/sounder not silenced: .*still active and unacknowledged/);
    // Acknowledging the device's other alarms sends the silence; the gateway answers, and every
    // row of the device shows its answer: this gateway drives no sounder for the detector (local
    // alarm outputs are off here), so its own buzzer must be silenced on site.
    const deviceAlarms = page.locator('#alarms tr[data-alarm]').filter({ hasText: DEV });
    const pending = deviceAlarms.filter({ has: page.getByRole('button', { name: 'Acknowledge' }) });
    for (let i = 0; i < 5 && (await pending.count()) > 0; i++) {
      const before = await pending.count();
      answers.push('all alarms seen');
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
    expect(prompts.filter((p) => /operator id/.test(p))).toHaveLength(2);
    expect(alerts).toHaveLength(1);

    // Remembered: after a reload the page knows the operator without asking.
    await page.reload();
    await expect.poll(() => page.locator('#operator').textContent()).toBe('lin');
    await page.screenshot({ path: join(dir, 'console.png') });
  });
});
