import { createHmac } from 'node:crypto';
import { waitFor } from '@gaswatch/shared/testing';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { GaswatchConfigSchema } from '../../src/alarms/config-schema.js';
import { NotifyError } from '../../src/notify/channel.js';
import { createWebhookChannel, signBody } from '../../src/notify/webhook.js';
import { realTimers } from '../../src/timers.js';
import {
  accepted,
  deviceState,
  feed,
  MIN,
  makeRig,
  manualTime,
  type Received,
  type Rig,
  series,
  startReceiver,
  T0,
} from './helpers.js';

const SECRET = 'a-long-shared-webhook-secret';
const quiet = pino({ level: 'silent' });

function verify(r: Received): boolean {
  const expected = `sha256=${createHmac('sha256', SECRET).update(r.raw).digest('hex')}`;
  return r.headers['x-gaswatch-signature'] === expected;
}

function escalationConfig(url: string) {
  return {
    channels: { ops: { type: 'webhook', url, secret: SECRET, retries: 2, backoffMs: 1000 } },
    sites: {
      home: {
        coStandard: 'en50291',
        tiers: [
          { name: 'residents', contacts: [{ name: 'resident', channel: 'ops', to: '+8613800000000' }] },
          { name: 'duty', contacts: [{ name: 'duty officer', channel: 'ops' }] },
          { name: 'manager', contacts: [{ name: 'property manager', channel: 'ops' }] },
        ],
      },
    },
  };
}

describe('escalation up the contact tiers', () => {
  let rig: Rig | undefined;
  let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
  afterEach(async () => {
    await rig?.close();
    await receiver?.close();
    rig = undefined;
    receiver = undefined;
  });

  it('tier 1 at once; nobody acks → tier 2 exactly after ackTimeout (120 s critical); ack stops it and silences the gateway', async () => {
    receiver = await startReceiver();
    const time = manualTime(T0);
    rig = await makeRig(escalationConfig(receiver.url), { clock: time.clock, timers: time.timers });
    // Poll interval 1 h: no offline alarm while simulated minutes pass.
    const state = deviceState('household-co', 'home', 3600);
    await feed(rig.store, rig.bus, series('gw-1', 'co-1', state, T0 - 3 * MIN, T0, 10, { CO: 400 }));
    await rig.engine.idle();

    const [alarm] = rig.engine.list();
    expect(alarm).toMatchObject({ key: 'CO:fast', severity: 'critical', tier: 1 });
    expect(receiver.received).toHaveLength(1);
    const first = receiver.received[0] as Received;
    expect(verify(first)).toBe(true);
    expect(first.headers['content-type']).toBe('application/json');
    expect(first.body).toMatchObject({
      v: 1,
      reason: 'raised',
      alarmId: alarm?.id,
      tier: 1,
      tierName: 'residents',
      contact: { name: 'resident', to: '+8613800000000' },
      dev: 'co-1',
      site: 'home',
      severity: 'critical',
    });

    time.advance(119_000);
    await rig.engine.idle();
    expect(receiver.received).toHaveLength(1);

    time.advance(1_000);
    await rig.engine.idle();
    expect(receiver.received).toHaveLength(2);
    const second = receiver.received[1] as Received;
    expect(verify(second)).toBe(true);
    expect(second.body).toMatchObject({ reason: 'escalated', tier: 2, contact: { name: 'duty officer' } });
    expect(rig.engine.get(alarm?.id ?? '')?.tier).toBe(2);

    const ack = await rig.engine.acknowledge(alarm?.id ?? '', {
      actor: 'duty officer',
      note: 'on site in 5 min',
    });
    expect(ack.silence.sent).toBe(true);
    expect(rig.commands.map((c) => c.cmd)).toEqual([
      { v: 1, id: ack.silence.id, type: 'silence', device: 'co-1', alarmId: alarm?.id },
    ]);
    time.advance(3_600_000);
    await rig.engine.idle();
    expect(receiver.received).toHaveLength(2);
    expect(time.pendingCount()).toBeLessThanOrEqual(1); // only the offline sweep stays scheduled

    const text = await rig.registry.metrics();
    expect(text).toMatch(/gaswatch_alarm_escalations_total\{tier="1",severity="critical"\} 1/);
    expect(text).toMatch(/gaswatch_alarm_escalations_total\{tier="2",severity="critical"\} 1/);
    expect(text).toMatch(/gaswatch_notifications_sent_total\{channel="ops"\} 2/);
    expect(text).toMatch(/gaswatch_alarms_open\{severity="critical",state="acknowledged"\} 1/);
    expect(text).toMatch(/gaswatch_silence_commands_total\{result="sent"\} 1/);
  });

  it.each([
    { who: 'an elderly woman living alone', flags: ['elderly_alone'], config: {}, tier2: 60_000 },
    {
      who: 'a family with an infant (not shortened by default)',
      flags: ['infant'],
      config: {},
      tier2: 120_000,
    },
    { who: 'an unregistered place', flags: [], config: {}, tier2: 120_000 },
    {
      who: 'a bedridden man, the site configured for infants too',
      flags: ['infant', 'bedridden'],
      config: { vulnerableAckTimeout: { infant: { critical: 90 }, bedridden: { critical: 45 } } },
      tier2: 45_000,
    },
    {
      who: 'her home, with the shortening turned off',
      flags: ['elderly_alone'],
      config: { vulnerableAckTimeout: {} },
      tier2: 120_000,
    },
  ] as const)('tier 2 for the home of $who: after $tier2 ms', async ({ flags, config, tier2 }) => {
    receiver = await startReceiver();
    const time = manualTime(T0);
    const raw = escalationConfig(receiver.url);
    rig = await makeRig(
      { ...raw, defaults: config },
      { clock: time.clock, timers: time.timers, vulnerableOf: (dev) => (dev === 'co-1' ? flags : []) },
    );
    const state = deviceState('household-co', 'home', 3600);
    await feed(rig.store, rig.bus, series('gw-1', 'co-1', state, T0 - 3 * MIN, T0, 10, { CO: 400 }));
    await rig.engine.idle();
    const [alarm] = rig.engine.list();
    // The response card says so too.
    expect(alarm && rig.engine.responseInfo(alarm).escalation.next).toEqual({ tier: 2, at: T0 + tier2 });
    time.advance(tier2 - 1_000);
    await rig.engine.idle();
    expect(receiver.received.map((r) => r.body.tier)).toEqual([1]);
    time.advance(1_000);
    await rig.engine.idle();
    expect(receiver.received.map((r) => r.body.tier)).toEqual([1, 2]);
  });

  it('a restart resumes escalation from the last tier notified instead of starting over', async () => {
    receiver = await startReceiver();
    const time = manualTime(T0);
    const state = deviceState('household-co', 'home', 3600);
    // Core's device registry tells the restarted engine the poll interval (no false offline alarm).
    const devices = { all: () => [{ gw: 'gw-1', dev: 'co-2', state, lastSeen: T0 }] };
    rig = await makeRig(escalationConfig(receiver.url), { clock: time.clock, timers: time.timers, devices });
    await feed(rig.store, rig.bus, series('gw-1', 'co-2', state, T0 - 3 * MIN, T0, 10, { CO: 400 }));
    await rig.engine.idle();
    time.advance(60_000);
    await rig.restart();
    await rig.engine.idle();
    expect(receiver.received.map((r) => r.body.tier)).toEqual([1]);
    time.advance(59_000);
    await rig.engine.idle();
    expect(receiver.received.map((r) => r.body.tier)).toEqual([1]);
    time.advance(1_000);
    await rig.engine.idle();
    expect(receiver.received.map((r) => r.body.tier)).toEqual([1, 2]);
    time.advance(120_000);
    await rig.engine.idle();
    expect(receiver.received.map((r) => r.body.tier)).toEqual([1, 2, 3]);
    // Top of the chain reached: it is told again every 120 s until someone acknowledges (issue 15:
    // the top step never goes silent), a chain written as `tiers` too.
    time.advance(119_000);
    await rig.engine.idle();
    expect(receiver.received).toHaveLength(3);
    time.advance(1_000);
    await rig.engine.idle();
    expect(receiver.received.map((r) => [r.body.tier, r.body.reason])).toEqual([
      [1, 'raised'],
      [2, 'escalated'],
      [3, 'escalated'],
      [3, 'repeated'],
    ]);
  });

  it('a webhook that never answers does not hold up the engine; the failure is counted', async () => {
    receiver = await startReceiver(() => 'hang');
    const config = escalationConfig(receiver.url);
    // Long enough that each attempt reaches the receiver on a loaded machine before it times out.
    Object.assign(config.channels.ops, { timeoutMs: 1_000, retries: 1, backoffMs: 10 });
    rig = await makeRig(config, { clock: Date.now, timers: realTimers });
    const state = deviceState('household-co', 'home', 3600);
    const now = Date.now();
    await feed(rig.store, rig.bus, series('gw-1', 'co-3', state, now - 3 * MIN, now, 10, { CO: 400 }));
    // The alarm is raised and acknowledged while the webhook still hangs.
    await waitFor(() => rig?.engine.list().length === 1, 'alarm raised');
    const [alarm] = rig.engine.list();
    const ack = await rig.engine.acknowledge(alarm?.id ?? '', { actor: 'api', note: '' });
    expect(ack.alarm.state).toBe('acknowledged');
    await waitFor(
      async () => /notifications_failed_total\{channel="ops"\} 1/.test(await rig!.registry.metrics()),
      'failure counted',
    );
    expect(receiver.received.length).toBe(2);
    expect(await rig.registry.metrics()).toMatch(/gaswatch_notification_retries_total\{channel="ops"\} 1/);
  });
});

describe('a latched alarm whose condition comes back (new episode)', () => {
  let rig: Rig | undefined;
  let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
  afterEach(async () => {
    await rig?.close();
    await receiver?.close();
    rig = undefined;
    receiver = undefined;
  });

  it('is notified again from tier 1 with a new delivery id, escalates again, and a flapping condition cannot flood tier 1', async () => {
    receiver = await startReceiver();
    const time = manualTime(T0);
    const config = {
      channels: { ops: { type: 'webhook', url: receiver.url, secret: SECRET } },
      defaults: {
        tiers: [
          { name: 'residents', contacts: [{ name: 'resident', channel: 'ops' }] },
          { name: 'duty', contacts: [{ name: 'duty officer', channel: 'ops' }] },
        ],
        // Told once at the top: this test counts the episodes' messages, not the repeats.
        repeatS: false,
      },
    };
    rig = await makeRig(config, { clock: time.clock, timers: time.timers });
    const r = rig;
    const st = deviceState('household-co', 'home', 3600);
    let seq = 0;
    /** The detector's own alarm output at event time `ts` (critical `detector` condition). */
    const output = async (on: boolean) => {
      const now = time.clock();
      await feed(r.store, r.bus, [accepted('gw-1', 'co-9', st, now, seq++, { CO: 0 }, { alarm: on })]);
      await r.engine.idle();
    };
    const advance = async (ms: number) => {
      time.advance(ms);
      await r.engine.idle();
    };
    const sent = () =>
      (receiver?.received ?? [])
        .filter((x) => x.body.key === 'detector')
        .map((x) => `${x.body.reason}:t${x.body.tier}:${x.headers['x-gaswatch-delivery']}`);

    // Episode 1: on for a minute; nobody answers, both tiers are told; then it latches.
    await output(true);
    const [alarm] = rig.engine.list();
    const id = alarm?.id ?? '';
    await advance(MIN);
    await output(false);
    await advance(9 * MIN);
    expect(rig.engine.get(id)?.state).toBe('cleared_unacked');
    expect(sent()).toEqual([`raised:t1:${id}.t1.c0`, `escalated:t2:${id}.t2.c0`]);

    // Five hours later, still latched and unacknowledged: the detector alarms again.
    await advance(5 * 60 * MIN);
    await output(true);
    expect(rig.engine.get(id)).toMatchObject({ state: 'active', episode: 2, tier: 1 });
    expect(sent().slice(2)).toEqual([`reraised:t1:${id}.e2.t1.c0`]);
    await advance(120_000);
    expect(sent().slice(2)).toEqual([`reraised:t1:${id}.e2.t1.c0`, `escalated:t2:${id}.e2.t2.c0`]);
    expect(
      receiver.received.find((x) => x.headers['x-gaswatch-delivery'] === `${id}.e2.t1.c0`)?.body,
    ).toMatchObject({ episode: 2, state: 'active', alarmId: id });

    // Flapping right after the top tier was told: tier 1 again only once an ackTimeout has passed.
    await advance(10_000);
    await output(false);
    await advance(10_000);
    await output(true);
    expect(sent()).toHaveLength(4);
    await advance(100_000 - 1);
    expect(sent()).toHaveLength(4);
    await advance(1);
    expect(sent().slice(4)).toEqual([`reraised:t1:${id}.e3.t1.c0`]);

    // Flapping while escalation climbs: it carries on to tier 2 on time, no extra tier-1 message.
    await advance(30_000);
    await output(false);
    await advance(10_000);
    await output(true);
    expect(sent()).toHaveLength(5);
    await advance(80_000);
    expect(sent().slice(5)).toEqual([`escalated:t2:${id}.e4.t2.c0`]);

    // Acknowledged: nothing more, whatever the detector does.
    await rig.engine.acknowledge(id, { actor: 'duty', note: '' });
    await output(false);
    await advance(60 * MIN);
    expect(sent()).toHaveLength(6);
    expect(new Set(receiver.received.map((x) => x.headers['x-gaswatch-delivery'])).size).toBe(
      receiver.received.length,
    );
  });
});

describe('webhook channel', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });
  const notification = {
    id: 'a1.t1.c0',
    reason: 'raised' as const,
    alarmId: 'a1',
    episode: 1,
    tier: 1,
    contact: { name: 'x' },
    site: 'home',
    gw: 'gw-1',
    dev: 'co-1',
    state: 'active',
    severity: 'critical' as const,
    rule: 'en50291-fast',
    key: 'CO:fast',
    value: 400,
    threshold: 300,
    message: 'CO 400 ppm',
    raisedAt: new Date(T0).toISOString(),
    late: false,
    sentAt: new Date(T0).toISOString(),
  };
  const channel = (url: string, extra: Record<string, unknown> = {}) =>
    createWebhookChannel({
      name: 'ops',
      config: GaswatchConfigSchema.parse({
        channels: { ops: { type: 'webhook', url, secret: SECRET, backoffMs: 10, ...extra } },
      }).channels.ops as never,
      logger: quiet,
      timers: realTimers,
    });

  it('retries 5xx with backoff and delivers the same signed body each time', async () => {
    receiver = await startReceiver((n) => (n < 2 ? 503 : 200));
    await channel(receiver.url, { retries: 3 }).send(notification);
    expect(receiver.received).toHaveLength(3);
    expect(new Set(receiver.received.map((r) => r.raw)).size).toBe(1);
    expect(receiver.received.every(verify)).toBe(true);
    expect(receiver.received[0]?.headers['x-gaswatch-delivery']).toBe('a1.t1.c0');
    expect(signBody(SECRET, receiver.received[0]?.raw ?? '')).toBe(
      receiver.received[0]?.headers['x-gaswatch-signature'],
    );
  });

  it('gives up after the configured retries with a NotifyError', async () => {
    receiver = await startReceiver(() => 500);
    const err = await channel(receiver.url, { retries: 2 })
      .send(notification)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotifyError);
    expect(err).toMatchObject({ code: 'webhook_failed', attempts: 3, status: 500 });
    expect(receiver.received).toHaveLength(3);
  });

  it('does not follow a redirect: a 301 is a failed attempt, retried, then given up (never a delivery)', async () => {
    const { createServer } = await import('node:http');
    const seen: string[] = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen.push(`${req.method} ${req.url}`);
        if (req.url === '/hook') res.writeHead(301, { location: '/hook/' }).end();
        else res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
    try {
      const err = await channel(`http://127.0.0.1:${port}/hook`, { retries: 2 })
        .send(notification)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotifyError);
      expect(err).toMatchObject({ code: 'webhook_failed', attempts: 3, status: 301 });
      expect((err as Error).message).toMatch(/301 redirect to \/hook\/ not followed/);
      expect(seen).toEqual(['POST /hook', 'POST /hook', 'POST /hook']);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('does not retry a 4xx refusal (other than 408/429)', async () => {
    receiver = await startReceiver(() => 401);
    await expect(channel(receiver.url, { retries: 3 }).send(notification)).rejects.toMatchObject({
      status: 401,
    });
    expect(receiver.received).toHaveLength(1);
  });

  it('times out a receiver that never answers', async () => {
    receiver = await startReceiver(() => 'hang');
    await expect(
      channel(receiver.url, { retries: 0, timeoutMs: 1_000 }).send(notification),
    ).rejects.toMatchObject({
      code: 'webhook_failed',
    });
    expect(receiver.received).toHaveLength(1);
  });

  it('does not buffer a huge answer: the body is read up to 64 KiB, then the connection is dropped', async () => {
    const { createServer } = await import('node:http');
    let finished = false;
    let closed = false;
    const chunk = Buffer.alloc(64 * 1024, 120);
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.on('finish', () => (finished = true));
        res.on('close', () => (closed = true));
        // 256 MiB, written as fast as the client takes it: a receiver gone wrong.
        let left = 4096;
        const pump = () => {
          while (left > 0 && !res.destroyed) {
            left--;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          if (left === 0) res.end();
        };
        pump();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
    try {
      await channel(`http://127.0.0.1:${port}/hook`, { retries: 0, timeoutMs: 60_000 }).send(notification);
      await waitFor(() => closed, 'the receiver sees the connection dropped', 20_000);
      expect(finished).toBe(false);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
