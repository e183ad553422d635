/**
 * An outbox the disk has damaged: an unreadable record, a read error. Nothing queued behind the
 * damage may be lost, and the gateway (its local alarms with it) must keep running.
 */
import { Writable } from 'node:stream';
import { waitFor } from '@gaswatch/shared/testing';
import { ClassicLevel } from 'classic-level';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createForwarder } from '../src/forwarder.js';
import { createOutbox, type Outbox } from '../src/outbox.js';
import { createUplink } from '../src/uplink.js';
import { startAedes } from './helpers/broker.js';
import { makeConfig, type TestDir, tempDir } from './helpers/config.js';
import { failingBatches, failingReads } from './helpers/level-faults.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A logger whose lines the test can read. */
function capturingLogger() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

async function openOutbox(dir: string, logger = pino({ level: 'silent' })): Promise<Outbox> {
  const o = createOutbox({ dir, maxReadings: 1000, logger });
  await o.start();
  cleanup.push(() => o.stop());
  return o;
}

/** Writes records straight into the outbox's LevelDB, as a damaged card leaves them. */
async function writeRaw(dir: string, records: Record<string, string>): Promise<void> {
  const raw = new ClassicLevel<string, string>(dir, { valueEncoding: 'utf8' });
  await raw.batch(Object.entries(records).map(([key, value]) => ({ type: 'put' as const, key, value })));
  await raw.close();
}

function tmp(): TestDir {
  const t = tempDir('gw-outbox-damage-');
  cleanup.push(() => t.remove());
  return t;
}

describe('outbox damaged on disk', () => {
  it('moves unreadable records aside and logs them; what is queued behind them is still sent', async () => {
    const { dir } = tmp();
    // What a damaged card leaves: a truncated reading, an event that is not JSON, a seq of garbage.
    await writeRaw(dir, {
      'r!0000000000000000': '{"t":"gaswatch/v1/gw/co1/reading","p":"{\\"v\\":1,',
      'r!0000000000000001': JSON.stringify({ t: 't/co1', p: '{"seq":41}' }),
      'e!0000000000000002': '\u0000\u0013garbage',
      's!co1': '41',
      's!co2': 'not a number',
    });

    const { logger, lines } = capturingLogger();
    const o = await openOutbox(dir, logger);
    expect(o.depth).toBe(2);
    expect(await o.appendReading('co1', (seq) => ({ topic: 't/co1', payload: `{"seq":${seq}}` }))).toBe(42);
    expect(await o.appendReading('co2', (seq) => ({ topic: 't/co2', payload: `{"seq":${seq}}` }))).toBe(0);

    const sent: string[] = [];
    for (let e = await o.take(); e; e = await o.take()) {
      sent.push(e.payload);
      await o.ack(e);
    }
    expect(sent).toEqual(['{"seq":41}', '{"seq":42}', '{"seq":0}']);
    expect(o.depth).toBe(0);
    expect(o.quarantined).toBe(2);
    const moved = lines.filter((l) => l.msg.startsWith('outbox records unreadable'));
    expect(moved.flatMap((l) => l.keys)).toEqual(['e!0000000000000002', 'r!0000000000000000']);
    expect(lines.some((l) => l.level === 50 && l.key === 's!co2')).toBe(true);

    // Kept for inspection, and still counted after a restart.
    await o.stop();
    cleanup.pop();
    const again = await openOutbox(dir);
    expect(again.quarantined).toBe(2);
    expect(again.depth).toBe(0);
    await again.stop();
    cleanup.pop();
    const check = new ClassicLevel<string, string>(dir, { valueEncoding: 'utf8' });
    expect(await check.get('x!r!0000000000000000')).toContain('"p":"{\\"v\\":1,');
    await check.close();
  });

  it('records that cannot be moved aside either are skipped, not sent, and not counted as waiting', async () => {
    const { dir } = tmp();
    await writeRaw(dir, {
      'r!0000000000000000': '{"t":"t/co1","p":',
      'r!0000000000000001': JSON.stringify({ t: 't/co1', p: 'ok' }),
      'e!0000000000000002': 'garbage',
    });
    cleanup.push(failingBatches((ops) => ops.some((o) => o.key.startsWith('x!'))));
    const { logger, lines } = capturingLogger();
    const o = await openOutbox(dir, logger); // starts although the bad event cannot be moved aside
    expect(o.depth).toBe(2);
    const e = await o.take();
    expect(e?.payload).toBe('ok');
    expect(o.depth, 'only the good reading is waiting').toBe(1);
    await o.ack(e!);
    expect(await o.take()).toBeUndefined();
    expect(o.depth).toBe(0);
    expect(o.quarantined).toBe(0);
    expect(lines.filter((l) => l.msg.includes('moving them aside failed')).map((l) => l.keys)).toEqual([
      ['e!0000000000000002'],
      ['r!0000000000000000'],
    ]);
  });

  it('a read error does not stop the gateway: the forwarder logs it, reads again and sends everything', async () => {
    const broker = await startAedes();
    cleanup.push(() => broker.stop());
    const { dir } = tmp();
    const { logger, lines } = capturingLogger();
    const outbox = await openOutbox(dir, logger);
    for (let i = 0; i < 5; i++)
      await outbox.appendReading('co1', (seq) => ({ topic: 'gaswatch-test/co1', payload: `${seq}` }));

    const got: string[] = [];
    const sub = await mqtt.connectAsync(broker.url);
    cleanup.push(() => sub.endAsync());
    sub.on('message', (_t, p) => got.push(p.toString()));
    await sub.subscribeAsync('gaswatch-test/#', { qos: 1 });

    const config = makeConfig({
      url: broker.url,
      outboxDir: dir,
      buses: [
        {
          id: 'tcp-0',
          type: 'modbus-tcp',
          host: '127.0.0.1',
          devices: [{ id: 'co1', profile: 'gaswatch-co', site: 's', location: 'l' }],
        },
      ],
    });
    const uplink = createUplink({ config, logger });
    uplink.start();
    cleanup.push(() => uplink.stop());
    expect(await uplink.waitConnected(5_000)).toBe(true);

    cleanup.push(failingReads(3));
    const forwarder = createForwarder({ outbox, uplink, logger, ratePerS: 1000, maxInflight: 10 });
    const startedAt = Date.now();
    forwarder.start();
    cleanup.push(() => forwarder.stop());
    // New readings kick the forwarder; while it backs off they must not make it read again.
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 100));
      forwarder.kick();
    }
    const errors = () => lines.filter((l) => l.msg === 'could not read the outbox; trying again');
    await waitFor(() => errors().length === 2, 'the second read error', 5_000, 20);
    // A local alarm meanwhile: events are held in memory and go out at once, not after the back-off.
    const alarmAt = Date.now();
    await outbox.appendEvent('gaswatch-test/event', 'alarm');
    forwarder.kick();
    await waitFor(() => got.includes('alarm'), 'the alarm event', 10_000, 10);
    expect(Date.now() - alarmAt, 'the event did not wait for the 2 s retry').toBeLessThan(1_000);

    await waitFor(() => got.length >= 6, 'every reading sent after the read errors', 15_000);
    expect(got).toEqual(['alarm', '0', '1', '2', '3', '4']);
    expect(Date.now() - startedAt, 'after the 1, 2 and 4 s back-off').toBeGreaterThanOrEqual(6_900);
    expect(errors().map((l) => l.retryInMs)).toEqual([1000, 2000, 4000]);
    await waitFor(() => outbox.depth === 0, 'outbox empty', 5_000);
  });
});
