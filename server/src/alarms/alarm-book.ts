import type { AlarmCondition, GasId } from '@gaswatch/shared';
import type { Logger } from 'pino';
import type { ServerBus } from '../bus.js';
import type { AlarmEventRecord } from '../store/types.js';
import type { EventLog } from './event-log.js';
import {
  type Alarm,
  type AlarmEventData,
  type AlarmEventType,
  type AlarmFold,
  type AlarmHistoryEntry,
  type AlarmKind,
  type AlarmLifecycleState,
  type AlarmResolution,
  type AlarmResponse,
  alarmIdFor,
  alarmKind,
  isFoldKey,
  isOpen,
  MAINTENANCE_KEY,
  OFFLINE_KEY,
  type ResolutionReason,
  rebuildAlarms,
} from './model.js';
import { RaiseOrder } from './raise-order.js';

export interface AlarmFilter {
  /** `open` = every state but cleared. */
  state?: AlarmLifecycleState | 'open';
  dev?: string;
  site?: string;
  kind?: AlarmKind;
  gas?: GasId;
  severity?: Alarm['severity'];
  /** The resolution's reason, or `unresolved`: not resolved yet. */
  outcome?: ResolutionReason | 'unresolved';
  /** Raised at or after this time (ms since epoch; raisedAt, the event time). */
  from?: number;
  /** Raised before this time (exclusive). */
  to?: number;
  /**
   * Only alarms it accepts (the caller's area, SPEC §9, and an area asked for); asked last, after
   * the cheap tests above, since it may look up the alarm's area.
   */
  visible?: (a: Alarm) => boolean;
  /** Only alarms after this one in the order (the previous page's last). */
  after?: AlarmPosition;
  limit?: number;
}

/** True when the alarm passes every test of the filter but the paging ones (after, limit). */
export function matches(a: Alarm, f: AlarmFilter): boolean {
  if (f.from !== undefined && a.raisedAt < f.from) return false;
  if (f.to !== undefined && a.raisedAt >= f.to) return false;
  if (f.dev !== undefined && a.dev !== f.dev) return false;
  if (f.site !== undefined && a.site !== f.site) return false;
  if (f.severity !== undefined && a.severity !== f.severity) return false;
  if (f.gas !== undefined && a.gas !== f.gas) return false;
  if (f.kind !== undefined && alarmKind(a) !== f.kind) return false;
  if (f.state === 'open' ? !isOpen(a) : f.state !== undefined && a.state !== f.state) return false;
  if (f.outcome !== undefined && (a.resolution?.reason ?? 'unresolved') !== f.outcome) return false;
  return f.visible === undefined || f.visible(a);
}

/** One page of alarms, how many match in all, and where the next page starts (null: the last). */
export interface AlarmSelection<A = Alarm> {
  alarms: A[];
  total: number;
  next: AlarmPosition | null;
}

/** Where an alarm sorts: newest raise first, then by id. */
export type AlarmPosition = Pick<Alarm, 'raisedAt' | 'id'>;

/** The device an alarm is raised for, as its rules see it. */
export interface AlarmSource {
  gw: string;
  dev: string;
  site: string | null;
  /** The alarm profile its rules run (null before any was selected). */
  profile: string | null;
  /** A folded alarm: the devices it stands for. */
  fold?: AlarmFold;
}

/** What the book needs from escalation: start (or resume) the chain, and whether it is climbing. */
export interface Escalator {
  escalate(a: Alarm): void;
  climbing(alarmId: string): boolean;
}

/** Records one transition: stored, kept in the history, counted and announced on the bus. */
export type RecordTransition = (
  a: Alarm,
  type: AlarmEventType,
  ts: number,
  extra?: Partial<AlarmEventData>,
) => void;

export interface AlarmBook {
  get(id: string): Alarm | undefined;
  has(id: string): boolean;
  all(): IterableIterator<Alarm>;
  readonly size: number;
  /** Copies of the alarms matching the filter, newest raise first (at most `limit`, 100 by default). */
  list(filter: AlarmFilter): Alarm[];
  /** One page of them (copies), how many match in all, and where the next page starts (null: the last). */
  page(filter: AlarmFilter): AlarmSelection;
  /**
   * The same page as the book's own alarms, not copies: for a caller that reads them at once
   * (an export writing rows) and keeps none, since the engine goes on changing them.
   */
  select(filter: AlarmFilter): AlarmSelection<Readonly<Alarm>>;
  /** Every alarm of a device (the book's own, in no promised order): read them at once. */
  alarmsOf(dev: string): readonly Readonly<Alarm>[];
  /**
   * Every device that has had an alarm, in the order of its first: only ever appended to, so a
   * caller that went through it once reads on from where it stopped.
   */
  devices(): readonly string[];
  /** Copies of the alarm's events in order. */
  history(id: string): AlarmHistoryEntry[];
  /** The open alarm of a device's condition, if any. */
  openAlarm(dev: string, key: string): Alarm | undefined;
  openAlarmsOf(dev: string): Alarm[];
  openCount(): number;
  /** Some alarm of this condition already spans part of [from, to] (the same episode, seen before). */
  coveredEpisode(dev: string, key: string, from: number, to: number): boolean;
  raise(src: AlarmSource, c: AlarmCondition, raisedAt: number, late: boolean): Alarm;
  reraise(a: Alarm, ts: number, c: AlarmCondition | null, late: boolean): void;
  clear(a: Alarm, ts: number): void;
  /** The acknowledgement itself (escalation and silence are the caller's). */
  acknowledge(a: Alarm, actor: string, note: string, now: number): void;
  /** Records the outcome; the lifecycle state stays as it is (an alarm still on stays open). */
  resolve(a: Alarm, resolution: AlarmResolution): void;
  /** Records what a responder did: a call, "on my way", "on site". */
  respond(a: Alarm, response: AlarmResponse): void;
  record: RecordTransition;
  /** Rebuilds the alarms and their histories from the stored events (once, at start). */
  load(records: readonly AlarmEventRecord[]): void;
}

export interface AlarmBookDeps {
  clock: () => number;
  logger: Logger;
  bus: ServerBus;
  events: EventLog;
  escalation: Escalator;
  /** Counts a transition by type. */
  onTransition(type: AlarmEventType): void;
}

/**
 * The alarm book: every alarm (closed ones too), the open one per (device, condition key), and
 * each alarm's history. All lifecycle transitions go through here (raise, re-raise, clear,
 * acknowledge, and what escalation and silence record), so each is stored, kept in the history
 * and announced in one place.
 */
export function createAlarmBook(deps: AlarmBookDeps): AlarmBook {
  const { clock, bus, events, escalation, logger: log } = deps;
  const alarms = new Map<string, Alarm>();
  /** The same alarms by raise time, for lists (raisedAt and id never change after the raise). */
  const order = new RaiseOrder<Alarm>();
  /**
   * Open alarms: device → condition key → alarm id. Per device, because every reading looks up
   * its device's open alarms (a scan of all open alarms there grew with the whole estate).
   */
  const openIndex = new Map<string, Map<string, string>>();
  /** Each alarm's events, kept in memory so history does not depend on the store being up. */
  const historyById = new Map<string, AlarmHistoryEntry[]>();
  /**
   * Every alarm by device, and the devices in the order of their first alarm: what lies in one
   * area is found from its devices (the weekly ledger) rather than by a pass over every alarm.
   */
  const byDevice = new Map<string, Alarm[]>();
  const devices: string[] = [];
  /** Keeps an alarm by id and by device, in place of one of the same id. */
  const keep = (a: Alarm) => {
    const before = alarms.get(a.id);
    alarms.set(a.id, a);
    if (before !== undefined) {
      const theirs = byDevice.get(before.dev) ?? [];
      const i = theirs.indexOf(before);
      if (i >= 0) theirs.splice(i, 1);
    }
    const mine = byDevice.get(a.dev);
    if (mine !== undefined) mine.push(a);
    else {
      byDevice.set(a.dev, [a]);
      devices.push(a.dev);
    }
  };

  const setOpen = (a: Alarm) => {
    let byKey = openIndex.get(a.dev);
    if (byKey === undefined) {
      byKey = new Map();
      openIndex.set(a.dev, byKey);
    }
    byKey.set(a.key, a.id);
  };
  const deleteOpen = (a: Alarm) => {
    const byKey = openIndex.get(a.dev);
    if (byKey === undefined) return;
    byKey.delete(a.key);
    if (byKey.size === 0) openIndex.delete(a.dev);
  };

  function addHistory(r: AlarmEventRecord): void {
    const d = r.data as AlarmEventData;
    if (typeof d.type !== 'string' || typeof d.seq !== 'number') return;
    const e: AlarmHistoryEntry = { id: r.id, seq: d.seq, ts: r.ts, type: d.type, state: d.state };
    if (d.actor !== undefined) e.actor = d.actor;
    if (d.note !== undefined) e.note = d.note;
    if (d.tier !== undefined) e.tier = d.tier;
    if (d.contacts !== undefined) e.contacts = d.contacts;
    if (d.ok !== undefined) e.ok = d.ok;
    if (d.late === true) e.late = true;
    if (typeof d.command === 'string') e.command = d.command;
    if (typeof d.message === 'string') e.message = d.message;
    if (Array.isArray(d.heldBy)) e.heldBy = d.heldBy;
    if (typeof d.silenceStatus === 'string') e.silenceStatus = d.silenceStatus;
    if (typeof d.reason === 'string') e.reason = d.reason;
    if (typeof d.contact === 'object' && d.contact !== null) e.contact = d.contact;
    if (typeof d.outcome === 'string') e.outcome = d.outcome;
    let list = historyById.get(r.alarmId);
    if (list === undefined) {
      list = [];
      historyById.set(r.alarmId, list);
    }
    if (list.some((x) => x.seq === e.seq)) return;
    list.push(e);
    if (list.length > 1 && (list.at(-2)?.seq ?? 0) > e.seq) list.sort((x, y) => x.seq - y.seq);
  }

  const record: RecordTransition = (a, type, ts, extra = {}) => {
    a.seq += 1;
    const data: AlarmEventData = { ...extra, type, seq: a.seq, state: a.state, alarm: { ...a } };
    const rec: AlarmEventRecord = { id: `${a.id}#${a.seq}`, alarmId: a.id, ts, data };
    events.append(rec);
    addHistory(rec);
    deps.onTransition(type);
    try {
      bus.emit('alarm', {
        alarmId: a.id,
        gw: a.gw,
        dev: a.dev,
        state: a.state,
        ts,
        type,
        site: a.site,
        key: a.key,
        rule: a.rule,
        gas: a.gas,
        severity: a.severity,
        message: a.message,
        value: a.value,
        threshold: a.threshold,
        unit: a.unit,
        raisedAt: a.raisedAt,
        late: a.late,
        episode: a.episode ?? 1,
        ...(extra.actor === undefined ? {} : { actor: extra.actor, note: extra.note }),
        ...(extra.tier === undefined ? {} : { tier: extra.tier }),
        ...(a.silence === undefined || (type !== 'silence' && type !== 'silence_result')
          ? {}
          : { silence: { ...a.silence } }),
      });
    } catch (err) {
      log.error({ err, alarmId: a.id }, 'a bus alarm listener threw');
    }
  };

  function openAlarm(dev: string, key: string): Alarm | undefined {
    const id = openIndex.get(dev)?.get(key);
    return id === undefined ? undefined : alarms.get(id);
  }

  /**
   * The alarms of the filter's time range, newest first, in one pass (the raise order's binary
   * searches bound the range): each that matches is counted, and the first `limit` after the
   * cursor kept; nothing is copied or sorted. With no filter but time, the total is the range's
   * length and only the page is read.
   */
  function select(f: AlarmFilter): AlarmSelection {
    const limit = f.limit ?? 100;
    const lo = f.from === undefined ? 0 : order.firstRaisedAt(f.from);
    const hi = Math.max(lo, f.to === undefined ? order.length : order.firstRaisedAt(f.to));
    // Positions below `cut` come after the cursor in the list.
    const cut = f.after === undefined ? hi : Math.min(hi, order.lowerBound(f.after));
    const shown: Alarm[] = [];
    let total = 0;
    let more = false;
    const onlyTime =
      f.state === undefined &&
      f.dev === undefined &&
      f.site === undefined &&
      f.kind === undefined &&
      f.gas === undefined &&
      f.severity === undefined &&
      f.outcome === undefined &&
      f.visible === undefined;
    if (onlyTime) {
      total = hi - lo;
      for (let i = cut - 1; i >= lo && shown.length < limit; i--) shown.push(order.at(i));
      more = cut - lo > limit;
    } else {
      for (let i = hi - 1; i >= lo; i--) {
        const a = order.at(i);
        if (!matches(a, f)) continue;
        total++;
        if (i >= cut) continue;
        if (shown.length < limit) shown.push(a);
        else more = true;
      }
    }
    const last = shown.at(-1);
    return {
      alarms: shown,
      total,
      next: more && last !== undefined ? { raisedAt: last.raisedAt, id: last.id } : null,
    };
  }

  function page(filter: AlarmFilter): AlarmSelection {
    const selection = select(filter);
    // Copies of the page only: a list of 100 among a million alarms copies 100.
    return { ...selection, alarms: selection.alarms.map((a) => ({ ...a })) };
  }

  return {
    get: (id) => alarms.get(id),
    has: (id) => alarms.has(id),
    all: () => alarms.values(),
    get size() {
      return alarms.size;
    },

    list: (filter) => page(filter).alarms,
    page,
    select,
    alarmsOf: (dev) => byDevice.get(dev) ?? [],
    devices: () => devices,

    history: (id) => (historyById.get(id) ?? []).map((e) => ({ ...e })),

    openAlarm,

    openAlarmsOf(dev) {
      const out: Alarm[] = [];
      const byKey = openIndex.get(dev);
      if (byKey === undefined) return out;
      for (const id of byKey.values()) {
        const a = alarms.get(id);
        if (a !== undefined) out.push(a);
      }
      return out;
    },

    openCount() {
      let open = 0;
      for (const byKey of openIndex.values()) open += byKey.size;
      return open;
    },

    coveredEpisode(dev, key, from, to) {
      for (const a of alarms.values())
        if (
          a.dev === dev &&
          a.key === key &&
          a.raisedAt <= to &&
          (a.clearedAt === null || a.clearedAt >= from)
        )
          return true;
      return false;
    },

    raise(src, c, raisedAt, late) {
      const a: Alarm = {
        id: alarmIdFor(src.dev, c.key, raisedAt),
        gw: src.gw,
        dev: src.dev,
        site: src.site,
        key: c.key,
        rule: c.rule,
        profile:
          c.key === OFFLINE_KEY || isFoldKey(c.key)
            ? 'offline'
            : c.key === MAINTENANCE_KEY
              ? 'maintenance'
              : (src.profile ?? 'unknown'),
        ...(c.gas === undefined ? {} : { gas: c.gas }),
        severity: c.severity,
        state: 'active',
        message: c.message,
        value: c.value,
        threshold: c.threshold,
        ...(c.unit === undefined ? {} : { unit: c.unit }),
        raisedAt,
        detectedAt: clock(),
        late,
        clearedAt: null,
        ack: null,
        tier: 0,
        lastNotifiedAt: null,
        seq: 0,
        episode: 1,
        ...(src.fold === undefined ? {} : { fold: src.fold }),
      };
      keep(a);
      order.add(a);
      setOpen(a);
      log.warn(
        { alarmId: a.id, dev: a.dev, key: a.key, severity: a.severity, value: a.value, late },
        `alarm raised: ${a.message}`,
      );
      record(a, 'raised', raisedAt, late ? { late } : {});
      escalation.escalate(a);
      return a;
    },

    /**
     * A latched (cleared_unacked) alarm whose condition came back: a new episode. While escalation
     * is still climbing the chain it carries on (the next tier hears of the new episode on time);
     * once it has stopped at the top, the chain starts again at tier 1 — at once, or, if the last
     * notification is less than an ackTimeout old (a flapping condition), when it is one old.
     */
    reraise(a, ts, c, late) {
      a.state = 'active';
      a.clearedAt = null;
      a.episode = (a.episode ?? 1) + 1;
      if (c !== null) {
        a.value = c.value;
        a.message = c.message;
      }
      const climbing = escalation.climbing(a.id);
      if (!climbing) a.tier = 0;
      log.warn(
        { alarmId: a.id, dev: a.dev, key: a.key, episode: a.episode },
        'latched alarm raised again before acknowledgement',
      );
      record(a, 'reraised', ts, late ? { late } : {});
      if (!climbing) escalation.escalate(a);
    },

    clear(a, ts) {
      a.clearedAt = ts;
      a.state = a.state === 'acknowledged' ? 'cleared' : 'cleared_unacked';
      if (a.state === 'cleared') deleteOpen(a);
      log.info({ alarmId: a.id, dev: a.dev, key: a.key, state: a.state }, 'alarm condition ended');
      record(a, 'cleared', ts);
    },

    acknowledge(a, actor, note, now) {
      a.ack = { actor, at: now, note };
      a.state = a.state === 'active' ? 'acknowledged' : 'cleared';
      if (a.state === 'cleared') deleteOpen(a);
      log.info({ alarmId: a.id, actor, state: a.state }, 'alarm acknowledged');
      record(a, 'acknowledged', now, { actor, note });
    },

    resolve(a, resolution) {
      a.resolution = resolution;
      log.info({ alarmId: a.id, actor: resolution.actor, reason: resolution.reason }, 'alarm resolved');
      record(a, 'resolved', resolution.at, {
        actor: resolution.actor,
        note: resolution.note,
        reason: resolution.reason,
      });
    },

    respond(a, r) {
      const stamp = { actor: r.actor, at: r.at };
      if (r.kind === 'on_my_way') a.onMyWay ??= stamp;
      else if (r.kind === 'on_site') a.onSite ??= stamp;
      else a.calls = (a.calls ?? 0) + 1;
      record(a, r.kind, r.at, {
        actor: r.actor,
        note: r.note,
        ...(r.kind === 'call' ? { contact: r.contact, outcome: r.outcome } : {}),
      });
    },

    record,

    load(records) {
      const { alarms: rebuilt, skipped, repaired } = rebuildAlarms(records);
      if (skipped > 0) log.warn({ skipped }, 'unreadable alarm events skipped during rebuild');
      if (repaired.length > 0)
        log.error({ repaired }, 'alarms with damaged fields restored with defaults: check them on site');
      for (const r of records) addHistory(r);
      for (const a of rebuilt.values()) {
        keep(a);
        if (isOpen(a)) setOpen(a);
      }
      order.reset(alarms.values());
    },
  };
}
