import { randomUUID } from 'node:crypto';
import {
  addDays,
  type BumpTest,
  type BumpTestInput,
  type Calibration,
  type CalibrationInput,
  type CommandResult,
  type DeviceEvent,
  dayInZone,
  type Fitness,
  type MaintenanceDates,
  type MaintenanceView,
  maintenanceFitness,
} from '@gaswatch/shared';
import type { Logger } from 'pino';
import type { MaintenanceCondition } from '../alarms/engine.js';
import type { DeviceInfo, SendCommand, ServerBus } from '../bus.js';
import { type Actor, appendAudit } from '../db/audit.js';
import type { Db } from '../db/database.js';
import {
  factsOf,
  gatewayBumpTestId,
  getBumpTest,
  getDeviceMaintenance,
  householdAlarmOf,
  householdAlarmsOf,
  insertBumpTest,
  insertCalibration,
  listBumpTests,
  listCalibrations,
  maintenanceDueBy,
  putMaintenanceDates,
  toBumpTest,
  toCalibration,
} from '../db/maintenance.js';
import { timeOrderedId } from '../db/page.js';
import type { BumpTestsTable } from '../db/schema.js';
import { ServerError } from '../errors.js';
import { withTimeout } from '../timers.js';

/** How far ahead of the server's clock a recorded time may be (a phone's clock, SPEC §6's 5 min). */
export const FUTURE_SLACK_MS = 5 * 60_000;
/**
 * How long POST .../bump-tests/start waits for the broker to take the command, then for the
 * gateway's answer, before answering without it: together under the console's 5 s request limit
 * (a gateway answers at once; the result itself comes minutes later as an event).
 */
export const START_SEND_MS = 1_500;
export const START_ANSWER_MS = 3_000;
/** A gateway's result is credited to whoever started a test on that device within this long before it. */
const STARTED_WITHIN_MS = 2 * 3_600_000;
/** Records of each kind the device view carries (the list routes page through the rest). */
export const VIEW_RECORDS = 10;

/** A time in the future, or a next due day before the calibration itself. */
export class MaintenanceInputError extends ServerError {
  constructor(code: string, message: string) {
    super(code, message, { statusCode: 400 });
  }
}

/** The gateway refused the bump test (device not answering, a test already running…). */
export class BumpTestRefusedError extends ServerError {
  constructor(message: string) {
    super('bump_test_refused', message, { statusCode: 409 });
  }
}

/** The broker did not take the command. */
export class CommandNotSentError extends ServerError {
  constructor(message: string) {
    super('command_not_sent', message, { statusCode: 503 });
  }
}

/** Who records: the audit log's actor and the name a record says did the work unless it names another. */
export interface Recorder {
  actor: Actor;
  name: string;
}

/** What the start of a bump test came to: the command, and the gateway's answer if it came in time. */
export interface StartOutcome {
  command: string;
  /** true: the gateway opened its test window; null: no answer yet (the result still lands). */
  started: true | null;
  message: string;
}

/** One row of the due list: the device as the registry knows it (null: not heard of since) and its fitness. */
export interface DueRow {
  device: string;
  info: DeviceInfo | undefined;
  fitness: Fitness;
}

export interface MaintenanceDeps {
  db: Db;
  bus: ServerBus;
  /** The alarm engine's maintenance condition (raise on a failed latest bump test, clear on a pass). */
  alarms: {
    maintenance(c: MaintenanceCondition): Promise<unknown>;
    whenReady(): Promise<void>;
    list(filter: { state: 'open'; kind: 'maintenance'; limit: number }): Array<{ dev: string; gw: string }>;
  };
  devices: { get(dev: string): DeviceInfo | undefined };
  sendCommand: SendCommand;
  /** Wall clock, ms. */
  clock: () => number;
  logger: Logger;
  /** The zone of the site's local day (TIME_ZONE). */
  timeZone: string;
  /** Days ahead a date is reminded of (GASWATCH_CONFIG maintenance.remindDays). */
  remindDays: number;
}

export interface Maintenance {
  start(): void;
  stop(): Promise<void>;
  view(device: string): Promise<MaintenanceView>;
  /** Fitness now; what permits call before a gas test counts (SPEC §7). */
  fitness(device: string): Promise<Fitness>;
  recordBumpTest(device: string, input: BumpTestInput, who: Recorder): Promise<BumpTest>;
  recordCalibration(device: string, input: CalibrationInput, who: Recorder): Promise<Calibration>;
  setDates(device: string, dates: MaintenanceDates, who: Recorder): Promise<void>;
  startBumpTest(device: DeviceInfo, who: Recorder): Promise<StartOutcome>;
  /**
   * Maintained devices that `sees` accepts with a date due within `days` or past, or a last bump
   * test or calibration that failed: failures first, then the soonest date, then by device.
   */
  due(sees: (dev: string, info: DeviceInfo | undefined) => boolean, days: number): Promise<DueRow[]>;
  /** Resolves when every alarm update queued so far is done (tests). */
  idle(): Promise<void>;
}

/**
 * Detector maintenance (SPEC §11, issue 14): records bump tests (by hand, or the gateway's result
 * of a test the console started) and calibrations, keeps the dates, judges fitness, and keeps the
 * device's `maintenance` alarm in step with its latest bump test: raised while it failed, cleared
 * once a later one passed, whichever way either was recorded. The alarm follows the stored
 * records, never the other way round: after each record, and once at start for what a crash may
 * have left between the two.
 */
export function createMaintenance(deps: MaintenanceDeps): Maintenance {
  const { db, bus, clock, logger: log } = deps;
  /** Per device, the alarm update under way: they run one after another, so the last record wins. */
  const updating = new Map<string, Promise<void>>();
  const pendingAnswers = new Map<string, (r: CommandResult) => void>();
  let running = false;

  const today = () => dayInZone(clock(), deps.timeZone);

  function checkTime(at: string | undefined): number {
    const now = clock();
    if (at === undefined) return now;
    const ms = Date.parse(at);
    if (ms > now + FUTURE_SLACK_MS)
      throw new MaintenanceInputError(
        'in_the_future',
        `at ${at} is in the future (server time ${new Date(now).toISOString()}); record a test once it is done`,
      );
    return ms;
  }

  /** What the alarm says of a failed test. */
  function failMessage(r: BumpTestsTable): string {
    if (r.method === 'gateway' && r.note !== '') return `${r.device}: ${r.note}`;
    const t = toBumpTest(r);
    const failed = t.gases.filter((g) => g.result === 'fail');
    const gases = failed.length
      ? `: ${failed.map((g) => (g.peak === null ? g.gas : `${g.gas} peak ${g.peak}`)).join(', ')}`
      : '';
    return `${r.device}: bump test failed (${r.method.replace('_', ' ')}, ${r.done_by})${gases}${r.note ? ` — ${r.note}` : ''}`;
  }

  /** Brings the device's maintenance alarm in line with its latest stored bump test. */
  function updateAlarm(dev: string, gwHint?: string): Promise<void> {
    const run = async () => {
      const row = await getDeviceMaintenance(db, dev);
      if (row?.bump_id == null || row.bump_at === null) return;
      const latest = await getBumpTest(db, row.bump_id);
      if (latest === undefined) return;
      const info = deps.devices.get(dev);
      const gw = info?.gw ?? gwHint;
      if (gw === undefined) return;
      await deps.alarms.maintenance({
        gw,
        dev,
        site: info?.state?.site ?? null,
        failed: latest.result === 'fail',
        at: Number(latest.at),
        message: latest.result === 'fail' ? failMessage(latest) : `${dev}: bump test passed`,
      });
    };
    const next = (updating.get(dev) ?? Promise.resolve()).then(run).catch((err: unknown) => {
      log.error({ err, dev }, 'maintenance alarm not updated after a bump test');
    });
    updating.set(dev, next);
    void next.then(() => {
      if (updating.get(dev) === next) updating.delete(dev);
    });
    return next;
  }

  async function view(device: string): Promise<MaintenanceView> {
    const [row, home, bumps, cals] = await Promise.all([
      getDeviceMaintenance(db, device),
      householdAlarmOf(db, device),
      listBumpTests(db, { device, limit: VIEW_RECORDS }),
      listCalibrations(db, { device, limit: VIEW_RECORDS }),
    ]);
    return {
      device,
      fitness: judge(row, home?.expiresOn ?? null),
      bumpTests: { items: bumps.rows.map(toBumpTest), total: bumps.total, nextCursor: bumps.nextCursor },
      calibrations: { items: cals.rows.map(toCalibration), total: cals.total, nextCursor: cals.nextCursor },
      sensorEndOfLife: row?.sensor_eol ?? null,
      lastSelfTest: row?.last_self_test ?? null,
      householdAlarm: home ?? null,
    };
  }

  const judge = (row: Parameters<typeof factsOf>[0], expiresOn: string | null) =>
    maintenanceFitness(factsOf(row, expiresOn), {
      now: clock(),
      timeZone: deps.timeZone,
      remindDays: deps.remindDays,
    });

  /** Tells live consoles the device's maintenance changed, with its view as it is now. */
  async function announce(device: string): Promise<void> {
    const info = deps.devices.get(device);
    try {
      bus.emit('maintenance', {
        gw: info?.gw ?? null,
        dev: device,
        site: info?.state?.site ?? null,
        view: await view(device),
      });
    } catch (err) {
      log.warn({ err, dev: device }, 'maintenance change not announced live');
    }
  }

  /** Who started the last bump test of the device before `at` (the audit log says), if recent. */
  async function starterOf(device: string, at: number): Promise<string | undefined> {
    const r = await db
      .selectFrom('audit_log')
      .select(['after', 'ts'])
      .where('target_kind', '=', 'device')
      .where('target_id', '=', device)
      .where('action', '=', 'maintenance.bump_test.start')
      .where('ts', '>=', at - STARTED_WITHIN_MS)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (r?.after == null) return undefined;
    const by = (JSON.parse(r.after) as { by?: unknown }).by;
    return typeof by === 'string' ? by : undefined;
  }

  /** A gateway's bump test result: stored once (a second delivery is the same row), then the alarm. */
  async function recordGatewayResult(gw: string, dev: string, e: DeviceEvent): Promise<void> {
    if (e.result !== 'pass' && e.result !== 'fail') return;
    const at = Date.parse(e.ts);
    const now = clock();
    const by = (await starterOf(dev, at)) ?? `gateway ${gw}`;
    const row: BumpTestsTable = {
      id: gatewayBumpTestId(dev, at),
      device: dev,
      at,
      result: e.result,
      // The gateway names the first gas of its verdict (for a fail, the first that did not reach
      // its level) and its peak; the message lists every gas.
      gases: JSON.stringify(
        e.gas === undefined ? [] : [{ gas: e.gas, result: e.result, peak: e.value ?? null }],
      ),
      method: 'gateway',
      done_by: by,
      note: e.message ?? '',
      recorded_by: `gateway:${gw}`,
      recorded_at: now,
    };
    const stored = await db.transaction().execute(async (tx) => {
      if (!(await insertBumpTest(tx, row))) return false;
      await appendAudit(tx, {
        ts: now,
        actor: `gateway:${gw}`,
        actorKind: 'system',
        action: 'maintenance.bump_test.record',
        target: { kind: 'device', id: dev },
        after: toBumpTest(row),
      });
      return true;
    });
    if (!stored) return;
    log.info({ dev, gw, result: e.result }, 'gateway bump test recorded');
    await updateAlarm(dev, gw);
    await announce(dev);
  }

  const onDeviceEvent = ({ gw, dev, event }: { gw: string; dev: string; event: DeviceEvent }) => {
    if (!running || event.type !== 'bump_test') return;
    recordGatewayResult(gw, dev, event).catch((err: unknown) =>
      log.error({ err, gw, dev }, 'gateway bump test result not recorded'),
    );
  };
  const onCommandResult = ({ result }: { gw: string; result: CommandResult }) => {
    pendingAnswers.get(result.id)?.(result);
  };

  /**
   * At start: a crash between storing a test and the alarm's event leaves them apart. Every device
   * whose latest bump test failed, and every open maintenance alarm, is brought in line.
   */
  async function reconcileAll(): Promise<void> {
    await deps.alarms.whenReady();
    if (!running) return;
    const failed = await db
      .selectFrom('device_maintenance')
      .select('device')
      .where('bump_result', '=', 'fail')
      .execute();
    const open = deps.alarms.list({ state: 'open', kind: 'maintenance', limit: 100_000 });
    const gwOf = new Map(open.map((a) => [a.dev, a.gw]));
    for (const dev of new Set([...failed.map((r) => r.device), ...gwOf.keys()]))
      await updateAlarm(dev, gwOf.get(dev));
  }

  return {
    start() {
      running = true;
      bus.on('deviceEvent', onDeviceEvent);
      bus.on('commandResult', onCommandResult);
      reconcileAll().catch((err: unknown) =>
        log.error({ err }, 'maintenance alarms not checked against the records at start'),
      );
    },

    async stop() {
      running = false;
      bus.off('deviceEvent', onDeviceEvent);
      bus.off('commandResult', onCommandResult);
      await Promise.all(updating.values());
    },

    view,

    async fitness(device) {
      const [row, home] = await Promise.all([getDeviceMaintenance(db, device), householdAlarmOf(db, device)]);
      return judge(row, home?.expiresOn ?? null);
    },

    async recordBumpTest(device, input, who) {
      const at = checkTime(input.at);
      const now = clock();
      const row: BumpTestsTable = {
        id: timeOrderedId(now),
        device,
        at,
        result: input.result,
        gases: JSON.stringify(input.gases),
        method: input.method,
        done_by: input.by ?? who.name,
        note: input.note,
        recorded_by: who.actor.actor,
        recorded_at: now,
      };
      await db.transaction().execute(async (tx) => {
        await insertBumpTest(tx, row);
        await appendAudit(tx, {
          ts: now,
          ...who.actor,
          action: 'maintenance.bump_test.record',
          target: { kind: 'device', id: device },
          after: toBumpTest(row),
        });
      });
      await updateAlarm(device);
      await announce(device);
      return toBumpTest(row);
    },

    async recordCalibration(device, input, who) {
      const at = checkTime(input.at);
      const day = dayInZone(at, deps.timeZone);
      if (input.nextDue !== null && input.nextDue <= day)
        throw new MaintenanceInputError(
          'bad_next_due',
          `nextDue ${input.nextDue} must be after the day of the calibration (${day})`,
        );
      const now = clock();
      const row = {
        id: timeOrderedId(now),
        device,
        at,
        result: input.result,
        next_due: input.nextDue,
        done_by: input.by ?? who.name,
        certificate: input.certificate,
        note: input.note,
        recorded_by: who.actor.actor,
        recorded_at: now,
      };
      await db.transaction().execute(async (tx) => {
        await insertCalibration(tx, row);
        await appendAudit(tx, {
          ts: now,
          ...who.actor,
          action: 'maintenance.calibration.record',
          target: { kind: 'device', id: device },
          after: toCalibration(row),
        });
      });
      await announce(device);
      return toCalibration(row);
    },

    async setDates(device, dates, who) {
      const now = clock();
      await db.transaction().execute(async (tx) => {
        const before = await putMaintenanceDates(tx, device, dates, now);
        await appendAudit(tx, {
          ts: now,
          ...who.actor,
          action: 'maintenance.dates.set',
          target: { kind: 'device', id: device },
          before:
            before === undefined
              ? null
              : { sensorEndOfLife: before.sensor_eol, lastSelfTest: before.last_self_test },
          after: dates,
        });
      });
      await announce(device);
    },

    async startBumpTest(d, who) {
      const command = `bump-${randomUUID()}`;
      let answered: (r: CommandResult) => void = () => {};
      const answer = new Promise<CommandResult>((resolve) => {
        answered = resolve;
      });
      pendingAnswers.set(command, answered);
      try {
        try {
          await withTimeout(
            deps.sendCommand(d.gw, { v: 1, id: command, type: 'bump_test', device: d.dev }),
            START_SEND_MS,
            'sending the bump_test command',
          );
        } catch (err) {
          throw new CommandNotSentError(
            `the bump_test command could not be sent to gateway ${d.gw}: ${(err as Error).message}`,
          );
        }
        let timer: NodeJS.Timeout | undefined;
        const result = await Promise.race([
          answer,
          new Promise<null>((resolve) => {
            timer = setTimeout(() => resolve(null), START_ANSWER_MS);
          }),
        ]);
        clearTimeout(timer);
        if (result !== null && !result.ok)
          throw new BumpTestRefusedError(`gateway ${d.gw} refused: ${result.message ?? 'no reason given'}`);
        // Audited once the gateway took it (or said nothing): the result is credited to `by`.
        await appendAudit(db, {
          ts: clock(),
          ...who.actor,
          action: 'maintenance.bump_test.start',
          target: { kind: 'device', id: d.dev },
          after: { by: who.name, gw: d.gw, command, answer: result?.message ?? null },
        });
        return {
          command,
          started: result === null ? null : true,
          message:
            result === null
              ? `sent to gateway ${d.gw}; it has not answered within ${START_ANSWER_MS / 1000} s (the result is recorded when it comes)`
              : (result.message ?? 'started'),
        };
      } finally {
        pendingAnswers.delete(command);
      }
    },

    async due(sees, days) {
      const horizon = addDays(today(), days);
      const rows = (await maintenanceDueBy(db, horizon)).filter((r) =>
        sees(r.device, deps.devices.get(r.device)),
      );
      const homes = await householdAlarmsOf(
        db,
        rows.map((r) => r.device),
      );
      const now = clock();
      const out: DueRow[] = rows.map((r) => ({
        device: r.device,
        info: deps.devices.get(r.device),
        fitness: maintenanceFitness(factsOf(r, homes.get(r.device) ?? null), {
          now,
          timeZone: deps.timeZone,
          remindDays: days,
        }),
      }));
      const failed = (f: Fitness) =>
        f.reasons.includes('bump_test_failed') || f.reasons.includes('calibration_failed') ? 0 : 1;
      const soonest = (f: Fitness) => f.reminders[0]?.daysLeft ?? Number.MAX_SAFE_INTEGER;
      return out.sort(
        (a, b) =>
          failed(a.fitness) - failed(b.fitness) ||
          soonest(a.fitness) - soonest(b.fitness) ||
          (a.device < b.device ? -1 : 1),
      );
    },

    async idle() {
      await Promise.all(updating.values());
    },
  };
}
