import {
  HOT_WORK_APPROVERS,
  type Permit,
  type PermitAction,
  type PermitDetail,
  type PermitInput,
  type PermitPatch,
  permitValidUntil,
  type Signature,
} from '@gaswatch/shared';
import { appendAudit } from '../db/audit.js';
import { timeOrderedId } from '../db/page.js';
import {
  currentSuspensions,
  getPermit,
  insertPermit,
  monitoringOf,
  readingsOf,
  testsOf,
  updatePermit,
} from '../db/permits.js';
import type { PermitsTable } from '../db/schema.js';
import { getSpace, SpaceNotFoundError, spacesByIds } from '../db/spaces.js';
import { HttpError } from '../errors.js';
import {
  auditActorOf,
  type Caller,
  channelGases,
  createPermitCore,
  deviceChannels,
  type PermitCore,
  type PermitDeps,
  peopleText,
  signerOf,
} from './core.js';
import { createEvacuationAcks, type EvacuationAcks, permitAlerts } from './evacuation-ack.js';
import { type GateContext, nextActions, PermitRefusedError, refusal, refusalsFor } from './gate.js';
import { createPermitMonitor, type PermitMonitor } from './monitor.js';
import { effectiveRules, typeOf } from './rules.js';
import { createGasTests, type GasTests } from './tests.js';
import { type StoredMeasure, toEvent, toMonitoring, toPermit, toTest } from './view.js';

/**
 * Permits (SPEC §7, issue 14; docs/permits.md "Workflow"): drawing one up, its safety measures,
 * each state change as a signed record, the gas tests (tests.ts) and the watch over the work
 * (monitor.ts). The routes check who sees what; this decides what may happen.
 */

export type { Caller };

export interface PermitService extends GasTests, EvacuationAcks {
  /** Loads the watch over work in progress and starts the sweep. */
  start(): Promise<void>;
  stop(): Promise<void>;
  create(input: PermitInput, caller: Caller): Promise<PermitsTable>;
  /** Changes a draft; changed measures must be confirmed again. */
  update(id: string, patch: PermitPatch, caller: Caller): Promise<PermitsTable>;
  /** Confirms safety measure `n` (1-based) as the caller, now. */
  confirmMeasure(id: string, n: number, caller: Caller): Promise<PermitsTable>;
  /** Takes an action by hand (approve, start, suspend, resume, close, cancel). */
  act(id: string, action: PermitAction, body: ActionBody, caller: Caller): Promise<PermitsTable>;
  /** A typed reading of the portable instrument watching the work. */
  recordMonitoring: PermitMonitor['recordManual'];
  /** The permit with its records and the caller's next actions. */
  detail(row: PermitsTable, caller: Caller): Promise<PermitDetail>;
  view(row: PermitsTable): Promise<Permit>;
  /** A page of permits as answered (their spaces read in one query). */
  views(rows: readonly PermitsTable[]): Promise<Permit[]>;
  /** Expires permits past their validity and checks the detectors watching work (also on a timer). */
  sweep(): Promise<void>;
  /** Resolves when everything queued (monitoring records, suspensions) is done. */
  idle(): Promise<void>;
}

export interface ActionBody {
  note: string;
  /** start: what watches the work, instead of the last test's detector. */
  monitor?: { device: string } | { instrument: string } | undefined;
}

/** Actions a person takes through /actions; the others have their own route or are the server's. */
export const HAND_ACTIONS = ['approve', 'start', 'suspend', 'resume', 'close', 'cancel'] as const;

class BadPermitError extends HttpError {
  constructor(message: string) {
    super(400, 'bad_request', message);
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A permit row back as the form it was drawn up from (for a draft's change). */
function inputOf(r: PermitsTable): PermitInput {
  const fromSpace = r.space_id !== null;
  return {
    kind: r.kind as PermitInput['kind'],
    ...(r.level === null ? {} : { level: r.level as NonNullable<PermitInput['level']> }),
    ...(fromSpace
      ? { space: r.space_id as string }
      : {
          area: r.area,
          ...(r.site === null ? {} : { site: r.site }),
          location: r.location,
          large: r.large === 1,
          oxygenEnriched: r.oxygen_enriched === 1,
        }),
    ...(r.hot_work_site === null
      ? {}
      : { hotWorkSite: r.hot_work_site as NonNullable<PermitInput['hotWorkSite']> }),
    work: r.work,
    applicant: JSON.parse(r.applicant),
    crew: JSON.parse(r.crew),
    attendant: JSON.parse(r.attendant),
    measures: (JSON.parse(r.measures) as StoredMeasure[]).map((m) => ({ text: m.text })),
    plannedStart: iso(r.planned_start),
    plannedEnd: iso(r.planned_end),
    related: JSON.parse(r.related),
    notes: r.notes,
  };
}

export function createPermitService(deps: PermitDeps & { sweepMs?: number }): PermitService {
  const core: PermitCore = createPermitCore(deps);
  const { db, clock, config, auth } = deps;
  const fallbackRecordMin = config.permits.recordEveryMin;
  const monitor = createPermitMonitor(core);
  const tests = createGasTests(core, monitor);
  const acks = createEvacuationAcks(core);
  let sweeping: NodeJS.Timeout | null = null;

  /** The form checked and turned into a row (a draft's, or a new one's). */
  async function formRow(
    input: PermitInput,
    caller: Caller,
    base: PermitsTable | null,
  ): Promise<PermitsTable> {
    const now = clock();
    const problems: string[] = [];
    if (input.kind === 'hot_work' && input.level === undefined)
      problems.push('level: hot work needs a level (special, level1 or level2)');
    if (input.kind === 'confined_space') {
      if (input.level !== undefined) problems.push('level: only hot work has a level');
      if (input.hotWorkSite !== undefined) problems.push('hotWorkSite: only hot work has one');
      if (input.space === undefined)
        problems.push('space: a confined-space entry names the registered space');
    }
    const fromSpace = input.space !== undefined;
    for (const k of ['area', 'site', 'location', 'large', 'oxygenEnriched'] as const) {
      if (fromSpace && input[k] !== undefined) problems.push(`${k}: comes from the space`);
    }
    if (!fromSpace && input.area === undefined)
      problems.push('area: hot work without a space names its area');
    if (!fromSpace && (input.location ?? '') === '')
      problems.push('location: hot work without a space says where the work is');
    const start = Date.parse(input.plannedStart);
    const end = Date.parse(input.plannedEnd);
    if (end <= start) problems.push('plannedEnd: must be after plannedStart');
    else if (end <= now) problems.push('plannedEnd: the planned window is over already');
    if (problems.length > 0) throw new BadPermitError(problems.join('; '));

    let place: { area: string; site: string | null; location: string; large: boolean; enriched: boolean };
    let ruleSet: Parameters<typeof effectiveRules>[2] = null;
    let spaceId: string | null = null;
    if (input.space !== undefined) {
      const s = await getSpace(db, input.space);
      if (s === undefined || !auth.canSee(caller.principal, s.area))
        throw new SpaceNotFoundError(input.space);
      place = {
        area: s.area,
        site: s.site,
        location: s.location === '' ? s.name : `${s.name}（${s.location}）`,
        large: s.large === 1,
        enriched: s.oxygen_enriched === 1,
      };
      ruleSet = s.rule_set as typeof ruleSet;
      spaceId = s.id;
    } else {
      const area = input.area as string;
      if (!auth.areas.has(area) || !auth.areas.within(area, caller.principal.area))
        throw new HttpError(
          400,
          'unknown_area',
          `no area ${area} within your area (GET /api/areas lists them)`,
        );
      place = {
        area,
        site: input.site ?? null,
        location: input.location ?? '',
        large: input.large ?? false,
        enriched: input.oxygenEnriched ?? false,
      };
    }
    for (const id of input.related) {
      const r = await getPermit(db, id);
      if (r === undefined || !auth.canSee(caller.principal, r.area) || id === base?.id)
        throw new HttpError(400, 'unknown_permit', `related: no permit ${id} within your area`);
    }
    const rules = effectiveRules(config, place.site, ruleSet);
    const type =
      input.kind === 'hot_work'
        ? ({ kind: 'hot_work', level: input.level as 'special' | 'level1' | 'level2' } as const)
        : ({ kind: 'confined_space' } as const);
    const validUntil = permitValidUntil(rules, type, start, end).until;
    const stored = base === null ? [] : (JSON.parse(base.measures) as StoredMeasure[]);
    const measures: StoredMeasure[] = input.measures.map((m, i) => ({
      text: m.text,
      // A measure whose words did not change keeps its confirmation.
      confirmed: stored[i]?.text === m.text ? (stored[i]?.confirmed ?? null) : null,
    }));
    const names = [
      input.applicant.name,
      input.attendant.name,
      ...input.crew.map((c) => c.name),
      ...measures.flatMap((m) => (m.confirmed === null ? [] : [m.confirmed.by, m.confirmed.name])),
      base?.created_by ?? caller.principal.id,
      caller.principal.name,
    ];
    return {
      id: base?.id ?? timeOrderedId(now),
      kind: input.kind,
      level: input.kind === 'hot_work' ? (input.level ?? null) : null,
      state: base?.state ?? 'draft',
      area: place.area,
      site: place.site,
      space_id: spaceId,
      location: place.location,
      hot_work_site: input.kind === 'hot_work' ? (input.hotWorkSite ?? 'open') : null,
      large: place.large ? 1 : 0,
      oxygen_enriched: place.enriched ? 1 : 0,
      rule_set: rules.id,
      rules: JSON.stringify(rules),
      work: input.work,
      applicant: JSON.stringify(input.applicant),
      crew: JSON.stringify(input.crew),
      attendant: JSON.stringify(input.attendant),
      measures: JSON.stringify(measures),
      related: JSON.stringify(input.related),
      notes: input.notes,
      people: peopleText(names),
      planned_start: start,
      planned_end: end,
      valid_until: validUntil,
      monitor_device: null,
      monitor_gw: null,
      monitor_instrument: null,
      monitor_gases: null,
      seq: base?.seq ?? 0,
      created_by: base?.created_by ?? caller.principal.id,
      created_at: base?.created_at ?? now,
      updated_at: now,
      closed_at: null,
      keep_until: null,
    };
  }

  /** What would watch the work if it started (or resumed) now. */
  function monitorFor(
    permit: PermitsTable,
    action: PermitAction,
    body: ActionBody | null,
    lastPassedDevice: string | null,
  ): GateContext['monitor'] {
    const m = body?.monitor;
    if (action === 'resume' || permit.state === 'in_progress' || permit.state === 'suspended') {
      if (permit.monitor_device !== null) return core.detectorNow(permit.monitor_device);
      if (permit.monitor_instrument !== null) return { instrument: permit.monitor_instrument };
    }
    if (m !== undefined) return 'device' in m ? core.detectorNow(m.device) : { instrument: m.instrument };
    return lastPassedDevice === null ? null : core.detectorNow(lastPassedDevice);
  }

  async function act(
    id: string,
    action: PermitAction,
    body: ActionBody,
    caller: Caller,
  ): Promise<PermitsTable> {
    if (!(HAND_ACTIONS as readonly string[]).includes(action)) {
      if (action === 'start_test')
        throw new HttpError(
          400,
          'use_tests_route',
          'a gas test starts with POST /api/permits/:id/tests naming the detector (device) or the portable instrument',
        );
      throw new PermitRefusedError([refusal('system_action', { action })]);
    }
    if (body.monitor !== undefined && action !== 'start')
      throw new BadPermitError('monitor: only start names what watches the work');
    return core.serial(id, async () => {
      const permit = await core.load(id);
      const probe = await core.gateContext(permit, caller, null);
      const ctx = { ...probe, monitor: monitorFor(permit, action, body, probe.lastPassed?.device ?? null) };
      // A device named for start must be one the caller sees (404 as for any device outside).
      if (body.monitor !== undefined && 'device' in body.monitor) {
        const d = deps.devices.get(body.monitor.device);
        if (
          d === undefined ||
          !auth.canSee(caller.principal, auth.areaOf({ gw: d.gw, dev: d.dev, site: d.state?.site }))
        )
          throw new HttpError(404, 'device_not_found', `no device ${body.monitor.device}`);
      }
      const refused = refusalsFor(action, ctx);
      if (refused.length > 0) {
        if (refused[0]?.code === 'role_required') throw new HttpError(403, 'forbidden', refused[0].message);
        throw new PermitRefusedError(refused);
      }
      const type = typeOf(permit);
      const data: Record<string, unknown> = {};
      const set: Partial<PermitsTable> = {};
      if (action === 'approve' && type.kind === 'hot_work') data.as = HOT_WORK_APPROVERS[type.level];
      if (action === 'suspend') Object.assign(data, { reason: 'manual', retest: false });
      if (action === 'start') {
        const m = ctx.monitor;
        const last = (await testsOf(db, id)).filter((t) => t.status === 'passed').at(-1);
        data.test = last?.id ?? null;
        // What watches this stretch of work, and nothing left of an earlier one.
        Object.assign(set, {
          monitor_device: null,
          monitor_gw: null,
          monitor_gases: null,
          monitor_instrument: null,
        });
        if (m !== null && 'instrument' in m) {
          set.monitor_instrument = m.instrument;
          data.monitor = { instrument: m.instrument };
        } else if (m !== null) {
          const d = deps.devices.get(m.device);
          // The gases as the test judged them (its combustibleAs), else the device's channels.
          const gases =
            last?.device === m.device ? last.gases : JSON.stringify(channelGases(d ? deviceChannels(d) : []));
          Object.assign(set, { monitor_device: m.device, monitor_gw: d?.gw ?? null, monitor_gases: gases });
          data.monitor = { device: m.device };
        }
      }
      const { permit: after } = await core.transition(permit, action, caller, { note: body.note, data, set });
      monitor.changed(after);
      return after;
    });
  }

  async function view(row: PermitsTable): Promise<Permit> {
    const s = row.space_id === null ? undefined : await getSpace(db, row.space_id);
    const [suspended, alerts] = await Promise.all([currentSuspensions(db, [row]), permitAlerts(db, [row])]);
    return toPermit(
      row,
      s === undefined ? null : { id: s.id, name: s.name, kind: s.kind },
      fallbackRecordMin,
      suspended.get(row.id) ?? null,
      alerts.get(row.id),
    );
  }

  const service: PermitService = {
    ...tests,
    ...acks,
    async start() {
      await monitor.start();
      sweeping = setInterval(
        () => {
          void service.sweep();
        },
        deps.sweepMs ?? config.permits.sweepS * 1000,
      );
      sweeping.unref();
    },
    async stop() {
      if (sweeping !== null) clearInterval(sweeping);
      sweeping = null;
      monitor.stop();
      await core.idle();
    },
    async create(input, caller) {
      const row = await formRow(input, caller, null);
      await db.transaction().execute(async (tx) => {
        await insertPermit(tx, row);
        await appendAudit(tx, {
          ts: row.created_at,
          ...auditActorOf(caller),
          action: 'permit.create',
          target: { kind: 'permit', id: row.id },
          after: { ...input, area: row.area, ruleSet: row.rule_set },
        });
      });
      core.emit(row, { kind: 'state', action: 'create' });
      return row;
    },
    async update(id, patch, caller) {
      return core.serial(id, async () => {
        const before = await core.load(id);
        if (before.state !== 'draft')
          throw new HttpError(
            409,
            'not_draft',
            `permit ${id} is ${before.state}: only a draft can be changed (cancel it and draw up another)`,
          );
        const input = { ...inputOf(before), ...patch };
        if (patch.space !== undefined)
          for (const k of ['area', 'site', 'location', 'large', 'oxygenEnriched'] as const) delete input[k];
        if (patch.area !== undefined || patch.location !== undefined) delete input.space;
        const next = await formRow(input, caller, before);
        const { id: _id, state: _s, seq: _q, ...change } = next;
        const row = await db.transaction().execute(async (tx) => {
          const r = await updatePermit(tx, id, before, change);
          await appendAudit(tx, {
            ts: next.updated_at,
            ...auditActorOf(caller),
            action: 'permit.update',
            target: { kind: 'permit', id },
            before: inputOf(before),
            after: inputOf(r),
          });
          return r;
        });
        core.emit(row, { kind: 'state', action: 'update' });
        return row;
      });
    },
    async confirmMeasure(id, n, caller) {
      return core.serial(id, async () => {
        const before = await core.load(id);
        if (!['draft', 'approved', 'testing', 'ready'].includes(before.state))
          throw new HttpError(
            409,
            'measures_closed',
            `permit ${id} is ${before.state}: safety measures are confirmed before the work starts`,
          );
        const measures = JSON.parse(before.measures) as StoredMeasure[];
        const m = measures[n - 1];
        if (m === undefined)
          throw new HttpError(404, 'measure_not_found', `permit ${id} has no measure ${n}`);
        if (m.confirmed !== null)
          throw new HttpError(
            409,
            'measure_confirmed',
            `measure ${n} was confirmed by ${m.confirmed.name} already`,
          );
        const now = clock();
        const s = signerOf(caller);
        const signed: Signature = { by: s.by, name: s.name, role: s.role as Signature['role'], at: iso(now) };
        m.confirmed = signed;
        const row = await db.transaction().execute(async (tx) => {
          const r = await updatePermit(tx, id, before, {
            measures: JSON.stringify(measures),
            people: peopleText([...before.people.split('\n'), s.by, s.name]),
            updated_at: now,
          });
          await appendAudit(tx, {
            ts: now,
            ...auditActorOf(caller),
            action: 'permit.measure.confirm',
            target: { kind: 'permit', id },
            after: { n, text: m.text },
          });
          return r;
        });
        core.emit(row, { kind: 'state', action: 'confirm_measure', measure: n });
        return row;
      });
    },
    act,
    recordMonitoring: (id, input, caller) => monitor.recordManual(id, input, caller),
    async detail(row, caller) {
      const probe = await core.gateContext(row, caller, null);
      const ctx = {
        ...probe,
        monitor: monitorFor(
          row,
          row.state === 'suspended' ? 'resume' : 'start',
          null,
          probe.lastPassed?.device ?? null,
        ),
      };
      const list = await testsOf(db, row.id);
      const readings = await readingsOf(
        db,
        list.map((t) => t.id),
      );
      const records = await monitoringOf(db, row.id, 200);
      return {
        permit: await view(row),
        events: probe.events.map(toEvent),
        tests: list.map((t) => toTest(t, readings.get(t.id) ?? [])),
        monitoring: {
          records: records.rows.map(toMonitoring),
          total: records.total,
          nextDue: row.state === 'in_progress' ? iso(await monitor.nextDue(row)) : null,
        },
        actions: nextActions(ctx),
      };
    },
    view,
    async views(rows) {
      const [spaces, suspended, alerts] = await Promise.all([
        spacesByIds(
          db,
          rows.flatMap((r) => (r.space_id === null ? [] : [r.space_id])),
        ),
        currentSuspensions(db, rows),
        permitAlerts(db, rows),
      ]);
      return rows.map((r) => {
        const s = r.space_id === null ? undefined : spaces.get(r.space_id);
        return toPermit(
          r,
          s === undefined ? null : { id: s.id, name: s.name, kind: s.kind },
          fallbackRecordMin,
          suspended.get(r.id) ?? null,
          alerts.get(r.id),
        );
      });
    },
    async sweep() {
      try {
        await monitor.sweep();
      } catch (err) {
        deps.logger.warn({ err }, 'permit sweep failed; trying again at the next');
      }
    },
    idle: () => core.idle(),
  };
  return service;
}
