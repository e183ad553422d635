/**
 * A USB RS-485 adapter unplugged and plugged back in: the port goes away, reads fail as port
 * errors (never as values), and the gateway reopens the same path by itself and polls again.
 */
import { createDevice, createModbusRtuSlave } from '@gaswatch/firmware-sim';
import { freePort, waitFor } from '@gaswatch/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../src/gateway.js';
import { makeConfig, type TestDir, tempDir } from './helpers/config.js';
import { testLogger } from './helpers/log.js';
import { ptyAt } from './helpers/pty.js';

describe('unplugged serial adapter', () => {
  let tmp: TestDir;
  let pty: ReturnType<typeof ptyAt>;
  let slave: ReturnType<typeof createModbusRtuSlave> | undefined;
  let gateway: Gateway;
  const sim = createDevice({ id: 'co1', profile: 'gaswatch-co', unit: 1 });
  const errors: string[] = [];
  let readings = 0;

  beforeAll(async () => {
    tmp = tempDir();
    pty = ptyAt(tmp.dir);
    await pty.plug();
    slave = createModbusRtuSlave({ path: pty.a, devices: [sim] });
    await slave.start();
    sim.setConcentration('CO', 9.5);
    const config = makeConfig({
      url: `mqtt://127.0.0.1:${await freePort()}`,
      outboxDir: `${tmp.dir}/outbox`,
      buses: [
        {
          id: 'usb-rs485',
          type: 'modbus-rtu',
          path: pty.b,
          timeoutMs: 200,
          reopenMs: 200,
          offlinePollS: 60,
          devices: [
            { id: 'co1', unit: 1, profile: 'gaswatch-co', pollIntervalS: 0.3, site: 's', location: 'l' },
          ],
        },
      ],
    });
    gateway = createGateway({ config, logger: testLogger(), uplinkWaitMs: 100 });
    gateway.on('reading', () => {
      readings++;
    });
    gateway.on('failure', (_d, err) => errors.push((err as { code?: string }).code ?? err.message));
    await gateway.start();
  });
  afterAll(async () => {
    await gateway?.stop();
    await slave?.stop();
    await pty?.unplug();
    tmp?.remove();
  });

  it('fails reads as port errors while unplugged and reopens by itself when plugged back', async () => {
    await waitFor(() => readings >= 2, 'readings before unplug', 10_000);
    await slave!.stop();
    slave = undefined;
    await pty.unplug();
    await waitFor(() => gateway.devices.get('co1')!.online === false, 'offline after unplug', 10_000);
    const during = readings;
    expect(errors.length).toBeGreaterThan(0);
    // Plugged back in (same path); the detector is polled at once, not after offlinePollS (60 s).
    await pty.plug();
    slave = createModbusRtuSlave({ path: pty.a, devices: [sim] });
    await slave.start();
    sim.setConcentration('CO', 11);
    await waitFor(
      () => readings > during && gateway.devices.get('co1')!.online === true,
      'reading after re-plug',
      15_000,
    );
    expect(gateway.devices.get('co1')!.lastSample?.values.CO).toBe(11);
  });
});
