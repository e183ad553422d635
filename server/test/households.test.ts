/**
 * The household registry over HTTP (issue 13, SPEC §10): households of an area with their
 * detectors, changed by supervisors, seen only within an area, audited; and an alarm of an
 * installed detector carrying its household (the board's order, the response card).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@gaswatch/shared/testing';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../src/db/audit.js';
import {
  apiFetch,
  connectGateway,
  createAreas,
  mintToken,
  publishReading,
  reading,
  startTestServer,
  type TestServer,
  tempDir,
} from './helpers.js';

const HOME = {
  id: 'liujiang-3-12',
  area: 'liujiang',
  address: '柳江村 3 组 12 号',
  lat: 24.331,
  lon: 109.412,
  dwelling: 'own_home',
  occupants: { count: 1, flags: ['elderly_alone'] },
  heating: ['charcoal', 'gas_water_heater_flueless'],
  contacts: [
    { name: '王秀英', relation: 'occupant', phone: '138 0000 0001' },
    { name: '王建军', relation: 'family', phone: '13900000002' },
    { name: '李国强', relation: 'grid_worker', phone: '13700000003' },
  ],
  notes: '耳背，敲门要用力',
  detectors: [{ device: 'co-w12', location: '卧室', installedOn: '2026-11-20', expiresOn: '2031-11-20' }],
};

describe('households', () => {
  const tmp = tempDir('gaswatch-households-');
  let server: TestServer;
  let gw: MqttClient;
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

  beforeAll(async () => {
    // CO 400 ppm raises at once on the confined-space profile (a household CO dose takes minutes).
    // Two contact tiers, so the card says when the next is due; the webhook goes nowhere (port 9).
    writeFileSync(
      join(tmp.dir, 'gaswatch.yaml'),
      `devices:
  co-w12: { profile: confined-space }
channels:
  duty: { type: webhook, url: 'http://127.0.0.1:9/hook', secret: a-long-shared-webhook-secret, retries: 0 }
defaults:
  tiers:
    - { name: 村网格员, contacts: [{ name: 李国强, channel: duty }] }
    - { name: 镇值班室, contacts: [{ name: 值班室, channel: duty }] }
`,
    );
    server = await startTestServer({ GASWATCH_CONFIG: join(tmp.dir, 'gaswatch.yaml') });
    await createAreas(server.url, [
      ['liucheng', 'county', null],
      ['dapu', 'township', 'liucheng'],
      ['shapu', 'township', 'liucheng'],
      ['liujiang', 'village', 'dapu'],
      ['hexi', 'village', 'shapu'],
    ]);
    tokens.supervisorDapu = await mintToken(server.app.db, 'supervisor', 'dapu');
    tokens.supervisorShapu = await mintToken(server.app.db, 'supervisor', 'shapu');
    tokens.operatorDapu = await mintToken(server.app.db, 'operator', 'dapu');
    tokens.operatorShapu = await mintToken(server.app.db, 'operator', 'shapu');
    gw = await connectGateway(server, 'gw-hh');
  });
  afterAll(async () => {
    await gw?.endAsync();
    await server?.close();
    tmp.remove();
  });

  it('a supervisor registers a household with its detector; the audit log has it', async () => {
    const r = await call('supervisorDapu', 'POST', '/api/households', HOME);
    expect(r.status).toBe(201);
    expect(r.body.household).toMatchObject({
      id: HOME.id,
      occupants: { count: 1, flags: ['elderly_alone'] },
      contacts: HOME.contacts,
      detectors: [{ device: 'co-w12', location: '卧室', expiresOn: '2031-11-20' }],
    });
    const { entries } = await listAudit(server.app.db, { limit: 100 });
    expect(entries.some((e) => e.action === 'household.create' && e.target.id === HOME.id)).toBe(true);
    expect((await call('supervisorDapu', 'POST', '/api/households', HOME)).status).toBe(409);
  });

  it('refuses bad input in words, and changes nothing', async () => {
    for (const [body, path] of [
      [
        { ...HOME, id: 'x-1', contacts: [{ name: '王', relation: 'occupant', phone: 'call me' }] },
        'contacts.0.phone',
      ],
      [{ ...HOME, id: 'x-2', occupants: { count: 1, flags: ['lonely'] } }, 'occupants.flags.0'],
      [
        { ...HOME, id: 'x-3', detectors: [{ device: 'co-x3', expiresOn: '2031-02-30' }] },
        'detectors.0.expiresOn',
      ],
    ] as const) {
      const r = await call('supervisorDapu', 'POST', '/api/households', body);
      expect(r.status).toBe(400);
      expect(String(r.body.message)).toContain(path);
    }
    const other = await call('supervisorShapu', 'POST', '/api/households', { ...HOME, id: 'x-4' });
    expect([other.status, other.body.error]).toEqual([400, 'unknown_area']);
    expect((await call('supervisorDapu', 'GET', '/api/households')).body.total as number).toBe(1);
  });

  it('an operator may read but not change; another township does not see it', async () => {
    expect((await call('operatorDapu', 'PATCH', `/api/households/${HOME.id}`, { notes: 'x' })).status).toBe(
      403,
    );
    expect((await call('operatorShapu', 'GET', `/api/households/${HOME.id}`)).status).toBe(404);
    expect(
      (await call('supervisorShapu', 'PATCH', `/api/households/${HOME.id}`, { notes: 'x' })).status,
    ).toBe(404);
    expect((await call('operatorShapu', 'GET', '/api/households')).body.total).toBe(0);
  });

  it('lists by search and by vulnerable occupants', async () => {
    await call('supervisorDapu', 'POST', '/api/households', {
      ...HOME,
      id: 'liujiang-3-15',
      address: '柳江村 3 组 15 号',
      occupants: { count: 4, flags: [] },
      detectors: [],
    });
    const search = await call('operatorDapu', 'GET', `/api/households?q=${encodeURIComponent('15 号')}`);
    expect((search.body.households as { id: string }[]).map((h) => h.id)).toEqual(['liujiang-3-15']);
    const vulnerable = await call('operatorDapu', 'GET', '/api/households?vulnerable=true');
    expect((vulnerable.body.households as { id: string }[]).map((h) => h.id)).toEqual([HOME.id]);
    const paged = await call('operatorDapu', 'GET', '/api/households?limit=1');
    expect([paged.body.total, typeof paged.body.nextCursor]).toEqual([2, 'string']);
  });

  it('a detector in one home cannot be installed in another until removed there', async () => {
    const r = await call('supervisorDapu', 'PUT', '/api/households/liujiang-3-15/detectors/co-w12', {
      location: '厨房',
    });
    expect([r.status, r.body.error]).toEqual([409, 'detector_in_other_household']);
  });

  it('an alarm of an installed detector carries its household, and is in the household’s area', async () => {
    await publishReading(gw, 'gw-hh', 'co-w12', reading(1, Date.now(), { CO: 400 }));
    type Row = { id: string; household?: { id: string; vulnerable: string[]; address: string } };
    let rows: Row[] = [];
    await waitFor(async () => {
      rows = ((await call('operatorDapu', 'GET', '/api/alarms?device=co-w12')).body.alarms ?? []) as Row[];
      return rows.length > 0;
    }, 'the alarm of co-w12, seen by the township of its household');
    expect(rows[0]?.household).toEqual({
      id: HOME.id,
      area: 'liujiang',
      address: HOME.address,
      vulnerable: ['elderly_alone'],
      location: '卧室',
    });
    // The gateway has no area: the household puts the alarm in dapu, not in shapu.
    expect(
      ((await call('operatorShapu', 'GET', '/api/alarms?device=co-w12')).body.alarms as Row[]).length,
    ).toBe(0);
    const card = await call('operatorDapu', 'GET', `/api/alarms/${rows[0]?.id}`);
    expect(card.body.household).toMatchObject({ id: HOME.id, contacts: HOME.contacts, notes: HOME.notes });
    // She lives alone: the next tier is called after 60 s unacknowledged, not the default 120 s.
    const { alarm, escalation } = card.body as {
      alarm: { lastNotifiedAt: number; severity: string };
      escalation: { next: { tier: number; at: number } | null };
    };
    expect(alarm.severity).toBe('critical');
    expect(escalation.next).toEqual({ tier: 2, at: alarm.lastNotifiedAt + 60_000 });
  });

  it('lists the detectors the next visit must see to, village by village', async () => {
    const put = (device: string, body: object) =>
      call('supervisorDapu', 'PUT', `/api/households/liujiang-3-15/detectors/${device}`, body);
    expect((await put('co-never', { location: '厨房', expiresOn: '2026-12-20' })).status).toBe(200);
    expect((await put('co-old', { location: '客厅', expiresOn: '2025-01-10' })).status).toBe(200);
    const r = await call('operatorDapu', 'GET', '/api/households/attention?today=2026-12-07');
    expect(r.status).toBe(200);
    type Row = { device: string; issues: string[]; address: string };
    const rows = r.body.detectors as Row[];
    // co-w12 reported a moment ago and lives until 2031: nothing to do there.
    expect(rows.map((x) => [x.device, x.issues])).toEqual([
      ['co-never', ['never_reported', 'expires_soon']],
      ['co-old', ['never_reported', 'expired']],
    ]);
    expect(rows[0]?.address).toBe('柳江村 3 组 15 号');
    expect(
      (await call('operatorShapu', 'GET', '/api/households/attention?today=2026-12-07')).body.total,
    ).toBe(0);
    expect((await call('operatorDapu', 'GET', '/api/households/attention')).status).toBe(400);
  });

  it('moving a household to another village takes its visits along', async () => {
    const visit = await call('operatorDapu', 'POST', '/api/inspections', {
      household: 'liujiang-3-15',
      date: new Date().toISOString().slice(0, 10),
      inspectors: ['李国强'],
      items: [{ item: 'room_sealed', result: 'not_found' }],
      rectification: null,
    });
    expect(visit.status).toBe(201);
    const moved = await call('supervisorDapu', 'PATCH', '/api/households/liujiang-3-15', { area: 'dapu' });
    expect(moved.status).toBe(200);
    const listed = await call('operatorDapu', 'GET', '/api/inspections?area=dapu');
    expect((listed.body.inspections as { area: string }[]).map((i) => i.area)).toEqual(['dapu']);
    await call('supervisorDapu', 'PATCH', '/api/households/liujiang-3-15', { area: 'liujiang' });
  });

  it('removing the detector takes the household off its alarms at once', async () => {
    // The device list tells installed detectors from free ones (the console's picks for a new home).
    // The gateway has no area: installed, the detector is in the household's; removed, in none
    // (an admin, whose area is all, sees it then).
    const ids = async (installed: 'true' | 'false') => {
      const r = await apiFetch(`${server.url}/api/devices?installed=${installed}`);
      return ((await r.json()) as { devices: { id: string }[] }).devices.map((d) => d.id);
    };
    expect(await ids('true')).toContain('co-w12');
    expect(await ids('false')).not.toContain('co-w12');
    const r = await call('supervisorDapu', 'DELETE', `/api/households/${HOME.id}/detectors/co-w12`);
    expect(r.status).toBe(200);
    expect(await ids('true')).not.toContain('co-w12');
    expect(await ids('false')).toContain('co-w12');
    expect(r.body.household).toMatchObject({ detectors: [] });
    const all = (await apiFetch(`${server.url}/api/alarms?device=co-w12`).then((x) => x.json())) as {
      alarms: { household?: unknown }[];
    };
    expect(all.alarms.every((a) => a.household === undefined)).toBe(true);
    expect(
      (await call('supervisorDapu', 'DELETE', `/api/households/${HOME.id}/detectors/co-w12`)).status,
    ).toBe(404);
  });
});
