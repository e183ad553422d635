/**
 * The console keeps itself current from /api/live: a pushed reading or alarm changes the page with
 * no request to /api/*, and after its socket drops the page reconnects and loads each list once,
 * so what happened while it was disconnected is on screen. The socket is opened with the session
 * cookie of a login through the form, as in the duty room.
 */
import { waitFor } from '@gaswatch/shared/testing';
import type { MqttClient } from 'mqtt';
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectGateway, createUser, reading, startTestServer, type TestServer } from '../helpers.js';
import { deviceState, launchChromium, publish, publishState } from './browser.js';
import { ConsolePage } from './console.js';

const GW = 'gw-live';
const DEV = 'hall-co';

describe('the console page on /api/live', () => {
  let browser: Browser;
  let server: TestServer;
  let client: MqttClient;
  let ui: ConsolePage;
  let page: Page;
  let seq = 0;
  const asked: string[] = [];
  const publishCo = (co: number, extra: { alarm?: boolean } = {}) =>
    publish(client, GW, DEV, { ...reading(seq++, Date.now(), { CO: co }), ...extra });
  const values = () => page.locator(`tr[data-device="${DEV}"] td.values`).textContent();

  beforeAll(async () => {
    [browser, server] = await Promise.all([launchChromium(), startTestServer()]);
    client = await connectGateway(server, GW);
    await publishState(client, GW, DEV, deviceState({ pollIntervalS: 3600 }));
    await publishCo(5);
    await createUser(server.app.db, { username: 'duty', role: 'operator' });
    ui = await ConsolePage.create(browser);
    page = ui.page;
    page.on('request', (r: Request) => {
      const path = new URL(r.url()).pathname;
      if (path.startsWith('/api/') && r.resourceType() !== 'websocket') asked.push(path);
    });
    await ui.goto(server.url);
    await ui.logIn('duty');
    await waitFor(async () => (await values()) === 'CO 5 ppm', 'the first reading on the page', 15_000, 50);
    await waitFor(
      async () => /no open alarms/.test((await page.locator('#alarms tbody').textContent()) ?? ''),
      'the alarm list loaded',
      15_000,
      50,
    );
  }, 60_000);
  afterAll(async () => {
    await ui?.close();
    await client?.endAsync();
    await browser?.close();
    await server?.close();
  });

  it('applies a pushed reading and alarm without asking the server again', async () => {
    asked.length = 0;
    await publishCo(6);
    await expect.poll(values, { timeout: 10_000 }).toBe('CO 6 ppm');
    // The detector's own alarm output raises the 'detector' alarm at once, in every profile.
    await publishCo(7, { alarm: true });
    const alarm = page.locator('#alarms tr[data-alarm]').filter({ hasText: DEV });
    await alarm.first().waitFor({ timeout: 10_000 });
    expect(await alarm.first().locator('td').first().textContent()).toBe('active');
    expect(await page.title()).toBe('(1) gaswatch');
    expect(asked).toEqual([]);
  });

  it('after its socket drops, reconnects and loads each list once, missing nothing', async () => {
    asked.length = 0;
    for (const socket of server.app.websocketServer.clients) socket.terminate();
    // While the page has no socket (the hub has none left to send to).
    await expect.poll(() => server.app.liveHub.size).toBe(0);
    await publishCo(9, { alarm: true });
    await expect.poll(values, { timeout: 10_000 }).toBe('CO 9 ppm');
    expect(asked.sort()).toEqual(['/api/alarms', '/api/alarms', '/api/devices', '/api/events']);
    expect((await page.locator('#status').getAttribute('class')) ?? '').not.toMatch(/stale/);
  });
});
