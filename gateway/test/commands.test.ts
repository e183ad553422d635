/**
 * The reload_config, bump_test and evacuate commands, sent over a real broker (aedes) to the gateway
 * (in-process factory, loaded from a real config file) polling firmware-sim detectors over Modbus
 * TCP; results and events are read back as the server would (decodeMessage).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDevice, createModbusTcpServer } from '@gaswatch/firmware-sim';
import {
  type CommandResult,
  type DeviceEvent,
  type DeviceState,
  decodeMessage,
  type Reading,
} from '@gaswatch/shared';
import { freePort, type Proc, startTsNode, waitFor } from '@gaswatch/shared/testing';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createGateway, type Gateway } from '../src/gateway.js';
import { startAedes } from './helpers/broker.js';
import { type TestDir, tempDir, writeConfig } from './helpers/config.js';
import { testLogger } from './helpers/log.js';

const GW = 'gw-cmd';
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

interface Msg {
  topic: string;
  kind: string;
  dev?: string;
  payload: unknown;
}

describe('reload_config, bump_test and evacuate commands', () => {
  let broker: Awaited<ReturnType<typeof startAedes>>;
  let sim: ReturnType<typeof createModbusTcpServer>;
  let simPort = 0;
  let gateway: Gateway;
  let tmp: TestDir;
  let file = '';
  let client: MqttClient;
  const got: Msg[] = [];
  const invalid: string[] = [];
  let cmdN = 0;
  const co1 = createDevice({ id: 'co1', profile: 'gaswatch-co', unit: 1 });
  const co2 = createDevice({ id: 'co2', profile: 'gaswatch-co', unit: 2 });
  const lel1 = createDevice({ id: 'lel1', profile: 'gaswatch-lel', unit: 3 });

  const dev = (id: string, unit: number, profile = 'gaswatch-co') => ({
    id,
    unit,
    profile,
    pollIntervalS: 0.2,
    site: 'plant',
    location: id,
  });
  const write = (devices: unknown[], extra: Record<string, unknown> = {}, url = broker.url) =>
    writeConfig(file, {
      gatewayId: GW,
      url,
      outboxDir: join(tmp.dir, 'outbox'),
      buses: [{ id: 'tcp-0', type: 'modbus-tcp', host: '127.0.0.1', port: simPort, devices }],
      extra,
    });

  const readings = (d: string) =>
    got.filter((m) => m.kind === 'reading' && m.dev === d).map((m) => m.payload as Reading);
  const events = (d: string) =>
    got.filter((m) => m.kind === 'event' && m.dev === d).map((m) => m.payload as DeviceEvent);

  /** Sends a command over MQTT and waits for its result on cmd/result. */
  async function command(body: Record<string, unknown>, gw = GW): Promise<CommandResult> {
    const id = `c${++cmdN}`;
    await client.publishAsync(`gaswatch/v1/${gw}/cmd`, JSON.stringify({ v: 1, id, ...body }), { qos: 1 });
    let result: CommandResult | undefined;
    await waitFor(
      () => {
        result = got.find((m) => m.kind === 'cmdResult' && (m.payload as CommandResult).id === id)?.payload as
          | CommandResult
          | undefined;
        return result !== undefined;
      },
      `result of ${body.type}`,
      15_000,
    );
    return result!;
  }

  beforeAll(async () => {
    tmp = tempDir();
    file = join(tmp.dir, 'gw.yaml');
    broker = await startAedes();
    simPort = await freePort();
    sim = createModbusTcpServer({ devices: [co1, co2, lel1], port: simPort });
    await sim.start();
    client = mqtt.connect(broker.url, { reconnectPeriod: 200 });
    client.on('message', (topic, payload) => {
      const r = decodeMessage(topic, payload);
      if (!r.ok) {
        invalid.push(`${topic}: ${r.message}`);
        return;
      }
      const a = r.address as { kind: string; dev?: string };
      got.push({ topic, kind: a.kind, ...(a.dev ? { dev: a.dev } : {}), payload: r.payload });
    });
    await new Promise<void>((res) => client.once('connect', () => res()));
    await client.subscribeAsync([`gaswatch/v1/${GW}/#`, 'gaswatch/v1/gw-cmd-proc/#'], { qos: 1 });
    write([dev('co1', 1), dev('lel1', 3, 'gaswatch-lel')], { bumpTestS: 30 });
    gateway = createGateway({ config: loadConfig(file), logger: testLogger() });
    await gateway.start();
    await waitFor(
      () => readings('co1').length >= 2 && readings('lel1').length >= 2,
      'first readings',
      15_000,
    );
  });

  let proc: Proc | undefined;
  afterAll(async () => {
    await proc?.stop('SIGKILL');
    await gateway?.stop();
    await client?.endAsync(true);
    await sim?.stop();
    await broker?.stop();
    tmp?.remove();
  });

  it('reload_config adds a device, which gets polled; the others keep running undisturbed', async () => {
    const co1Runtime = gateway.devices.get('co1');
    write([dev('co1', 1), dev('lel1', 3, 'gaswatch-lel'), dev('co2', 2)], { bumpTestS: 30 });
    co2.setConcentration('CO', 12.5);
    const r = await command({ type: 'reload_config' });
    expect(r).toMatchObject({ ok: true, message: '1 device added' });
    await waitFor(() => readings('co2').some((x) => x.values.CO === 12.5), 'co2 polled', 15_000);
    expect(readings('co2')[0]!.seq).toBe(0);
    // The unchanged device is the same running device (its alarm state, seq and schedule kept).
    expect(gateway.devices.get('co1')).toBe(co1Runtime);
    const n = readings('co1').length;
    await waitFor(() => readings('co1').length >= n + 3, 'co1 still polled', 10_000);
    const seqs = readings('co1').map((x) => x.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i));
  });

  it('reload_config removes a device: no more readings, its state says why', async () => {
    write([dev('co1', 1), dev('lel1', 3, 'gaswatch-lel')], { bumpTestS: 30 });
    const r = await command({ type: 'reload_config' });
    expect(r).toMatchObject({ ok: true, message: '1 device removed' });
    expect(gateway.devices.has('co2')).toBe(false);
    await waitFor(
      () =>
        got.some(
          (m) =>
            m.kind === 'state' &&
            m.dev === 'co2' &&
            (m.payload as DeviceState).online === false &&
            /removed/.test((m.payload as DeviceState).lastError ?? ''),
        ),
      'co2 state: removed',
      10_000,
    );
    const after = readings('co2').length;
    const n = readings('co1').length;
    await waitFor(() => readings('co1').length >= n + 5, 'co1 polled on', 10_000);
    // At most the read already in flight when it was removed, and one still in the outbox when
    // the "removed" state (published directly, not through the outbox) went out.
    expect(readings('co2').length).toBeLessThanOrEqual(after + 2);
  });

  it('an invalid file is answered ok:false with path and reason, and polling goes on unchanged', async () => {
    writeFileSync(
      file,
      `gatewayId: ${GW}\nuplink: { url: ${broker.url} }\noutbox: { dir: ${join(tmp.dir, 'outbox')} }\nbuses:\n  - { id: tcp-0, type: modbus-tcp, host: 127.0.0.1, port: ${simPort}, devices: [ { id: co1, unit: 1, profile: gaswatch-co, pollIntervalS: -1, site: plant, location: x } ] }\n`,
    );
    const r = await command({ type: 'reload_config' });
    expect(r.ok).toBe(false);
    expect(r.message).toContain(file);
    expect(r.message).toMatch(/buses\.0\.devices\.0\.pollIntervalS: /);
    expect(r.message!.length).toBeLessThanOrEqual(512);
    expect([...gateway.devices.keys()].sort()).toEqual(['co1', 'lel1']);
    const n = readings('lel1').length;
    await waitFor(() => readings('lel1').length >= n + 3, 'lel1 still polled', 10_000);

    writeFileSync(file, 'gatewayId: [unclosed\n');
    const y = await command({ type: 'reload_config' });
    expect(y.ok).toBe(false);
    expect(y.message).toMatch(/\(yaml\)/);

    // Forty broken devices: the answer is cut to the 512-character limit, not dropped.
    write(Array.from({ length: 40 }, (_, i) => ({ ...dev(`bad${i}`, i + 1), pollIntervalS: -1 })));
    const long = await command({ type: 'reload_config' });
    expect(long.ok).toBe(false);
    expect(long.message).toHaveLength(512);
    expect(long.message!.endsWith('…')).toBe(true);
    expect(long.message).toMatch(/^invalid config .*buses\.0\.devices\.0\.pollIntervalS: /);
    expect([...gateway.devices.keys()].sort()).toEqual(['co1', 'lel1']);
  });

  it('changes that need a restart are refused by name and nothing changes', async () => {
    write(
      [dev('co1', 1), dev('lel1', 3, 'gaswatch-lel'), dev('co2', 2)],
      { bumpTestS: 30 },
      'mqtt://127.0.0.1:1',
    );
    const r = await command({ type: 'reload_config' });
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/uplink\.url/);
    expect(r.message).toMatch(/restart/);
    // The device that came with it was not added either.
    expect(gateway.devices.has('co2')).toBe(false);
  });

  it('reload_config opens a new bus and reopens a changed one, keeping its devices running', async () => {
    const co3 = createDevice({ id: 'co3', profile: 'gaswatch-co', unit: 1 });
    co3.setConcentration('CO', 7.5);
    const sim2 = createModbusTcpServer({ devices: [co3], port: await freePort() });
    const { port: port2 } = await sim2.start();
    try {
      const co1Runtime = gateway.devices.get('co1');
      const lelRuntime = gateway.devices.get('lel1');
      writeConfig(file, {
        gatewayId: GW,
        url: broker.url,
        outboxDir: join(tmp.dir, 'outbox'),
        extra: { bumpTestS: 30 },
        buses: [
          // timeoutMs changed: the connection is reopened.
          {
            id: 'tcp-0',
            type: 'modbus-tcp',
            host: '127.0.0.1',
            port: simPort,
            timeoutMs: 400,
            devices: [{ ...dev('co1', 1), pollIntervalS: 0.3 }, dev('lel1', 3, 'gaswatch-lel')],
          },
          { id: 'tcp-1', type: 'modbus-tcp', host: '127.0.0.1', port: port2, devices: [dev('co3', 1)] },
        ],
      });
      const r = await command({ type: 'reload_config' });
      expect(r).toMatchObject({
        ok: true,
        message: '1 device added, 1 device changed; bus tcp-1 added, bus tcp-0 reopened',
      });
      await waitFor(
        () => readings('co3').some((x) => x.values.CO === 7.5),
        'co3 polled on the new bus',
        15_000,
      );
      // Same running devices (local alarm state, seq) on the reopened bus, new settings applied.
      expect(gateway.devices.get('co1')).toBe(co1Runtime);
      expect(gateway.devices.get('lel1')).toBe(lelRuntime);
      expect(gateway.devices.get('co1')!.config.pollIntervalS).toBe(0.3);
      const n = readings('co1').length;
      await waitFor(() => readings('co1').length >= n + 3, 'co1 polled after the reopen', 10_000);
      const seqs = readings('co1').map((x) => x.seq);
      expect(seqs).toEqual(seqs.map((_, i) => i));
      // Back to one bus: tcp-1 closes, its device is removed.
      write([dev('co1', 1), dev('lel1', 3, 'gaswatch-lel')], { bumpTestS: 30 });
      const back = await command({ type: 'reload_config' });
      expect(back).toMatchObject({
        ok: true,
        message: '1 device removed, 1 device changed; bus tcp-1 removed, bus tcp-0 reopened',
      });
      expect([...gateway.devices.keys()].sort()).toEqual(['co1', 'lel1']);
    } finally {
      await sim2.stop();
    }
  });

  it('bump_test of an unknown device is refused with a clear message', async () => {
    const r = await command({ type: 'bump_test', device: 'nope' });
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/no device "nope"/);
  });

  it('bump test passes when the test gas reaches the alarm level; local alarms and outputs still act', async () => {
    write([dev('co1', 1), dev('lel1', 3, 'gaswatch-lel')], { bumpTestS: 30 });
    expect((await command({ type: 'reload_config' })).ok).toBe(true);
    lel1.setConcentration('LEL', 0);
    lel1.setConcentration('CO', 0);
    const r = await command({ type: 'bump_test', device: 'lel1' });
    expect(r.ok).toBe(true);
    expect(r.message).toMatch(/LEL ≥ 25/);
    const again = await command({ type: 'bump_test', device: 'lel1' });
    expect(again).toMatchObject({ ok: false });
    expect(again.message).toMatch(/already running/);
    await waitFor(
      () => events('lel1').some((e) => e.type === 'bump_test' && e.result === 'started'),
      'started',
    );
    const n = readings('lel1').length;
    await waitFor(() => readings('lel1').length >= n + 2, 'readings in the window', 10_000);
    expect(readings('lel1').at(-1)!.status).toBe('bump_test');

    // The test gas: above the first alarm level of LEL and the CO alarm level.
    lel1.setConcentration('LEL', 40);
    lel1.setConcentration('CO', 80);
    await waitFor(
      () => events('lel1').some((e) => e.type === 'bump_test' && e.result === 'pass'),
      'pass',
      15_000,
    );
    const pass = events('lel1').find((e) => e.result === 'pass')!;
    expect(pass.severity).toBe('info');
    expect(pass.message).toMatch(/LEL peak 40/);
    // Gas in a test window may be real gas: the local alarm fired and the valve was closed.
    await waitFor(() => events('lel1').some((e) => e.type === 'alarm_raised'), 'local alarm', 10_000);
    await waitFor(() => lel1.coils().valve === true, 'valve closed', 10_000);
    expect(
      readings('lel1')
        .filter((x) => x.values.LEL === 40)
        .every((x) => x.status === 'bump_test'),
    ).toBe(true);
    lel1.setConcentration('LEL', 0);
    lel1.setConcentration('CO', 0);
  });

  it('bump test fails when the gas never reaches the alarm level within the window', async () => {
    write([dev('co1', 1), dev('lel1', 3, 'gaswatch-lel')], { bumpTestS: 1.5 });
    expect((await command({ type: 'reload_config' })).ok).toBe(true);
    co1.setConcentration('CO', 10);
    const r = await command({ type: 'bump_test', device: 'co1' });
    expect(r.ok).toBe(true);
    await waitFor(
      () => events('co1').some((e) => e.type === 'bump_test' && e.result === 'fail'),
      'fail',
      15_000,
    );
    const fail = events('co1').find((e) => e.result === 'fail')!;
    expect(fail).toMatchObject({ severity: 'warning', gas: 'CO', value: 10 });
    expect(fail.message).toMatch(/CO peak 10 ppm, needs CO ≥ 40 ppm/);
    expect(readings('co1').some((x) => x.status === 'bump_test')).toBe(true);
    // After the window the readings are ordinary again.
    const n = readings('co1').length;
    await waitFor(() => readings('co1').length >= n + 2, 'readings after the window', 10_000);
    expect(readings('co1').at(-1)!.status).toBe('ok');
    expect(invalid).toEqual([]);
  });

  it('evacuate sounds the sounder through an alarm that clears, until a silence; valve and fan untouched', async () => {
    lel1.setConcentration('LEL', 0);
    lel1.setConcentration('CO', 0);
    await waitFor(() => gateway.devices.get('lel1')?.alarm?.busy === false, 'lel1 settled', 15_000);
    await waitFor(() => lel1.coils().sounder === false, 'sounder off before', 10_000);
    const before = { valve: lel1.coils().valve, fan: lel1.coils().fan };
    const n = events('lel1').length;

    const r = await command({ type: 'evacuate', device: 'lel1', reason: 'permit P-1 suspended: H2S 25 ppm' });
    expect(r).toMatchObject({ ok: true });
    expect(r.message).toMatch(/sounder of lel1 on .* until a silence command/);
    expect(lel1.coils()).toMatchObject({ sounder: true, ...before });
    await waitFor(
      () =>
        events('lel1')
          .slice(n)
          .some((e) => e.type === 'interlock' && e.outputs?.sounder === true),
      'interlock event',
    );
    const switched = events('lel1')
      .slice(n)
      .find((e) => e.type === 'interlock');
    expect(switched?.message).toBe('evacuation: permit P-1 suspended: H2S 25 ppm');

    // A gas alarm that comes and goes releases an alarm's sounder, never an evacuation's.
    lel1.setConcentration('LEL', 40);
    await waitFor(
      () =>
        events('lel1')
          .slice(n)
          .some((e) => e.type === 'alarm_raised'),
      'raised',
      15_000,
    );
    lel1.setConcentration('LEL', 0);
    await waitFor(
      () =>
        events('lel1')
          .slice(n)
          .some((e) => e.type === 'alarm_cleared'),
      'cleared',
      15_000,
    );
    const m = readings('lel1').length;
    await waitFor(() => readings('lel1').length >= m + 3, 'readings after the alarm cleared', 10_000);
    expect(lel1.coils().sounder).toBe(true);
    expect(gateway.devices.get('lel1')?.alarm?.busy).toBe(true);

    const off = await command({ type: 'silence', device: 'lel1' });
    expect(off).toMatchObject({ ok: true, message: 'silenced lel1' });
    expect(lel1.coils().sounder).toBe(false);
    const k = readings('lel1').length;
    await waitFor(() => readings('lel1').length >= k + 3, 'readings after the silence', 10_000);
    expect(lel1.coils().sounder).toBe(false);
    expect(gateway.devices.get('lel1')?.alarm?.busy).toBe(false);
  });

  it('evacuate is refused, never silently OK, where this gateway switches no sounder', async () => {
    const co = await command({ type: 'evacuate', device: 'co1', reason: 'permit P-2 suspended' });
    expect(co.ok).toBe(false);
    expect(co.message).toMatch(
      /^co1 has no sounder this gateway switches \(the profile has no sounder output, or local alarms are off\): nothing sounds at the site/,
    );
    const unknown = await command({ type: 'evacuate', device: 'nope', reason: 'permit P-3 suspended' });
    expect(unknown).toMatchObject({ ok: false });
    expect(unknown.message).toMatch(/no device "nope"/);
    const bad = await command({ type: 'evacuate', device: 'lel1' });
    expect(bad).toMatchObject({ ok: false });
    expect(bad.message).toMatch(/^reason: /);
    expect(lel1.coils().sounder).toBe(false);
  });

  it('a reload that would replace a device in local alarm is refused; once it has cleared it applies', async () => {
    write([dev('co1', 1), dev('lel1', 3, 'gaswatch-lel')], { bumpTestS: 30 });
    expect((await command({ type: 'reload_config' })).ok).toBe(true);
    const before = gateway.devices.get('lel1');
    lel1.setConcentration('LEL', 40);
    await waitFor(() => before?.alarm?.interlocked === true, 'lel1 in local alarm', 15_000);
    // outputs: false replaces the device (fresh local alarm: its pending valve/fan writes would go).
    const withoutOutputs = [dev('co1', 1), { ...dev('lel1', 3, 'gaswatch-lel'), outputs: false }];
    write(withoutOutputs, { bumpTestS: 30 });
    const refused = await command({ type: 'reload_config' });
    expect(refused.ok).toBe(false);
    expect(refused.message).toMatch(/lel1 in local alarm .* nothing changed/);
    expect(gateway.devices.get('lel1')).toBe(before);
    expect(before?.alarm?.interlocked).toBe(true);

    lel1.setConcentration('LEL', 0);
    await waitFor(() => before?.alarm?.busy === false, 'lel1 settled', 15_000);
    expect((await command({ type: 'reload_config' })).ok).toBe(true);
    expect(gateway.devices.get('lel1')).not.toBe(before);
    write([dev('co1', 1), dev('lel1', 3, 'gaswatch-lel')], { bumpTestS: 30 });
    expect((await command({ type: 'reload_config' })).ok).toBe(true);
  });

  it('the gateway process re-reads the file it was started with (--config)', async () => {
    const procFile = join(tmp.dir, 'proc.yaml');
    const doc = (devices: unknown[]) => ({
      gatewayId: 'gw-cmd-proc',
      url: broker.url,
      outboxDir: join(tmp.dir, 'outbox-proc'),
      buses: [{ id: 'tcp-0', type: 'modbus-tcp', host: '127.0.0.1', port: simPort, devices }],
    });
    writeConfig(procFile, doc([dev('co1', 1)]));
    proc = startTsNode(MAIN, ['--config', procFile]);
    await proc.waitForOutput(/"msg":"started"/, 30_000);
    writeConfig(procFile, doc([dev('co1', 1), dev('co2', 2)]));
    const r = await command({ type: 'reload_config' }, 'gw-cmd-proc');
    expect(r).toMatchObject({ ok: true, message: '1 device added' });
    await waitFor(
      () => got.some((m) => m.kind === 'reading' && m.topic === 'gaswatch/v1/gw-cmd-proc/co2/reading'),
      'co2 polled by the process',
      15_000,
    );
    expect(proc.output()).toMatch(/"summary":"1 device added"[^\n]*"msg":"config reloaded"/);
  });
});
