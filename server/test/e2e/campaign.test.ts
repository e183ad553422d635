/**
 * Issue 13's done-when, end to end with the real processes: a township's CO-prevention week.
 * firmware-sim's household CO detector (Modbus TCP) → gateway → MQTT → server, the console in
 * Chromium. The township office imports its 200 households from an XLSX with five bad rows (all
 * five reported, nothing imported), fixes them and imports; a grid worker records a visit on a
 * phone; the CO detector in an elderly woman's bedroom reaches 400 ppm and the alarm reaches the
 * board with her address and "living alone"; the duty officer acknowledges and resolves it as a
 * real event; the township's ledger of the week, made from the reports page, counts all of it, in
 * XLSX and in PDF, in Chinese and in English.
 *
 * The home's detector is on the household profile (EN 50291: ≥ 300 ppm held 2 min), so the alarm
 * comes some two minutes after the gas; the import and the visit happen meanwhile. The gas goes
 * (windows opened) before the slow tier's dose could raise another alarm.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RunningSystem, startSystem } from '@gaswatch/firmware-sim/system';
import ExcelJS from 'exceljs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ledger, LedgerRow } from '../../src/reports/ledger-schema.js';
import { ZoneClock } from '../../src/zone.js';
import { actAs, apiFetch, createUser, mintToken, tempDir, withDatabase } from '../helpers.js';
import { ROWS, withFiveBadRows, xlsxOf } from '../household-sheet-fixtures.js';
import { launchChromium } from './browser.js';
import { ConsoleApp } from './console-app.js';
import { HouseholdEditPages } from './console-household-edit.js';
import { InspectionPages } from './console-inspections.js';
import { ReportsPage } from './console-reports.js';

const HOME = 'liujiang-1-1';
const ADDRESS = '柳江村 1 组 1 号（王秀英家）';
const DEV = 'co-wang-bedroom';
const SITE = 'dapu-homes';
// No gas until the home is registered: then the test lights the brazier through the simulator's
// control port, and opens the windows once the alarms are resolved.
const SCENARIO = `name: e2e-campaign
description: a charcoal brazier in an elderly woman's bedroom
devices:
  - { id: ${DEV}, profile: gaswatch-co, unit: 1, constant: { CO: 0 } }
transports:
  - { type: modbus-tcp, host: 127.0.0.1, port: 0, devices: [${DEV}] }
`;
const SITE_CONFIG = `sites:
  ${SITE}: { name: 大埔镇住户, type: household }
`;
/** Local days as the server counts them (TIME_ZONE's default). */
const zone = new ZoneClock('Asia/Shanghai');
const today = () => zone.day(Date.now());

describe('a township’s CO-prevention week, end to end', () => {
  const tmp = tempDir('gaswatch-campaign-');
  let system: RunningSystem;
  let browser: Browser;
  const apps: ConsoleApp[] = [];
  let url = '';

  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const r = await apiFetch(`${url}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  };
  const open = async (user: string, locale: 'zh-CN' | 'en-US', width: number) => {
    const app = await ConsoleApp.create(browser, { locale, width });
    apps.push(app);
    await app.goto(url);
    await app.logIn(user);
    return app;
  };

  beforeAll(async () => {
    writeFileSync(join(tmp.dir, 'scenario.yaml'), SCENARIO);
    writeFileSync(join(tmp.dir, 'gaswatch.yaml'), SITE_CONFIG);
    const admin = await withDatabase({ DATA_DIR: join(tmp.dir, 'system', 'server') }, async (db) => {
      await createUser(db, { username: 'zhou', displayName: '周主任', role: 'supervisor' });
      await createUser(db, { username: 'lin', displayName: '林建国', role: 'operator' });
      return mintToken(db);
    });
    [system, browser] = await Promise.all([
      startSystem({
        scenario: join(tmp.dir, 'scenario.yaml'),
        dataDir: join(tmp.dir, 'system'),
        gatewayId: 'gw-dapu',
        pollIntervalS: 1,
        site: SITE,
        serverEnv: { GASWATCH_CONFIG: join(tmp.dir, 'gaswatch.yaml') },
      }),
      launchChromium(),
    ]);
    url = system.url;
    actAs(url, admin);
    // The township and its villages, and the first home of the campaign with its detector: the
    // registry the office had before this week's list.
    for (const [id, name, kind, parent] of [
      ['liucheng', '柳城县', 'county', null],
      ['dapu', '大埔镇', 'township', 'liucheng'],
      ['liujiang', '柳江村', 'village', 'dapu'],
      ['hexi', '河西村', 'village', 'dapu'],
    ] as const)
      await api('POST', '/api/areas', { id, name, kind, parent });
    await api('POST', '/api/households', {
      id: HOME,
      area: 'liujiang',
      address: ADDRESS,
      occupants: { count: 1, flags: ['elderly_alone'] },
      heating: ['charcoal'],
      contacts: [
        { name: '王秀英', relation: 'occupant', phone: '13800000001' },
        { name: '王建军', relation: 'family', phone: '13900000002' },
      ],
    });
    await api('PUT', `/api/households/${HOME}/detectors/${DEV}`, { location: '卧室', installedOn: today() });
    // The brazier: 400 ppm in her bedroom from now on. The alarm comes after EN 50291's two
    // minutes, while the office imports and the grid worker visits.
    await system.sim.simulate({ device: DEV, set: { CO: 400 } });
  }, 120_000);

  afterAll(async () => {
    for (const a of apps) await a.close();
    await browser?.close();
    await system?.stop();
    tmp.remove();
  });

  it('the office imports 200 households: five bad rows reported, nothing imported; fixed, all imported', async () => {
    const app = await open('zhou', 'zh-CN', 1400);
    const hh = new HouseholdEditPages(app);
    const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    const { rows, expected } = withFiveBadRows(ROWS);
    await app.page.goto(`${url}/console/#/households`);
    await hh.importButton.click();
    await hh.importPage.waitFor({ timeout: 10_000 });
    await hh.pick({ name: '大埔镇重点户台账.xlsx', mimeType: XLSX, buffer: await xlsxOf(rows) });
    await hh.check.click();
    await hh.errors.first().waitFor({ timeout: 30_000 });
    // All five, each where the office will find it: the row, the column, why.
    const listed = await hh.listedIssues();
    expect(listed.map(({ row, column, code }) => ({ row, column, code }))).toEqual(expected);
    for (const issue of listed) expect(issue.reason).not.toBe('');
    expect(await hh.apply.isDisabled()).toBe(true);
    expect((await api<{ total: number }>('GET', '/api/households?limit=1')).total).toBe(1);

    await hh.pick({ name: '大埔镇重点户台账（改）.xlsx', mimeType: XLSX, buffer: await xlsxOf(ROWS) });
    await hh.check.click();
    await hh.clean.waitFor({ timeout: 30_000 });
    expect(await hh.clean.textContent()).toContain('将新增 200 户');
    await expect.poll(() => hh.apply.isDisabled(), { timeout: 5_000 }).toBe(false);
    await hh.apply.click();
    await hh.result.waitFor({ timeout: 30_000 });
    await app.page.goto(`${url}/console/#/households`);
    await expect
      .poll(() => app.page.getByTestId('household-total').textContent(), { timeout: 10_000 })
      .toContain('201');
    expect(app.errors).toEqual([]);
  });

  it('a grid worker records the visit to the home on a phone', async () => {
    const app = await open('lin', 'zh-CN', 390);
    const p = new InspectionPages(app);
    await p.openHousehold(url, HOME);
    await p.recordButton.click();
    await p.item('burning_in_bedroom').waitFor({ timeout: 10_000 });
    await p.setResult('burning_in_bedroom', 'found');
    await p.noteItem('burning_in_bedroom', '卧室烧炭取暖，门窗紧闭');
    await p.setResult('co_alarm_misplaced', 'found');
    await p.restNotFound();
    expect(await p.fitsWidth()).toBe(true);
    await p.submit();
    await p.visits.first().waitFor({ timeout: 10_000 });
    expect(await p.visits.count()).toBe(1);
    expect(app.errors).toEqual([]);
  });

  it('the CO in her bedroom reaches the board with her address and "living alone"; acknowledged and resolved', {
    timeout: 240_000,
  }, async () => {
    const app = await open('lin', 'zh-CN', 1400);
    // EN 50291's fast tier: 2 min at ≥ 300 ppm from the gas's arrival. The detector's own alarm
    // output comes on at the same moment: two alarms of one home, side by side in one group.
    await expect.poll(() => app.alarms(DEV).count(), { timeout: 200_000, interval: 1_000 }).toBe(2);
    const group = app.page.getByTestId('alarm-group').filter({ hasText: DEV });
    for (const home of await group.getByTestId('alarm-household').all()) {
      expect(await home.textContent()).toContain(ADDRESS);
      expect(await home.textContent()).toContain('独居老人');
    }
    await app.acknowledge(group, '已电话联系王建军，正赶往现场', 'ack-group');
    await expect.poll(() => group.getByTestId('ack').count(), { timeout: 10_000 }).toBe(0);

    // On site: one resolution on the card settles both alarms of her home, as a real event.
    const { alarms } = await api<{ alarms: Array<{ id: string; household: { id: string } | null }> }>(
      'GET',
      `/api/alarms?device=${DEV}`,
    );
    expect(alarms.map((a) => a.household?.id)).toEqual([HOME, HOME]);
    await app.page.goto(`${url}/console/#/alarms/${encodeURIComponent(alarms[0]?.id ?? '')}`);
    const detail = app.page.getByTestId('alarm-detail');
    await detail.waitFor({ timeout: 10_000 });
    await expect.poll(() => detail.textContent(), { timeout: 10_000 }).toContain('王秀英');
    await detail.getByTestId('card-resolve').click();
    await app.page.getByTestId('reason-real_event').click();
    await app.page
      .locator('textarea[data-testid="resolve-note"], [data-testid="resolve-note"] textarea')
      .first()
      .fill('卧室烧炭取暖，已熄灭炭火并开窗通风，老人无不适');
    const others = app.page.getByTestId('resolve-others');
    expect(await others.textContent()).toContain('其他 1 条报警');
    await app.page.getByTestId('resolve-submit').click();
    await detail.getByTestId('card-resolution').waitFor({ timeout: 10_000 });
    await expect
      .poll(
        async () =>
          (
            await api<{ alarms: Array<{ resolution?: { reason: string } }> }>(
              'GET',
              `/api/alarms?device=${DEV}`,
            )
          ).alarms.map((a) => a.resolution?.reason),
        { timeout: 10_000 },
      )
      .toEqual(['real_event', 'real_event']);
    // The windows opened: the gas goes before the slow tier's dose (τ 45 min) reaches 40 ppm,
    // which at 400 ppm takes some 4.7 min.
    await system.sim.simulate({ device: DEV, set: { CO: 0 } });
    expect(app.errors).toEqual([]);
  });

  it("the week's ledger counts it all, in XLSX and PDF, in Chinese and in English", {
    timeout: 120_000,
  }, async () => {
    const words = {
      'zh-CN': { title: '大埔镇冬季一氧化碳中毒防范工作周报', total: '合计', real: '真实警情' },
      'en-US': { title: '大埔镇: weekly CO-poisoning prevention ledger', total: 'Total', real: 'Real event' },
    } as const;
    const day = today();
    const app = await open('zhou', 'zh-CN', 1400);
    const reports = new ReportsPage(app);
    await reports.open();
    await reports.make('dapu', day);
    await expect.poll(() => reports.rows.count(), { timeout: 10_000 }).toBe(1);
    const { ledgers } = await api<{ ledgers: Array<{ id: string }> }>('GET', '/api/reports/ledgers');
    const { ledger } = await api<{ ledger: Ledger }>('GET', `/api/reports/ledgers/${ledgers[0]?.id}`);
    const total = ledger.numbers.total;
    const liujiang = ledger.numbers.rows.find((r) => r.area === 'liujiang') as LedgerRow;
    // The numbers are the registry's: 200 imported (100 in each village) and the first home.
    expect(total.households).toMatchObject({
      registered: 201,
      registeredWeek: 201,
      visitedWeek: 1,
      visitsWeek: 1,
    });
    expect(liujiang.households.registered).toBe(101);
    // Every third imported home is an elderly person living alone, as is Wang Xiuying: 66 + 1.
    expect(total.vulnerable).toMatchObject({ registered: 67, covered: 67, uncovered: 0, visitedWeek: 1 });
    expect(total.hazards).toMatchObject({ foundWeek: 2, rectifiedWeek: 0, outstanding: 2 });
    expect(total.hazards.byItem.burning_in_bedroom.foundWeek).toBe(1);
    // Her detector installed today and reporting; the 200 imported ones installed on 20 November
    // and not yet reporting (the simulation has only hers).
    expect(total.detectors).toMatchObject({
      installedWeek: 1,
      inService: 201,
      online: 1,
      neverReported: 200,
    });
    // The CO and the detector's own alarm, both resolved as a real event.
    expect(total.alarms.week.raised).toBe(2);
    expect(total.alarms.week.byKind).toMatchObject({ gas: 1, detector: 1, offline: 0 });
    expect(total.alarms.week.byOutcome).toMatchObject({ real_event: 2, unresolved: 0 });
    expect(liujiang.alarms.week.byOutcome.real_event).toBe(2);
    expect(total.responseTimes.week.acknowledge.count).toBe(2);
    expect(total.responseTimes.week.resolve.count).toBe(2);

    // The files, as the office downloads them from the page, in each language.
    const row = (sheet: ExcelJS.Worksheet, first: string) => {
      for (let r = 1; r <= sheet.rowCount; r++) {
        const values = (sheet.getRow(r).values as unknown[]).slice(1);
        if (values[0] === first) return values;
      }
      throw new Error(`no row ${first} in ${sheet.name}`);
    };
    for (const locale of ['zh-CN', 'en-US'] as const) {
      const w = words[locale];
      const page = locale === 'zh-CN' ? reports : new ReportsPage(await open('zhou', locale, 1400));
      if (locale !== 'zh-CN') await page.open();
      const first = page.rows.first();
      await first.waitFor({ timeout: 10_000 });
      const book = new ExcelJS.Workbook();
      await book.xlsx.readFile(await (await page.download(first, 'xlsx')).path());
      const households = book.worksheets[0] as ExcelJS.Worksheet;
      expect(households.getCell('A1').value).toBe(w.title);
      expect(row(households, w.total).slice(1, 5)).toEqual([201, 201, 1, 1]);
      const outcomes = book.worksheets[6] as ExcelJS.Worksheet;
      // Real event, false alarm, test, maintenance work, device fault, not resolved: the week's.
      expect(row(outcomes, w.total).slice(1, 7)).toEqual([2, 0, 0, 0, 0, 0]);
      const pdf = await page.download(first, 'pdf');
      const text = execFileSync('pdftotext', ['-layout', await pdf.path(), '-']).toString('utf8');
      expect(text).toContain(w.title);
      expect(text).toContain(w.real);
      expect(text).toMatch(new RegExp(`${w.total}\\s+201\\s+201\\s+1\\s+1`));
      expect(page.app.errors).toEqual([]);
    }
  });
});
