import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePayload, ROLES, type Role, roleAtLeast, topics } from '@gaswatch/shared';
import { waitFor } from '@gaswatch/shared/testing';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Alarm } from '../src/alarms/model.js';
import { hashPassword } from '../src/auth/passwords.js';
import { insertUser } from '../src/db/users.js';
import {
  authHeaders,
  connectClient,
  connectGateway,
  metric,
  mintToken,
  publishReading,
  reading,
  startTestServer,
  type TestServer,
  tempDir,
} from './helpers.js';

/**
 * Who may do what (issue 11, SPEC §9), through the HTTP API: every route's guard, logins and
 * their throttle, sessions and CSRF, API tokens, area scoping of reads, changes and live events,
 * and the audit log.
 */
const tmp = tempDir('gw-access-');
let server: TestServer;
let gateway: MqttClient;
const token: Partial<Record<Role, string>> = {};
/** An operator and a viewer of township A only. */
let operatorA: string;
let viewerA: string;

const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });
const admin = () => authHeaders(server.url);

async function call(method: string, url: string, headers: Record<string, string> = {}, payload?: unknown) {
  const res = await server.app.inject({
    method: method as 'GET',
    url,
    headers: { ...headers, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
  });
  const json = String(res.headers['content-type'] ?? '').startsWith('application/json');
  return { status: res.statusCode, body: json ? res.json() : res.body, headers: res.headers };
}

async function userWithPassword(username: string, role: Role, area: string | null, password: string) {
  await insertUser(server.app.db, {
    username,
    displayName: `${username} (display)`,
    role,
    area,
    passwordHash: await hashPassword(password),
    now: Date.now(),
  });
}

function cookieOf(headers: Record<string, unknown>): string {
  const set = [headers['set-cookie']].flat().find((c) => String(c).startsWith('gaswatch_session='));
  return String(set).split(';')[0] ?? '';
}

async function login(username: string, password: string, extra: Record<string, string> = {}) {
  const res = await call('POST', '/api/session', extra, { username, password });
  return { ...res, cookie: res.status === 200 ? cookieOf(res.headers) : '' };
}

const state = (site: string) =>
  encodePayload('state', {
    v: 1,
    ts: new Date().toISOString(),
    online: true,
    model: 'gaswatch-co',
    kind: 'household-co',
    site,
    location: 'bedroom',
    lastError: null,
  });

beforeAll(async () => {
  const file = join(tmp.dir, 'gaswatch.yaml');
  writeFileSync(
    file,
    stringify({
      sites: {
        'home-a': { type: 'household', area: 'tw-a' },
        'home-b': { type: 'household', area: 'tw-b' },
      },
    }),
  );
  server = await startTestServer({ GASWATCH_CONFIG: file, DATA_DIR: join(tmp.dir, 'data') });
  for (const [id, kind, parent] of [
    ['county', 'county', null],
    ['tw-a', 'township', 'county'],
    ['tw-b', 'township', 'county'],
    ['v-a1', 'village', 'tw-a'],
  ] as const) {
    const r = await call('POST', '/api/areas', admin(), { id, name: id, kind, parent });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  }
  for (const role of ROLES) token[role] = await mintToken(server.app.db, role);
  operatorA = await mintToken(server.app.db, 'operator', 'tw-a');
  viewerA = await mintToken(server.app.db, 'viewer', 'tw-a');

  // One home in each township with a CO alarm: 400 ppm for 3 min (EN 50291's fast tier).
  gateway = await connectGateway(server, 'gw-access', { clientId: 'gw-access' });
  const start = Date.now() - 180_000;
  for (const [dev, site] of [
    ['co-a', 'home-a'],
    ['co-b', 'home-b'],
  ] as const) {
    await gateway.publishAsync(topics.state('gw-access', dev), state(site), { qos: 1, retain: true });
    for (let i = 0; i <= 18; i++)
      await publishReading(gateway, 'gw-access', dev, reading(i, start + i * 10_000, { CO: 400 }));
  }
  await waitFor(async () => {
    const r = await call('GET', '/api/alarms?state=open', admin());
    return (r.body as { alarms: Alarm[] }).alarms.length >= 2;
  }, 'an alarm in each township');
}, 60_000);

afterAll(async () => {
  await gateway?.endAsync();
  await server?.close();
  tmp.remove();
});

describe('every route is guarded', () => {
  it('every route of the OpenAPI document answers 401 without a login and 403 to each lower role', async () => {
    const doc = (await call('GET', '/docs/json')).body as { paths: Record<string, Record<string, unknown>> };
    const checked: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops).map((m) => m.toUpperCase())) {
        const route = path.replace(/\{(\w+)\}/g, ':$1');
        const access = server.app.routeAccess.get(`${method} ${route}`);
        expect(access, `${method} ${route} has a declared access`).toBeDefined();
        if (access === 'public' || access === undefined) continue;
        const url = path.replace(/\{\w+\}/g, 'x');
        const anon = await call(method, url, {}, method === 'GET' ? undefined : {});
        expect([anon.status, anon.body], `${method} ${url} anonymous`).toEqual([
          401,
          expect.objectContaining({ error: 'unauthenticated' }),
        ]);
        for (const role of ROLES.filter((r) => !roleAtLeast(r, access))) {
          const low = await call(method, url, bearer(token[role] ?? ''), method === 'GET' ? undefined : {});
          expect([low.status, low.body], `${method} ${url} as ${role}`).toEqual([
            403,
            expect.objectContaining({ error: 'forbidden' }),
          ]);
        }
        checked.push(`${method} ${route}`);
      }
    }
    // The document lists the guarded routes this test must have seen (it cannot pass on an empty one).
    expect(checked).toEqual(
      expect.arrayContaining([
        'GET /api/alarms',
        'GET /api/alarms/export',
        'POST /api/alarms/:id/ack',
        'GET /api/devices',
        'GET /api/readings',
        'GET /api/users',
        'POST /api/tokens',
        'GET /api/audit',
        'GET /metrics',
        'GET /api/shifts/current',
        'POST /api/shifts/handover',
        'POST /api/shifts/:id/confirm',
        'GET /api/reports/response-times',
        'POST /api/inspections',
        'PATCH /api/inspections/:id',
        'POST /api/inspections/:id/photos',
        'POST /api/reports/ledger',
        'GET /api/reports/ledgers',
        'GET /api/reports/ledgers/:id/file',
        'POST /api/spaces',
        'DELETE /api/spaces/:id',
        'GET /api/permits',
        'POST /api/permits',
        'POST /api/permits/:id/actions/:action',
        'POST /api/permits/:id/tests/:testId/readings',
        'GET /api/permits/:id/pdf',
        'DELETE /api/permits/:id',
        'GET /api/devices/:id/maintenance',
        'POST /api/devices/:id/maintenance/bump-tests',
        'POST /api/devices/:id/maintenance/bump-tests/start',
        'GET /api/maintenance/due',
      ]),
    );
  });

  it('only health, login, the console app (and / leading to it), /docs and the providers\u2019 signed callbacks are public', () => {
    const open = [...server.app.routeAccess].filter(([, a]) => a === 'public').map(([r]) => r);
    // Provider callbacks prove themselves with the provider's signature or the channel's token
    // (routes/notify.ts, tested in notify/household-chain.test.ts), not with a login.
    for (const r of open)
      expect(r).toMatch(
        /^(GET|HEAD) \/(healthz|readyz|docs.*|console(\/\*)?)?$|^POST \/api\/session$|^POST \/api\/notify\/callback\/:channel$/,
      );
    expect(open).toContain('GET /');
  });

  it('/api/live refuses a WebSocket without a login', async () => {
    const r = await server.app.inject({
      method: 'GET',
      url: '/api/live',
      headers: {
        connection: 'upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      },
    });
    expect(r.statusCode).toBe(401);
  });
});

describe('logging in', () => {
  beforeAll(async () => {
    await userWithPassword('lin', 'operator', null, 'correct horse battery');
    await userWithPassword('wang', 'viewer', 'tw-a', 'another good password');
  });

  it('a wrong password and an unknown user get the same answer, and both are counted', async () => {
    const before = await metric(server.url, 'gaswatch_auth_failures_total{reason="bad_credentials"}');
    const wrong = await login('lin', 'not the password');
    const nobody = await login('nobody-here', 'not the password');
    expect(wrong.status).toBe(401);
    expect(nobody.status).toBe(401);
    expect(wrong.body).toEqual(nobody.body);
    expect(wrong.body).toEqual({ error: 'invalid_credentials', message: 'wrong username or password' });
    expect(await metric(server.url, 'gaswatch_auth_failures_total{reason="bad_credentials"}')).toBe(
      before + 2,
    );
  });

  it('sets an HttpOnly, SameSite=Strict cookie that ends at the server on logout', async () => {
    const ok = await login('lin', 'correct horse battery');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      user: { username: 'lin', role: 'operator', area: null },
      via: 'session',
    });
    const set = String([ok.headers['set-cookie']].flat()[0]);
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
    expect(set).not.toMatch(/Secure/); // plain HTTP here; see the TLS test for Secure
    const who = await call('GET', '/api/session', { cookie: ok.cookie });
    expect(who.body).toMatchObject({
      user: { username: 'lin' },
      csrfToken: (ok.body as { csrfToken: string }).csrfToken,
    });

    const out = await call('DELETE', '/api/session', {
      cookie: ok.cookie,
      'x-csrf-token': (ok.body as { csrfToken: string }).csrfToken,
    });
    expect(out.status).toBe(204);
    // The same cookie, replayed after logout, opens nothing.
    expect((await call('GET', '/api/session', { cookie: ok.cookie })).status).toBe(401);
  });

  it('a WebSocket opened with the cookie from another site’s page is refused', async () => {
    const ok = await login('lin', 'correct horse battery');
    const { default: WebSocket } = await import('ws');
    const url = `${server.url.replace('http', 'ws')}/api/live`;
    const hijack = new WebSocket(url, { headers: { cookie: ok.cookie, origin: 'https://evil.example' } });
    hijack.on('error', () => {}); // the refusal; its status is what the test reads
    const status = await new Promise<number>((resolve) => {
      hijack.once('unexpected-response', (req, res) => {
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      hijack.once('open', () => resolve(101));
    });
    expect(status).toBe(403);
    const own = new WebSocket(url, { headers: { cookie: ok.cookie, origin: server.url } });
    await new Promise((resolve, reject) => own.once('open', resolve).once('error', reject));
    own.close();
  });

  it('an open /api/live socket is closed when its login ends', async () => {
    const ok = await login('lin', 'correct horse battery');
    const { default: WebSocket } = await import('ws');
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/live`, {
      headers: { cookie: ok.cookie },
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const out = await call('DELETE', '/api/session', {
      cookie: ok.cookie,
      'x-csrf-token': (ok.body as { csrfToken: string }).csrfToken,
    });
    expect(out.status).toBe(204);
    expect(await closed).toBe(4401);
  });

  it('a cookie-authenticated change needs the CSRF token and a same-site origin', async () => {
    const ok = await login('lin', 'correct horse battery');
    const csrf = (ok.body as { csrfToken: string }).csrfToken;
    const alarms = (await call('GET', '/api/alarms?state=open', { cookie: ok.cookie })).body as {
      alarms: Alarm[];
    };
    const id = alarms.alarms[0]?.id ?? '';
    // A forged cross-site POST: the browser sends the cookie, but not the token it cannot read.
    const forged = await call(
      'POST',
      `/api/alarms/${id}/ack`,
      { cookie: ok.cookie, origin: 'https://evil.example' },
      {},
    );
    expect([forged.status, (forged.body as { error: string }).error]).toEqual([403, 'forbidden']);
    const noToken = await call('POST', `/api/alarms/${id}/ack`, { cookie: ok.cookie }, {});
    expect(noToken.status).toBe(403);
    const wrongToken = await call(
      'POST',
      `/api/alarms/${id}/ack`,
      { cookie: ok.cookie, 'x-csrf-token': `${csrf}x` },
      {},
    );
    expect(wrongToken.status).toBe(403);
    // Nothing was acknowledged by any of them.
    expect((await call('GET', `/api/alarms/${id}`, admin())).body).toMatchObject({ alarm: { ack: null } });
  });

  it('guesses sent all at once are throttled as if sent one after another', async () => {
    await userWithPassword('zhou', 'viewer', null, 'zhou password 1');
    const all = await Promise.all(Array.from({ length: 20 }, (_, i) => login('zhou', `guess ${i}`)));
    const statuses = all.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s !== 401).every((s) => s === 429)).toBe(true);
  });

  it('20 wrong passwords in a row are throttled, and then even the right one waits', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await login('wang', `guess ${i}`)).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5).every((s) => s === 429)).toBe(true);
    const right = await login('wang', 'another good password');
    expect(right.status).toBe(429);
    expect(right.body).toMatchObject({ error: 'too_many_attempts' });
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
    expect(
      await metric(server.url, 'gaswatch_auth_failures_total{reason="throttled"}'),
    ).toBeGreaterThanOrEqual(16);
  });
});

describe('acknowledging', () => {
  it('records the authenticated user, never a name from the body', async () => {
    const ok = await login('lin', 'correct horse battery');
    const csrf = (ok.body as { csrfToken: string }).csrfToken;
    const open = (await call('GET', '/api/alarms?state=open', admin())).body as { alarms: Alarm[] };
    const target = open.alarms.find((a) => a.dev === 'co-b');
    expect(target).toBeDefined();
    const sneaky = await call(
      'POST',
      `/api/alarms/${target?.id}/ack`,
      { cookie: ok.cookie, 'x-csrf-token': csrf },
      { note: 'door knocked, window opened', actor: 'someone-else' },
    );
    expect(sneaky.status).toBe(400);
    const acked = await call(
      'POST',
      `/api/alarms/${target?.id}/ack`,
      { cookie: ok.cookie, 'x-csrf-token': csrf },
      { note: 'door knocked, window opened' },
    );
    expect(acked.status).toBe(200);
    expect(acked.body).toMatchObject({
      alarm: { ack: { actor: 'lin', note: 'door knocked, window opened' } },
    });
    const audit = (await call('GET', `/api/audit?targetKind=alarm&targetId=${target?.id}`, admin())).body as {
      entries: { actor: string; action: string; address: string | null }[];
    };
    expect(audit.entries).toEqual([expect.objectContaining({ actor: 'lin', action: 'alarm.acknowledge' })]);
  });

  it('a token with the viewer role cannot acknowledge', async () => {
    const open = (await call('GET', '/api/alarms?state=open', admin())).body as { alarms: Alarm[] };
    const target = open.alarms.find((a) => a.dev === 'co-a');
    const r = await call('POST', `/api/alarms/${target?.id}/ack`, bearer(token.viewer ?? ''), {});
    expect([r.status, (r.body as { error: string }).error]).toEqual([403, 'forbidden']);
    expect((await call('GET', `/api/alarms/${target?.id}`, admin())).body).toMatchObject({
      alarm: { ack: null },
    });
  });
});

describe('areas', () => {
  it('an operator of township A sees A’s alarms and devices only; B’s are 404, also to change', async () => {
    const all = ((await call('GET', '/api/alarms', admin())).body as { alarms: Alarm[] }).alarms;
    const b = all.find((a) => a.dev === 'co-b');
    const a = all.find((x) => x.dev === 'co-a');
    expect(a && b).toBeTruthy();
    const mine = ((await call('GET', '/api/alarms', bearer(operatorA))).body as { alarms: Alarm[] }).alarms;
    expect(mine.map((x) => x.dev)).toEqual(['co-a']);
    expect((await call('GET', `/api/alarms/${b?.id}`, bearer(operatorA))).status).toBe(404);
    expect((await call('POST', `/api/alarms/${b?.id}/ack`, bearer(operatorA), {})).status).toBe(404);
    const devices = (await call('GET', '/api/devices', bearer(operatorA))).body as {
      devices: { id: string }[];
    };
    expect(devices.devices.map((d) => d.id)).toEqual(['co-a']);
    expect((await call('GET', '/api/devices/co-b', bearer(operatorA))).status).toBe(404);
    expect((await call('GET', '/api/readings?device=co-b', bearer(operatorA))).status).toBe(404);
    expect((await call('GET', '/api/readings?device=co-a', bearer(operatorA))).status).toBe(200);
    const areas = (await call('GET', '/api/areas', bearer(viewerA))).body as { areas: { id: string }[] };
    expect(areas.areas.map((x) => x.id)).toEqual(['tw-a', 'v-a1']);
  });

  it('lists page with a cursor and say their total', async () => {
    type AreaPage = { areas: { id: string }[]; total: number; nextCursor: string | null };
    const first = (await call('GET', '/api/areas?limit=3', admin())).body as AreaPage;
    expect(first.areas.map((a) => a.id)).toEqual(['county', 'tw-a', 'tw-b']);
    expect(first.total).toBe(4);
    const rest = (await call('GET', `/api/areas?limit=3&cursor=${first.nextCursor}`, admin()))
      .body as AreaPage;
    expect([rest.areas.map((a) => a.id), rest.total, rest.nextCursor]).toEqual([['v-a1'], 4, null]);
  });

  it('alarms and devices page with a cursor too, and say their total', async () => {
    type AlarmPage = { alarms: Alarm[]; total: number; nextCursor: string | null };
    const first = (await call('GET', '/api/alarms?limit=1', admin())).body as AlarmPage;
    expect([first.alarms.length, first.total]).toEqual([1, 2]);
    const second = (await call('GET', `/api/alarms?limit=1&cursor=${first.nextCursor}`, admin()))
      .body as AlarmPage;
    expect([second.alarms.length, second.total, second.nextCursor]).toEqual([1, 2, null]);
    expect(new Set([...first.alarms, ...second.alarms].map((a) => a.dev))).toEqual(new Set(['co-a', 'co-b']));
    expect((await call('GET', '/api/alarms?cursor=nonsense', admin())).status).toBe(400);

    type DevicePage = { devices: { id: string }[]; total: number; nextCursor: string | null };
    const d1 = (await call('GET', '/api/devices?limit=1', admin())).body as DevicePage;
    const d2 = (await call('GET', `/api/devices?limit=1&cursor=${d1.nextCursor}`, admin()))
      .body as DevicePage;
    expect([d1.devices.map((d) => d.id), d2.devices.map((d) => d.id), d2.total, d2.nextCursor]).toEqual([
      ['co-a'],
      ['co-b'],
      2,
      null,
    ]);
    // Scoped: township A's operator counts A's only.
    expect(((await call('GET', '/api/alarms', bearer(operatorA))).body as AlarmPage).total).toBe(1);
  });

  it('/api/devices?area= narrows to an area and those within it; each row names its area', async () => {
    type DevicePage = { devices: { id: string; area: string | null }[]; total: number };
    const ids = async (qs: string, who = admin()) => {
      const r = await call('GET', `/api/devices${qs}`, who);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const page = r.body as DevicePage;
      return [page.devices.map((d) => `${d.id}@${d.area}`), page.total];
    };
    expect(await ids('')).toEqual([['co-a@tw-a', 'co-b@tw-b'], 2]);
    expect(await ids('?area=tw-b')).toEqual([['co-b@tw-b'], 1]);
    expect(await ids('?area=county')).toEqual([['co-a@tw-a', 'co-b@tw-b'], 2]);
    expect(await ids('?area=v-a1')).toEqual([[], 0]);
    expect(await ids('?area=tw-a', bearer(operatorA))).toEqual([['co-a@tw-a'], 1]);
    // An area the caller does not see is no area to it: the same answer as one that does not exist.
    for (const [qs, who] of [
      ['?area=tw-b', bearer(operatorA)],
      ['?area=nowhere', admin()],
    ] as const) {
      const r = await call('GET', `/api/devices${qs}`, who);
      expect([r.status, (r.body as { error: string }).error]).toEqual([400, 'unknown_area']);
    }
  });

  it('/api/devices/:id gives the alarm profile it runs and its set points', async () => {
    const r = await call('GET', '/api/devices/co-a', admin());
    expect(r.status).toBe(200);
    // A household CO detector on the default standard, EN 50291: the slow tier's dose, the fast tier.
    expect(r.body).toMatchObject({
      id: 'co-a',
      area: 'tw-a',
      alarmProfile: 'en50291',
      setPoints: [
        { key: 'CO:dose', gas: 'CO', severity: 'critical', kind: 'dose', op: '>=', value: 40, unit: 'ppm' },
        { key: 'CO:fast', gas: 'CO', severity: 'critical', kind: 'level', op: '>=', value: 300, unit: 'ppm' },
      ],
    });
  });

  it('/api/live never sends township B’s events to township A', async () => {
    const { default: WebSocket } = await import('ws');
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/live`, { headers: bearer(viewerA) });
    const got: { type: string; data: { dev?: string } }[] = [];
    ws.on('message', (m) => got.push(JSON.parse(String(m))));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const now = Date.now();
    await publishReading(gateway, 'gw-access', 'co-b', reading(100, now, { CO: 5 }));
    await publishReading(gateway, 'gw-access', 'co-a', reading(100, now, { CO: 5 }));
    await waitFor(
      async () => got.some((m) => m.type === 'reading' && m.data.dev === 'co-a'),
      'A’s reading live',
    );
    ws.close();
    expect(got.filter((m) => m.data.dev === 'co-b')).toEqual([]);
  });

  it('an admin of an area cannot give powers beyond it', async () => {
    const adminA = await mintToken(server.app.db, 'admin', 'tw-a');
    const everyArea = await call('POST', '/api/users', bearer(adminA), {
      username: 'zhao',
      role: 'admin',
      area: null,
    });
    expect([everyArea.status, (everyArea.body as { error: string }).error]).toEqual([
      400,
      'area_not_assignable',
    ]);
    const otherArea = await call('POST', '/api/tokens', bearer(adminA), {
      name: 'x',
      role: 'viewer',
      area: 'tw-b',
    });
    expect(otherArea.status).toBe(400);
    const ok = await call('POST', '/api/users', bearer(adminA), {
      username: 'zhao',
      role: 'operator',
      area: 'v-a1',
    });
    expect(ok.status).toBe(201);
    expect((ok.body as { password: string }).password).toMatch(/^\S{16,}$/);
  });
});

describe('gateways through the API', () => {
  it('an admin provisions a gateway (password once), which connects; revoked, it cannot', async () => {
    const made = await call('POST', '/api/gateways', admin(), { id: 'gw-api', area: 'tw-a' });
    expect(made.status).toBe(201);
    const { password } = made.body as { password: string };
    expect(password).toMatch(/^\S{16,}$/);
    const login = { clientId: 'gw-api', username: 'gw-api', password, reconnectPeriod: 0 };
    const gw = await connectClient(server.mqttUrl, login);
    await gw.endAsync();
    // Its area's operator sees it, with its login and never a password or hash.
    const seen = (await call('GET', '/api/gateways', bearer(operatorA))).body as {
      gateways: { id: string; login: unknown }[];
    };
    expect(seen.gateways.find((g) => g.id === 'gw-api')).toMatchObject({
      login: { area: 'tw-a', revokedAt: null },
    });
    expect(JSON.stringify(seen)).not.toMatch(/\$7\$|password/);
    // An admin of another township neither sees nor revokes it.
    const adminB = await mintToken(server.app.db, 'admin', 'tw-b');
    expect((await call('DELETE', '/api/gateways/gw-api', bearer(adminB))).status).toBe(404);
    expect((await call('POST', '/api/gateways', bearer(adminB), { id: 'gw-x', area: 'tw-a' })).status).toBe(
      400,
    );

    expect((await call('DELETE', '/api/gateways/gw-api', admin())).status).toBe(200);
    await expect(connectClient(server.mqttUrl, login)).rejects.toThrow();
    const audit = (await call('GET', '/api/audit?targetKind=gateway&targetId=gw-api', admin())).body as {
      entries: { action: string }[];
    };
    expect(audit.entries.map((e) => e.action)).toEqual(['gateway.revoke', 'gateway.provision']);
  });
});

describe('users, tokens and the audit log', () => {
  it('a token is shown once, works as its role, and stops at once when revoked', async () => {
    const made = await call('POST', '/api/tokens', admin(), { name: 'prometheus', role: 'viewer' });
    expect(made.status).toBe(201);
    const { token: t, secret } = made.body as { token: { id: string }; secret: string };
    expect((await call('GET', '/metrics', bearer(secret))).status).toBe(200);
    const listed = JSON.stringify((await call('GET', '/api/tokens', admin())).body);
    expect(listed).toContain(t.id);
    expect(listed).not.toContain(secret);
    expect((await call('DELETE', `/api/tokens/${t.id}`, admin())).status).toBe(200);
    expect((await call('GET', '/metrics', bearer(secret))).status).toBe(401);
  });

  it('a disabled user cannot log in and their sessions end; the last admin cannot be demoted', async () => {
    await userWithPassword('qian', 'operator', null, 'qian password 1');
    const s = await login('qian', 'qian password 1');
    expect(s.status).toBe(200);
    expect((await call('PATCH', '/api/users/qian', admin(), { disabled: true })).status).toBe(200);
    expect((await call('GET', '/api/session', { cookie: s.cookie })).status).toBe(401);
    expect((await login('qian', 'qian password 1')).status).toBe(401);

    await userWithPassword('sole-admin', 'admin', null, 'sole admin password');
    const others = (
      (await call('GET', '/api/users?limit=500', admin())).body as {
        users: { username: string; role: string; area: string | null }[];
      }
    ).users;
    expect(others.filter((u) => u.role === 'admin' && u.area === null).map((u) => u.username)).toEqual([
      'sole-admin',
    ]);
    const demote = await call('PATCH', '/api/users/sole-admin', admin(), { role: 'viewer' });
    expect([demote.status, (demote.body as { error: string }).error]).toEqual([409, 'last_admin']);
  });

  it('the audit log has every change, who made it and before/after, never a secret; admins only', async () => {
    const log = (await call('GET', '/api/audit?limit=1000', admin())).body as {
      entries: { action: string; target: { id: string }; before: unknown; after: unknown }[];
      total: number;
    };
    const actions = log.entries.map((e) => `${e.action} ${e.target.id}`);
    expect(actions).toEqual(
      expect.arrayContaining(['area.create tw-a', 'user.create zhao', 'user.change qian']),
    );
    expect(actions.some((a) => a.startsWith('alarm.acknowledge '))).toBe(true);
    expect(actions.some((a) => a.startsWith('token.revoke '))).toBe(true);
    expect(log.entries.find((e) => e.action === 'user.change')).toMatchObject({
      before: { disabled: false },
      after: { disabled: true },
    });
    expect(JSON.stringify(log)).not.toMatch(/argon2|password_hash|secret_hash/);
    expect(log.total).toBe(log.entries.length);
    expect((await call('GET', '/api/audit', bearer(token.supervisor ?? ''))).status).toBe(403);
  });
});

describe('behind a reverse proxy that terminates TLS', () => {
  it('marks the cookie Secure when the trusted proxy says the request came over HTTPS', async () => {
    const proxied = await startTestServer({ TRUST_PROXY: '127.0.0.1' });
    try {
      await insertUser(proxied.app.db, {
        username: 'sun',
        displayName: 'Sun',
        role: 'viewer',
        area: null,
        passwordHash: await hashPassword('sun password 1'),
        now: Date.now(),
      });
      const res = await proxied.app.inject({
        method: 'POST',
        url: '/api/session',
        headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
        payload: JSON.stringify({ username: 'sun', password: 'sun password 1' }),
      });
      expect(res.statusCode).toBe(200);
      expect(String([res.headers['set-cookie']].flat()[0])).toMatch(/; Secure/);
    } finally {
      await proxied.close();
    }
  });
});

describe('HTTPS with TLS_CERT and TLS_KEY', () => {
  it('serves the API over TLS, and the session cookie is Secure', async () => {
    const { createTestCa } = await import('@gaswatch/shared/testing');
    const { request } = await import('node:https');
    const { readFileSync } = await import('node:fs');
    const ca = createTestCa(join(tmp.dir, 'pki'), 'https');
    const cert = ca.issue('127.0.0.1', 'server');
    const secure = await startTestServer(
      { TLS_CERT: cert.cert, TLS_KEY: cert.key },
      join(tmp.dir, 'https-data'),
    );
    try {
      await insertUser(secure.app.db, {
        username: 'li',
        displayName: 'Li',
        role: 'viewer',
        area: null,
        passwordHash: await hashPassword('li password 12'),
        now: Date.now(),
      });
      const port = new URL(secure.url).port;
      const body = JSON.stringify({ username: 'li', password: 'li password 12' });
      const answer = await new Promise<{ status: number; cookie: string }>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            path: '/api/session',
            method: 'POST',
            ca: readFileSync(ca.cert),
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            res.resume();
            resolve({ status: res.statusCode ?? 0, cookie: String(res.headers['set-cookie']?.[0]) });
          },
        );
        req.once('error', reject);
        req.end(body);
      });
      expect(answer.status).toBe(200);
      expect(answer.cookie).toMatch(/; Secure/);
      // Plain HTTP on the same port is not served.
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    } finally {
      await secure.close();
    }
  });
});
