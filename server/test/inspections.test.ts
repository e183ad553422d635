/**
 * Home visits over HTTP (issue 13, SPEC §10): an operator records the checklist of a visit with a
 * rectification deadline and photos; lists by household, area and day; the overdue list in the
 * server's local day; scope, roles and the audit log. The server's clock is the test's, so "today"
 * is a known day in Asia/Shanghai.
 */
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../src/db/audit.js';
import { createAreas, mintToken, startTestServer, type TestServer, tokenId } from './helpers.js';

/** 2026-12-10 10:00 in Asia/Shanghai (02:00 UTC). */
const T0 = Date.UTC(2026, 11, 10, 2, 0, 0);
const HOUR = 3_600_000;

/** A real PNG: 2×2 pixels, RGB, made here so its bytes are known to be one. */
function tinyPng(): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = (crcTable[(c ^ x) & 0xff] ?? 0) ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(2, 0);
  ihdr.writeUInt32BE(2, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  // Two rows, each a filter byte and two red-ish pixels.
  const raw = Buffer.from([0, 200, 30, 30, 200, 30, 30, 0, 200, 30, 30, 200, 30, 30]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const HOME = {
  id: 'liujiang-3-12',
  area: 'liujiang',
  address: '柳江村 3 组 12 号',
  occupants: { count: 1, flags: ['elderly_alone'] },
  heating: ['coal_stove', 'gas_water_heater_flueless'],
};

const VISIT = {
  household: HOME.id,
  date: '2026-12-08',
  inspectors: ['李国强', '王芳'],
  items: [
    { item: 'co_alarm_missing', result: 'not_found' },
    { item: 'water_heater_flueless', result: 'found', note: '直排式热水器装在厨房' },
    { item: 'chimney_blocked', result: 'found', note: '烟囱弯头积灰' },
    { item: 'pipeline_and_lpg_mixed', result: 'n/a' },
  ],
  rectification: { deadline: '2026-12-09', note: '已告知户主更换强排式' },
};

type Json = Record<string, unknown>;
interface InspectionBody {
  id: string;
  area: string;
  date: string;
  items: {
    item: string;
    result: string;
    note: string;
    photos: { id: string; contentType: string; size: number }[];
  }[];
  foundCount: number;
  rectification: { deadline: string; outcome: string; rectifiedOn: string | null; note: string } | null;
  overdue: boolean;
  createdBy: string;
}

describe('inspections', () => {
  let now = T0;
  let server: TestServer;
  const tokens: Record<string, string> = {};
  const call = async (who: string, method: string, path: string, body?: unknown) => {
    const r = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${tokens[who]}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: r.status, body: (await r.json()) as Json };
  };
  const upload = async (who: string, path: string, type: string, bytes: Buffer) => {
    const r = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[who]}`, 'content-type': type },
      body: bytes,
    });
    return { status: r.status, body: (await r.json()) as Json };
  };
  const ids = (b: Json) => (b.inspections as InspectionBody[]).map((i) => i.id);
  let first: InspectionBody;

  beforeAll(async () => {
    server = await startTestServer({}, undefined, undefined, { clock: () => now });
    await createAreas(server.url, [
      ['liucheng', 'county', null],
      ['dapu', 'township', 'liucheng'],
      ['shapu', 'township', 'liucheng'],
      ['liujiang', 'village', 'dapu'],
      ['beishan', 'village', 'dapu'],
      ['hexi', 'village', 'shapu'],
    ]);
    tokens.supervisorDapu = await mintToken(server.app.db, 'supervisor', 'dapu');
    tokens.operatorDapu = await mintToken(server.app.db, 'operator', 'dapu');
    tokens.viewerDapu = await mintToken(server.app.db, 'viewer', 'dapu');
    tokens.operatorShapu = await mintToken(server.app.db, 'operator', 'shapu');
    tokens.viewerLiujiang = await mintToken(server.app.db, 'viewer', 'liujiang');
    for (const h of [
      HOME,
      { ...HOME, id: 'beishan-1-2', area: 'beishan', address: '北山村 1 组 2 号' },
      { ...HOME, id: 'hexi-5-1', area: 'hexi', address: '河西村 5 组 1 号' },
    ]) {
      const r = await call(
        h.area === 'hexi' ? 'operatorShapu' : 'supervisorDapu',
        'POST',
        '/api/households',
        h,
      );
      if (h.area === 'hexi') {
        tokens.supervisorShapu = await mintToken(server.app.db, 'supervisor', 'shapu');
        expect((await call('supervisorShapu', 'POST', '/api/households', h)).status).toBe(201);
      } else expect(r.status).toBe(201);
    }
  });
  afterAll(async () => {
    await server?.close();
  });

  it('an operator records a visit with hazards found and a deadline; the audit log has it', async () => {
    const r = await call('operatorDapu', 'POST', '/api/inspections', VISIT);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    first = r.body.inspection as InspectionBody;
    expect(first).toMatchObject({
      household: HOME.id,
      area: 'liujiang',
      date: '2026-12-08',
      inspectors: ['李国强', '王芳'],
      foundCount: 2,
      rectification: {
        deadline: '2026-12-09',
        outcome: 'pending',
        rectifiedOn: null,
        note: '已告知户主更换强排式',
      },
      // The deadline was yesterday (Shanghai): overdue already.
      overdue: true,
      note: '',
      createdBy: tokenId(tokens.operatorDapu ?? ''),
    });
    // In the checklist's order, whatever order the form sent.
    expect(first.items.map((i) => [i.item, i.result])).toEqual([
      ['water_heater_flueless', 'found'],
      ['chimney_blocked', 'found'],
      ['pipeline_and_lpg_mixed', 'n/a'],
      ['co_alarm_missing', 'not_found'],
    ]);
    expect(first.items[0]).toEqual({
      item: 'water_heater_flueless',
      result: 'found',
      note: '直排式热水器装在厨房',
      photos: [],
    });
    const { entries } = await listAudit(server.app.db, {
      limit: 10,
      targetKind: 'inspection',
      targetId: first.id,
    });
    expect(entries.map((e) => [e.action, e.actor])).toEqual([
      ['inspection.create', tokenId(tokens.operatorDapu ?? '')],
    ]);
    expect(entries[0]?.after).toMatchObject({ household: HOME.id, area: 'liujiang', date: '2026-12-08' });
    expect((await call('operatorDapu', 'GET', `/api/inspections/${first.id}`)).body.inspection).toEqual(
      first,
    );
  });

  it('refuses bad input with the path of the field, and records nothing', async () => {
    for (const [body, message] of [
      [{ ...VISIT, items: [{ item: 'gas_leak_smell', result: 'found' }] }, 'items.0.item'],
      [{ ...VISIT, items: [{ item: 'room_sealed', result: 'maybe' }] }, 'items.0.result'],
      [
        { ...VISIT, items: [...VISIT.items, { item: 'chimney_blocked', result: 'n/a' }] },
        'items.4.item: chimney_blocked is listed twice',
      ],
      [{ ...VISIT, rectification: null }, 'rectification: a hazard was found'],
      [
        { ...VISIT, items: [{ item: 'room_sealed', result: 'not_found' }] },
        'rectification: no hazard was found',
      ],
      [
        { ...VISIT, rectification: { deadline: '2026-12-01' } },
        'rectification.deadline: cannot be before the visit',
      ],
      [{ ...VISIT, rectification: { deadline: '2026-02-30' } }, 'rectification.deadline'],
      [
        { ...VISIT, rectification: { deadline: '2026-12-20', outcome: 'rectified' } },
        'rectification.rectifiedOn',
      ],
      [
        { ...VISIT, date: '2026-12-11', rectification: { deadline: '2026-12-12' } },
        'date: a visit cannot be after today (2026-12-10)',
      ],
      [{ ...VISIT, inspectors: [] }, 'inspectors'],
      [{ ...VISIT, items: [{ item: 'room_sealed', result: 'found', photo: 'x' }] }, 'items.0'],
    ] as const) {
      const r = await call('operatorDapu', 'POST', '/api/inspections', body);
      expect([r.status, r.body.error], JSON.stringify(body)).toEqual([400, 'bad_request']);
      expect(String(r.body.message)).toContain(message);
    }
    expect((await call('operatorDapu', 'GET', '/api/inspections')).body.total).toBe(1);
  });

  it('a viewer may read but not record; another township gets 404 for all of it', async () => {
    expect((await call('viewerDapu', 'POST', '/api/inspections', VISIT)).status).toBe(403);
    expect((await call('viewerDapu', 'PATCH', `/api/inspections/${first.id}`, { note: 'x' })).status).toBe(
      403,
    );
    expect((await call('viewerDapu', 'GET', `/api/inspections/${first.id}`)).status).toBe(200);
    const outside = await call('operatorShapu', 'POST', '/api/inspections', VISIT);
    expect([outside.status, outside.body.error]).toEqual([404, 'household_not_found']);
    expect((await call('operatorShapu', 'GET', `/api/inspections/${first.id}`)).status).toBe(404);
    expect((await call('operatorShapu', 'PATCH', `/api/inspections/${first.id}`, { note: 'x' })).status).toBe(
      404,
    );
    expect((await call('operatorShapu', 'GET', '/api/inspections')).body.total).toBe(0);
    expect((await call('operatorShapu', 'GET', `/api/inspections?household=${HOME.id}`)).status).toBe(404);
    expect((await call('operatorShapu', 'GET', '/api/inspections?area=liujiang')).body.error).toBe(
      'unknown_area',
    );
    expect((await call('operatorShapu', 'GET', '/api/inspections?overdue=true')).body.total).toBe(0);
  });

  it('lists by household, area and day, newest visit first, page by page', async () => {
    const record = async (who: string, body: Json) => {
      const r = await call(who, 'POST', '/api/inspections', { ...VISIT, ...body });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      return (r.body.inspection as InspectionBody).id;
    };
    const calm = { items: [{ item: 'room_sealed', result: 'not_found' }], rectification: null };
    const later = await record('operatorDapu', { date: '2026-12-09', ...calm });
    const beishan = await record('operatorDapu', { household: 'beishan-1-2', date: '2026-12-10', ...calm });
    const hexi = await record('operatorShapu', { household: 'hexi-5-1', date: '2026-12-10', ...calm });

    const all = await call('operatorDapu', 'GET', '/api/inspections');
    expect([ids(all.body), all.body.total]).toEqual([[beishan, later, first.id], 3]);
    expect(ids((await call('operatorDapu', 'GET', `/api/inspections?household=${HOME.id}`)).body)).toEqual([
      later,
      first.id,
    ]);
    expect(ids((await call('operatorDapu', 'GET', '/api/inspections?area=beishan')).body)).toEqual([beishan]);
    expect(ids((await call('viewerLiujiang', 'GET', '/api/inspections')).body)).toEqual([later, first.id]);
    expect(
      ids((await call('operatorDapu', 'GET', '/api/inspections?from=2026-12-09&to=2026-12-09')).body),
    ).toEqual([later]);
    const bad = await call('operatorDapu', 'GET', '/api/inspections?from=2026-12-10&to=2026-12-09');
    expect([bad.status, bad.body.error]).toEqual([400, 'bad_range']);
    expect(ids((await call('operatorShapu', 'GET', '/api/inspections')).body)).toEqual([hexi]);

    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const page = await call('operatorDapu', 'GET', `/api/inspections?limit=2${q}`);
      expect(page.body.total).toBe(3);
      pages.push(...ids(page.body));
      cursor = page.body.nextCursor as string | null;
    } while (cursor !== null);
    expect(pages).toEqual([beishan, later, first.id]);
  });

  it('lists overdue rectifications by the local day; rectified, one is no longer overdue', async () => {
    // Deadline today: not overdue yet.
    const today = await call('operatorDapu', 'POST', '/api/inspections', {
      ...VISIT,
      household: 'beishan-1-2',
      date: '2026-12-10',
      rectification: { deadline: '2026-12-10' },
    });
    const dueToday = (today.body.inspection as InspectionBody).id;
    expect((today.body.inspection as InspectionBody).overdue).toBe(false);
    const overdue = await call('operatorDapu', 'GET', '/api/inspections?overdue=true');
    expect([ids(overdue.body), overdue.body.total]).toEqual([[first.id], 1]);
    expect(ids((await call('operatorDapu', 'GET', '/api/inspections?overdue=false')).body)).not.toContain(
      first.id,
    );

    // 00:30 of 11 December in Shanghai, still the 10th in UTC: the 10th's deadline has passed there.
    now = Date.UTC(2026, 11, 10, 16, 30);
    expect(ids((await call('operatorDapu', 'GET', '/api/inspections?overdue=true')).body)).toEqual([
      first.id,
      dueToday,
    ]);

    const fixed = await call('operatorDapu', 'PATCH', `/api/inspections/${first.id}`, {
      rectification: { outcome: 'rectified', note: '已更换强排式热水器，烟囱已清理' },
    });
    expect(fixed.status, JSON.stringify(fixed.body)).toBe(200);
    expect(fixed.body.inspection).toMatchObject({
      rectification: {
        deadline: '2026-12-09',
        outcome: 'rectified',
        // No day given: today, in Shanghai.
        rectifiedOn: '2026-12-11',
        note: '已更换强排式热水器，烟囱已清理',
      },
      overdue: false,
    });
    expect(ids((await call('operatorDapu', 'GET', '/api/inspections?overdue=true')).body)).toEqual([
      dueToday,
    ]);

    // A later deadline takes it off the list too; not rectified keeps no day.
    const extended = await call('operatorDapu', 'PATCH', `/api/inspections/${dueToday}`, {
      rectification: { deadline: '2026-12-20' },
    });
    expect((extended.body.inspection as InspectionBody).overdue).toBe(false);
    expect((await call('operatorDapu', 'GET', '/api/inspections?overdue=true')).body.total).toBe(0);
    const refused = await call('operatorDapu', 'PATCH', `/api/inspections/${dueToday}`, {
      rectification: { outcome: 'not_rectified', note: '户主拒绝整改' },
    });
    expect((refused.body.inspection as InspectionBody).rectification).toMatchObject({
      outcome: 'not_rectified',
      rectifiedOn: null,
    });

    for (const [body, message] of [
      [
        { rectification: { rectifiedOn: '2026-12-05', outcome: 'rectified' } },
        'rectification.rectifiedOn: cannot be before the visit',
      ],
      [
        { rectification: { rectifiedOn: '2026-12-12', outcome: 'rectified' } },
        'rectification.rectifiedOn: cannot be after today',
      ],
      [{ rectification: { outcome: 'fixed' } }, 'rectification.outcome'],
    ] as const) {
      const r = await call('operatorDapu', 'PATCH', `/api/inspections/${first.id}`, body);
      expect([r.status, String(r.body.message)]).toEqual([400, expect.stringContaining(message)]);
    }
    const calm = (await call('operatorDapu', 'GET', '/api/inspections?area=beishan&overdue=false')).body
      .inspections as InspectionBody[];
    const noHazard = calm.find((i) => i.rectification === null);
    const nothing = await call('operatorDapu', 'PATCH', `/api/inspections/${noHazard?.id}`, {
      rectification: { outcome: 'rectified' },
    });
    expect([nothing.status, nothing.body.error]).toEqual([409, 'nothing_to_rectify']);

    const { entries } = await listAudit(server.app.db, {
      limit: 10,
      targetKind: 'inspection',
      targetId: first.id,
    });
    expect(entries[0]).toMatchObject({
      action: 'inspection.update',
      before: { rectification: { outcome: 'pending', rectifiedOn: null } },
      after: { rectification: { outcome: 'rectified', rectifiedOn: '2026-12-11' } },
    });
    now = T0 + HOUR;
  });

  it('keeps a photo of an item as uploaded and serves it with its type, nosniff', async () => {
    const png = tinyPng();
    const up = await upload(
      'operatorDapu',
      `/api/inspections/${first.id}/photos?item=chimney_blocked`,
      'image/png',
      png,
    );
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    const photo = up.body.photo as { id: string; contentType: string; size: number };
    expect(photo).toMatchObject({ contentType: 'image/png', size: png.length });
    const item = (up.body.inspection as InspectionBody).items.find((i) => i.item === 'chimney_blocked');
    expect(item?.photos).toEqual([photo]);

    const r = await fetch(`${server.url}/api/inspections/${first.id}/photos/${photo.id}`, {
      headers: { authorization: `Bearer ${tokens.viewerDapu}` },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/png');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await r.arrayBuffer()).equals(png)).toBe(true);

    // The type is the bytes', not the header's.
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 1)]);
    const asJpeg = await upload(
      'operatorDapu',
      `/api/inspections/${first.id}/photos?item=water_heater_flueless`,
      'application/octet-stream',
      jpeg,
    );
    expect((asJpeg.body.photo as { contentType: string }).contentType).toBe('image/jpeg');

    const outside = await fetch(`${server.url}/api/inspections/${first.id}/photos/${photo.id}`, {
      headers: { authorization: `Bearer ${tokens.operatorShapu}` },
    });
    expect(outside.status).toBe(404);
    expect((await call('viewerDapu', 'GET', `/api/inspections/${first.id}/photos/nope`)).status).toBe(404);

    const { entries } = await listAudit(server.app.db, {
      limit: 10,
      targetKind: 'inspection',
      targetId: first.id,
    });
    expect(entries.find((e) => (e.after as { id?: string } | null)?.id === photo.id)).toMatchObject({
      action: 'inspection.photo.add',
      after: { id: photo.id, item: 'chimney_blocked', contentType: 'image/png', size: png.length },
    });
  });

  it('refuses what is not a photo, one too large, an unchecked item, and a viewer', async () => {
    const path = `/api/inspections/${first.id}/photos?item=chimney_blocked`;
    const pdf = Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n');
    const html = Buffer.from('<!doctype html><script>fetch("/api/session")</script>');
    for (const [type, bytes] of [
      ['image/png', pdf],
      ['image/jpeg', html],
      ['image/webp', Buffer.from('RIFF\0\0\0\0WAVEfmt ')],
    ] as const) {
      const r = await upload('operatorDapu', path, type, bytes);
      expect([r.status, r.body.error]).toEqual([415, 'unsupported_photo']);
    }
    const asPdf = await upload('operatorDapu', path, 'application/pdf', pdf);
    expect([asPdf.status, asPdf.body.error]).toEqual([415, 'unsupported_media_type']);

    const huge = Buffer.concat([tinyPng(), Buffer.alloc(2 * 1024 * 1024)]);
    const big = await upload('operatorDapu', path, 'image/png', huge);
    expect([big.status, big.body.error]).toEqual([413, 'payload_too_large']);

    const unchecked = await upload(
      'operatorDapu',
      `/api/inspections/${first.id}/photos?item=room_sealed`,
      'image/png',
      tinyPng(),
    );
    expect([unchecked.status, unchecked.body.error]).toEqual([400, 'item_not_checked']);
    const unknown = await upload(
      'operatorDapu',
      `/api/inspections/${first.id}/photos?item=ufo`,
      'image/png',
      tinyPng(),
    );
    expect([unknown.status, unknown.body.error]).toEqual([400, 'bad_request']);
    expect((await upload('viewerDapu', path, 'image/png', tinyPng())).status).toBe(403);
    expect((await upload('operatorShapu', path, 'image/png', tinyPng())).status).toBe(404);

    // Nothing of it was kept: the one photo of the item is the first test's.
    const back = (await call('viewerDapu', 'GET', `/api/inspections/${first.id}`)).body
      .inspection as InspectionBody;
    expect(back.items.find((i) => i.item === 'chimney_blocked')?.photos).toHaveLength(1);

    // At most five of one item.
    for (let n = 1; n < 5; n++)
      expect((await upload('operatorDapu', path, 'image/png', tinyPng())).status).toBe(201);
    const sixth = await upload('operatorDapu', path, 'image/png', tinyPng());
    expect([sixth.status, sixth.body.error]).toEqual([409, 'too_many_photos']);
  });
});
