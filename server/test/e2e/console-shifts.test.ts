/**
 * The Shift handover page in real Chromium against the real server, in both languages at desk
 * and phone width. A gateway publishes CO 400 ppm over MQTT: real alarms. The operator on duty
 * (lin) acknowledges them (the critical one on the board, the rest as her in one go) and resolves
 * the critical one with a note; her shift report shows the counts, the notes with who wrote
 * them, the still-open alarms (each to its response card) and her response times. She hands over
 * with a note (a double click hands over once) and sees no Confirm button on her own handover; a
 * viewer reads the report without the handover form; the incoming operator (wang) confirms, and
 * the handover and its response times are in the lists. A takeover someone else confirmed first
 * is answered in words. Nothing uncaught in the browser. The screenshots are docs/console.md's.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '../../src/alarms/model.js';
import type { CurrentShift, ShiftPage } from '../../src/reports/shift-schema.js';
import {
  connectGateway,
  createUser,
  type Login,
  login,
  reading,
  startTestServer,
  type TestServer,
  tempDir,
} from '../helpers.js';
import { deviceState, docImage, launchChromium, publish, publishState, type View, views } from './browser.js';
import { ConsoleApp } from './console-app.js';
import { ShiftsPage } from './console-shifts.js';

const GW = 'gw-shifts-app';

const CASES = views('console-shifts');

const ACK_NOTE = '已电话联系住户，开窗通风，人员已撤离';
const RESOLVE_NOTE = '卧室烧炭取暖，已熄灭炭火并开窗，老人无不适';
const HANDOVER_NOTE = '王大爷家已办结，明早回访；同一探测器的预警读数未恢复，请继续关注';
const CONFIRM_NOTE = '已核对未处置报警，回访由我跟进';

const WORDS = {
  'zh-CN': {
    ack: '确认',
    resolve: /办结 · 真实警情/,
    lin: '林建国',
    reason: '办结原因：真实警情 1 起',
    seconds: /\d+(\.\d)? 秒/,
    mine: '这是您交的班，需由接班人员登录后确认。',
    handedOver: /林建国 于 .* 交班/,
    confirmed: /上一班 lin 于 .* 交班，王强 于 .* 已接班确认/,
    done: '已交班，等待接班人员确认',
    taken: '这一班已由其他值班人员接班确认。',
  },
  'en-US': {
    ack: 'Acknowledged',
    resolve: /Resolved · Real gas event/,
    lin: '林建国',
    reason: 'Resolved as: Real gas event: 1',
    seconds: /\d+(\.\d)? s/,
    mine: 'You handed this over: the incoming operator confirms it, logged in as themselves.',
    handedOver: /Handed over by 林建国 at /,
    confirmed: /Last shift handed over by lin at .*; taken over by 王强 at /,
    done: 'Handed over; waiting for the incoming operator to confirm',
    taken: 'Another operator has already confirmed taking over this shift.',
  },
} as const;

describe('the Shift handover page in Chromium', () => {
  const tmp = tempDir('gaswatch-shifts-app-');
  let server: TestServer;
  let browser: Browser;
  let gateway: MqttClient;
  let lin: Login;
  let chen: Login;
  let seq = 0;
  const apps: ConsoleApp[] = [];
  const open = async (c: View) => {
    const app = await ConsoleApp.create(browser, c);
    apps.push(app);
    await app.goto(server.url);
    return app;
  };
  const get = async <T>(who: Login, path: string): Promise<T> =>
    (await (await who.fetch(`${server.url}${path}`)).json()) as T;
  const post = (who: Login, path: string, body: unknown) =>
    who.fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const alarmsOf = async (dev: string) =>
    (await get<{ alarms: Alarm[] }>(lin, `/api/alarms?device=${dev}`)).alarms;

  beforeAll(async () => {
    // Confined-space profile: CO ≥ 200 ppm is critical at once. A long poll interval: no device
    // of an earlier case goes offline (and raises an alarm) while the later ones run.
    const devices = CASES.map((_, i) => `  room-${i}: { profile: confined-space }`).join('\n');
    writeFileSync(join(tmp.dir, 'gaswatch.yaml'), `devices:\n${devices}\n`);
    [server, browser] = await Promise.all([
      startTestServer({ GASWATCH_CONFIG: join(tmp.dir, 'gaswatch.yaml') }),
      launchChromium(),
    ]);
    await createUser(server.app.db, { username: 'lin', displayName: '林建国', role: 'operator' });
    await createUser(server.app.db, { username: 'wang', displayName: '王强', role: 'operator' });
    await createUser(server.app.db, { username: 'chen', displayName: '陈静', role: 'operator' });
    await createUser(server.app.db, { username: 'zhao', displayName: '赵敏', role: 'viewer' });
    gateway = await connectGateway(server, GW);
    lin = await login(server.url, 'lin');
    chen = await login(server.url, 'chen');
  }, 60_000);

  afterAll(async () => {
    for (const a of apps) await a.close();
    await browser?.close();
    await gateway?.endAsync();
    await server?.close();
    tmp.remove();
  });

  it.each(CASES.map((c, i): View & { dev: string } => ({ ...c, dev: `room-${i}` })))(
    '$locale at $width px: the report, a handover, the takeover; a viewer only reads',
    { timeout: 120_000 },
    async ({ locale, width, shot, dev }) => {
      const words = WORDS[locale];
      const linApp = await open({ locale, width, shot });
      await linApp.logIn('lin');

      // CO 400 ppm: the critical alarm (and the device's warning) on the board.
      await publishState(
        gateway,
        GW,
        dev,
        deviceState({ pollIntervalS: 600, site: 'flat-7', location: 'bedroom' }),
      );
      await publish(gateway, GW, dev, reading(seq++, Date.now(), { CO: 400 }));
      const critical = linApp.alarms(dev).and(linApp.page.locator('[data-severity="critical"]'));
      await critical.first().waitFor({ timeout: 15_000 });
      const criticalId = (await critical.first().getAttribute('data-alarm')) ?? '';

      // lin acknowledges the critical one on the board, the others of the device as herself at
      // once, and resolves the critical one (the reading still high: it stays open).
      await linApp.acknowledge(critical.first(), ACK_NOTE);
      const all = await alarmsOf(dev);
      const others = all.filter((a) => a.ack === null).map((a) => a.id);
      if (others.length > 0)
        expect((await post(lin, '/api/alarms/ack', { ids: others, note: ACK_NOTE })).status).toBe(200);
      const resolved = await post(lin, `/api/alarms/${encodeURIComponent(criticalId)}/resolve`, {
        reason: 'real_event',
        note: RESOLVE_NOTE,
      });
      expect(resolved.status).toBe(200);
      const n = all.length;
      expect(n).toBeGreaterThanOrEqual(1);

      // The shift report: every alarm of the device raised and acknowledged in this shift, one
      // resolved (a real event), all still open (the reading has not cleared).
      const shifts = new ShiftsPage(linApp);
      await shifts.open();
      await expect
        .poll(() => shifts.counts(), { timeout: 10_000 })
        .toEqual({
          raised: n,
          acknowledged: n,
          resolved: 1,
          open: n,
        });
      expect(await shifts.root.getByTestId('shift-reasons').textContent()).toContain(words.reason);
      const ackNotes = shifts.notes.and(linApp.page.locator('[data-kind="ack"]'));
      expect(await ackNotes.count()).toBe(n);
      expect(await ackNotes.first().textContent()).toContain(words.lin);
      expect(await ackNotes.first().textContent()).toContain(ACK_NOTE);
      const resolveNote = shifts.notes.and(linApp.page.locator('[data-kind="resolve"]'));
      expect(await resolveNote.textContent()).toMatch(words.resolve);
      expect(await resolveNote.textContent()).toContain(RESOLVE_NOTE);
      // Response times: overall and lin's, in seconds as a person reads them.
      const overall = shifts.times.and(linApp.page.locator('[data-row="overall"]'));
      expect(await overall.getAttribute('data-ack-count')).toBe(String(n));
      expect(await overall.getAttribute('data-resolve-count')).toBe('1');
      expect(await overall.textContent()).toMatch(words.seconds);
      const linTimes = shifts.times.and(linApp.page.locator('[data-row="lin"]'));
      expect(await linTimes.textContent()).toContain(words.lin);
      // The still-open alarms lead to their response cards.
      expect(await shifts.openAlarms.count()).toBe(n);
      const row = shifts.openAlarms.and(linApp.page.locator(`[data-alarm="${criticalId}"]`));
      await row.locator('a').first().click();
      await linApp.page
        .getByTestId('alarm-detail')
        .getByTestId('card-resolution')
        .waitFor({ timeout: 10_000 });
      expect(linApp.page.url()).toContain(`#/alarms/${encodeURIComponent(criticalId)}`);
      await linApp.page.goBack();
      await shifts.stats.waitFor({ timeout: 10_000 });

      // The screenshot: the report with the handover note written.
      await linApp.page
        .locator('textarea[data-testid="handover-note"], [data-testid="handover-note"] textarea')
        .first()
        .fill(HANDOVER_NOTE);
      // At desk width the whole page; on a phone (its tab bar fixed) the top, as the operator sees it.
      await linApp.page.mouse.move(0, 0);
      await shifts.noMessages();
      await linApp.page.evaluate('window.scrollTo(0, 0)');
      await linApp.page.screenshot({ path: docImage(shot), fullPage: width > 600 });

      // lin hands over (double-clicking): one handover, and no Confirm button on her own.
      const before = (await get<ShiftPage>(lin, '/api/shifts?limit=1')).total;
      await shifts.handOver(HANDOVER_NOTE);
      expect(await shifts.message('success')).toBe(words.done);
      const after = await get<ShiftPage>(lin, '/api/shifts?limit=5');
      expect(after.total).toBe(before + 1);
      const handed = after.shifts[0];
      expect(handed?.note).toBe(HANDOVER_NOTE);
      expect(handed?.report.resolved).toBe(1);
      expect(await shifts.pending.getAttribute('data-shift')).toBe(handed?.id);
      expect(await shifts.pending.textContent()).toMatch(words.handedOver);
      expect(await shifts.pending.getByTestId('pending-note').textContent()).toContain(HANDOVER_NOTE);
      expect(await shifts.confirmButton.count()).toBe(0);
      expect((await shifts.pending.getByTestId('pending-mine').textContent())?.trim()).toBe(words.mine);
      await expect.poll(() => shifts.history.first().getAttribute('data-shift')).toBe(handed?.id);
      expect(await shifts.history.first().getAttribute('data-confirmed')).toBe('false');
      // The server refuses lin's own confirmation too, with its code.
      const own = await post(lin, `/api/shifts/${handed?.id}/confirm`, { note: '' });
      expect([own.status, ((await own.json()) as { error: string }).error]).toEqual([409, 'own_handover']);

      // A viewer reads the report and the handover awaiting confirmation, without the form or Confirm.
      const zhaoApp = await open({ locale, width, shot });
      await zhaoApp.logIn('zhao');
      const zhao = new ShiftsPage(zhaoApp);
      await zhao.open();
      await zhao.pending.waitFor({ timeout: 10_000 });
      expect(await zhao.form.count()).toBe(0);
      expect(await zhao.confirmButton.count()).toBe(0);
      expect(await zhao.openAlarms.count()).toBe(n);

      // wang, coming on duty, confirms taking over.
      const wangApp = await open({ locale, width, shot });
      await wangApp.logIn('wang');
      const wang = new ShiftsPage(wangApp);
      await wang.open();
      await wang.confirmButton.waitFor({ timeout: 10_000 });
      expect(await wang.pending.textContent()).toContain(HANDOVER_NOTE);
      await expect
        .poll(() => wang.rangeShifts.first().getAttribute('data-row'), { timeout: 10_000 })
        .toBe(handed?.id);
      expect(await wang.rangeShifts.first().getAttribute('data-ack-count')).toBe(String(n));
      if (width > 600) {
        await wangApp.page.mouse.move(0, 0);
        await wangApp.page.screenshot({
          path: docImage(shot.replace('.png', '-takeover.png')),
          fullPage: true,
        });
      }
      await wang.startConfirm(CONFIRM_NOTE);
      await wang.submitConfirm();
      await wang.previousConfirmed.waitFor({ timeout: 10_000 });
      expect(await wang.previousConfirmed.textContent()).toMatch(words.confirmed);
      expect(await wang.pending.count()).toBe(0);
      await expect.poll(() => wang.history.first().getAttribute('data-confirmed')).toBe('true');
      const taken = await get<CurrentShift>(lin, '/api/shifts/current');
      expect(taken.previous?.confirmation).toMatchObject({ by: 'wang', note: CONFIRM_NOTE });

      // Clean air: the acknowledged alarms close, and the next case starts with none open.
      await publish(gateway, GW, dev, reading(seq++, Date.now(), { CO: 0 }));
      await expect
        .poll(async () => (await alarmsOf(dev)).filter((a) => a.state !== 'cleared').length, {
          timeout: 15_000,
        })
        .toBe(0);

      expect(linApp.errors).toEqual([]);
      expect(zhaoApp.errors).toEqual([]);
      expect(wangApp.errors).toEqual([]);
    },
  );

  it.each([CASES[0], CASES[2]])(
    '$locale: a takeover someone else confirmed first is answered in words',
    { timeout: 60_000 },
    async (c) => {
      const handed = await post(lin, '/api/shifts/handover', { note: '无异常' });
      expect(handed.status).toBe(201);
      const { shift } = (await handed.json()) as { shift: { id: string } };
      const wangApp = await open(c);
      await wangApp.logIn('wang');
      const wang = new ShiftsPage(wangApp);
      await wang.open();
      await wang.startConfirm('');
      // chen takes over in the meantime.
      expect((await post(chen, `/api/shifts/${shift.id}/confirm`, { note: '' })).status).toBe(200);
      await wang.submitConfirm();
      expect(await wang.message('error')).toBe(WORDS[c.locale].taken);
      await wang.page
        .getByTestId('confirm-dialog')
        .locator('.el-dialog')
        .waitFor({ state: 'hidden', timeout: 5_000 });
      await wang.previousConfirmed.waitFor({ timeout: 10_000 });
      expect(await wang.previousConfirmed.textContent()).toContain('chen');
      // Chromium logs the refused request itself; nothing else went wrong.
      expect(wangApp.errors.filter((e) => !/status of 409 \(Conflict\)/.test(e))).toEqual([]);
    },
  );
});
