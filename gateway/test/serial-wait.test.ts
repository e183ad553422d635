/**
 * A serial adapter named by `/dev/serial/by-id/…` comes and goes with the adapter. The gateway
 * starts without it (no failed unit), says once that it waits, shows the bus as not open in its
 * status and the detector offline, and polls at once when the path appears; unplugged again, it
 * keeps running and recovers the same way. The adapter is a socat pty pair whose link appears and
 * vanishes like a by-id name, with a firmware-sim RTU slave on the other end.
 */
import { createDevice, createModbusRtuSlave } from '@gaswatch/firmware-sim';
import { decodeMessage, type GatewayStatus } from '@gaswatch/shared';
import { waitFor } from '@gaswatch/shared/testing';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../src/gateway.js';
import { startAedes } from './helpers/broker.js';
import { makeConfig, type TestDir, tempDir } from './helpers/config.js';
import { ptyAt } from './helpers/pty.js';

describe('serial adapter by id, missing at start', () => {
  let tmp: TestDir;
  let pty: ReturnType<typeof ptyAt>;
  let slave: ReturnType<typeof createModbusRtuSlave> | undefined;
  let gateway: Gateway;
  let broker: Awaited<ReturnType<typeof startAedes>>;
  let sub: mqtt.MqttClient;
  const sim = createDevice({ id: 'co1', profile: 'gaswatch-co', unit: 1 });
  const logs: { msg: string; level: number }[] = [];
  const states: { online: boolean; lastError: string | null }[] = [];
  let status: GatewayStatus | undefined;
  let readings = 0;

  const plug = async (co: number) => {
    await pty.plug();
    slave = createModbusRtuSlave({ path: pty.a, devices: [sim] });
    await slave.start();
    sim.setConcentration('CO', co);
  };
  const unplug = async () => {
    await slave?.stop();
    slave = undefined;
    await pty.unplug();
  };
  const said = (msg: string) => logs.filter((l) => l.msg === msg).length;

  beforeAll(async () => {
    tmp = tempDir();
    pty = ptyAt(tmp.dir);
    broker = await startAedes();
    sub = mqtt.connect(broker.url);
    sub.on('message', (topic, payload) => {
      const m = decodeMessage(topic, payload);
      if (!m.ok) return;
      if (m.address.kind === 'state') states.push(m.payload as (typeof states)[number]);
      if (m.address.kind === 'status') status = m.payload as GatewayStatus;
    });
    await sub.subscribeAsync(['gaswatch/v1/gw-test/status', 'gaswatch/v1/gw-test/+/state'], { qos: 1 });
    const config = makeConfig({
      url: broker.url,
      outboxDir: `${tmp.dir}/outbox`,
      buses: [
        {
          id: 'usb-rs485',
          type: 'modbus-rtu',
          // pty.b stands for /dev/serial/by-id/usb-FTDI_…-if00-port0: absent until plugged.
          path: pty.b,
          timeoutMs: 200,
          reopenMs: 50,
          reopenMaxMs: 400,
          // Far longer than the test: recovering must not wait for the offline poll interval.
          offlinePollS: 600,
          devices: [
            { id: 'co1', unit: 1, profile: 'gaswatch-co', pollIntervalS: 0.3, site: 's', location: 'l' },
          ],
        },
      ],
    });
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => logs.push(JSON.parse(line) as (typeof logs)[number]) },
    );
    gateway = createGateway({ config, logger, uplinkWaitMs: 2000 });
    gateway.on('reading', () => {
      readings++;
    });
    await gateway.start();
  });
  afterAll(async () => {
    await gateway?.stop();
    await unplug();
    await sub?.endAsync();
    await broker?.stop();
    tmp?.remove();
  });

  it('starts without the adapter: waits, says so once, the detector offline, the bus not open', async () => {
    expect(said('started')).toBe(1);
    await waitFor(() => states.some((s) => s.online === false), 'offline state published', 10_000);
    expect(states.find((s) => s.online === false)?.lastError).toMatch(/^port_unavailable: /);
    await waitFor(() => status?.online === true && 'buses' in status, 'a status with the buses', 10_000);
    expect(status).toMatchObject({ online: true, buses: [{ id: 'usb-rs485', open: false }] });
    expect(gateway.health().summary).toContain(`bus usb-rs485 waiting for ${pty.b}`);
    // Many attempts to open (every 50 ms, backing off to 400 ms), one line in the log.
    await new Promise((r) => setTimeout(r, 1500));
    expect(said('serial adapter not present; waiting for it')).toBe(1);
    expect(said('cannot open serial port; retrying')).toBe(0);
    expect(readings).toBe(0);
    expect(gateway.health().ok).toBe(true);
  });

  it('polls as soon as the adapter appears', async () => {
    await plug(12);
    await waitFor(() => readings > 0, 'a reading once plugged in', 10_000);
    expect(gateway.devices.get('co1')!.lastSample?.values.CO).toBe(12);
    expect(said('serial port open')).toBe(1);
    await waitFor(() => states.at(-1)?.online === true, 'online state published', 10_000);
    await waitFor(
      () => status?.online === true && status.buses?.[0]?.open === true,
      'the status shows the bus open',
      10_000,
    );
  });

  it('keeps running when it is unplugged again, and recovers when it is back', async () => {
    await unplug();
    await waitFor(() => gateway.devices.get('co1')!.online === false, 'offline after unplug', 10_000);
    await waitFor(() => states.at(-1)?.online === false, 'offline state published', 10_000);
    const during = readings;
    await new Promise((r) => setTimeout(r, 1000));
    expect(readings).toBe(during);
    expect(said('serial port closed (adapter unplugged?); waiting for it')).toBe(1);
    expect(said('serial adapter not present; waiting for it')).toBe(1);

    await plug(25);
    await waitFor(
      () => gateway.devices.get('co1')!.lastSample?.values.CO === 25,
      'reading after re-plug',
      10_000,
    );
    expect(gateway.devices.get('co1')!.online).toBe(true);
    expect(said('serial port reopened')).toBe(1);
    expect(gateway.health()).toMatchObject({ ok: true });
  });
});
