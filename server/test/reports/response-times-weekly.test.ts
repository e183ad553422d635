/**
 * Issue 15's response times through buildServer, in simulated time: alarms in two villages go up
 * the chain with Alibaba Cloud SMS and Tencent Cloud voice stand-ins, answered by delivery
 * receipts, an SMS reply, a keypress and operators in the console at known times; then each
 * alarm's card, the weekly report by ISO week, area and step, and the weekly ledger (its numbers,
 * XLSX read back, PDF text) give exactly the percentiles those times make.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { AlarmDetail } from '../../src/alarms/detail-schema.js';
import type { Ledger } from '../../src/reports/ledger-schema.js';
import type { WeeklyResponseTimes } from '../../src/reports/weekly-response.js';
import { deviceState, feed, MIN, manualTime, series, T0 } from '../alarms/helpers.js';
import { apiFetch, getJson, mintToken, startTestServer, type TestServer, tempDir } from '../helpers.js';
import {
  CALL_TOKEN,
  channelsFor,
  DUTY,
  HOUSEHOLD_STEPS,
  type Providers,
  SMS_TOKEN,
  startProviders,
} from '../notify/chain-rig.js';

const S = 1000;
const DAY = 86_400_000;
const tmp = tempDir('gw-resp-');
const time = manualTime(T0); // Monday 23 November 2026, 08:00 in Beijing: ISO week 2026-W48
let server: TestServer;
let providers: Providers;
let hexiViewer = '';

const post = (path: string, body: unknown) =>
  apiFetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

const callback = (channel: string, query: string, body: unknown) =>
  fetch(`${server.url}/api/notify/callback/${channel}${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** Moves the simulated clock to `at` (firing the chain's timers on the way). */
const until = async (at: number) => {
  time.advance(at - time.clock());
  await server.app.alarms.idle();
};

/** CO 400 ppm for three minutes up to now: EN 50291's fast tier raises it now. */
async function raise(dev: string, site: string): Promise<string> {
  const now = time.clock();
  await feed(
    server.app.store,
    server.app.bus,
    series('gw-1', dev, deviceState('household-co', site, 3600), now - 3 * MIN, now, 10, { CO: 400 }),
  );
  await server.app.alarms.idle();
  const alarm = server.app.alarms.list({ dev }).find((a) => a.detectedAt === now);
  if (alarm === undefined) throw new Error(`no alarm of ${dev} raised`);
  return alarm.id;
}

/** Alibaba Cloud's delivery report of the SMS the stand-in took as `providerId`, at a Beijing time. */
const delivered = async (providerId: string, phone: string, beijing: string) => {
  const r = await callback('sms', `?token=${SMS_TOKEN}`, [
    {
      phone_number: phone,
      send_time: beijing,
      report_time: beijing,
      success: true,
      err_code: 'DELIVERED',
      err_msg: '用户接收成功',
      sms_size: '1',
      biz_id: providerId,
      out_id: 'x',
    },
  ]);
  expect(r.status).toBe(200);
};

const ack = async (id: string) =>
  expect((await post(`/api/alarms/${encodeURIComponent(id)}/ack`, { note: '已电话联系住户' })).status).toBe(
    200,
  );
const onSite = async (id: string) =>
  expect(
    (await post(`/api/alarms/${encodeURIComponent(id)}/responses`, { kind: 'on_site', note: '' })).status,
  ).toBe(200);
const resolve = async (id: string) =>
  expect(
    (await post(`/api/alarms/${encodeURIComponent(id)}/resolve`, { reason: 'real_event', note: '开窗通风' }))
      .status,
  ).toBe(200);

const ids = { a: '', b: '', e: '', c: '' };

beforeAll(async () => {
  providers = await startProviders();
  const file = join(tmp.dir, 'gaswatch.yaml');
  writeFileSync(
    file,
    stringify({
      channels: channelsFor(providers),
      notify: { household: { steps: HOUSEHOLD_STEPS }, duty: DUTY },
      // Ledger weeks from Monday: the ledger's week is the report's ISO week.
      ledger: { weekday: 1, time: '09:00' },
    }),
  );
  server = await startTestServer(
    { GASWATCH_CONFIG: file, DATA_DIR: join(tmp.dir, 'data') },
    undefined,
    undefined,
    // No offline sweep: a week of simulated time would take every detector offline.
    {
      clock: time.clock,
      alarms: { timers: time.timers, offlineSweepMs: 2_000_000_000 },
      ledgers: { checkMs: 2_000_000_000 },
    },
  );
  for (const area of [
    { id: 'liucheng', name: '柳城县', kind: 'county', parent: null },
    { id: 'dapu', name: '大埔镇', kind: 'township', parent: 'liucheng' },
    { id: 'liujiang', name: '柳江村', kind: 'village', parent: 'dapu' },
    { id: 'hexi', name: '河西村', kind: 'village', parent: 'dapu' },
  ])
    expect((await post('/api/areas', area)).status).toBe(201);
  for (const home of [
    {
      id: 'liujiang-3-12',
      area: 'liujiang',
      address: '柳江村 3 组 12 号',
      occupants: { count: 1, flags: ['elderly_alone'] },
      contacts: [
        { name: '王秀英', relation: 'occupant', phone: '13800000001' },
        { name: '王建军', relation: 'family', phone: '13800000011' },
        { name: '韦小明', relation: 'grid_worker', phone: '13800000021' },
      ],
      detectors: [
        { device: 'bedroom-co', location: '卧室' },
        { device: 'kitchen-co', location: '厨房' },
        { device: 'living-co', location: '客厅' },
      ],
    },
    {
      id: 'hexi-1',
      area: 'hexi',
      address: '河西村 1 号',
      occupants: { count: 3, flags: [] },
      contacts: [{ name: '黄德明', relation: 'occupant', phone: '13800000051' }],
      detectors: [{ device: 'hexi-co', location: '厨房' }],
    },
  ])
    expect((await post('/api/households', home)).status).toBe(201);
  hexiViewer = await mintToken(server.app.db, 'viewer', 'hexi');

  const p = providers;
  const idOf = (to: string, from: number) => p.sent.slice(from).find((s) => s.to === to)?.providerId ?? '';

  // A — 08:00, her bedroom: SMS to her and her son (delivered to her at 08:00:06), calls at
  // 08:01, the grid worker's SMS at 08:02; his "1" at 08:02:30 acknowledges (step 3). On site
  // 08:20, resolved 08:40.
  ids.a = await raise('bedroom-co', 'liujiang');
  await delivered(idOf('+8613800000001', 0), '13800000001', '2026-11-23 08:00:06');
  await until(T0 + 150 * S);
  const up = await callback('sms', `?token=${SMS_TOKEN}`, [
    { phone_number: '13800000021', send_time: '2026-11-23 08:02:30', content: '1', sign_name: '燃气安全' },
  ]);
  expect(up.status).toBe(200);
  await server.app.alarms.idle();
  expect(server.app.alarms.get(ids.a)?.ack?.actor).toBe('sms:+8613800000021 (韦小明)');
  await until(T0 + 20 * MIN);
  await onSite(ids.a);
  await until(T0 + 40 * MIN);
  await resolve(ids.a);

  // B — 09:00, her kitchen: SMS delivered at 09:00:10; the duty officer acknowledges in the
  // console at 09:00:45, before the calls (step 1). On site 09:15, resolved 09:30.
  await until(T0 + 60 * MIN);
  let before = p.sent.length;
  ids.b = await raise('kitchen-co', 'liujiang');
  await delivered(idOf('+8613800000001', before), '13800000001', '2026-11-23 09:00:10');
  await until(T0 + 60 * MIN + 45 * S);
  await ack(ids.b);
  await until(T0 + 75 * MIN);
  await onSite(ids.b);
  await until(T0 + 90 * MIN);
  await resolve(ids.b);

  // E — 10:00 in 河西村: an SMS nobody reports delivered; acknowledged in the console at
  // 10:01:30, the chain still at step 1 (not vulnerable: 120 s a step). Never resolved.
  await until(T0 + 120 * MIN);
  ids.e = await raise('hexi-co', 'hexi');
  await until(T0 + 120 * MIN + 90 * S);
  await ack(ids.e);

  // C — a week later (2026-W49), her living room: SMS, no answer; calls at +60 s; she presses 1
  // at +75 s (step 2). Resolved at +10 min.
  const tc = T0 + 7 * DAY;
  await until(tc);
  before = p.sent.length;
  ids.c = await raise('living-co', 'liujiang');
  await until(tc + 75 * S);
  const call = p.sent.slice(before).find((s) => s.channel === 'call' && s.to === '+8613800000001');
  const key = await callback('call', `?token=${CALL_TOKEN}`, {
    voicekey_callback: {
      call_from: '',
      callid: call?.providerId,
      keypress: '1',
      mobile: '13800000001',
      nationcode: '86',
    },
  });
  expect(key.status).toBe(200);
  await server.app.alarms.idle();
  await until(tc + 10 * MIN);
  await resolve(ids.c);
}, 60_000);

afterAll(async () => {
  await server?.close();
  await providers?.close();
  tmp.remove();
});

const fig = (count: number, p50: number | null = null, p90: number | null = p50) => ({ count, p50, p90 });
const none = fig(0);

describe("an alarm's card", () => {
  it('shows each milestone and its time after the raise, and the step that acknowledged', async () => {
    const card = async (id: string) =>
      (await getJson<AlarmDetail>(`${server.url}/api/alarms/${encodeURIComponent(id)}`)).body.response;
    expect(await card(ids.a)).toEqual({
      raisedAt: T0,
      firstSentAt: T0,
      firstDeliveredAt: T0 + 6 * S,
      acknowledgedAt: T0 + 150 * S,
      ackStep: 3,
      ackBy: 'reply',
      onSiteAt: T0 + 20 * MIN,
      resolvedAt: T0 + 40 * MIN,
      seconds: { sent: 0, delivered: 6, acknowledge: 150, onSite: 1200, resolve: 2400 },
    });
    expect(await card(ids.b)).toMatchObject({ ackStep: 1, ackBy: 'operator', seconds: { acknowledge: 45 } });
    // Pressing 1 on the call: the keypress is her first proof of delivery too.
    expect(await card(ids.c)).toMatchObject({
      ackStep: 2,
      ackBy: 'reply',
      seconds: { sent: 0, delivered: 75, acknowledge: 75, onSite: null, resolve: 600 },
    });
  });
});

describe('GET /api/reports/response-times/weekly', () => {
  it('gives p50/p90 of each interval by ISO week, step and area, nearest rank', async () => {
    const r = await getJson<WeeklyResponseTimes>(
      `${server.url}/api/reports/response-times/weekly?from=2026-W48&to=2026-W49`,
    );
    expect(r.status).toBe(200);
    const [w48, w49] = r.body.weeks;
    expect(r.body).toMatchObject({ from: '2026-W48', to: '2026-W49', area: null, timeZone: 'Asia/Shanghai' });
    expect(w48).toMatchObject({ week: '2026-W48', start: '2026-11-23', end: '2026-11-29' });
    // A, B, E: sent 0, 0, 0; delivered 6, 10; acknowledged 150, 45, 90; on site 1200, 900;
    // resolved 2400, 1800.
    expect(w48?.all).toEqual({
      sent: fig(3, 0),
      delivered: fig(2, 6, 10),
      acknowledge: fig(3, 90, 150),
      onSite: fig(2, 900, 1200),
      resolve: fig(2, 1800, 2400),
    });
    // B and E at step 1, A at step 3.
    expect(w48?.byStep).toEqual([
      {
        step: 1,
        sent: fig(2, 0),
        delivered: fig(1, 10),
        acknowledge: fig(2, 45, 90),
        onSite: fig(1, 900),
        resolve: fig(1, 1800),
      },
      {
        step: 3,
        sent: fig(1, 0),
        delivered: fig(1, 6),
        acknowledge: fig(1, 150),
        onSite: fig(1, 1200),
        resolve: fig(1, 2400),
      },
    ]);
    // 河西村 (hé) before 柳江村 (liǔ).
    expect(w48?.byArea.map((a) => [a.area, a.name, a.all.acknowledge, a.byStep.map((s) => s.step)])).toEqual([
      ['hexi', '河西村', fig(1, 90), [1]],
      ['liujiang', '柳江村', fig(2, 45, 150), [1, 3]],
    ]);
    expect(w49?.all).toEqual({
      sent: fig(1, 0),
      delivered: fig(1, 75),
      acknowledge: fig(1, 75),
      onSite: none,
      resolve: fig(1, 600),
    });
    expect(w49?.byStep.map((s) => s.step)).toEqual([2]);
  });

  it("is scoped by the caller's area, and by `area`", async () => {
    const hexi = await fetch(`${server.url}/api/reports/response-times/weekly?from=2026-W48&to=2026-W48`, {
      headers: { authorization: `Bearer ${hexiViewer}` },
    });
    const body = (await hexi.json()) as WeeklyResponseTimes;
    expect(body.weeks[0]?.all.acknowledge).toEqual(fig(1, 90));
    expect(body.weeks[0]?.byArea.map((a) => a.area)).toEqual(['hexi']);
    const outside = await fetch(`${server.url}/api/reports/response-times/weekly?area=liujiang`, {
      headers: { authorization: `Bearer ${hexiViewer}` },
    });
    expect([outside.status, ((await outside.json()) as { error: string }).error]).toEqual([
      400,
      'unknown_area',
    ]);
    const liujiang = await getJson<WeeklyResponseTimes>(
      `${server.url}/api/reports/response-times/weekly?from=2026-W48&to=2026-W48&area=liujiang`,
    );
    expect(liujiang.body.weeks[0]?.all.acknowledge).toEqual(fig(2, 45, 150));
  });

  it('answers bad weeks and ranges with 400 and words', async () => {
    const bad = async (query: string) => {
      const r = await getJson<{ error: string; message: string }>(
        `${server.url}/api/reports/response-times/weekly?${query}`,
      );
      return [r.status, r.body.error, r.body.message];
    };
    expect(await bad('from=2026-48')).toEqual([400, 'bad_request', expect.stringContaining('2026-W48')]);
    expect(await bad('from=2026-W49&to=2026-W48')).toEqual([
      400,
      'bad_range',
      'from (2026-W49) is after to (2026-W48)',
    ]);
    expect(await bad('to=2021-W53')).toEqual([
      400,
      'bad_week',
      'there is no week 2021-W53: that year has 52 weeks',
    ]);
    expect(await bad('from=2026-W01&to=2026-W14')).toEqual([
      400,
      'range_too_large',
      '2026-W01 to 2026-W14 is more than 13 weeks; ask for fewer',
    ]);
    expect(await bad('week=2026-W48')).toEqual([400, 'bad_request', expect.any(String)]);
  });
});

describe('the weekly ledger', () => {
  let ledger: Ledger;

  it('counts raise → first sent, → delivered, → on site with the acknowledge and resolve times', async () => {
    const r = await post('/api/reports/ledger', { area: 'dapu', week: '2026-11-23' });
    expect(r.status).toBe(201);
    ledger = ((await r.json()) as { ledger: Ledger }).ledger;
    const times = (area: string | null) =>
      (area === null ? ledger.numbers.total : ledger.numbers.rows.find((x) => x.area === area))?.responseTimes
        .week;
    expect(times('hexi')).toEqual({
      sent: fig(1, 0),
      delivered: none,
      acknowledge: fig(1, 90),
      onSite: none,
      resolve: none,
    });
    expect(times('liujiang')).toEqual({
      sent: fig(2, 0),
      delivered: fig(2, 6, 10),
      acknowledge: fig(2, 45, 150),
      onSite: fig(2, 900, 1200),
      resolve: fig(2, 1800, 2400),
    });
    expect(times(null)).toEqual({
      sent: fig(3, 0),
      delivered: fig(2, 6, 10),
      acknowledge: fig(3, 90, 150),
      onSite: fig(2, 900, 1200),
      resolve: fig(2, 1800, 2400),
    });
    // C is of the next week: in neither the week nor the cumulative figures.
    expect(ledger.numbers.total.responseTimes.cumulative).toEqual(times(null));
  });

  const file = async (format: 'xlsx' | 'pdf', lang: 'zh-CN' | 'en') => {
    const res = await apiFetch(
      `${server.url}/api/reports/ledgers/${ledger.id}/file?format=${format}&lang=${lang}`,
    );
    expect(res.status).toBe(200);
    return Buffer.from(await res.arrayBuffer());
  };

  it('in the XLSX: stage headings over p50 and p90, a row per village and the total', async () => {
    const book = new ExcelJS.Workbook();
    await book.xlsx.load((await file('xlsx', 'zh-CN')) as unknown as ArrayBuffer);
    const sheet = book.getWorksheet('报警响应时间（秒）') as ExcelJS.Worksheet;
    const values = (row: number) => (sheet.getRow(row).values as unknown[]).slice(1, 14);
    expect(values(4).slice(0, 2)).toEqual(['村（社区）', '本周']);
    // Merged over their columns: exceljs gives each cell of a merge its value.
    expect(values(5).slice(1)).toEqual([
      ...['通知发出', '通知发出', '通知送达', '通知送达'],
      ...['确认', '确认', '确认', '到场', '到场', '办结', '办结', '办结'],
    ]);
    expect(values(6).slice(1)).toEqual([
      '中位数',
      '90%分位',
      '中位数',
      '90%分位',
      '数量',
      '中位数',
      '90%分位',
      '中位数',
      '90%分位',
      '数量',
      '中位数',
      '90%分位',
    ]);
    expect(values(7)).toEqual([
      '河西村',
      0,
      0,
      undefined,
      undefined,
      1,
      90,
      90,
      undefined,
      undefined,
      0,
      undefined,
      undefined,
    ]);
    expect(values(8)).toEqual(['柳江村', 0, 0, 6, 10, 2, 45, 150, 900, 1200, 2, 1800, 2400]);
    expect(values(9)).toEqual(['合计', 0, 0, 6, 10, 3, 90, 150, 900, 1200, 2, 1800, 2400]);
  });

  it('in the PDF, in both languages', async () => {
    const text = (pdf: Buffer) =>
      execFileSync('pdftotext', ['-layout', '-', '-'], { input: pdf }).toString('utf8');
    const zh = text(await file('pdf', 'zh-CN'));
    expect(zh).toMatch(/通知发出\s+通知送达\s+确认\s+到场\s+办结/);
    expect(zh).toMatch(/合计\s+0\s+0\s+6\s+10\s+3\s+90\s+150\s+900\s+1200\s+2\s+1800\s+2400/);
    const en = text(await file('pdf', 'en'));
    expect(en).toMatch(/First sent\s+Delivered\s+Acknowledged\s+On site\s+Resolved/);
    expect(en).toMatch(/Total\s+0\s+0\s+6\s+10\s+3\s+90\s+150\s+900\s+1200\s+2\s+1800\s+2400/);
  });
});
