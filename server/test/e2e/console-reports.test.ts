/**
 * The weekly-ledger page in real Chromium against the real server, in both languages at desk and
 * phone width: a supervisor makes a township's ledger of a week, it is listed, and its XLSX and
 * PDF download in the page's language (read back with exceljs and pdftotext); a viewer of the same
 * township sees the list and downloads but no form to make one.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFetch, createUser, startTestServer, type TestServer } from '../helpers.js';
import { docImage, launchChromium } from './browser.js';
import { ConsoleApp } from './console-app.js';
import { ReportsPage } from './console-reports.js';

const CASES = [
  { locale: 'zh-CN', width: 1400, shot: 'console-reports-zh-CN-desktop.png' },
  { locale: 'en-US', width: 1400, shot: 'console-reports-en-desktop.png' },
  { locale: 'zh-CN', width: 390, shot: 'console-reports-zh-CN-phone.png' },
] as const;
const WORDS = {
  'zh-CN': {
    title: '大埔镇冬季一氧化碳中毒防范工作周报',
    week: '2026-11-27 至 2026-12-03',
    total: '合计',
    file: '大埔镇-周报-2026-11-27',
  },
  'en-US': {
    title: '大埔镇: weekly CO-poisoning prevention ledger',
    week: '2026-11-27 to 2026-12-03',
    total: 'Total',
    file: '大埔镇-ledger-2026-11-27',
  },
} as const;

describe('the weekly-ledger page in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  const apps: ConsoleApp[] = [];

  beforeAll(async () => {
    [server, browser] = await Promise.all([startTestServer(), launchChromium()]);
    const post = async (path: string, body: unknown) => {
      const r = await apiFetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(r.status, await r.clone().text()).toBe(201);
    };
    for (const [id, name, kind, parent] of [
      ['liucheng', '柳城县', 'county', null],
      ['dapu', '大埔镇', 'township', 'liucheng'],
      ['liujiang', '柳江村', 'village', 'dapu'],
    ] as const)
      await post('/api/areas', { id, name, kind, parent });
    await post('/api/households', { id: 'liujiang-1', area: 'liujiang', address: '柳江村 1 号' });
    await post('/api/inspections', {
      household: 'liujiang-1',
      date: '2026-12-01',
      inspectors: ['李国强'],
      items: [{ item: 'room_sealed', result: 'found' }],
      rectification: { deadline: '2026-12-05' },
    });
    await createUser(server.app.db, {
      username: 'zhou',
      displayName: '周主任',
      role: 'supervisor',
      area: 'dapu',
    });
    await createUser(server.app.db, { username: 'wang', displayName: '王芳', role: 'viewer', area: 'dapu' });
  }, 60_000);

  afterAll(async () => {
    for (const a of apps) await a.close();
    await browser?.close();
    await server?.close();
  });

  it.each(CASES)(
    '$locale at $width px: make, list, download XLSX and PDF',
    { timeout: 60_000 },
    async (c) => {
      const words = WORDS[c.locale];
      const app = await ConsoleApp.create(browser, c);
      apps.push(app);
      await app.goto(server.url);
      await app.logIn('zhou');
      const reports = new ReportsPage(app);
      await reports.open();
      const made = async () =>
        ((await (await apiFetch(`${server.url}/api/reports/ledgers`)).json()) as { total: number }).total;
      const before = await made();
      await expect.poll(() => reports.rows.count(), { timeout: 10_000 }).toBe(before);
      // Any day of the week: 1 December lies in the week from Friday 27 November.
      await reports.make('dapu', '2026-12-01');
      await expect.poll(() => reports.rows.count(), { timeout: 10_000 }).toBe(before + 1);
      const row = reports.rows.first();
      expect(await row.getByTestId('ledger-week-cell').textContent()).toBe(words.week);
      await app.page.mouse.move(0, 0);
      await app.page.screenshot({ path: docImage(c.shot) });

      const xlsx = await reports.download(row, 'xlsx');
      // The name an office files it under (filename*), in the page's language.
      expect(xlsx.suggestedFilename()).toBe(`${words.file}.xlsx`);
      const book = new ExcelJS.Workbook();
      await book.xlsx.readFile(await xlsx.path());
      const sheet = book.worksheets[0];
      expect(sheet?.getCell('A1').value).toBe(words.title);
      expect(sheet?.getCell('A7').value).toBe(words.total);
      // The hazards sheet: the visit's one hazard found in the week, not put right.
      const hazards = book.worksheets[2] as ExcelJS.Worksheet;
      expect((hazards.getRow(7).values as unknown[]).slice(1)).toEqual([words.total, 1, 0, 1, 0, 1, 0]);

      const pdf = await reports.download(row, 'pdf');
      const text = execFileSync('pdftotext', ['-layout', await pdf.path(), '-']).toString('utf8');
      expect(text).toContain(words.title);
      expect(text).toContain('柳江村');
      expect(
        readFileSync(await pdf.path())
          .subarray(0, 5)
          .toString(),
      ).toBe('%PDF-');
      expect(app.errors).toEqual([]);
    },
  );

  it('a viewer sees the ledgers and downloads them, with no form to make one', async () => {
    const app = await ConsoleApp.create(browser, { locale: 'zh-CN', width: 1400 });
    apps.push(app);
    await app.goto(server.url);
    await app.logIn('wang');
    const reports = new ReportsPage(app);
    await reports.open();
    await expect.poll(() => reports.rows.count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await reports.form.count()).toBe(0);
    const pdf = await reports.download(reports.rows.first(), 'pdf');
    expect(pdf.suggestedFilename()).toBe('大埔镇-周报-2026-11-27.pdf');
  });
});
