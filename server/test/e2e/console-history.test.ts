/**
 * The History page in real Chromium against the real server, in both languages at desk and phone
 * width: the week's alarms listed, narrowed by outcome and severity (the search kept in the
 * address), each linking to its card; the same search downloaded as XLSX and CSV and read back.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import type { MqttClient } from 'mqtt';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '../../src/alarms/model.js';
import {
  connectGateway,
  createUser,
  login,
  reading,
  startTestServer,
  type TestServer,
  tempDir,
} from '../helpers.js';
import { deviceState, docImage, launchChromium, publish, publishState, views } from './browser.js';
import { ConsoleApp } from './console-app.js';

const GW = 'gw-history';
const CASES = views('console-history');
const WORDS = {
  'zh-CN': { header: '报警编号', reason: '误报', total: (n: number) => `共 ${n} 条` },
  'en-US': { header: 'Alarm id', reason: 'False alarm', total: (n: number) => `${n} alarms` },
} as const;

describe('the History page in Chromium', () => {
  const tmp = tempDir('gaswatch-history-');
  let server: TestServer;
  let browser: Browser;
  let gw: MqttClient;
  let resolvedId = '';
  const apps: ConsoleApp[] = [];

  beforeAll(async () => {
    writeFileSync(
      join(tmp.dir, 'gaswatch.yaml'),
      'devices:\n  h-1: { profile: confined-space }\n  h-2: { profile: confined-space }\n',
    );
    [server, browser] = await Promise.all([
      startTestServer({ GASWATCH_CONFIG: join(tmp.dir, 'gaswatch.yaml') }),
      launchChromium(),
    ]);
    await createUser(server.app.db, { username: 'lin', displayName: '林建国', role: 'operator' });
    gw = await connectGateway(server, GW);
    // h-1: CO 400 ppm, a critical and a warning; h-2: CO 50 ppm, a warning.
    for (const [dev, co] of [
      ['h-1', 400],
      ['h-2', 50],
    ] as const) {
      await publishState(gw, GW, dev, deviceState({ pollIntervalS: 60, site: `flat-${dev}` }));
      await publish(gw, GW, dev, reading(1, Date.now(), { CO: co }));
    }
    const lin = await login(server.url, 'lin');
    let critical: Alarm | undefined;
    for (let i = 0; i < 100 && critical === undefined; i++) {
      const page = (await (
        await lin.fetch(`${server.url}/api/alarms?device=h-1&severity=critical`)
      ).json()) as {
        alarms: Alarm[];
      };
      critical = page.alarms[0];
      if (critical === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    resolvedId = critical?.id ?? '';
    const r = await lin.fetch(`${server.url}/api/alarms/${encodeURIComponent(resolvedId)}/resolve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'false_alarm', note: '做饭油烟，已开窗' }),
    });
    expect(r.status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    for (const a of apps) await a.close();
    await browser?.close();
    await gw?.endAsync();
    await server?.close();
    tmp.remove();
  });

  it.each(CASES)(
    '$locale at $width px: search, narrow, open, export XLSX and CSV',
    { timeout: 60_000 },
    async (c) => {
      const words = WORDS[c.locale];
      const app = await ConsoleApp.create(browser, c);
      apps.push(app);
      await app.goto(server.url);
      await app.logIn('lin');
      await app.page.getByTestId('nav-history').click();
      const rows = app.page.getByTestId('history-row');
      await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(3);
      expect(await app.page.getByTestId('history-total').textContent()).toBe(words.total(3));
      await app.page.mouse.move(0, 0);
      await app.page.screenshot({ path: docImage(c.shot) });

      // Narrowed to false alarms: the one resolved, with its reason; the search is in the address.
      // (On a phone the filters start folded under their summary.)
      if (c.width < 600) await app.page.getByTestId('history-filter-toggle').click();
      await app.page.getByTestId('filter-outcome').selectOption('false_alarm');
      await app.page.getByTestId('history-search').click();
      await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(1);
      expect(await rows.first().getAttribute('data-alarm')).toBe(resolvedId);
      expect(await rows.first().getByTestId('history-outcome').textContent()).toContain(words.reason);
      expect(app.page.url()).toContain('outcome=false_alarm');

      // The export downloads the same search: one row under the headers, in the page's language.
      const [xlsx] = await Promise.all([
        app.page.waitForEvent('download'),
        app.page.getByTestId('export-xlsx').click(),
      ]);
      expect(xlsx.suggestedFilename()).toMatch(/^gaswatch-alarms-.*\.xlsx$/);
      const book = new ExcelJS.Workbook();
      await book.xlsx.readFile(await xlsx.path());
      const sheet = book.worksheets[0];
      expect(sheet?.getRow(1).getCell(1).value).toBe(words.header);
      expect(sheet?.getRow(2).getCell(1).value).toBe(resolvedId);
      expect(sheet?.rowCount).toBe(2);
      const [csv] = await Promise.all([
        app.page.waitForEvent('download'),
        app.page.getByTestId('export-csv').click(),
      ]);
      const text = readFileSync(await csv.path(), 'utf8');
      expect(text.startsWith('\uFEFF')).toBe(true);
      expect(text.trim().split(/\r?\n/)).toHaveLength(2);
      expect(text).toContain(resolvedId);

      // Severity narrows again; the row opens the alarm's card.
      await app.page.getByTestId('history-reset').click();
      await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(3);
      await app.page.getByTestId('filter-severity').selectOption('warning');
      await app.page.getByTestId('history-search').click();
      await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(2);
      await rows.first().locator('a').click();
      await app.page.getByTestId('card-head').waitFor({ timeout: 10_000 });

      expect(app.errors).toEqual([]);
    },
  );
});
