import type { Logger } from 'pino';
import type { LedgerConfig } from '../alarms/config-schema.js';
import type { Alarm } from '../alarms/model.js';
import type { AreaSubject } from '../auth/principal.js';
import { appendAudit } from '../db/audit.js';
import type { Db } from '../db/database.js';
import { allAreas, insertLedger, scheduledLedgerExists } from '../db/ledgers.js';
import { notifiedMilestones } from '../db/notifications.js';
import { timeOrderedId } from '../db/page.js';
import type { LedgersTable } from '../db/schema.js';
import { deviceView } from '../ingest/device-view.js';
import type { DeviceRecord } from '../ingest/devices.js';
import { ZoneClock } from '../zone.js';
import { computeLedger } from './ledger.js';
import type { LedgerNumbers } from './ledger-schema.js';
import { ledgerSources } from './ledger-sources.js';
import { dueRun, type LedgerWeek, lastCompleteWeek, weekContaining, weekWindow } from './ledger-week.js';

export interface LedgerServiceDeps {
  db: Db;
  alarms: {
    alarmsOf(dev: string): readonly Readonly<Alarm>[];
    devices(): readonly string[];
    ready(): boolean;
  };
  /** The area of an alarm (auth.areaOf). */
  areaOf(subject: AreaSubject): string | null;
  /** Which devices are installed in homes, and where (the household index areaOf reads). */
  homes: {
    /** Whether a device is in a registered home (households/index.ts; reports/ does not import it). */
    ofDevice(device: string): object | undefined;
    devicesIn(area: string): Iterable<string>;
    /** Changes whenever a device comes into the index or leaves it. */
    generation(): number;
  };
  devices: { get(dev: string): DeviceRecord | undefined };
  config: LedgerConfig;
  timeZone: string;
  clock: () => number;
  logger: Logger;
  /** How often the schedule looks whether a run is due, ms (default 60 s). */
  checkMs?: number;
}

/** Who made a ledger: the schedule, or a caller (audited as such). */
export type LedgerAuthor =
  | { kind: 'schedule' }
  | { kind: 'user' | 'token'; id: string; address: string | null };

export interface LedgerService {
  /** The week a day lies in (ledger weeks start on the configured weekday). */
  weekOf(day: string): LedgerWeek;
  /** The last week ended by today (local): what a request without a week, and the schedule, make. */
  lastWeek(): LedgerWeek;
  /** Today, local (TIME_ZONE). */
  today(): string;
  /** Computes the ledger of `area` for `week` now, without storing it. */
  compute(area: string, week: LedgerWeek): Promise<LedgerNumbers>;
  /** Computes and stores a ledger with its audit row; the row stored. */
  generate(area: string, week: LedgerWeek, by: LedgerAuthor): Promise<LedgersTable>;
  /**
   * Makes the ledgers of the latest scheduled run that is due and not yet made, for every
   * township that existed at the run's time; how many this call wrote.
   */
  runDue(): Promise<number>;
  /** Checks every `checkMs` (and at once: a run missed while the server was down is made now). */
  start(): void;
  /** Stops checking and waits for a run in progress. */
  stop(): Promise<void>;
}

export const DEFAULT_CHECK_MS = 60_000;

/**
 * Makes weekly ledgers (SPEC §10): on request, and on the schedule of GASWATCH_CONFIG `ledger`
 * (default Friday 16:00 local) for every township. The scheduled ledger of a township and week is
 * written once whatever the number of servers: its row's unique `schedule_key` is the lock, so a
 * second server's insert does nothing (and it checks first, so it does not compute in vain).
 */
export function createLedgerService(deps: LedgerServiceDeps): LedgerService {
  const { db, config, clock, logger } = deps;
  const zone = new ZoneClock(deps.timeZone);
  const checkMs = deps.checkMs ?? DEFAULT_CHECK_MS;
  let timer: ReturnType<typeof setInterval> | null = null;
  let running: Promise<unknown> | null = null;
  /** The scheduled run (its time) whose ledgers are all made; none yet at start. */
  let handled = Number.NEGATIVE_INFINITY;
  /**
   * The devices with alarms that are in no home, as of a generation of the household index, and
   * how far into the alarm book's devices that was worked out: read on from there next time.
   */
  let outside = { generation: -1, read: 0, devices: [] as string[] };

  /**
   * The alarms whose area (areaOf) lies in `subtree`, found from their devices: those installed in
   * homes of the subtree (a home's area is its detectors' alarms' area) and those in no home (whose
   * area is their site's or gateway's). A pass over every alarm of the county instead, one area
   * look-up each, made a township's ledger cost what the county's alarms do (issue 13).
   */
  function alarmsIn(subtree: ReadonlySet<string>): Array<{ alarm: Readonly<Alarm>; area: string }> {
    const all = deps.alarms.devices();
    if (outside.generation !== deps.homes.generation())
      outside = { generation: deps.homes.generation(), read: 0, devices: [] };
    for (; outside.read < all.length; outside.read++) {
      const dev = all[outside.read] as string;
      if (deps.homes.ofDevice(dev) === undefined) outside.devices.push(dev);
    }
    const devices = new Set<string>(outside.devices);
    for (const area of subtree) for (const dev of deps.homes.devicesIn(area)) devices.add(dev);
    const out: Array<{ alarm: Readonly<Alarm>; area: string }> = [];
    for (const dev of devices)
      for (const alarm of deps.alarms.alarmsOf(dev)) {
        const area = deps.areaOf(alarm);
        if (area !== null && subtree.has(area)) out.push({ alarm, area });
      }
    return out;
  }

  function deviceStatus(dev: string, now: number): 'online' | 'offline' | 'never_reported' {
    const record = deps.devices.get(dev);
    if (record === undefined || record.lastSeen === null) return 'never_reported';
    return deviceView(record, now).online ? 'online' : 'offline';
  }

  async function compute(area: string, week: LedgerWeek): Promise<LedgerNumbers> {
    const now = clock();
    const areas = await allAreas(db);
    const byId = new Map(areas.map((a) => [a.id, a]));
    const subtree = new Set<string>();
    for (const a of areas) {
      for (let x: string | null = a.id, steps = 0; x !== null && steps <= areas.length; steps++) {
        if (x === area) {
          subtree.add(a.id);
          break;
        }
        x = byId.get(x)?.parent ?? null;
      }
    }
    const above: string[] = [];
    for (let x = byId.get(area)?.parent ?? null; x !== null && above.length <= areas.length; ) {
      above.push(x);
      x = byId.get(x)?.parent ?? null;
    }
    const sources = await ledgerSources(db, {
      areas: [...subtree],
      above,
      from: config.campaignStart ?? null,
      to: week.end,
    });
    // What the notification records say of the alarms raised by the end of the week; read first,
    // since the engine's own alarms (not copies) are read at once by computeLedger (no await from
    // there on). One raised meanwhile is after the week: it needs none.
    const end = weekWindow(zone, week).to;
    const notified = await notifiedMilestones(
      db,
      alarmsIn(subtree)
        .filter((x) => x.alarm.detectedAt < end)
        .map((x) => x.alarm.id),
    );
    const alarms = alarmsIn(subtree).map((x) => ({ ...x, notified: notified.get(x.alarm.id) }));
    return computeLedger({
      area,
      areas,
      week,
      campaignStart: config.campaignStart ?? null,
      zone,
      sources: {
        ...sources,
        alarms,
        deviceStatus: (dev) => deviceStatus(dev, now),
      },
    });
  }

  async function store(area: string, week: LedgerWeek, by: LedgerAuthor): Promise<LedgersTable | undefined> {
    const numbers = await compute(area, week);
    const now = clock();
    const row: LedgersTable = {
      id: timeOrderedId(now),
      area,
      week_start: week.start,
      week_end: week.end,
      generated_at: now,
      generated_by: by.kind === 'schedule' ? 'schedule' : by.id,
      schedule_key: by.kind === 'schedule' ? `${area}/${week.start}` : null,
      numbers: JSON.stringify(numbers),
    };
    return db.transaction().execute(async (tx) => {
      if (!(await insertLedger(tx, row))) return undefined;
      await appendAudit(tx, {
        ts: now,
        ...(by.kind === 'schedule'
          ? { actor: 'system', actorKind: 'system' as const, address: null }
          : { actor: by.id, actorKind: by.kind, address: by.address }),
        action: 'ledger.generate',
        target: { kind: 'ledger', id: row.id },
        after: { area, week, generatedBy: row.generated_by },
      });
      return row;
    });
  }

  async function runDue(): Promise<number> {
    const due = dueRun(zone, clock(), config);
    if (due.at <= handled) return 0;
    // Alarms not yet rebuilt from the database would be counted as none: wait for them.
    if (!deps.alarms.ready()) return 0;
    const townships = (await allAreas(db)).filter((a) => a.kind === 'township' && a.createdAt <= due.at);
    let written = 0;
    for (const t of townships) {
      if (await scheduledLedgerExists(db, `${t.id}/${due.week.start}`)) continue;
      if ((await store(t.id, due.week, { kind: 'schedule' })) !== undefined) written++;
    }
    handled = due.at;
    if (written > 0) logger.info({ week: due.week, ledgers: written }, 'weekly ledgers made');
    return written;
  }

  function check(): void {
    if (running !== null) return;
    running = runDue()
      .catch((err: unknown) => logger.warn({ err }, 'making the weekly ledgers failed; trying again shortly'))
      .finally(() => {
        running = null;
      });
  }

  return {
    weekOf: (day) => weekContaining(day, config.weekday),
    lastWeek: () => lastCompleteWeek(zone.day(clock()), config.weekday),
    today: () => zone.day(clock()),
    compute,
    async generate(area, week, by) {
      const row = await store(area, week, by);
      if (row === undefined) throw new Error('a ledger made on request has no schedule key to collide on');
      return row;
    },
    runDue,
    start() {
      if (timer !== null) return;
      timer = setInterval(check, checkMs);
      timer.unref();
      check();
    },
    async stop() {
      if (timer !== null) clearInterval(timer);
      timer = null;
      await running;
    },
  };
}
