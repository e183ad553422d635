/**
 * The console map in real Chromium against the real server, in both languages at desk and phone
 * width: the sites of the config with a location, each in its state's colour (a critical CO alarm,
 * a warning, none), a site without a location named as such, and a click on the alarming site
 * opening its alarm's card. Without tiles the same markers are on a plain plan; with tiles from a
 * local tile server (the URL template of the config) Leaflet fetches them there.
 */

import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  apiFetch,
  connectGateway,
  createUser,
  reading,
  startTestServer,
  type TestServer,
  tempDir,
} from '../helpers.js';
import { deviceState, docImage, launchChromium, publish, publishState, type View, views } from './browser.js';
import { ConsoleApp } from './console-app.js';

const GW = 'gw-map';
/** A 1×1 PNG: what the tile server answers for every tile. */
const TILE = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==',
  'base64',
);

const CASES = views('console-map');

const SITES = {
  'liujiang-12': { name: '柳江村 3 组 12 号', location: { lat: 24.331, lon: 109.412 } },
  'liujiang-15': { name: '柳江村 3 组 15 号', location: { lat: 24.335, lon: 109.418 } },
  'liujiang-20': { name: '柳江村 4 组 20 号', location: { lat: 24.326, lon: 109.421 } },
  'liujiang-31': { name: '柳江村 5 组 31 号' },
};

describe('the console map in Chromium', () => {
  const tmp = tempDir('gaswatch-map-');
  let plain: TestServer;
  let tiled: TestServer;
  let browser: Browser;
  let tileServer: Server;
  const tileRequests: string[] = [];
  const gateways: MqttClient[] = [];
  const apps: ConsoleApp[] = [];
  const open = async (c: View, server: TestServer) => {
    const app = await ConsoleApp.create(browser, c);
    apps.push(app);
    await app.goto(server.url);
    return app;
  };

  /** A critical CO alarm at liujiang-12, a warning at liujiang-20 (confined-space: no dose to wait for). */
  async function raiseAlarms(server: TestServer): Promise<void> {
    const gw = await connectGateway(server, GW);
    gateways.push(gw);
    for (const [dev, site, co] of [
      ['co-12', 'liujiang-12', 400],
      ['co-15', 'liujiang-15', 0],
      ['co-20', 'liujiang-20', 50],
    ] as const) {
      await publishState(gw, GW, dev, deviceState({ pollIntervalS: 60, site }));
      await publish(gw, GW, dev, reading(1, Date.now(), { CO: co }));
    }
  }

  beforeAll(async () => {
    tileServer = createServer((req, res) => {
      tileRequests.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'image/png', 'access-control-allow-origin': '*' }).end(TILE);
    });
    await new Promise<void>((resolve) => tileServer.listen(0, '127.0.0.1', resolve));
    const port = (tileServer.address() as { port: number }).port;
    const devices = { 'co-12': {}, 'co-15': {}, 'co-20': {} };
    const base = {
      sites: SITES,
      devices: Object.fromEntries(Object.keys(devices).map((d) => [d, { profile: 'confined-space' }])),
    };
    writeFileSync(join(tmp.dir, 'plain.yaml'), stringify(base));
    writeFileSync(
      join(tmp.dir, 'tiled.yaml'),
      stringify({
        ...base,
        map: {
          tiles: `http://127.0.0.1:${port}/{z}/{x}/{y}.png`,
          attribution: '本地瓦片服务',
          datum: 'gcj02',
        },
      }),
    );
    [plain, tiled, browser] = await Promise.all([
      startTestServer({ GASWATCH_CONFIG: join(tmp.dir, 'plain.yaml') }),
      startTestServer({ GASWATCH_CONFIG: join(tmp.dir, 'tiled.yaml') }),
      launchChromium(),
    ]);
    for (const s of [plain, tiled]) {
      await createUser(s.app.db, { username: 'lin', displayName: '林建国', role: 'operator' });
      // A registered household with a place: on the map too, by its address.
      for (const [path, body] of [
        ['/api/areas', { id: 'liujiang', name: '柳江村', kind: 'village', parent: null }],
        [
          '/api/households',
          { id: 'liujiang-4-1', area: 'liujiang', address: '柳江村 4 组 1 号', lat: 24.329, lon: 109.416 },
        ],
      ] as const) {
        const r = await apiFetch(`${s.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        expect(r.status).toBe(201);
      }
      await raiseAlarms(s);
    }
  }, 60_000);

  afterAll(async () => {
    for (const a of apps) await a.close();
    await browser?.close();
    for (const g of gateways) await g.endAsync();
    await plain?.close();
    await tiled?.close();
    await new Promise((resolve) => tileServer?.close(resolve));
    tmp.remove();
  });

  /** Each placed site's state as the map draws it. */
  const statesOn = async (app: ConsoleApp) =>
    Object.fromEntries(
      await app.page
        .getByTestId('map-site')
        .evaluateAll((els) => els.map((e) => [e.getAttribute('data-site'), e.getAttribute('data-state')])),
    );
  const EXPECTED = {
    'liujiang-12': 'critical',
    'liujiang-15': 'ok',
    'liujiang-20': 'warning',
    'household:liujiang-4-1': 'ok',
  };

  it.each(CASES)(
    '$locale at $width px: a plain plan without tiles, the same markers on tiles',
    { timeout: 60_000 },
    async (c) => {
      const words =
        c.locale === 'zh-CN'
          ? { unplaced: /另有 1 个点位未标注坐标：liujiang-31/ }
          : { unplaced: /1 more site\(s\) without a location: liujiang-31/ };

      const onPlan = await open(c, plain);
      await onPlan.logIn('lin');
      await onPlan.page.getByTestId('nav-map').click();
      await onPlan.page.getByTestId('plain-plan').waitFor({ timeout: 10_000 });
      await expect.poll(() => statesOn(onPlan), { timeout: 15_000 }).toEqual(EXPECTED);
      expect(await onPlan.page.getByTestId('map-unplaced').textContent()).toMatch(words.unplaced);
      expect(await onPlan.page.getByTestId('map-no-tiles').isVisible()).toBe(true);
      await onPlan.page.mouse.move(0, 0);
      await onPlan.page.screenshot({ path: docImage(c.shot) });
      // The alarming site opens its alarm's card.
      await onPlan.page.locator('[data-testid="map-site"][data-site="liujiang-12"]').click();
      await onPlan.page.getByTestId('card-head').waitFor({ timeout: 10_000 });
      expect(await onPlan.page.getByTestId('card-head').textContent()).toContain('co-12');

      const onTiles = await open(c, tiled);
      await onTiles.logIn('lin');
      await onTiles.page.getByTestId('nav-map').click();
      await onTiles.page.getByTestId('tile-map').waitFor({ timeout: 10_000 });
      await expect.poll(() => statesOn(onTiles), { timeout: 15_000 }).toEqual(EXPECTED);
      await expect
        .poll(() => tileRequests.filter((u) => /^\/\d+\/\d+\/\d+\.png$/.test(u)).length)
        .toBeGreaterThan(0);
      expect(await onTiles.page.locator('.leaflet-control-attribution').textContent()).toContain(
        '本地瓦片服务',
      );
      if (c.width > 600 && c.locale === 'zh-CN')
        await onTiles.page.screenshot({ path: docImage('console-map-tiles.png') });

      expect(onPlan.errors).toEqual([]);
      expect(onTiles.errors).toEqual([]);
    },
  );
});
