/**
 * The household pages in real Chromium against the real server, in both languages at desk and
 * phone width: the registry listed with its total, searched by address, narrowed to vulnerable
 * occupants and to a village (kept in the address); a household's card with its occupants,
 * contacts in call order, detectors (an expired one marked) and the alarm of its detector.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiFetch,
  connectGateway,
  createUser,
  reading,
  startTestServer,
  type TestServer,
  tempDir,
} from '../helpers.js';
import { deviceState, docImage, launchChromium, publish, publishState, views } from './browser.js';
import { ConsoleApp } from './console-app.js';

const GW = 'gw-homes';
const CASES = views('console-households');
const WORDS = {
  'zh-CN': { total: '共 3 户', alone: '独居老人', expired: '已过期', relation: '家属' },
  'en-US': { total: '3 households', alone: 'Elderly, alone', expired: 'expired', relation: 'Family' },
} as const;

const home = (id: string, area: string, address: string, extra: object = {}) => ({
  id,
  area,
  address,
  occupants: { count: 2, flags: [] },
  heating: ['coal_stove'],
  contacts: [{ name: '张桂兰', relation: 'occupant', phone: '13800000011' }],
  ...extra,
});

describe('the household pages in Chromium', () => {
  const tmp = tempDir('gaswatch-homes-');
  let server: TestServer;
  let browser: Browser;
  let gw: MqttClient;
  const apps: ConsoleApp[] = [];

  beforeAll(async () => {
    writeFileSync(join(tmp.dir, 'gaswatch.yaml'), 'devices:\n  co-h12: { profile: confined-space }\n');
    [server, browser] = await Promise.all([
      startTestServer({ GASWATCH_CONFIG: join(tmp.dir, 'gaswatch.yaml') }),
      launchChromium(),
    ]);
    const post = async (path: string, body: unknown) => {
      const r = await apiFetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(r.status, `${path} ${await r.clone().text()}`).toBe(201);
    };
    await post('/api/areas', { id: 'dapu', name: '大埔镇', kind: 'township', parent: null });
    await post('/api/areas', { id: 'liujiang', name: '柳江村', kind: 'village', parent: 'dapu' });
    await post('/api/areas', { id: 'hexi', name: '河西村', kind: 'village', parent: 'dapu' });
    await post(
      '/api/households',
      home('liujiang-3-12', 'liujiang', '柳江村 3 组 12 号', {
        occupants: { count: 1, flags: ['elderly_alone'] },
        heating: ['charcoal', 'gas_water_heater_flueless'],
        contacts: [
          { name: '王秀英', relation: 'occupant', phone: '138 0000 0001' },
          { name: '王建军', relation: 'family', phone: '13900000002' },
        ],
        detectors: [
          { device: 'co-h12', location: '卧室', installedOn: '2026-11-20', expiresOn: '2031-11-20' },
          { device: 'co-h12-old', location: '厨房', installedOn: '2020-01-10', expiresOn: '2025-01-10' },
        ],
      }),
    );
    await post('/api/households', home('liujiang-3-15', 'liujiang', '柳江村 3 组 15 号'));
    await post('/api/households', home('hexi-1-02', 'hexi', '河西村 1 组 2 号'));
    await createUser(server.app.db, { username: 'lin', displayName: '林建国', role: 'operator' });
    gw = await connectGateway(server, GW);
    await publishState(gw, GW, 'co-h12', deviceState({ pollIntervalS: 60, site: 'liujiang-3-12' }));
    await publish(gw, GW, 'co-h12', reading(1, Date.now(), { CO: 400 }));
  }, 60_000);

  afterAll(async () => {
    for (const a of apps) await a.close();
    await browser?.close();
    await gw?.endAsync();
    await server?.close();
    tmp.remove();
  });

  it.each(CASES)(
    '$locale at $width px: list, search, filters, the household card',
    { timeout: 60_000 },
    async (c) => {
      const words = WORDS[c.locale];
      const app = await ConsoleApp.create(browser, c);
      apps.push(app);
      await app.goto(server.url);
      await app.logIn('lin');
      // On the board, the home's alarms (CO 400 ppm: over both set points) sit together under its address.
      const group = app.page.locator('[data-testid="alarm-group"][data-group="household:liujiang-3-12"]');
      await expect.poll(() => group.getByTestId('alarm').count(), { timeout: 10_000 }).toBe(2);
      expect(await group.textContent()).toContain('柳江村 3 组 12 号');
      // A grade-3 CO weather advisory for the township (the first case enters it): a banner on every
      // page of every later login of the area.
      if (c.width > 600 && c.locale === 'zh-CN') {
        await app.page.goto(`${server.url}/console/#/advisories`);
        await app.page.getByTestId('advisory-area').selectOption('dapu');
        await app.page.getByTestId('advisory-grade').selectOption('3');
        await app.page.getByTestId('advisory-text').fill('夜间静风逆温，谨防煤炉、炭火取暖一氧化碳中毒');
        await app.page.getByTestId('advisory-submit').click();
        await app.page.getByTestId('advisory-row').first().waitFor({ timeout: 10_000 });
      }
      await expect
        .poll(() => app.page.getByTestId('advisory-banner').first().textContent(), { timeout: 10_000 })
        .toMatch(
          c.locale === 'zh-CN'
            ? /一氧化碳中毒气象预警 3 级（大埔镇/
            : /CO weather advisory, grade 3 \(大埔镇/,
        );
      await app.page.getByTestId('nav-households').click();
      const rows = app.page.getByTestId('household-row');
      await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(3);
      expect(await app.page.getByTestId('household-total').textContent()).toBe(words.total);
      // The home with an open alarm is marked.
      await expect
        .poll(() => rows.filter({ has: app.page.getByTestId('household-alarming') }).count(), {
          timeout: 10_000,
        })
        .toBe(1);
      await app.page.mouse.move(0, 0);
      await app.page.screenshot({ path: docImage(c.shot) });

      await app.page.getByTestId('household-search').fill('15 号');
      await app.page.getByTestId('household-search-button').click();
      await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(1);
      expect(app.page.url()).toContain('q=15');
      await app.page.getByTestId('household-search').fill('');
      await app.page.getByTestId('household-search-button').click();
      await app.page.getByTestId('household-area').selectOption('hexi');
      await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(1);
      await app.page.getByTestId('household-area').selectOption('');
      await app.page.getByTestId('household-vulnerable').check();
      await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(1);

      await rows.first().locator('a').first().click();
      const page = app.page.getByTestId('household-page');
      await page.getByTestId('household-contacts').waitFor({ timeout: 10_000 });
      expect(await page.textContent()).toContain(words.alone);
      const contacts = page.getByTestId('household-contacts');
      expect(await contacts.locator('a[href^="tel:"]').first().getAttribute('href')).toBe('tel:13800000001');
      expect(await contacts.textContent()).toContain(words.relation);
      const detectors = page.getByTestId('household-detectors');
      expect(await detectors.locator('[data-device="co-h12-old"]').textContent()).toContain(words.expired);
      expect(await detectors.locator('[data-device="co-h12"]').textContent()).not.toContain(words.expired);
      const alarmLinks = page.getByTestId('household-alarms').locator('a');
      await expect.poll(() => alarmLinks.count(), { timeout: 10_000 }).toBeGreaterThan(0);
      await app.page.mouse.move(0, 0);
      await app.page.screenshot({ path: docImage(c.shot.replace('households', 'household')) });
      await alarmLinks.first().click();
      await app.page.getByTestId('card-household').waitFor({ timeout: 10_000 });

      // The expired kitchen detector that never reported is on the list for the next visit.
      await app.page.goto(`${server.url}/console/#/households/attention`);
      const old = app.page.locator('[data-testid="attention-row"][data-device="co-h12-old"]');
      await old.waitFor({ timeout: 10_000 });
      expect(
        await old.locator('[data-issue]').evaluateAll((els) => els.map((e) => e.getAttribute('data-issue'))),
      ).toEqual(['never_reported', 'expired']);
      if (c.width > 600)
        await app.page.screenshot({ path: docImage(c.shot.replace('households', 'attention')) });

      expect(app.errors).toEqual([]);
    },
  );
});
