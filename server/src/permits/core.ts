import {
  type Fitness,
  type GasId,
  type GasIdentity,
  PERMIT_TRANSITIONS,
  type PermitAction,
  type PermitState,
  recordsKeptUntil,
} from '@gaswatch/shared';
import type { Logger } from 'pino';
import type { GaswatchConfig } from '../alarms/config-schema.js';
import type { Dispatcher } from '../alarms/dispatcher.js';
import type { AlarmEngine } from '../alarms/engine.js';
import { alarmKind } from '../alarms/model.js';
import type { AreaTree } from '../auth/areas.js';
import type { AreaSubject, Principal } from '../auth/principal.js';
import type { PermitLiveEvent, SendCommand, ServerBus } from '../bus.js';
import { appendAudit, auditOfTargets } from '../db/audit.js';
import type { Db } from '../db/database.js';
import {
  getPermit,
  PermitNotFoundError,
  permitEvents,
  type Signer,
  testsOf,
  transitionPermit,
} from '../db/permits.js';
import type { PermitEventsTable, PermitsTable } from '../db/schema.js';
import { deviceView } from '../ingest/device-view.js';
import type { DeviceRecord, DeviceRegistry } from '../ingest/devices.js';
import { builtinProfiles } from '../profiles.js';
import type { DetectorNow, GateContext } from './gate.js';
import { rulesOf, typeOf } from './rules.js';

/**
 * What the parts of the permit service share (service.ts, tests.ts, monitor.ts): its
 * dependencies, one queue per permit so its changes never interleave in this process, the one way
 * a state changes (signed record, audit row, live event), and what the server knows of a detector.
 */

export interface PermitDeps {
  db: Db;
  bus: ServerBus;
  clock: () => number;
  logger: Logger;
  config: GaswatchConfig;
  /** The site's local day (hot work's daily analysis). */
  timeZone: string;
  devices: DeviceRegistry;
  alarms: Pick<AlarmEngine, 'list'>;
  /** Who sees what (SPEC §9): a device's area, the caller's scope, the area tree (app.auth). */
  auth: {
    areaOf(subject: AreaSubject): string | null;
    canSee(principal: Principal | null, area: string | null): boolean;
    areas: Pick<AreaTree, 'has' | 'within' | 'parentOf' | 'kindOf'>;
  };
  /**
   * Whether a detector may be used for a gas test now (SPEC §11: bump-tested today, calibration
   * not overdue): detector maintenance's judgement (maintenance/service.ts).
   */
  fitness(device: string): Promise<Pick<Fitness, 'fit' | 'reasons'>>;
  /** Sends a command to a gateway (app.sendCommand): the evacuation alert sounds the site's sounder. */
  sendCommand: SendCommand;
  /** Notification delivery (app.alarms.notify): the evacuation alert by SMS, call, e-mail, chat. */
  notify: Pick<Dispatcher, 'tell'>;
}

/** Who acts: a caller of the API (with the address the audit log records) or the server. */
export type Actor = { principal: Principal; address: string | null } | { system: true };

/** A caller of the API: who, and from where (the audit log). */
export type Caller = Extract<Actor, { principal: unknown }>;

export function signerOf(actor: Actor): Signer {
  if ('system' in actor) return { by: 'system', kind: 'system', name: 'gaswatch', role: 'system' };
  const p = actor.principal;
  return { by: p.id, kind: p.kind, name: p.name, role: p.role };
}

export function auditActorOf(actor: Actor) {
  return 'system' in actor
    ? { actor: 'system', actorKind: 'system' as const, address: null }
    : { actor: actor.principal.id, actorKind: actor.principal.kind, address: actor.address };
}

/** The channels a detector reports: its profile's, else those of its last reading. */
export function deviceChannels(d: DeviceRecord): GasId[] {
  const model = d.state?.model;
  const p = model === undefined ? undefined : builtinProfiles().get(model);
  const gases: GasId[] =
    p === undefined
      ? (Object.keys(d.lastReading?.values ?? {}) as GasId[])
      : p.transport === 'modbus'
        ? p.channels.map((c) => c.gas)
        : [p.gas];
  return [...new Set(gases)];
}

/** A channel with the gas it is judged as: the combustible channel as `combustibleAs` when given. */
export function channelGases(channels: readonly GasId[], combustibleAs?: GasIdentity) {
  return channels.map((channel) => ({
    channel,
    gas: channel === 'LEL' && combustibleAs !== undefined ? combustibleAs : (channel as GasIdentity),
  }));
}

/** The names on a permit and of who signed it, lower case, one per line: the search by person. */
export function peopleText(names: readonly string[]): string {
  return [...new Set(names.map((n) => n.trim().toLowerCase()).filter((n) => n !== ''))].join('\n');
}

export interface PermitCore {
  deps: PermitDeps;
  /** Runs `fn` after every earlier task of this permit (in this process). */
  serial<T>(permitId: string, fn: () => Promise<T>): Promise<T>;
  /** Resolves when every queued task has run. */
  idle(): Promise<void>;
  /** The permit, or PermitNotFoundError. */
  load(id: string): Promise<PermitsTable>;
  /**
   * Takes `action` (the caller checked it may): the permit's new state with its signed record and
   * the audit row in one transaction, then the live event. `extra` runs in the same transaction.
   */
  transition(
    permit: PermitsTable,
    action: PermitAction,
    actor: Actor,
    opts: {
      note: string;
      data?: Record<string, unknown>;
      set?: Partial<PermitsTable>;
      extra?: (tx: Db) => Promise<void>;
      live?: Partial<PermitLiveEvent>;
    },
  ): Promise<{ permit: PermitsTable; event: PermitEventsTable }>;
  emit(permit: PermitsTable, e: Omit<PermitLiveEvent, 'permitId' | 'area' | 'state' | 'at'>): void;
  /** A detector as the server knows it now: online, and an alarm whose condition still holds. */
  detectorNow(device: string): DetectorNow;
  /** What the gate needs of a permit now, for the caller and the detector that would watch it. */
  gateContext(
    permit: PermitsTable,
    caller: Actor,
    monitor: GateContext['monitor'],
  ): Promise<GateContext & { events: PermitEventsTable[] }>;
}

export function createPermitCore(deps: PermitDeps): PermitCore {
  const { db, bus, clock } = deps;
  const chains = new Map<string, Promise<unknown>>();

  const emit: PermitCore['emit'] = (permit, e) => {
    try {
      bus.emit('permit', {
        ...e,
        permitId: permit.id,
        area: permit.area,
        state: permit.state,
        at: clock(),
      } as PermitLiveEvent);
    } catch (err) {
      deps.logger.error({ err, permit: permit.id }, 'a bus permit listener threw');
    }
  };

  const core: PermitCore = {
    deps,
    serial(permitId, fn) {
      const prev = chains.get(permitId) ?? Promise.resolve();
      const run = prev.then(fn, fn);
      const settled = run.then(
        () => undefined,
        () => undefined,
      );
      chains.set(permitId, settled);
      void settled.then(() => {
        if (chains.get(permitId) === settled) chains.delete(permitId);
      });
      return run;
    },
    async idle() {
      for (let i = 0; i < 100 && chains.size > 0; i++) await Promise.all([...chains.values()]);
    },
    async load(id) {
      const p = await getPermit(db, id);
      if (p === undefined) throw new PermitNotFoundError(id);
      return p;
    },
    async transition(permit, action, actor, opts) {
      const to = PERMIT_TRANSITIONS.find((t) => t.action === action)?.to as PermitState;
      const at = clock();
      const signer = signerOf(actor);
      const terminal = to === 'closed' || to === 'cancelled' || to === 'expired';
      const names = permit.people.split('\n');
      const result = await db.transaction().execute(async (tx) => {
        const r = await transitionPermit(tx, {
          permit,
          action,
          to,
          at,
          signer,
          note: opts.note,
          ...(opts.data === undefined ? {} : { data: opts.data }),
          set: {
            ...opts.set,
            ...(signer.kind === 'system' ? {} : { people: peopleText([...names, signer.by, signer.name]) }),
            ...(terminal ? { closed_at: at, keep_until: recordsKeptUntil(rulesOf(permit), at) } : {}),
          },
        });
        await opts.extra?.(tx);
        await appendAudit(tx, {
          ts: at,
          ...auditActorOf(actor),
          action: `permit.${action}`,
          target: { kind: 'permit', id: permit.id },
          before: { state: permit.state },
          after: { state: to, note: opts.note, ...(opts.data ?? {}) },
        });
        return r;
      });
      emit(result.permit, { kind: 'state', action, from: permit.state, ...opts.live });
      return result;
    },
    emit,
    detectorNow(device) {
      const d = deps.devices.get(device);
      const online = d !== undefined && deviceView(d, clock()).online;
      const holding = deps.alarms
        .list({ dev: device, state: 'open', limit: 100 })
        .find((a) => a.state === 'active' || a.state === 'acknowledged');
      if (holding === undefined) return { device, online, alarm: null };
      return {
        device,
        online,
        alarm: holding.message,
        alarmFacts: {
          kind: alarmKind(holding),
          ...(holding.gas === undefined ? {} : { gas: holding.gas }),
          value: holding.value,
          threshold: holding.threshold,
          ...(holding.unit === undefined ? {} : { unit: holding.unit }),
        },
      };
    },
    async gateContext(permit, actor, monitor) {
      const [events, tests, edits] = await Promise.all([
        permitEvents(db, permit.id),
        testsOf(db, permit.id),
        // Only a draft is approved, and only a draft is changed: whoever changed it wrote it too.
        permit.state === 'draft'
          ? auditOfTargets(db, { targetKind: 'permit', ids: [permit.id], actions: ['permit.update'] })
          : Promise.resolve([]),
      ]);
      const passed = tests.filter((t) => t.status === 'passed' && t.completed_at !== null).at(-1);
      const suspension = events.filter((e) => e.action === 'suspend').at(-1);
      const sData = suspension === undefined ? {} : (JSON.parse(suspension.data) as Record<string, unknown>);
      return {
        permit,
        rules: rulesOf(permit),
        type: typeOf(permit),
        caller:
          'system' in actor
            ? { id: 'system', role: 'system' }
            : { id: actor.principal.id, role: actor.principal.role },
        now: clock(),
        timeZone: deps.timeZone,
        lastPassed:
          passed === undefined ? null : { at: passed.completed_at as number, device: passed.device },
        lastSuspension:
          suspension === undefined
            ? null
            : {
                at: suspension.at,
                retest: sData.retest === true,
                reason: typeof sData.reason === 'string' ? sData.reason : 'manual',
              },
        monitor,
        authors: [...new Set([permit.created_by, ...edits.map((e) => e.actor)])],
        events,
      };
    },
  };
  return core;
}
