/**
 * The Modbus TCP driver against a server that misbehaves the ways a real one can: an answer that
 * comes after its request timed out (and arrives in one chunk with the next answer), and answers
 * cut into single bytes. A late answer must never be read as the answer to a later request.
 */
import { createServer, type Socket } from 'node:net';
import { freePort } from '@gaswatch/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock.js';
import { ModbusTcpBusSchema } from '../src/config.js';
import { createDriver, type Driver } from '../src/drivers/index.js';
import { TimeoutError } from '../src/errors.js';
import { driverDevice } from './helpers/devices.js';
import { testLogger } from './helpers/log.js';

type Mode = 'normal' | 'hold-first' | 'bytewise';

/** Answers function 3 reads with register 0 = `co` (0.1 ppm per count), the others 0. */
async function startServer() {
  const port = await freePort();
  const state = { mode: 'normal' as Mode, co: 0, held: undefined as Buffer | undefined, requests: 0 };
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    let rx = Buffer.alloc(0);
    s.on('data', (chunk) => {
      rx = Buffer.concat([rx, chunk]);
      while (rx.length >= 12) {
        const req = rx.subarray(0, 12);
        rx = rx.subarray(12);
        state.requests++;
        const count = req.readUInt16BE(10);
        const ans = Buffer.alloc(9 + count * 2);
        req.copy(ans, 0, 0, 4); // transaction id, protocol
        ans.writeUInt16BE(3 + count * 2, 4);
        ans[6] = req[6]!;
        ans[7] = 3;
        ans[8] = count * 2;
        if (req.readUInt16BE(8) === 0) ans.writeUInt16BE(state.co, 9);
        if (state.mode === 'hold-first' && !state.held) state.held = ans;
        else if (state.mode === 'hold-first') {
          s.write(Buffer.concat([state.held!, ans])); // the late answer and this one, one chunk
          state.mode = 'normal';
          state.held = undefined;
        } else if (state.mode === 'bytewise') for (const b of ans) s.write(Buffer.from([b]));
        else s.write(ans);
      }
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    port,
    state,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('modbus-tcp driver with an awkward server', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let driver: Driver;
  const dev = driverDevice('co', 1, 'gaswatch-co', { timeoutMs: 150, retries: 0 });

  beforeAll(async () => {
    server = await startServer();
    driver = createDriver(
      ModbusTcpBusSchema.parse({
        id: 'tcp-awkward',
        type: 'modbus-tcp',
        host: '127.0.0.1',
        port: server.port,
        devices: [{ id: 'co', unit: 1, profile: 'gaswatch-co', site: 's', location: 'l' }],
      }),
      { logger: testLogger(), clock: systemClock },
    );
    await driver.start();
  });
  afterAll(async () => {
    await driver?.stop();
    await server?.stop();
  });

  it('an answer that comes after its timeout is not taken for the next request', async () => {
    server.state.co = 111;
    server.state.mode = 'hold-first';
    await expect(driver.read(dev)).rejects.toBeInstanceOf(TimeoutError);
    server.state.co = 222;
    // The held answer (11.1 ppm) arrives in the same chunk as this request's own.
    expect((await driver.read(dev)).values.CO).toBeCloseTo(22.2, 5);
    expect((await driver.read(dev)).values.CO).toBeCloseTo(22.2, 5);
  });

  it('answers cut into single bytes are joined', async () => {
    server.state.co = 333;
    server.state.mode = 'bytewise';
    const reads = await Promise.all([driver.read(dev), driver.read(dev), driver.read(dev)]);
    expect(reads.map((r) => r.values.CO)).toEqual([33.3, 33.3, 33.3]);
    server.state.mode = 'normal';
  });

  it('requests queued behind a dead connection fail with the port error, none hangs', async () => {
    const before = server.state.requests;
    server.state.mode = 'hold-first'; // the first request is never answered before the close
    const reads = [driver.read(dev), driver.read(dev), driver.read(dev)].map((p) =>
      p.then(
        () => 'read',
        (e: Error) => (e as { code?: string }).code,
      ),
    );
    while (server.state.requests === before) await new Promise((r) => setTimeout(r, 5));
    await server.stop().then(() => undefined);
    expect(await Promise.all(reads)).toEqual(['port_unavailable', 'port_unavailable', 'port_unavailable']);
  });
});
