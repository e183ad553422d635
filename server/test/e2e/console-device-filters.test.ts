/**
 * The console's device list over more devices than a page (issue 18), in real headless Chromium
 * against the real server: 300 detectors, of which the list shows 50 at a time. The status, type
 * and search filters and a site from the address narrow the list on the server; the total says
 * how many match; "Load more" asks for the next page with the cursor. No request asks for every
 * device. In both languages; the filtered list's screenshots are docs/console.md's.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, reading, startTestServer, type TestServer } from '../helpers.js';
import { deviceState, docImage, launchChromium } from './browser.js';
import { ConsoleApp } from './console-app.js';
import { DevicesPage } from './console-devices.js';

const N = 300;
const id = (i: number) => `co-${String(i).padStart(3, '0')}`;
/** Every fourth has never reported (offline); every tenth is a combustible-gas detector. */
const online = (i: number) => i % 4 !== 0;
const kind = (i: number) => (i % 10 === 0 ? 'combustible' : 'household-co');
const site = (i: number) => `hexi-${i % 6}`;
const ALL = Array.from({ length: N }, (_, k) => k + 1);
const ids = (keep: (i: number) => boolean) => ALL.filter(keep).map(id);

const WORDS = {
  'zh-CN': { all: '共 300 台', match: (n: number) => `符合条件 ${n} 台`, shown: '已显示 50 台，共 300 台' },
  'en-US': { all: '300 in all', match: (n: number) => `${n} match`, shown: '50 of 300 shown' },
} as const;

describe('the device list, filtered and paged by the server, in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  const apps: ConsoleApp[] = [];

  beforeAll(async () => {
    [server, browser] = await Promise.all([startTestServer(), launchChromium()]);
    await createUser(server.app.db, { username: 'lin', displayName: '林建国', role: 'operator' });
    // Seeded in process, as ingest records them; a 10-minute poll keeps the online ones online
    // for the whole run (offline after 3 polls).
    const now = Date.now();
    for (const i of ALL) {
      const state = deviceState({
        kind: kind(i),
        model: kind(i) === 'combustible' ? 'gaswatch-lel' : 'gaswatch-co',
        site: site(i),
        location: i % 2 === 0 ? '厨房' : '卧室',
        pollIntervalS: 600,
      });
      server.app.devices.observeState('gw-hexi', id(i), state);
      if (online(i))
        server.app.devices.observeReading(
          'gw-hexi',
          id(i),
          reading(0, now, kind(i) === 'combustible' ? { LEL: 0 } : { CO: 0 }),
          now,
          now,
        );
    }
  }, 60_000);

  afterAll(async () => {
    for (const a of apps) await a.close();
    await browser?.close();
    await server?.close();
  });

  it.each(['zh-CN', 'en-US'] as const)(
    '%s: filters by status, type, text and site; pages with "Load more"; the total says what matches',
    { timeout: 120_000 },
    async (locale) => {
      const words = WORDS[locale];
      const app = await ConsoleApp.create(browser, { locale, width: 1400 });
      apps.push(app);
      const devices = new DevicesPage(app);
      await app.goto(server.url);
      await app.logIn('lin');
      await devices.open();

      // The first page of 300, by id, and the total.
      await expect.poll(() => devices.ids(), { timeout: 15_000 }).toEqual(ALL.slice(0, 50).map(id));
      expect(await devices.total()).toEqual({ n: N, text: words.all });
      expect(await devices.shown()).toBe(words.shown);
      await devices.loadMore().click();
      await expect.poll(() => devices.ids()).toEqual(ALL.slice(0, 100).map(id));

      // Offline only: 75 of them, on two pages; each row says offline.
      await devices.filterState('offline');
      await expect.poll(() => devices.total()).toEqual({ n: 75, text: words.match(75) });
      expect(await devices.ids()).toEqual(ids((i) => !online(i)).slice(0, 50));
      await devices.loadMore().click();
      await expect.poll(() => devices.ids()).toEqual(ids((i) => !online(i)));
      await expect(devices.loadMore().count()).resolves.toBe(0);
      for (const d of (await devices.ids()).slice(0, 5)) expect(await devices.status(d)).toContain('offline');
      expect(app.page.url()).toContain('state=offline');

      // And combustible: every twentieth.
      await devices.filterKind('combustible');
      await expect.poll(() => devices.ids()).toEqual(ids((i) => !online(i) && kind(i) === 'combustible'));
      expect((await devices.total()).n).toBe(15);

      // Cleared, then a search: part of an id.
      await devices.clearFilters();
      await expect.poll(() => devices.total()).toEqual({ n: N, text: words.all });
      await devices.search('CO-12');
      await expect.poll(() => devices.ids()).toEqual(ALL.filter((i) => i >= 120 && i <= 129).map(id));
      expect((await devices.total()).n).toBe(10);
      // Part of a location, with the status filter: the kitchens' detectors online.
      await devices.search('厨房');
      await devices.filterState('online');
      const kitchensOnline = ids((i) => i % 2 === 0 && online(i));
      await expect
        .poll(() => devices.total())
        .toEqual({ n: kitchensOnline.length, text: words.match(kitchensOnline.length) });
      expect(await devices.ids()).toEqual(kitchensOnline.slice(0, 50));
      // What fits the window: the filters, the total and the first rows.
      await app.page.mouse.move(0, 0);
      await app.page.screenshot({
        path: docImage(`console-devices-filtered-${locale === 'zh-CN' ? 'zh-CN' : 'en'}-desktop.png`),
      });

      // A site from the address (a link from elsewhere): its 50 devices, the site shown as a tag.
      await app.page.goto(`${server.url}/console/#/devices?site=hexi-2`);
      await expect.poll(() => devices.ids(), { timeout: 15_000 }).toEqual(ids((i) => site(i) === 'hexi-2'));
      await expect(app.page.getByTestId('site-filter').textContent()).resolves.toContain('hexi-2');
      await app.page.getByTestId('site-filter').locator('.el-tag__close').click();
      await expect.poll(() => devices.total()).toEqual({ n: N, text: words.all });

      // The server filtered and paged every time: each list request named a page size and its
      // filters; none asked for everything.
      const asked = devices.listRequests;
      expect(asked.length).toBeGreaterThan(8);
      for (const q of asked) expect(Number(q.get('limit'))).toBeLessThanOrEqual(50);
      expect(asked.some((q) => q.get('state') === 'offline' && q.get('cursor') !== null)).toBe(true);
      expect(asked.some((q) => q.get('kind') === 'combustible' && q.get('state') === 'offline')).toBe(true);
      expect(asked.some((q) => q.get('text') === 'CO-12')).toBe(true);
      expect(asked.some((q) => q.get('site') === 'hexi-2')).toBe(true);
      expect(app.errors).toEqual([]);
    },
  );
});
