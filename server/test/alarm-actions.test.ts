/**
 * The response routes over HTTP (issue 12): resolve with a reason, calls and "on my way" / "on
 * site", acknowledging many at once; each recorded as the caller and in the audit log, and bad
 * input answered in words with nothing changed.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@gaswatch/shared/testing';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '../src/alarms/model.js';
import { listAudit } from '../src/db/audit.js';
import {
  apiFetch,
  connectGateway,
  createUser,
  getJson,
  login,
  publishReading,
  reading,
  startTestServer,
  type TestServer,
  tempDir,
} from './helpers.js';

const GW = 'gw-actions';
type Page = { alarms: Alarm[] };

describe('alarm response routes', () => {
  const tmp = tempDir('gaswatch-actions-');
  let server: TestServer;
  let gw: MqttClient;
  const post = (path: string, body: unknown) =>
    apiFetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const openOf = async (dev: string) =>
    (await getJson<Page>(`${server.url}/api/alarms?state=open&device=${dev}`)).body.alarms;

  beforeAll(async () => {
    const devices = ['co-1', 'co-2', 'co-3', 'co-4'];
    writeFileSync(
      join(tmp.dir, 'gaswatch.yaml'),
      `devices:\n${devices.map((d) => `  ${d}: { profile: confined-space }`).join('\n')}\n`,
    );
    server = await startTestServer({ GASWATCH_CONFIG: join(tmp.dir, 'gaswatch.yaml') });
    await createUser(server.app.db, { username: 'lin', displayName: '林建国', role: 'operator' });
    await createUser(server.app.db, { username: 'zhao', displayName: '赵敏', role: 'viewer' });
    gw = await connectGateway(server, GW);
    for (const dev of devices) await publishReading(gw, GW, dev, reading(1, Date.now(), { CO: 400 }));
    await waitFor(async () => (await openOf('co-4')).length === 2, 'the alarms of co-4');
  });
  afterAll(async () => {
    await gw?.endAsync();
    await server?.close();
    tmp.remove();
  });

  it('resolves as the logged-in operator, and says so in the audit log', async () => {
    const [a] = await openOf('co-1');
    const lin = await login(server.url, 'lin');
    const r = await lin.fetch(`${server.url}/api/alarms/${a?.id}/resolve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'test', note: '季度测试' }),
    });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { alarm: Alarm; silence: unknown };
    expect(body.alarm).toMatchObject({
      ack: { actor: 'lin', note: '季度测试' },
      resolution: { actor: 'lin', reason: 'test', note: '季度测试' },
    });
    await waitFor(async () => {
      const { entries } = await listAudit(server.app.db, { limit: 50 });
      return entries.some((e) => e.action === 'alarm.resolve' && e.actor === 'lin');
    }, 'the audit row of the resolution');
    // Twice is refused, in words, and the first resolution stays.
    const again = await post(`/api/alarms/${a?.id}/resolve`, { reason: 'false_alarm' });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({
      error: 'alarm_already_resolved',
      message: expect.stringMatching(/lin/),
    });
  });

  it('refuses a reason it does not know, an unknown outcome, and an actor in the body', async () => {
    const [a] = await openOf('co-2');
    for (const [path, body] of [
      [`/api/alarms/${a?.id}/resolve`, { reason: 'fixed' }],
      [`/api/alarms/${a?.id}/resolve`, { reason: 'test', actor: 'someone-else' }],
      [`/api/alarms/${a?.id}/responses`, { kind: 'call', contact: { name: 'x' }, outcome: 'busy' }],
      [`/api/alarms/${a?.id}/responses`, { kind: 'teleport' }],
      ['/api/alarms/ack', { ids: [] }],
    ] as const) {
      const r = await post(path, body);
      expect([r.status, ((await r.json()) as { error: string }).error], JSON.stringify(body)).toEqual([
        400,
        'bad_request',
      ]);
    }
    expect(
      (await openOf('co-2')).every((x) => x.ack === null && x.resolution === undefined && !x.calls),
    ).toBe(true);
  });

  it('a viewer may read but not respond', async () => {
    const [a] = await openOf('co-2');
    const zhao = await login(server.url, 'zhao');
    for (const [path, body] of [
      [`/api/alarms/${a?.id}/resolve`, { reason: 'test' }],
      [`/api/alarms/${a?.id}/responses`, { kind: 'on_my_way' }],
      ['/api/alarms/ack', { ids: [a?.id] }],
    ] as const) {
      const r = await zhao.fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(r.status).toBe(403);
    }
  });

  it('acknowledges many at once and names those it could not', async () => {
    const ids = [...(await openOf('co-3')), ...(await openOf('co-4'))].map((a) => a.id);
    const r = await post('/api/alarms/ack', { ids: [...ids, 'no-such-alarm', ids[0]], note: '停电' });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { acknowledged: Alarm[]; refused: { id: string; error: string }[] };
    expect(body.acknowledged.map((a) => a.id).sort()).toEqual([...ids].sort());
    expect(body.refused).toEqual([
      expect.objectContaining({ id: 'no-such-alarm', error: 'alarm_not_found' }),
    ]);
    const again = await post('/api/alarms/ack', { ids: [ids[0]] });
    expect(((await again.json()) as { refused: { error: string }[] }).refused).toEqual([
      expect.objectContaining({ error: 'alarm_already_acknowledged' }),
    ]);
  });

  it('the card answer carries the procedure and the escalation state', async () => {
    const [a] = await openOf('co-2');
    const { status, body } = await getJson<{
      procedure: { kind: string } | null;
      escalation: { tiers: unknown[] };
    }>(`${server.url}/api/alarms/${a?.id}`);
    expect(status).toBe(200);
    expect(body.procedure?.kind).toBe('gas');
    expect(body.escalation).toEqual({ tiers: [], next: null });
  });
});
