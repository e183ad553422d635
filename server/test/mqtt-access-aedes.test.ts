import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestCa, waitFor } from '@gaswatch/shared/testing';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import {
  connectGateway,
  gatewayLogin,
  metric,
  startTestServer,
  TEST_ACTOR,
  tempDir,
  trustCa,
} from './helpers.js';
import { mqttAccessContract } from './mqtt-access-contract.js';

const tmp = tempDir('gaswatch-access-aedes-');
afterAll(() => tmp.remove());

mqttAccessContract('embedded aedes', async () => {
  const ca = createTestCa(join(tmp.dir, 'pki'), 'site');
  const otherCa = createTestCa(join(tmp.dir, 'pki'), 'other');
  const serverCert = ca.issue('gaswatch-server', 'server');
  const server = await startTestServer({
    MQTT_TLS_PORT: '0',
    TLS_CERT: serverCert.cert,
    TLS_KEY: serverCert.key,
    MQTT_CA: ca.cert,
  });
  // TLS_CERT makes its HTTP speak HTTPS too, with the same certificate.
  trustCa(server.url, readFileSync(ca.cert));
  return {
    server,
    url: server.mqttUrl,
    tlsUrl: server.app.mqttsUrl ?? '',
    ca,
    otherCa,
    async login(...gws) {
      return new Map(await Promise.all(gws.map(async (gw) => [gw, await gatewayLogin(server, gw)] as const)));
    },
    async revoke(gw) {
      await server.app.gateways.revoke(gw, TEST_ACTOR);
    },
    refusedPublish: 'closes',
    checksCertificateCn: true,
    teardown: () => server.close(),
  };
});

describe('embedded broker: credentials of a live connection', () => {
  it('a rotation ends the live connection at once: the old password no longer connects, the new one does', async () => {
    const server = await startTestServer();
    try {
      const old = await connectGateway(server, 'gw-r', { reconnectPeriod: 0 });
      const gone = new Promise<void>((r) => old.once('close', () => r()));
      const { password } = await server.app.gateways.rotate('gw-r', TEST_ACTOR);
      await gone;
      const before = await gatewayLogin(server, 'gw-r'); // the test helper's copy: the old password
      await expect(
        mqtt.connectAsync(server.mqttUrl, { ...before, reconnectPeriod: 0, connectTimeout: 5_000 }),
      ).rejects.toThrow(/Bad username or password/);
      const renewed = await mqtt.connectAsync(server.mqttUrl, {
        username: 'gw-r',
        password,
        reconnectPeriod: 0,
      });
      await renewed.endAsync();
      expect(await metric(server.url, 'gaswatch_mqtt_denied_total{action="connect"}')).toBe(1);
    } finally {
      await server.close();
    }
  });

  it("a gateway cannot take over another one's client id (which would knock it offline)", async () => {
    const server = await startTestServer();
    try {
      const b = await connectGateway(server, 'gw-b', { clientId: 'gaswatch-gw-gw-b', reconnectPeriod: 0 });
      let bClosed = false;
      b.once('close', () => {
        bClosed = true;
      });
      await expect(
        connectGateway(server, 'gw-a', { clientId: 'gaswatch-gw-gw-b', reconnectPeriod: 0 }),
      ).rejects.toThrow(/Identifier rejected/);
      await new Promise((r) => setTimeout(r, 300));
      expect(bClosed).toBe(false);
      // The gateway itself may reconnect with its own client id (a half-open connection replaced).
      const b2 = await connectGateway(server, 'gw-b', { clientId: 'gaswatch-gw-gw-b', reconnectPeriod: 0 });
      await waitFor(() => bClosed, 'the old connection of gw-b replaced');
      await b2.endAsync();
    } finally {
      await server.close();
    }
  });
});
