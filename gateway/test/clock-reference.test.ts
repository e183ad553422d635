/**
 * Clock sanity out of the box: the real server publishes its time on gaswatch/v1/time, and a
 * gateway with no clock settings at all compares its clock with it. A Pi that booted an hour
 * fast says so in its status; one with a good clock reports a skew near zero. Run over the
 * server's embedded broker and over an external Mosquitto (where the server is only a client).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDevice, createModbusTcpServer } from '@gaswatch/firmware-sim';
import { buildServer, loadConfig } from '@gaswatch/server';
import { type Mosquitto, startMosquitto, waitFor } from '@gaswatch/shared/testing';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../src/gateway.js';
import { scaledClock } from './helpers/clock.js';
import { makeConfig, oneTcpBus } from './helpers/config.js';
import { testLogger } from './helpers/log.js';

const HOUR_MS = 3_600_000;

for (const brokerKind of ['embedded', 'mosquitto'] as const) {
  describe(`gateway clock checked against the server's time (${brokerKind} broker)`, () => {
    let dir: string;
    let mosquitto: Mosquitto | undefined;
    let server: FastifyInstance;
    let sim: ReturnType<typeof createModbusTcpServer>;
    let simPort = 0;
    const gateways: Gateway[] = [];

    const startGateway = async (id: string, offsetMs: number, brokerUrl: string, port: number) => {
      // The embedded broker lets in only provisioned gateways (SPEC §9); the test Mosquitto anyone.
      const password = mosquitto
        ? undefined
        : (await server.gateways.provision({ id }, { actor: 'test', actorKind: 'system', address: null }))
            .password;
      const config = makeConfig({
        gatewayId: id,
        url: brokerUrl,
        ...(password === undefined ? {} : { password }),
        outboxDir: join(dir, `outbox-${id}`),
        buses: [oneTcpBus(port, { id: `${id}-co`, unit: 1, profile: 'gaswatch-co', pollIntervalS: 1 })],
      });
      // No `clock` section: the default reference is the server's time topic.
      const gw = createGateway({ config, logger: testLogger(), clock: scaledClock(1, offsetMs) });
      gateways.push(gw);
      await gw.start();
      return gw;
    };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'gw-clock-'));
      mosquitto = brokerKind === 'mosquitto' ? await startMosquitto() : undefined;
      const env: Record<string, string> = { PORT: '0', MQTT_PORT: '0', DATA_DIR: join(dir, 'server') };
      if (mosquitto) env.MQTT_URL = mosquitto.url;
      server = await buildServer({ config: loadConfig(env), logger: pino({ level: 'silent' }) });
      await server.listen({ port: 0, host: '127.0.0.1' });
      await waitFor(() => server.broker.connected(), 'server connected to its broker');
      sim = createModbusTcpServer({
        devices: [createDevice({ id: 'co', profile: 'gaswatch-co', unit: 1 })],
        port: 0,
      });
      simPort = (await sim.start()).port;
    });
    afterAll(async () => {
      for (const g of gateways) await g.stop();
      await sim?.stop();
      await server?.close();
      await mosquitto?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('a gateway that booted an hour fast reports clockSuspect with the skew; a good clock reports ~0', async () => {
      const brokerUrl = mosquitto?.url ?? server.mqttUrl;
      const port = simPort;
      const fast = await startGateway('gw-fast', HOUR_MS, brokerUrl, port);
      const good = await startGateway('gw-good', 0, brokerUrl, port);
      await waitFor(
        () => fast.status().clockSkewS !== undefined && good.status().clockSkewS !== undefined,
        'both gateways heard the server time',
        15_000,
      );
      expect(fast.status().clockSuspect).toBe(true);
      expect(fast.status().clockSkewS).toBeGreaterThan(3_590);
      expect(fast.status().clockSkewS).toBeLessThan(3_610);
      expect(good.status().clockSuspect).toBe(false);
      expect(Math.abs(good.status().clockSkewS ?? Number.NaN)).toBeLessThan(10);
    });
  });
}
