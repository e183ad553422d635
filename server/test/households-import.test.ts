/**
 * The household sheet over HTTP (issue 13): a township's list of 200 households imported from an
 * XLSX with five bad rows (all five reported, nothing written), fixed and imported; CSV too;
 * export and template read back by the import unchanged; who may; another township's rows
 * refused. The apply path runs on PostgreSQL as well.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Postgres, startPostgres, waitFor } from '@gaswatch/shared/testing';
import ExcelJS from 'exceljs';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import zhWords from '../console/src/locales/zh-CN/households.js';
import { listAudit } from '../src/db/audit.js';
import {
  DWELLING_WORDS,
  FLAG_WORDS,
  fold,
  HEATING_WORDS,
  MAX_CONTACTS,
  RELATION_WORDS,
  sheetColumns,
  type Word,
  YES_NO,
} from '../src/households/sheet.js';
import { csvRows, decodeText } from '../src/households/sheet-file.js';
import {
  connectGateway,
  createAreas,
  mintToken,
  publishReading,
  reading,
  startTestServer,
  type TestServer,
  tempDir,
} from './helpers.js';
import { csvOf, household, ROWS, withFiveBadRows, xlsxOf } from './household-sheet-fixtures.js';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

interface Answer {
  status: number;
  body: Record<string, unknown> & {
    ok?: boolean;
    errors?: Array<{
      row: number;
      column: string;
      field: string;
      value: string;
      code: string;
      about?: { row?: number; household?: string; areas?: string[] };
    }>;
  };
}

/** A township with two villages (and a second township with one), its supervisor, operator and viewer. */
async function township(server: TestServer): Promise<Record<string, string>> {
  await createAreas(server.url, [
    ['liucheng', 'county', null, '柳城县'],
    ['dapu', 'township', 'liucheng', '大埔镇'],
    ['shapu', 'township', 'liucheng', '沙埔镇'],
    ['liujiang', 'village', 'dapu', '柳江村'],
    ['hexi', 'village', 'dapu', '河西村'],
    ['xinzhuang', 'village', 'shapu', '新庄村'],
  ]);
  const db = server.app.db;
  return {
    supervisor: await mintToken(db, 'supervisor', 'dapu'),
    operator: await mintToken(db, 'operator', 'dapu'),
    viewer: await mintToken(db, 'viewer', 'dapu'),
    shapu: await mintToken(db, 'supervisor', 'shapu'),
  };
}

function caller(server: TestServer, tokens: Record<string, string>) {
  const upload = async (who: string, mode: string, body: Buffer, type = XLSX): Promise<Answer> => {
    const r = await fetch(`${server.url}/api/households/import?mode=${mode}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[who]}`, 'content-type': type },
      body,
    });
    return { status: r.status, body: (await r.json()) as Answer['body'] };
  };
  const get = (who: string, path: string) =>
    fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${tokens[who]}` } });
  return { upload, get };
}

const count = async (server: TestServer) =>
  Number(
    (
      await server.app.db
        .selectFrom('households')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

/** The done-when, on one database: five bad rows refused with nothing written, fixed and imported, read back unchanged. */
async function doneWhen(server: TestServer, tokens: Record<string, string>): Promise<void> {
  const { upload, get } = caller(server, tokens);
  const { rows, expected } = withFiveBadRows(ROWS);
  const file = await xlsxOf(rows);
  const dry = await upload('supervisor', 'dry-run', file);
  expect(dry.status).toBe(200);
  expect(dry.body).toMatchObject({ ok: false, rows: 200, errorCount: 5, format: 'xlsx' });
  expect(dry.body.errors?.map(({ row, column, code }) => ({ row, column, code }))).toEqual(expected);
  expect(dry.body.errors?.[0]).toMatchObject({ value: 'call me', field: 'contact.1.phone' });
  // What the console words each reason by: the column's key whatever its header, and what it refers to.
  expect(dry.body.errors?.map((e) => e.field)).toEqual([
    'contact.1.phone',
    'flag.elderly_alone',
    'area',
    'id',
    'expiresOn',
  ]);
  expect(dry.body.errors?.[3]?.about).toEqual({ row: 121 });

  const refused = await upload('supervisor', 'apply', file);
  expect(refused.status).toBe(400);
  expect(refused.body).toMatchObject({ error: 'import_invalid', ok: false, errorCount: 5 });
  expect(refused.body.errors).toEqual(dry.body.errors);
  expect(await count(server)).toBe(0);

  const fixed = await xlsxOf(ROWS);
  expect((await upload('supervisor', 'dry-run', fixed)).body).toMatchObject({
    ok: true,
    rows: 200,
    create: 200,
    update: 0,
    unchanged: 0,
  });
  const applied = await upload('supervisor', 'apply', fixed);
  expect([applied.status, applied.body]).toEqual([
    200,
    expect.objectContaining({ ok: true, mode: 'apply', create: 200, update: 0, unchanged: 0 }),
  ]);
  expect(await count(server)).toBe(200);
  const { entries } = await listAudit(server.app.db, { limit: 10, targetKind: 'household_import' });
  expect(entries).toHaveLength(1);
  expect(entries[0]).toMatchObject({ action: 'household.import' });
  expect((entries[0]?.after as { created: string[] } | undefined)?.created).toHaveLength(200);

  const one = (await (await get('viewer', '/api/households/dp-0012')).json()) as { household: unknown };
  expect(one.household).toMatchObject({
    id: 'dp-0012',
    area: 'liujiang',
    address: '柳江村 4 组 12 号',
    dwelling: 'own_home',
    occupants: { count: 1, flags: ['elderly_alone', 'elderly'] },
    heating: ['coal_stove', 'gas_water_heater_flueless'],
    contacts: [
      { name: '住户12', relation: 'occupant', phone: '13800000012' },
      { name: '家属12', relation: 'family', phone: '139 0000 0012' },
    ],
    detectors: [{ device: 'co-h0012', location: '卧室', installedOn: '2026-11-20', expiresOn: '2031-11-20' }],
  });

  // The same file again changes nothing; so does each export of it.
  expect((await upload('supervisor', 'dry-run', fixed)).body).toMatchObject({ ok: true, unchanged: 200 });
  for (const format of ['xlsx', 'csv'] as const) {
    const exported = await get('viewer', `/api/households/export?format=${format}`);
    expect(exported.status).toBe(200);
    const back = await upload(
      'supervisor',
      'dry-run',
      Buffer.from(await exported.arrayBuffer()),
      format === 'xlsx' ? XLSX : 'text/csv',
    );
    expect(back.body, JSON.stringify(back.body.errors?.slice(0, 3))).toMatchObject({
      ok: true,
      format,
      rows: 200,
      create: 0,
      update: 0,
      unchanged: 200,
      ignoredColumns: [],
    });
  }
}

describe('household import and export (SQLite)', () => {
  const tmp = tempDir('gaswatch-hh-import-');
  let server: TestServer;
  let tokens: Record<string, string>;
  let gw: MqttClient;
  let call: ReturnType<typeof caller>;

  beforeAll(async () => {
    // CO 400 ppm raises at once on the confined-space profile (a household CO dose takes minutes).
    writeFileSync(join(tmp.dir, 'gaswatch.yaml'), 'devices:\n  co-h0012: { profile: confined-space }\n');
    server = await startTestServer({ GASWATCH_CONFIG: join(tmp.dir, 'gaswatch.yaml') });
    tokens = await township(server);
    call = caller(server, tokens);
    gw = await connectGateway(server, 'gw-import');
  });
  afterAll(async () => {
    await gw?.endAsync();
    await server?.close();
    tmp.remove();
  });

  it('200 households with five bad rows: all five reported, nothing written; fixed, all imported and read back unchanged', async () => {
    await doneWhen(server, tokens);
  }, 60_000);

  it('an alarm of an imported detector carries its household', async () => {
    await publishReading(gw, 'gw-import', 'co-h0012', reading(1, Date.now(), { CO: 400 }));
    type Alarm = { household?: { id: string; vulnerable: string[] } };
    let alarms: Alarm[] = [];
    await waitFor(async () => {
      const r = await call.get('operator', '/api/alarms?device=co-h0012');
      alarms = ((await r.json()) as { alarms: Alarm[] }).alarms;
      return alarms.length > 0;
    }, 'the alarm of co-h0012');
    expect(alarms[0]?.household).toMatchObject({ id: 'dp-0012', vulnerable: ['elderly_alone', 'elderly'] });
  });

  it('a CSV updates what it names, keeps the columns it lacks, and creates the rest', async () => {
    const headers = ['户编号', '所属村（社区）', '地址', '备注', '独居老人', '探测器编号', '安装位置'];
    const file = csvOf(
      [
        {
          户编号: 'dp-0012',
          '所属村（社区）': 'liujiang',
          地址: '柳江村 4 组 12 号',
          备注: '已上门',
          独居老人: '否',
        },
        // An id written in capitals is read in lower case; a device's second home is on the same row.
        {
          户编号: 'DP-0201',
          '所属村（社区）': '河西村',
          地址: '河西村 1 组 201 号',
          探测器编号: 'co-h0201、co-h0202',
          安装位置: '卧室、厨房',
        },
        { 户编号: 'dp-0202', '所属村（社区）': 'hexi', 地址: '河西村 1 组 202 号' },
      ],
      headers,
    );
    const dry = await call.upload('supervisor', 'dry-run', file, 'text/csv');
    expect(dry.body).toMatchObject({ ok: true, format: 'csv', rows: 3, create: 2, update: 1, unchanged: 0 });
    expect((await call.upload('supervisor', 'apply', file, 'application/vnd.ms-excel')).body).toMatchObject({
      ok: true,
      create: 2,
      update: 1,
    });
    const h = (await (await call.get('viewer', '/api/households/dp-0012')).json()) as {
      household: { notes: string; occupants: unknown; contacts: unknown[]; detectors: unknown[] };
    };
    expect(h.household).toMatchObject({
      notes: '已上门',
      occupants: { count: 1, flags: ['elderly'] },
      detectors: [{ device: 'co-h0012', location: '卧室', expiresOn: '2031-11-20' }],
    });
    expect(h.household.contacts).toHaveLength(2);
    const two = (await (await call.get('viewer', '/api/households/dp-0201')).json()) as {
      household: { detectors: unknown[] };
    };
    expect(two.household.detectors).toEqual([
      { device: 'co-h0201', location: '卧室' },
      { device: 'co-h0202', location: '厨房' },
    ]);
  });

  it('refuses a detector installed in another household, and a header it lacks', async () => {
    const moved = csvOf(
      [{ 户编号: 'dp-0203', '所属村（社区）': 'hexi', 地址: '河西村 1 组 203 号', 探测器编号: 'co-h0001' }],
      ['户编号', '所属村（社区）', '地址', '探测器编号'],
    );
    expect((await call.upload('supervisor', 'dry-run', moved, 'text/csv')).body.errors).toEqual([
      expect.objectContaining({
        row: 2,
        column: '探测器编号',
        code: 'detector_elsewhere',
        value: 'co-h0001',
        field: 'device',
        about: { household: 'dp-0001' },
      }),
    ]);
    const noAddress = csvOf(
      [{ 户编号: 'dp-0204', '所属村（社区）': 'hexi' }],
      ['户编号', '所属村（社区）', '联系电话'],
    );
    const r = await call.upload('supervisor', 'dry-run', noAddress, 'text/csv');
    expect(r.body).toMatchObject({
      ok: false,
      ignoredColumns: ['联系电话'],
      errors: [expect.objectContaining({ row: 1, column: '地址', code: 'missing_column' })],
    });
  });

  it('another township’s villages and households are refused on their rows', async () => {
    const file = csvOf(
      [
        { 户编号: 'sp-0001', '所属村（社区）': '新庄村', 地址: '新庄村 1 号' },
        { 户编号: 'sp-0002', '所属村（社区）': '柳江村', 地址: '新庄村 2 号' },
        { 户编号: 'dp-0001', '所属村（社区）': 'xinzhuang', 地址: '新庄村 3 号' },
      ],
      ['户编号', '所属村（社区）', '地址'],
    );
    const r = await call.upload('shapu', 'apply', file, 'text/csv');
    expect(r.status).toBe(400);
    expect(r.body.errors?.map(({ row, column, code }) => ({ row, column, code }))).toEqual([
      { row: 3, column: '所属村（社区）', code: 'unknown_area' },
      { row: 4, column: '户编号', code: 'household_outside' },
    ]);
    expect(await count(server)).toBe(202);
  });

  it('viewers and operators may export but not import', async () => {
    const file = csvOf([household(1)]);
    for (const who of ['viewer', 'operator']) {
      const r = await call.upload(who, 'dry-run', file, 'text/csv');
      expect([r.status, r.body.error]).toEqual([403, 'forbidden']);
    }
    expect((await call.get('operator', '/api/households/export?format=csv')).status).toBe(200);
    // Another township's viewer exports none of these.
    const other = await call.get('shapu', '/api/households/export?format=csv');
    expect(csvRows(decodeText(Buffer.from(await other.arrayBuffer())))).toHaveLength(1);
  });

  it('an export is filtered as the list is, in English too, and still reads back', async () => {
    const r = await call.get(
      'viewer',
      '/api/households/export?format=xlsx&lang=en&area=liujiang&vulnerable=true',
    );
    expect(r.headers.get('content-disposition')).toMatch(
      /^attachment; filename="gaswatch-households-\d{8}T\d{4}\.xlsx"$/,
    );
    const file = Buffer.from(await r.arrayBuffer());
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(file as unknown as ArrayBuffer);
    const sheet = book.getWorksheet('Households');
    expect(sheet?.getRow(1).getCell(1).value).toBe('Household id');
    expect(sheet?.getRow(1).getCell(8).value).toBe('Elderly, alone');
    // 柳江村 has the even households; i % 3 = 0 makes them vulnerable: every 6th of 1…200, 33 (dp-0012 is
    // no longer alone since the CSV, but still elderly).
    expect(sheet?.rowCount).toBe(34);
    expect(sheet?.getRow(2).getCell(2).value).toBe('柳江村');
    expect(sheet?.getRow(2).getCell(6).value).toBe('Own home');
    const back = await call.upload('supervisor', 'dry-run', file);
    expect(back.body).toMatchObject({ ok: true, rows: 33, unchanged: 33 });
    // A formula written as a note stays text in the XLSX, and is marked in the CSV.
    const csv = await (await call.get('viewer', '/api/households/export?format=csv&q=dp-0001')).text();
    expect(csv).toContain(`"'=HYPERLINK(""http://x"")，耳背"`);
  });

  it('the template has the headers and an example an import refuses until it is replaced', async () => {
    const r = await call.get('viewer', '/api/households/template?format=xlsx');
    expect(r.headers.get('content-disposition')).toBe(
      'attachment; filename="gaswatch-households-template.xlsx"',
    );
    const file = Buffer.from(await r.arrayBuffer());
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(file as unknown as ArrayBuffer);
    const sheet = book.getWorksheet('住户');
    expect((sheet?.getRow(1).values as unknown[] | undefined)?.slice(1, 4)).toEqual([
      '户编号',
      '所属村（社区）',
      '地址',
    ]);
    expect(book.getWorksheet('填写说明')?.getRow(1).getCell(1).value).toMatch(/示例/);
    const dry = await call.upload('supervisor', 'dry-run', file);
    expect(dry.body.errors).toEqual([
      expect.objectContaining({ row: 2, code: 'unknown_area', value: '柳江村（示例）' }),
    ]);
  });

  it('refuses what is no sheet, too large, or too long, in words', async () => {
    const json = await fetch(`${server.url}/api/households/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.supervisor}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(json.status).toBe(415);
    // curl --data-binary sends a form's content type unless told otherwise.
    const form = await call.upload(
      'supervisor',
      'dry-run',
      Buffer.from('a,b'),
      'application/x-www-form-urlencoded',
    );
    expect([form.status, form.body.error, form.body.message]).toEqual([
      415,
      'unsupported_media_type',
      expect.stringContaining('text/csv'),
    ]);
    const xls = await call.upload('supervisor', 'dry-run', Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0, 0]));
    expect([xls.status, xls.body.error]).toEqual([400, 'unreadable_file']);
    const big = await call.upload(
      'supervisor',
      'dry-run',
      Buffer.alloc(5 * 1024 * 1024 + 1, 0x41),
      'text/csv',
    );
    expect([big.status, big.body.error]).toEqual([413, 'file_too_large']);
    const lines = [
      '户编号,所属村（社区）,地址',
      ...Array.from({ length: 20_001 }, (_, i) => `x-${i},hexi,a`),
    ];
    const long = await call.upload('supervisor', 'dry-run', Buffer.from(lines.join('\n')), 'text/csv');
    expect([long.status, long.body.error]).toEqual([413, 'too_many_rows']);
  });

  it('reads a merged village cell into each of its rows, and passes over a dropdown on a whole column', async () => {
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('住户');
    sheet.addRow(['户编号', '所属村（社区）', '地址', '独居老人']);
    sheet.addRow(['dp-0301', '河西村', '河西村 2 组 1 号', '是']);
    sheet.addRow(['dp-0302', null, '河西村 2 组 2 号', '否']);
    sheet.mergeCells('B2:B3');
    // A township's template often puts its dropdown on the whole column: exceljs would expand it cell by cell.
    (sheet as unknown as { dataValidations: { add(range: string, v: object): void } }).dataValidations.add(
      'D2:D1048576',
      { type: 'list', allowBlank: true, formulae: ['"是,否"'] },
    );
    const started = Date.now();
    const r = await call.upload('supervisor', 'dry-run', Buffer.from(await book.xlsx.writeBuffer()));
    expect(r.body).toMatchObject({ ok: true, rows: 2, create: 2 });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('reads a CSV Excel saved in GB18030, and RFC 4180 quoting', () => {
    // 户编号,地址 in GB18030 (Excel on a Chinese Windows: "CSV (逗号分隔)").
    expect(decodeText(Buffer.from('bba7b1e0bac52cb5d8d6b7', 'hex'))).toBe('户编号,地址');
    expect(csvRows('a,"b,""c""\r\nd"\r\n\r\n,x\n')).toEqual([
      { row: 1, cells: ['a', 'b,"c"\r\nd'] },
      { row: 3, cells: [null, 'x'] },
    ]);
  });

  it('reads each header and each word as one thing only', () => {
    const clashes = (names: Array<[string, string[]]>) => {
      const seen = new Map<string, string>();
      const out: string[] = [];
      for (const [what, ns] of names)
        for (const n of new Set(ns.map(fold))) {
          const first = seen.get(n);
          if (first !== undefined && first !== what) out.push(`${n}: ${first} and ${what}`);
          seen.set(n, what);
        }
      return out;
    };
    expect(
      clashes(sheetColumns(MAX_CONTACTS).map((c) => [c.key, [c.key, c.zh, c.en, ...(c.also ?? [])]])),
    ).toEqual([]);
    for (const words of [DWELLING_WORDS, HEATING_WORDS, RELATION_WORDS, YES_NO] as Array<
      Record<string, Word>
    >)
      expect(
        clashes(Object.entries(words).map(([id, w]) => [id, [id, w.zh, w.en, ...(w.also ?? [])]])),
      ).toEqual([]);
  });

  it('writes the console’s words', () => {
    const zh = (w: Record<string, { zh: string }>) =>
      Object.fromEntries(Object.entries(w).map(([k, v]) => [k, v.zh]));
    expect(zh(FLAG_WORDS)).toEqual(zhWords.flags);
    expect(zh(HEATING_WORDS)).toEqual(zhWords.heating);
    expect(zh(RELATION_WORDS)).toEqual(zhWords.relations);
    expect(zh(DWELLING_WORDS)).toEqual(zhWords.dwellings);
  });
});

describe('household import (PostgreSQL)', () => {
  let pg: Postgres;
  let server: TestServer;
  let tokens: Record<string, string>;

  beforeAll(async () => {
    pg = await startPostgres();
    server = await startTestServer({ DATABASE_URL: pg.url });
    tokens = await township(server);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await pg?.stop();
  });

  it('refuses the five bad rows with nothing written, then imports all 200 in one transaction', async () => {
    await doneWhen(server, tokens);
  }, 60_000);
});
