/**
 * Eight firmware-sim detectors on one RTU line, one of them dead: the seven others keep their poll
 * interval (counted readings), the dead one produces no reading at all and is reported offline.
 * The uplink is down the whole time: polling and the outbox need no broker.
 */
import { createDevice, createModbusRtuSlave } from '@gaswatch/firmware-sim';
import { freePort, type PtyPair, startPtyPair, waitFor } from '@gaswatch/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../src/gateway.js';
import { makeConfig, type TestDir, tempDir } from './helpers/config.js';
import { testLogger } from './helpers/log.js';

describe('one RTU bus, 8 detectors, one dead', () => {
  let pty: PtyPair;
  let slave: ReturnType<typeof createModbusRtuSlave>;
  let gateway: Gateway;
  let tmp: TestDir;
  const sims = Array.from({ length: 8 }, (_, i) =>
    createDevice({ id: `co${i + 1}`, profile: 'gaswatch-co', unit: i + 1 }),
  );
  const counts = new Map<string, number>();
  const values: number[] = [];
  let deadPolls = 0;

  beforeAll(async () => {
    tmp = tempDir();
    pty = await startPtyPair();
    sims.forEach((s, i) => {
      s.setConcentration('CO', 10 + i);
    });
    sims[7]!.setResponding(false);
    slave = createModbusRtuSlave({ path: pty.a, devices: sims, parity: 'even' });
    await slave.start();
    const config = makeConfig({
      url: `mqtt://127.0.0.1:${await freePort()}`, // nobody listens: uplink down
      outboxDir: `${tmp.dir}/outbox`,
      buses: [
        {
          id: 'rs485-0',
          type: 'modbus-rtu',
          path: pty.b,
          timeoutMs: 200,
          retries: 1,
          offlineAfter: 3,
          devices: sims.map((s) => ({
            id: s.id,
            unit: s.unit,
            profile: 'gaswatch-co',
            pollIntervalS: 1,
            site: 'site-a',
            location: s.id,
          })),
        },
      ],
    });
    gateway = createGateway({ config, logger: testLogger(), uplinkWaitMs: 200 });
    gateway.on('reading', (d, s) => {
      counts.set(d.config.id, (counts.get(d.config.id) ?? 0) + 1);
      if (d.config.id === 'co8') values.push(s.values.CO ?? -1);
    });
    gateway.on('failure', (d) => {
      if (d.config.id === 'co8') deadPolls++;
    });
    await gateway.start();
  });
  afterAll(async () => {
    await gateway?.stop();
    await slave?.stop();
    await pty?.stop();
    tmp?.remove();
  });

  it('the seven live detectors keep their 1 s interval; the dead one yields no reading and goes offline', async () => {
    await waitFor(
      () => sims.slice(0, 7).every((s) => (counts.get(s.id) ?? 0) >= 1),
      'first readings',
      10_000,
    );
    const before = new Map(counts);
    const windowMs = 8_000;
    const t0 = Date.now();
    await waitFor(() => Date.now() - t0 >= windowMs, 'counting window', windowMs + 2_000, 100);
    const per = sims.slice(0, 7).map((s) => (counts.get(s.id) ?? 0) - (before.get(s.id) ?? 0));
    // 1 s interval over 8 s: 8 polls each, allowing one either side for where the window cuts,
    // and one more below for a loaded machine (a poll more than an interval late is skipped).
    for (const n of per) {
      expect(n).toBeGreaterThanOrEqual(6);
      expect(n).toBeLessThanOrEqual(9);
    }
    expect(counts.get('co8') ?? 0).toBe(0);
    // Three failed polls make it offline; then it is polled only every offlinePollS (30 s).
    expect(deadPolls).toBeGreaterThanOrEqual(3);
    expect(deadPolls).toBeLessThanOrEqual(4);
    expect(values).toEqual([]);
    const dead = gateway.devices.get('co8')!;
    expect(dead.online).toBe(false);
    expect(dead.lastError).toMatch(/^timeout/);
    // Every reading taken went into the outbox (nothing was published: no broker).
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    expect(gateway.outbox.depth).toBe(total);
    // The dead detector's offline event waits in the outbox too.
    expect(gateway.status().outboxDepth).toBe(total);
  });

  it('a detector that comes back is polled again and comes back online', async () => {
    sims[7]!.setResponding(true);
    // Offline detectors are polled every offlinePollS (30 s); bring its next poll forward.
    const d = gateway.devices.get('co8')!;
    d.due = 0;
    await waitFor(() => (counts.get('co8') ?? 0) >= 1, 'co8 reading', 15_000);
    expect(values[0]).toBeCloseTo(17, 5);
    expect(d.online).toBe(true);
  });
});
