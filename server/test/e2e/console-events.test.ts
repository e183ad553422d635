/**
 * The console page in a real headless Chromium shows what the gateways did (interlock closed the
 * gas valve, bump test failed, a command failed) and shows doubtful values as doubtful: over range
 * as "≥ full scale (over range)", bad and uncertain channels marked.
 */
import { encodePayload, topics } from '@gaswatch/shared';
import type { MqttClient } from 'mqtt';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectGateway, createUser, reading, startTestServer, type TestServer } from '../helpers.js';
import { deviceState, launchChromium, publish, publishEvent, publishState } from './browser.js';
import { ConsolePage } from './console.js';

const GW = 'gw-flat';

describe('gateway events and doubtful values on the console page', () => {
  let browser: Browser;
  let server: TestServer;
  let client: MqttClient;
  beforeAll(async () => {
    [browser, server] = await Promise.all([launchChromium(), startTestServer()]);
    client = await connectGateway(server, GW);
    await createUser(server.app.db, { username: 'duty', role: 'viewer' });
  }, 60_000);
  afterAll(async () => {
    await client?.endAsync();
    await browser?.close();
    await server?.close();
  });

  it('renders over range as "≥ full scale (over range)" and bad / uncertain channels visibly', async () => {
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

    const { page } = await ConsolePage.loggedIn(browser, server.url, 'duty');
    const values = (dev: string) => page.locator(`tr[data-device="${dev}"] td.values`);
    await expect
      .poll(() => values('kitchen').textContent(), { timeout: 15_000 })
      .toBe('CO ≥ 1000 ppm (over range)');
    expect(await values('kitchen').locator('.q-bad').count()).toBe(1);
    await expect.poll(() => values('pinned').textContent()).toBe('CO ≥ 1000 ppm (over range)');
    await expect
      .poll(() => values('hall').textContent())
      .toBe('O2 0 %vol (uncertain), CO 4 ppm, H2S unreadable [fault] faults: sensor_eol');
    expect(await values('hall').locator('.q-uncertain').textContent()).toBe('O2 0 %vol (uncertain)');
    await page.context().close();
  });

  it('shows interlock actions, bump test results and command results as they arrive', async () => {
    const { page } = await ConsolePage.loggedIn(browser, server.url, 'duty');
    await expect.poll(() => page.locator('#events tbody').textContent(), { timeout: 15_000 }).toMatch(/none/);

    const at = new Date(Date.UTC(2026, 10, 23, 18, 2, 0));
    const hhmm = await page.evaluate((t) => new Date(t).toLocaleTimeString(), at.getTime());
    await publishEvent(client, GW, 'kitchen', {
      v: 1,
      ts: at.toISOString(),
      type: 'interlock',
      severity: 'critical',
      // gaswatch-lel: a set valve coil means the valve is closed.
      outputs: { valve: true, fan: true },
      message: 'CO 400 ppm ≥ 300',
    });
    // gaswatch-co has no outputs: what a coil value means there is not known, and not guessed.
    await publishEvent(client, GW, 'pinned', {
      v: 1,
      ts: new Date(at.getTime() + 30_000).toISOString(),
      type: 'interlock',
      outputs: { valve: true },
    });
    await publishEvent(client, GW, 'hall', {
      v: 1,
      ts: new Date(at.getTime() + 60_000).toISOString(),
      type: 'bump_test',
      result: 'fail',
      gas: 'H2S',
      value: 2,
    });
    await client.publishAsync(
      topics.cmdResult(GW),
      encodePayload('cmdResult', {
        v: 1,
        id: 'cmd-silence-1',
        ok: false,
        ts: new Date(at.getTime() + 120_000).toISOString(),
        message: 'no such device',
      }),
      { qos: 1 },
    );

    const rows = page.locator('#events tbody tr[data-event]');
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(4);
    // Newest first.
    expect(await rows.nth(0).locator('td').nth(2).textContent()).toMatch(
      /^gateway gw-flat: command cmd-silence-1 FAILED at .* — no such device$/,
    );
    expect(await rows.nth(1).locator('td').nth(2).textContent()).toMatch(
      /^hall: bump test FAILED \(H2S 2 ppm\) at /,
    );
    expect(await rows.nth(2).locator('td').nth(2).textContent()).toMatch(
      /^pinned: valve output set to true \(meaning unknown for this detector model\) at [^—]*$/,
    );
    expect(await rows.nth(3).locator('td').nth(2).textContent()).toBe(
      `kitchen: gas valve closed, fan on at ${hhmm} — CO 400 ppm ≥ 300 — reset on site`,
    );
    expect(await rows.nth(3).getAttribute('class')).toBe('critical');
    await page.screenshot({ path: `${server.dataDir}/events.png`, fullPage: true });
    await page.context().close();
  });
});
