import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePayload, type Reading, topics } from '@gaswatch/shared';
import { waitFor } from '@gaswatch/shared/testing';
import ExcelJS from 'exceljs';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Alarm } from '../src/alarms/model.js';
import {
  apiFetch,
  connectGateway,
  createAreas,
  createUser,
  getJson,
  type Login,
  login,
  mintToken,
  publishReading,
  reading,
  startTestServer,
  type TestServer,
  tempDir,
} from './helpers.js';

/**
 * The alarm history (issue 12, SPEC §13): GET /api/alarms filtered by time, area, site, device,
 * kind, gas, severity, outcome and state, and GET /api/alarms/export as XLSX and CSV, over real
 * alarms raised from readings published through the embedded broker.
 *
 *   county ─┬─ tw-a ─── v-a1      home-a (v-a1): co-a (CO alarm), det-a (detector's own alarm)
 *           │                     shop-a2 (tw-a): flt-a2 (fault, a warning)
 *           └─ tw-b               home-b (tw-b): co-b (CO alarm), resolved as a false alarm
 */
const tmp = tempDir('gw-history-');
let server: TestServer;
let gateway: MqttClient;
/** A viewer of township A only. */
let viewerA: string;
let lin: Login;
/** The alarms by device, as raised. */
const alarm: Record<string, Alarm> = {};

const GW = 'gw-history';
/** Export cap of this server: fewer than the four alarms, so the unfiltered export is refused. */
const MAX_ROWS = 3;
const ACK_NOTE = 'Opened the windows, "all" fine,\nneighbour informed';
const RESOLVE_NOTE = '=HYPERLINK("http://evil.example","click")';

type AlarmPage = { alarms: Alarm[]; total: number; nextCursor: string | null };
type ErrorBody = { error: string; message: string };

const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

/** Ids of the devices whose alarms the list answers for `query`, and the total it says. */
async function devicesOf(query: string, headers?: Record<string, string>) {
  const res = await apiFetch(`${server.url}/api/alarms?${query}`, headers ? { headers } : {});
  const body = (await res.json()) as AlarmPage;
  expect(res.status, JSON.stringify(body)).toBe(200);
  return { devices: body.alarms.map((a) => a.dev).sort(), total: body.total };
}

async function refused(path: string, headers?: Record<string, string>): Promise<[number, ErrorBody]> {
  const res = await apiFetch(`${server.url}${path}`, headers ? { headers } : {});
  return [res.status, (await res.json()) as ErrorBody];
}

const deviceState = (site: string) =>
  encodePayload('state', {
    v: 1,
    ts: new Date().toISOString(),
    online: true,
    model: 'gaswatch-co',
    kind: 'household-co',
    site,
    location: 'kitchen',
    lastError: null,
    // An hour between polls: no offline alarm joins the four while the test runs.
    pollIntervalS: 3600,
  });

beforeAll(async () => {
  const file = join(tmp.dir, 'gaswatch.yaml');
  writeFileSync(
    file,
    stringify({
      // Fault alarms at once (no wait for a fault burst): the history lists them, it does not time them.
      fold: { faultMinDevices: 0 },
      sites: {
        'home-a': { type: 'household', area: 'v-a1', name: '柳江村三组王家' },
        'shop-a2': { type: 'workplace', area: 'tw-a', name: '柳江镇农贸市场' },
        'home-b': { type: 'household', area: 'tw-b', name: '石门镇李家' },
      },
    }),
  );
  server = await startTestServer({
    GASWATCH_CONFIG: file,
    DATA_DIR: join(tmp.dir, 'data'),
    EXPORT_MAX_ROWS: String(MAX_ROWS),
  });
  await createAreas(server.url, [
    ['county', 'county', null, '清河县'],
    ['tw-a', 'township', 'county', '柳江镇'],
    ['tw-b', 'township', 'county', '石门镇'],
    ['v-a1', 'village', 'tw-a', '柳江村'],
  ]);
  viewerA = await mintToken(server.app.db, 'viewer', 'tw-a');
  await createUser(server.app.db, { username: 'lin', role: 'operator', displayName: '林晓' });
  lin = await login(server.url, 'lin');

  gateway = await connectGateway(server, GW);
  const now = Date.now();
  for (const [dev, site] of [
    ['co-a', 'home-a'],
    ['co-b', 'home-b'],
    ['det-a', 'home-a'],
    ['flt-a2', 'shop-a2'],
  ] as const)
    await gateway.publishAsync(topics.state(GW, dev), deviceState(site), { qos: 1, retain: true });
  // 400 ppm for 3 min: EN 50291's fast tier (≥ 300 ppm for 2 min), one alarm each; co-a first.
  for (const [dev, start] of [
    ['co-a', now - 200_000],
    ['co-b', now - 190_000],
  ] as const)
    for (let i = 0; i <= 18; i++)
      await publishReading(gateway, GW, dev, reading(i, start + i * 10_000, { CO: 400 }));
  const own: Reading = { ...reading(1, now - 40_000, { CO: 5 }), alarm: true };
  await publishReading(gateway, GW, 'det-a', own);
  await publishReading(gateway, GW, 'flt-a2', { ...reading(1, now - 30_000, { CO: 0 }), status: 'fault' });
  await waitFor(async () => {
    const { body } = await getJson<AlarmPage>(`${server.url}/api/alarms?limit=100`);
    for (const a of body.alarms) alarm[a.dev] = a;
    return body.alarms.length >= 4;
  }, 'the four alarms');
  expect(Object.keys(alarm).sort()).toEqual(['co-a', 'co-b', 'det-a', 'flt-a2']);

  // co-a acknowledged by lin with a note a CSV must quote; co-b resolved as a false alarm with a
  // note that is a formula to a spreadsheet.
  const ack = await lin.fetch(`${server.url}/api/alarms/${alarm['co-a']?.id}/ack`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ note: ACK_NOTE }),
  });
  expect(ack.status, await ack.text()).toBe(200);
  const resolve = await lin.fetch(`${server.url}/api/alarms/${alarm['co-b']?.id}/resolve`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ reason: 'false_alarm', note: RESOLVE_NOTE }),
  });
  expect(resolve.status, await resolve.text()).toBe(200);
  const { body } = await getJson<AlarmPage>(`${server.url}/api/alarms?limit=100`);
  for (const a of body.alarms) alarm[a.dev] = a;
}, 60_000);

afterAll(async () => {
  await gateway?.endAsync();
  await server?.close();
  tmp.remove();
});

const at = (dev: string) => alarm[dev]?.raisedAt ?? Number.NaN;
const iso = (ts: number) => new Date(ts).toISOString();

describe('GET /api/alarms filters', () => {
  it('raised the alarms the test is about', () => {
    expect(alarm['co-a']).toMatchObject({
      gas: 'CO',
      severity: 'critical',
      site: 'home-a',
      state: 'acknowledged',
    });
    expect(alarm['co-b']).toMatchObject({ resolution: { reason: 'false_alarm', actor: 'lin' } });
    expect(alarm['det-a']).toMatchObject({ key: 'detector', severity: 'critical' });
    expect(alarm['flt-a2']).toMatchObject({ rule: 'fault', severity: 'warning' });
    expect(at('co-a')).toBeLessThan(at('co-b'));
    expect(at('co-b')).toBeLessThan(at('det-a'));
    expect(at('det-a')).toBeLessThan(at('flt-a2'));
  });

  it('each filter narrows to what it names', async () => {
    const cases: Array<[string, string[]]> = [
      ['', ['co-a', 'co-b', 'det-a', 'flt-a2']],
      ['area=county', ['co-a', 'co-b', 'det-a', 'flt-a2']],
      ['area=tw-a', ['co-a', 'det-a', 'flt-a2']],
      ['area=v-a1', ['co-a', 'det-a']],
      ['area=tw-b', ['co-b']],
      ['site=home-a', ['co-a', 'det-a']],
      ['site=nowhere', []],
      ['device=flt-a2', ['flt-a2']],
      ['kind=gas', ['co-a', 'co-b']],
      ['kind=detector', ['det-a']],
      ['kind=fault', ['flt-a2']],
      ['kind=offline', []],
      ['gas=CO', ['co-a', 'co-b']],
      ['gas=LEL', []],
      ['severity=warning', ['flt-a2']],
      ['severity=critical', ['co-a', 'co-b', 'det-a']],
      ['outcome=false_alarm', ['co-b']],
      ['outcome=real_event', []],
      ['outcome=unresolved', ['co-a', 'det-a', 'flt-a2']],
      ['state=acknowledged', ['co-a', 'co-b']],
      ['state=active', ['det-a', 'flt-a2']],
      // from inclusive, to exclusive, on the raise time.
      [`from=${iso(at('co-b'))}`, ['co-b', 'det-a', 'flt-a2']],
      [`to=${iso(at('co-b'))}`, ['co-a']],
      [`from=${iso(at('co-b'))}&to=${iso(at('flt-a2'))}`, ['co-b', 'det-a']],
      [`from=${iso(at('co-b'))}&to=${iso(at('co-b'))}`, []],
      // Combined: every filter must hold.
      ['area=tw-a&severity=critical', ['co-a', 'det-a']],
      ['area=tw-a&kind=gas&outcome=unresolved', ['co-a']],
      ['kind=gas&outcome=unresolved&state=acknowledged', ['co-a']],
      [`area=tw-a&from=${iso(at('det-a'))}`, ['det-a', 'flt-a2']],
      ['site=home-b&severity=warning', []],
    ];
    for (const [query, devices] of cases)
      expect(await devicesOf(query), query || '(no filter)').toEqual({ devices, total: devices.length });
  });

  it('a time with another zone is the same instant', async () => {
    // co-b's raise time written in UTC+8.
    const local = new Date(at('co-b') + 8 * 3_600_000).toISOString().replace('Z', '+08:00');
    expect((await devicesOf(`from=${encodeURIComponent(local)}`)).devices).toEqual([
      'co-b',
      'det-a',
      'flt-a2',
    ]);
  });

  it('pages through a filtered list with the cursor; total counts the whole filter', async () => {
    const first = (await getJson<AlarmPage>(`${server.url}/api/alarms?area=tw-a&limit=2`)).body;
    expect([first.alarms.map((a) => a.dev), first.total]).toEqual([['flt-a2', 'det-a'], 3]);
    const second = (
      await getJson<AlarmPage>(`${server.url}/api/alarms?area=tw-a&limit=2&cursor=${first.nextCursor}`)
    ).body;
    expect([second.alarms.map((a) => a.dev), second.total, second.nextCursor]).toEqual([['co-a'], 3, null]);
  });

  it('bad parameters are 400 with a message saying what is wrong', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['from=yesterday', 'bad_request', /^from: /],
      ['to=2026-11-23T18:00:00', 'bad_request', /^to: /], // no zone
      [
        'from=2026-11-24T00:00:00Z&to=2026-11-23T00:00:00Z',
        'bad_range',
        /from \(2026-11-24T00:00:00.000Z\) is after to/,
      ],
      ['kind=smoke', 'bad_request', /^kind: /],
      ['severity=high', 'bad_request', /^severity: /],
      ['outcome=fixed', 'bad_request', /^outcome: /],
      ['gas=XX', 'bad_request', /^gas: /],
      ['area=Not An Id', 'bad_request', /^area: /],
      ['area=nowhere', 'unknown_area', /^no area nowhere \(GET \/api\/areas lists them\)$/],
      ['colour=red', 'bad_request', /Unrecognized key/],
    ];
    for (const [query, error, message] of cases) {
      const [status, body] = await refused(`/api/alarms?${query}`);
      expect([status, body.error], query).toEqual([400, error]);
      expect(body.message, query).toMatch(message);
    }
  });

  it("another township's area is not leaked: 400 as for an unknown area, and its alarms are never listed", async () => {
    const as = bearer(viewerA);
    expect(await devicesOf('', as)).toEqual({ devices: ['co-a', 'det-a', 'flt-a2'], total: 3 });
    expect(await devicesOf('site=home-b', as)).toEqual({ devices: [], total: 0 });
    expect(await devicesOf('device=co-b', as)).toEqual({ devices: [], total: 0 });
    const outside = await refused('/api/alarms?area=tw-b', as);
    const unknown = await refused('/api/alarms?area=tw-z', as);
    expect(outside[0]).toBe(400);
    expect(outside[1].error).toBe('unknown_area');
    expect(outside[1].message.replace('tw-b', 'X')).toBe(unknown[1].message.replace('tw-z', 'X'));
    // The parent county is not the viewer's to name either (its alarms would be tw-b's too).
    expect((await refused('/api/alarms?area=county', as))[1].error).toBe('unknown_area');
    // Its own areas filter as for anyone.
    expect(await devicesOf('area=v-a1', as)).toEqual({ devices: ['co-a', 'det-a'], total: 2 });
  });
});

/** RFC 4180: fields, quoted ones with "" for a quote and line breaks inside. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field !== '' || row.length > 0) throw new Error(`CSV does not end with CRLF: ${JSON.stringify(field)}`);
  return rows;
}

async function download(query: string, headers?: Record<string, string>) {
  const res = await apiFetch(`${server.url}/api/alarms/export?${query}`, headers ? { headers } : {});
  return { res, body: Buffer.from(await res.arrayBuffer()) };
}

describe('GET /api/alarms/export', () => {
  it('XLSX in Chinese: bold frozen header, names for ids, times as Excel dates in Beijing time', async () => {
    const from = '2026-01-01T00:00:00+08:00';
    const { res, body } = await download(`format=xlsx&area=tw-a&from=${encodeURIComponent(from)}`);
    expect(res.status, body.toString()).toBe(200);
    expect(res.headers.get('content-type')).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="gaswatch-alarms-20260101-\d{8}T\d{4}\.xlsx"$/,
    );
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(body as unknown as ArrayBuffer);
    const sheet = book.getWorksheet('报警记录');
    if (sheet === undefined) throw new Error('no sheet 报警记录');
    expect(sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    const header = (sheet.getRow(1).values as unknown[]).slice(1);
    expect(header).toEqual([
      '报警编号',
      '报警时间',
      '设备',
      '网关',
      '点位',
      '区域',
      '报警类型',
      '气体',
      '报警级别',
      '检测值',
      '报警值',
      '单位',
      '状态',
      '恢复时间',
      '确认人',
      '确认时间',
      '处置情况',
      '出发时间',
      '到场时间',
      '电话联系次数',
      '办结人',
      '办结时间',
      '办结原因',
      '办结说明',
      '确认用时（秒）',
      '办结用时（秒）',
    ]);
    expect(sheet.getRow(1).getCell(1).font?.bold).toBe(true);
    expect(sheet.getColumn(17).width).toBeGreaterThan(20);
    // Oldest first: co-a, det-a, flt-a2.
    expect(sheet.rowCount).toBe(4);
    const col = (name: string) => header.indexOf(name) + 1;
    const rowOf = (n: number) => sheet.getRow(n);
    expect([2, 3, 4].map((n) => rowOf(n).getCell(col('设备')).value)).toEqual(['co-a', 'det-a', 'flt-a2']);
    const a = alarm['co-a'] as Alarm;
    const row = rowOf(2);
    const cell = (name: string) => row.getCell(col(name)).value;
    expect({
      id: cell('报警编号'),
      gw: cell('网关'),
      site: cell('点位'),
      area: cell('区域'),
      kind: cell('报警类型'),
      gas: cell('气体'),
      severity: cell('报警级别'),
      value: cell('检测值'),
      threshold: cell('报警值'),
      unit: cell('单位'),
      state: cell('状态'),
      ackBy: cell('确认人'),
      note: cell('处置情况'),
      calls: cell('电话联系次数'),
      resolvedBy: cell('办结人'),
    }).toEqual({
      id: a.id,
      gw: GW,
      site: '柳江村三组王家',
      area: '柳江村',
      kind: '浓度报警',
      gas: '一氧化碳',
      severity: '紧急',
      value: a.value,
      threshold: a.threshold,
      unit: 'ppm',
      state: '已确认',
      ackBy: '林晓',
      note: ACK_NOTE,
      calls: 0,
      resolvedBy: null,
    });
    // Excel dates (no zone) holding Beijing's wall clock: the UTC fields read 8 h ahead of UTC.
    const raised = cell('报警时间');
    expect(raised).toBeInstanceOf(Date);
    expect(Math.abs((raised as Date).getTime() - (a.raisedAt + 8 * 3_600_000))).toBeLessThan(1_000);
    expect(row.getCell(col('报警时间')).numFmt).toBe('yyyy-mm-dd hh:mm:ss');
    expect(cell('确认时间')).toBeInstanceOf(Date);
    expect(cell('确认用时（秒）')).toBe(Math.round(((a.ack?.at ?? 0) - a.detectedAt) / 1000));
    expect(rowOf(3).getCell(col('报警类型')).value).toBe('探测器报警');
    expect(rowOf(4).getCell(col('报警类型')).value).toBe('故障报警');
    expect(rowOf(4).getCell(col('报警级别')).value).toBe('预警');
    expect(rowOf(4).getCell(col('区域')).value).toBe('柳江镇');

    const about = book.getWorksheet('导出说明');
    const lines = new Map<unknown, unknown>();
    about?.eachRow((r) => lines.set(r.getCell(1).value, r.getCell(2).value));
    expect(lines.get('报警条数')).toBe(3);
    expect(lines.get('时区')).toBe('Asia/Shanghai (UTC+08:00)');
    expect(lines.get('区域')).toBe('柳江镇');
    expect(lines.get('报警级别')).toBe('全部');
    expect((lines.get('报警时间起（含）') as Date).getTime()).toBe(Date.parse('2026-01-01T00:00:00Z'));
  });

  it('XLSX in English with another zone; resolved alarms carry reason and note as text, not a formula', async () => {
    const { res, body } = await download('format=xlsx&lang=en&tz=UTC&device=co-b');
    expect(res.status, body.toString()).toBe(200);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(body as unknown as ArrayBuffer);
    const sheet = book.getWorksheet('Alarms');
    if (sheet === undefined) throw new Error('no sheet Alarms');
    const header = (sheet.getRow(1).values as unknown[]).slice(1);
    expect(header.slice(0, 3)).toEqual(['Alarm id', 'Raised at', 'Device']);
    const row = sheet.getRow(2);
    const cell = (name: string) => row.getCell(header.indexOf(name) + 1).value;
    const b = alarm['co-b'] as Alarm;
    expect([
      cell('Reason'),
      cell('Resolution note'),
      cell('Resolved by'),
      cell('Gas'),
      cell('State'),
    ]).toEqual(['False alarm', RESOLVE_NOTE, '林晓', 'CO', 'Acknowledged']);
    expect(Math.abs((cell('Raised at') as Date).getTime() - b.raisedAt)).toBeLessThan(1_000);
    expect(cell('Time to resolve (s)')).toBe(Math.round(((b.resolution?.at ?? 0) - b.detectedAt) / 1000));
  });

  it('CSV: UTF-8 with BOM, RFC 4180 quoting, formulas neutralised, ISO times with the offset', async () => {
    const { res, body } = await download('format=csv&area=tw-b');
    expect(res.status, body.toString()).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="gaswatch-alarms-start-\d{8}T\d{4}\.csv"$/,
    );
    expect([...body.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = parseCsv(body.toString('utf8').slice(1));
    expect(rows).toHaveLength(2);
    const [header, row] = rows as [string[], string[]];
    expect(header.slice(0, 4)).toEqual(['报警编号', '报警时间', '设备', '网关']);
    const cell = (name: string) => row[header.indexOf(name)];
    const b = alarm['co-b'] as Alarm;
    // Not a formula: a leading ' (Excel shows the text); the quotes inside doubled by RFC 4180.
    expect(cell('办结说明')).toBe(`'${RESOLVE_NOTE}`);
    expect(body.toString('utf8')).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    expect([cell('办结原因'), cell('区域'), cell('点位'), cell('报警级别')]).toEqual([
      '误报',
      '石门镇',
      '石门镇李家',
      '紧急',
    ]);
    expect(cell('报警时间')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
    expect(Math.abs(Date.parse(cell('报警时间') ?? '') - b.raisedAt)).toBeLessThan(1_000);
    expect(cell('检测值')).toBe(String(b.value));
  });

  it('CSV keeps a note with a comma, quotes and a line break whole', async () => {
    const { res, body } = await download('format=csv&lang=en&device=co-a');
    expect(res.status).toBe(200);
    const [header, row] = parseCsv(body.toString('utf8').slice(1)) as [string[], string[]];
    expect(row[header.indexOf('Acknowledgement note')]).toBe(ACK_NOTE);
    expect(row[header.indexOf('Acknowledged by')]).toBe('林晓');
    expect(row[header.indexOf('Kind')]).toBe('Gas level');
    expect(row[header.indexOf('Resolved by')]).toBe('');
  });

  it('refuses more rows than the cap with a message asking to narrow the filter', async () => {
    const [status, body] = await refused('/api/alarms/export?format=csv');
    expect([status, body.error]).toEqual([400, 'export_too_large']);
    expect(body.message).toBe(
      `4 alarms match; one export holds at most ${MAX_ROWS}: narrow the filter (a shorter time range, an area, a kind, an outcome)`,
    );
  });

  it('bad parameters are 400 before anything is written', async () => {
    const cases: Array<[string, string]> = [
      ['format=pdf', 'bad_request'],
      ['lang=fr', 'bad_request'],
      ['tz=Mars/Olympus', 'unknown_time_zone'],
      ['from=2026-11-24T00:00:00Z&to=2026-11-23T00:00:00Z', 'bad_range'],
      ['area=nowhere', 'unknown_area'],
      ['limit=10', 'bad_request'],
    ];
    for (const [query, error] of cases) {
      const [status, body] = await refused(`/api/alarms/export?${query}`);
      expect([status, body.error], query).toEqual([400, error]);
    }
  });

  it("a viewer's export holds only its own area, and another area is refused as unknown", async () => {
    const { res, body } = await download('format=csv&lang=en', bearer(viewerA));
    expect(res.status, body.toString()).toBe(200);
    const rows = parseCsv(body.toString('utf8').slice(1));
    const dev = (rows[0] as string[]).indexOf('Device');
    expect(rows.slice(1).map((r) => r[dev])).toEqual(['co-a', 'det-a', 'flt-a2']);
    const [status, err] = await refused('/api/alarms/export?area=tw-b', bearer(viewerA));
    expect([status, err.error]).toEqual([400, 'unknown_area']);
  });

  it('is described in the OpenAPI document as a file', async () => {
    const doc = (
      await getJson<{ paths: Record<string, { get?: { responses: Record<string, unknown> } }> }>(
        `${server.url}/docs/json`,
      )
    ).body;
    const ok = doc.paths['/api/alarms/export']?.get?.responses['200'] as { content: Record<string, unknown> };
    expect(Object.keys(ok.content).sort()).toEqual([
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'text/csv; charset=utf-8',
    ]);
  });
});
