/**
 * CO weather advisories over HTTP (issue 13): entered as published, at or above the banner grade
 * shown to the area and the areas within it (a township's advisory is its villages'), not to a
 * neighbouring township; a grade off the scale and a viewer refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAreas, mintToken, startTestServer, type TestServer } from './helpers.js';

describe('CO weather advisories', () => {
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
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const DAY = '2026-12-07';

  beforeAll(async () => {
    server = await startTestServer();
    await createAreas(server.url, [
      ['dapu', 'township', null, '大埔镇'],
      ['shapu', 'township', null],
      ['liujiang', 'village', 'dapu'],
    ]);
    tokens.dapu = await mintToken(server.app.db, 'operator', 'dapu');
    tokens.village = await mintToken(server.app.db, 'viewer', 'liujiang');
    tokens.shapu = await mintToken(server.app.db, 'operator', 'shapu');
  });
  afterAll(async () => server?.close());

  it('a township’s grade-3 advisory is on its villages’ consoles, not on the next township’s', async () => {
    const text = '夜间静风逆温，谨防煤炉、炭火取暖一氧化碳中毒';
    const r = await call('dapu', 'POST', '/api/advisories', { area: 'dapu', day: DAY, grade: 3, text });
    expect(r.status).toBe(201);
    expect(r.body.advisory).toMatchObject({
      area: 'dapu',
      areaName: '大埔镇',
      grade: 3,
      text,
      source: 'entered',
    });
    const village = await call('village', 'GET', `/api/advisories/current?day=${DAY}`);
    expect(village.body).toMatchObject({ grades: 4, bannerFrom: 3, advisories: [{ grade: 3, text }] });
    expect((await call('shapu', 'GET', `/api/advisories/current?day=${DAY}`)).body.advisories).toEqual([]);
    expect((await call('village', 'GET', '/api/advisories/current?day=2026-12-08')).body.advisories).toEqual(
      [],
    );
  });

  it('a grade below the banner grade is listed but makes no banner', async () => {
    await call('dapu', 'POST', '/api/advisories', { area: 'liujiang', day: DAY, grade: 2, text: '注意通风' });
    const current = (await call('dapu', 'GET', `/api/advisories/current?day=${DAY}`)).body
      .advisories as unknown[];
    expect(current).toHaveLength(1);
    expect((await call('dapu', 'GET', '/api/advisories')).body.total).toBe(2);
  });

  it('refuses a grade off the scale, another township’s area, a bad day, and a viewer', async () => {
    const bad = await call('dapu', 'POST', '/api/advisories', {
      area: 'dapu',
      day: DAY,
      grade: 5,
      text: 'x',
    });
    expect([bad.status, bad.body.error]).toEqual([400, 'bad_grade']);
    const other = await call('dapu', 'POST', '/api/advisories', {
      area: 'shapu',
      day: DAY,
      grade: 3,
      text: 'x',
    });
    expect([other.status, other.body.error]).toEqual([400, 'unknown_area']);
    const day = await call('dapu', 'POST', '/api/advisories', {
      area: 'dapu',
      day: '2026-13-01',
      grade: 3,
      text: 'x',
    });
    expect(day.status).toBe(400);
    const viewer = await call('village', 'POST', '/api/advisories', {
      area: 'liujiang',
      day: DAY,
      grade: 3,
      text: 'x',
    });
    expect(viewer.status).toBe(403);
    expect((await call('dapu', 'GET', '/api/advisories')).body.total).toBe(2);
  });
});
