/**
 * Runs a scenario: zones evolve by the room model, devices see their zone's air, the fault script
 * fires at its times, transports serve the devices. Scenario time moves by `advance()` (tests) or
 * by a wall-clock ticker at `speed` × real time (the CLI).
 */
import { performance } from 'node:perf_hooks';
import { GAS_IDS, type GasId } from '@gaswatch/shared';
import type { Logger } from 'pino';
import { createDevice, type SimDevice } from '../device.js';
import { createModbusRtuSlave, type ModbusRtuSlave } from '../modbus/rtu-slave.js';
import { createModbusTcpServer, type ModbusTcpServer } from '../modbus/tcp-server.js';
import { hash32 } from '../random.js';
import { profileGases } from '../sensor.js';
import { createWinsenModule, type WinsenModule } from '../winsen/module.js';
import type { LoadedScenario } from './load.js';
import { OUTDOOR_AIR, roomStep, sourceTermPerHour } from './room.js';
import { type Scenario, type ScenarioEvent, ScenarioSchema, type Zone } from './schema.js';

export interface ScenarioRunnerOptions {
  loaded: LoadedScenario;
  /** Scenario seconds per wall second once started (default 1); 0: time moves only by advance(). */
  speed?: number;
  /** Overrides the scenario's seed. */
  seed?: number;
  /** Overrides the port of the first Modbus TCP transport; the n-th gets port + n (0: all free ports). */
  tcpPort?: number;
  /** Override the serial paths of the serial transports (RTU and Winsen), in file order. */
  serialPaths?: string[];
  /** Wall-clock tick of the ticker, ms (default 100). */
  tickMs?: number;
  logger?: Logger;
}

/** One listener, as logged with msg "listening" (the one-box launcher parses these lines). */
export interface ListenerInfo {
  transport: 'modbus-tcp' | 'modbus-rtu' | 'winsen';
  host?: string;
  port?: number;
  path?: string;
  units: number[];
  devices: string[];
}

export interface ScenarioRunner {
  readonly scenario: Scenario;
  readonly devices: ReadonlyMap<string, SimDevice>;
  /** Scenario time, ms. */
  now(): number;
  /** Moves scenario time on (steps of at most one second, split at every event and source edge). */
  advance(ms: number): void;
  /**
   * Applies an event now, outside the script (the control port: a test or a demo lowers the
   * detector, opens a hatch). Checked as a scripted event is, against this scenario's devices and
   * zones; throws a ControlEventError listing what is wrong.
   */
  apply(event: unknown): ScenarioEvent;
  /** A zone's current concentration of a gas, canonical units. */
  zoneConcentration(zone: string, gas: GasId): number;
  /** Opens every transport, logs one "listening" line each, starts the ticker (unless speed is 0). */
  start(): Promise<ListenerInfo[]>;
  stop(): Promise<void>;
  listeners(): ListenerInfo[];
  transportStats(): Array<{ transport: string; stats: object }>;
}

interface ZoneState {
  def: Zone;
  c: Map<GasId, number>;
  ach: number;
  lpm: number[];
}

const STEP_MS = 1000;
/** One ticker tick never advances more than this (a stalled process catches up in bounded work). */
const MAX_TICK_ADVANCE_MS = 6 * 3_600_000;

export function createScenarioRunner(opts: ScenarioRunnerOptions): ScenarioRunner {
  const { scenario, profiles } = opts.loaded;
  const seed = opts.seed ?? scenario.seed;
  const log = opts.logger;
  const speed = opts.speed ?? 1;
  if (!Number.isFinite(speed) || speed < 0) throw new RangeError(`speed must be ≥ 0, got ${speed}`);

  const devices = new Map<string, SimDevice>();
  const deviceZone = new Map<string, string | undefined>();
  for (const d of scenario.devices) {
    const dev = createDevice({
      id: d.id,
      profile: profiles.get(d.id)!,
      unit: d.unit,
      seed: (seed ^ hash32(d.id)) >>> 0,
      warmup: d.warmup,
      noise: d.noise,
      t90S: d.t90S,
      ...(d.standard ? { standard: d.standard } : {}),
    });
    for (const [gas, v] of Object.entries(d.constant ?? {})) dev.setConcentration(gas as GasId, v);
    devices.set(d.id, dev);
    deviceZone.set(d.id, d.zone);
  }

  const zones = new Map<string, ZoneState>();
  for (const z of scenario.zones) {
    const c = new Map<GasId, number>();
    for (const gas of GAS_IDS) c.set(gas, z.fixed?.[gas] ?? z.initial?.[gas] ?? outdoorOf(z, gas));
    zones.set(z.id, { def: z, c, ach: z.ach, lpm: z.sources.map((s) => s.lpm) });
  }

  // Each event's next occurrence (repeating events move on by everyS; one-shot ones go to Infinity).
  const events = scenario.events.map((e, i) => ({ e, i, next: e.atS * 1000 }));
  const sources = scenario.zones.flatMap((z) => z.sources);
  let now = 0;

  const coilOn = (deviceId: string, coil: string) => devices.get(deviceId)?.coils()[coil] === true;

  const feedDevices = () => {
    for (const [id, dev] of devices) {
      const zid = deviceZone.get(id);
      if (zid === undefined) continue;
      const z = zones.get(zid)!;
      for (const gas of profileGases(dev.profile)) dev.setConcentration(gas, Math.max(0, z.c.get(gas) ?? 0));
    }
  };

  const applyEvent = (e: ScenarioEvent) => {
    const dev = e.device !== undefined ? devices.get(e.device)! : undefined;
    log?.info({ atS: e.atS, event: e }, 'scenario event');
    if (dev) {
      if (e.fault !== undefined) dev.setFault(e.fault);
      if (e.drift) dev.setDrift(e.drift.gas, e.drift.perHour);
      if (e.stuck !== undefined) dev.setStuck(e.stuck);
      if (e.responding !== undefined) dev.setResponding(e.responding);
      if (e.responseDelayMs !== undefined) dev.setResponseDelayMs(e.responseDelayMs);
      if (e.corrupt !== undefined) dev.setCorruption(e.corrupt);
      if (e.slaveFailure !== undefined) dev.setSlaveFailure(e.slaveFailure);
      if (e.zone !== undefined) deviceZone.set(dev.id, e.zone);
      if (e.set) for (const [gas, v] of Object.entries(e.set)) dev.setConcentration(gas as GasId, v);
      if (e.bumpTestS !== undefined) dev.startBumpTest(e.bumpTestS * 1000);
      if (e.powerOn) dev.powerOn();
    }
    if (e.sourceLpm) zones.get(e.sourceLpm.zone)!.lpm[e.sourceLpm.index] = e.sourceLpm.lpm;
    if (e.ach) zones.get(e.ach.zone)!.ach = e.ach.ach;
  };

  const fireEvents = () => {
    for (let n = 0; n < 100_000; n++) {
      let due: (typeof events)[number] | undefined;
      for (const ev of events) if (ev.next <= now && (!due || ev.next < due.next)) due = ev;
      if (!due) return;
      due.next = due.e.everyS !== undefined ? due.next + due.e.everyS * 1000 : Number.POSITIVE_INFINITY;
      applyEvent(due.e);
    }
  };

  /** The next time after `now` at which a source switches or an event fires: steps end there. */
  const nextBreakpoint = (): number => {
    let t = Number.POSITIVE_INFINITY;
    for (const ev of events) if (ev.next > now) t = Math.min(t, ev.next);
    for (const src of sources) t = Math.min(t, nextSourceEdge(src, now));
    return t;
  };

  const stepZones = (dtMs: number) => {
    const hours = dtMs / 3_600_000;
    for (const z of zones.values()) {
      if (z.def.fixed || z.def.volumeM3 === undefined) continue;
      let ach = z.ach;
      let sourcesOff = false;
      for (const il of z.def.interlocks) {
        if (!coilOn(il.device, il.coil)) continue;
        if (il.ach !== undefined) ach = Math.max(ach, il.ach);
        if (il.stopsSources) sourcesOff = true;
      }
      const s = new Map<GasId, number>();
      if (!sourcesOff) {
        z.def.sources.forEach((src, i) => {
          if (sourceOn(src, now))
            s.set(src.gas, (s.get(src.gas) ?? 0) + sourceTermPerHour(src.gas, z.lpm[i]!, z.def.volumeM3!));
        });
      }
      for (const gas of GAS_IDS) {
        const c = roomStep(z.c.get(gas)!, s.get(gas) ?? 0, ach, outdoorOf(z.def, gas), hours);
        z.c.set(gas, Math.max(0, c));
      }
    }
  };

  const advance = (ms: number) => {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`advance(${ms})`);
    const target = now + ms;
    while (now < target) {
      const end = Math.min(target, now + STEP_MS, nextBreakpoint());
      const dt = end - now;
      stepZones(dt);
      now = end;
      feedDevices();
      for (const dev of devices.values()) dev.advance(dt);
      fireEvents();
    }
  };

  fireEvents();
  feedDevices();

  // Transports
  let tcpIndex = 0;
  let serialIndex = 0;
  type Built =
    | { kind: 'modbus-tcp'; server: ModbusTcpServer; host: string; ids: string[] }
    | { kind: 'modbus-rtu'; slave: ModbusRtuSlave; path: string; ids: string[] }
    | { kind: 'winsen'; module: WinsenModule; path: string; ids: string[] };
  const built: Built[] = scenario.transports.map((t): Built => {
    if (t.type === 'modbus-tcp') {
      const port = opts.tcpPort === undefined ? t.port : opts.tcpPort === 0 ? 0 : opts.tcpPort + tcpIndex;
      tcpIndex++;
      const server = createModbusTcpServer({
        devices: t.devices.map((id) => devices.get(id)!),
        host: t.host,
        port,
        ...(log ? { logger: log.child({ transport: 'modbus-tcp' }) } : {}),
      });
      return { kind: 'modbus-tcp', server, host: t.host, ids: t.devices };
    }
    const path = opts.serialPaths?.[serialIndex] ?? t.path;
    serialIndex++;
    if (t.type === 'modbus-rtu') {
      const slave = createModbusRtuSlave({
        path,
        devices: t.devices.map((id) => devices.get(id)!),
        baudRate: t.baudRate,
        parity: t.parity,
        stopBits: t.stopBits,
        wireTiming: t.wireTiming,
        turnaroundMs: t.turnaroundMs,
        ...(log ? { logger: log.child({ transport: 'modbus-rtu', path }) } : {}),
      });
      return { kind: 'modbus-rtu', slave, path, ids: t.devices };
    }
    const module = createWinsenModule({
      path,
      device: devices.get(t.device)!,
      mode: t.mode,
      intervalMs: t.intervalMs,
      ...(t.variant ? { variant: t.variant } : {}),
      ...(log ? { logger: log.child({ transport: 'winsen', path }) } : {}),
    });
    return { kind: 'winsen', module, path, ids: [t.device] };
  });

  let ticker: NodeJS.Timeout | null = null;
  let started: Built[] = [];
  let infos: ListenerInfo[] = [];

  const units = (ids: string[]) => ids.map((id) => devices.get(id)!.unit);

  return {
    scenario,
    devices,
    now: () => now,
    advance,
    apply(event) {
      const e = checkControlEvent(scenario, event);
      applyEvent(e);
      feedDevices();
      return e;
    },
    zoneConcentration(zone, gas) {
      const z = zones.get(zone);
      if (!z) throw new RangeError(`no zone "${zone}"`);
      return z.c.get(gas) ?? 0;
    },
    async start() {
      try {
        for (const b of built) {
          let info: ListenerInfo;
          if (b.kind === 'modbus-tcp') {
            const { port } = await b.server.start();
            info = { transport: 'modbus-tcp', host: b.host, port, units: units(b.ids), devices: b.ids };
          } else if (b.kind === 'modbus-rtu') {
            await b.slave.start();
            info = { transport: 'modbus-rtu', path: b.path, units: units(b.ids), devices: b.ids };
          } else {
            await b.module.start();
            info = { transport: 'winsen', path: b.path, units: [], devices: b.ids };
          }
          started.push(b);
          infos.push(info);
          log?.info(info, 'listening');
        }
      } catch (err) {
        await this.stop();
        throw err;
      }
      if (speed > 0) {
        let last = performance.now();
        ticker = setInterval(() => {
          const t = performance.now();
          const ms = Math.min(MAX_TICK_ADVANCE_MS, (t - last) * speed);
          last = t;
          advance(ms);
        }, opts.tickMs ?? 100);
      }
      return infos;
    },
    async stop() {
      if (ticker) clearInterval(ticker);
      ticker = null;
      for (const b of started.reverse()) {
        if (b.kind === 'modbus-tcp') await b.server.stop();
        else if (b.kind === 'modbus-rtu') await b.slave.stop();
        else await b.module.stop();
      }
      started = [];
      infos = [];
    },
    listeners: () => [...infos],
    transportStats: () =>
      built.map((b) => ({
        transport: b.kind,
        stats:
          b.kind === 'modbus-tcp'
            ? b.server.stats()
            : b.kind === 'modbus-rtu'
              ? b.slave.stats()
              : b.module.stats(),
      })),
  };
}

/** A control event that is no event of this scenario: each issue as `path: message`. */
export class ControlEventError extends Error {
  constructor(readonly issues: string[]) {
    super(`not an event of this scenario: ${issues.join('; ')}`);
    this.name = 'ControlEventError';
  }
}

/**
 * A control event checked as if it were scripted at the scenario's current time: the scenario
 * parsed again with it appended, so every reference check of the schema applies. One-shot only.
 */
function checkControlEvent(scenario: Scenario, event: unknown): ScenarioEvent {
  if (typeof event !== 'object' || event === null || Array.isArray(event))
    throw new ControlEventError(['the event must be a JSON object, e.g. {"device":"d1","zone":"bottom"}']);
  if ('atS' in event || 'everyS' in event)
    throw new ControlEventError([
      'atS, everyS: a control event happens now, once; script repeats in the scenario',
    ]);
  const at = scenario.events.length;
  const parsed = ScenarioSchema.safeParse({
    ...scenario,
    events: [...scenario.events, { ...event, atS: 0 }],
  });
  if (!parsed.success)
    throw new ControlEventError(
      parsed.error.issues.map((i) => {
        const path = i.path[0] === 'events' && i.path[1] === at ? i.path.slice(2) : i.path;
        return `${path.join('.') || 'event'}: ${i.message}`;
      }),
    );
  return parsed.data.events[at] as ScenarioEvent;
}

type Source = Zone['sources'][number];

/** Whether a source emits at `t` ms: from fromS to toS, or in each everyS period for toS − fromS. */
export function sourceOn(src: Source, t: number): boolean {
  const from = src.fromS * 1000;
  if (t < from) return false;
  if (src.toS === undefined) return true;
  const dur = src.toS * 1000 - from;
  if (src.everyS === undefined) return t < from + dur;
  return (t - from) % (src.everyS * 1000) < dur;
}

/** The first time after `t` at which the source switches on or off (Infinity if never). */
export function nextSourceEdge(src: Source, t: number): number {
  const from = src.fromS * 1000;
  if (t < from) return from;
  if (src.toS === undefined) return Number.POSITIVE_INFINITY;
  const dur = src.toS * 1000 - from;
  if (src.everyS === undefined) return t < from + dur ? from + dur : Number.POSITIVE_INFINITY;
  const period = src.everyS * 1000;
  const start = from + Math.floor((t - from) / period) * period;
  return t < start + dur ? start + dur : start + period;
}

function outdoorOf(z: Zone, gas: GasId): number {
  return z.outdoor[gas] ?? OUTDOOR_AIR[gas] ?? 0;
}
