/**
 * What a person sees after `npm start`: the page at the console URL, in a real headless Chromium,
 * shows the simulated detector's reading within seconds, shows its alarm, and acknowledges it
 * with a note through the Acknowledge button.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningSystem, startSystem } from '@gaswatch/firmware-sim/system';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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
    writeFileSync(join(dir, 'gaswatch.yaml'), `devices:\n  ${DEV}: { profile: confined-space }\n`);
    system = await startSystem({
      scenario: join(dir, 'scenario.yaml'),
      dataDir: join(dir, 'system'),
      pollIntervalS: 1,
      serverEnv: { GASWATCH_CONFIG: join(dir, 'gaswatch.yaml') },
    });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
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

    page.once('dialog', (dialog) => void dialog.accept('fan on, family moved to the balcony'));
    await alarmRow.first().getByRole('button', { name: 'Acknowledge' }).click();
    await expect
      .poll(() => alarmRow.first().textContent(), { timeout: 15_000 })
      .toMatch(/acknowledged[\s\S]*console[\s\S]*fan on, family moved to the balcony/);
    await expect.poll(() => alarmRow.first().getByRole('button', { name: 'Acknowledge' }).count()).toBe(0);
    await page.screenshot({ path: join(dir, 'console.png') });
  });
});
