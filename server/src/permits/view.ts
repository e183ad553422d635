import {
  type GasCheck,
  type GasIdentity,
  type GasTest,
  HOT_WORK_APPROVERS,
  type MonitoringRecord,
  type Permit,
  type PermitEvent,
  requiredPositions,
  type Signature,
  type TestPosition,
} from '@gaswatch/shared';
import { gasCheckText } from '@gaswatch/shared/permit-words';
import type {
  PermitEventsTable,
  PermitMonitoringTable,
  PermitsTable,
  PermitTestReadingsTable,
  PermitTestsTable,
} from '../db/schema.js';
import type { PermitAlert } from './evacuation-ack.js';
import { rulesOf, rulesSummary, spaceOf, typeOf } from './rules.js';

/** How the records look in the API (shared/src/permits/records.ts): rows in, answers out. */

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

/** A measure of the form as stored: its text and who confirmed it. */
export interface StoredMeasure {
  text: string;
  confirmed: Signature | null;
}

/** A test's gas, as stored: the detector channel it is read from (null when typed in) and what it is judged as. */
export interface TestGas {
  channel: string | null;
  gas: GasIdentity;
}

export interface TestStep {
  position: TestPosition;
  gas: GasIdentity;
  check: 'oxygen' | 'combustible' | 'toxic';
}

export interface Placement {
  position: TestPosition;
  at: number;
  by: string;
}

export const gasKey = (g: GasIdentity): string => (typeof g === 'string' ? g : `custom:${g.name}`);

/** The suspension a suspended permit is in, from the record that suspended it. */
function suspensionOf(r: PermitsTable, e: PermitEventsTable | null): Permit['suspension'] {
  if (r.state !== 'suspended' || e === null || e.seq !== r.seq) return null;
  const data = JSON.parse(e.data) as { reason?: unknown; retest?: unknown; message?: unknown };
  return {
    seq: e.seq,
    at: iso(e.at),
    by: e.actor,
    reason: typeof data.reason === 'string' ? data.reason : 'manual',
    retest: data.retest === true,
    message: typeof data.message === 'string' ? data.message : null,
  };
}

export function toPermit(
  r: PermitsTable,
  space: { id: string; name: string; kind: string } | null,
  fallbackRecordMin: number,
  /** The permit's last record when it is suspended (db/permits.ts currentSuspensions). */
  suspendedBy: PermitEventsTable | null = null,
  /** Its evacuation alert and sounder (evacuation-ack.ts permitAlerts). */
  alert: PermitAlert = { evacuation: null, sounder: null },
): Permit {
  const rules = rulesOf(r);
  const type = typeOf(r);
  return {
    id: r.id,
    kind: r.kind as Permit['kind'],
    level: r.level as Permit['level'],
    state: r.state as Permit['state'],
    ruleSet: { id: rules.id, name: rules.name },
    space: space === null ? null : { id: space.id, name: space.name, kind: space.kind as never },
    area: r.area,
    site: r.site,
    location: r.location,
    hotWorkSite: r.hot_work_site as Permit['hotWorkSite'],
    large: r.large === 1,
    oxygenEnriched: r.oxygen_enriched === 1,
    work: r.work,
    applicant: JSON.parse(r.applicant),
    crew: JSON.parse(r.crew),
    attendant: JSON.parse(r.attendant),
    approver: type.kind === 'hot_work' ? HOT_WORK_APPROVERS[type.level] : null,
    measures: (JSON.parse(r.measures) as StoredMeasure[]).map((m, i) => ({
      n: i + 1,
      text: m.text,
      confirmed: m.confirmed,
    })),
    plannedStart: iso(r.planned_start),
    plannedEnd: iso(r.planned_end),
    validUntil: iso(r.valid_until),
    related: JSON.parse(r.related) as string[],
    notes: r.notes,
    monitor:
      r.monitor_device !== null
        ? { device: r.monitor_device, gw: r.monitor_gw ?? '' }
        : r.monitor_instrument !== null
          ? { instrument: r.monitor_instrument }
          : null,
    suspension: suspensionOf(r, suspendedBy),
    evacuation: alert.evacuation,
    sounder: alert.sounder,
    positions: requiredPositions(type, spaceOf(r)),
    rules: rulesSummary(rules, type, fallbackRecordMin),
    createdBy: r.created_by,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    closedAt: isoOrNull(r.closed_at),
    keepUntil: isoOrNull(r.keep_until),
  };
}

export function toEvent(e: PermitEventsTable): PermitEvent {
  return {
    seq: e.seq,
    action: e.action,
    from: e.from_state as PermitEvent['from'],
    to: e.to_state as PermitEvent['to'],
    signed: { by: e.actor, name: e.actor_name, role: e.actor_role as Signature['role'], at: iso(e.at) },
    note: e.note,
    data: JSON.parse(e.data) as Record<string, unknown>,
    hash: e.hash,
  };
}

/** The reasons of failed checks, in English (the console words them itself from the checks). */
export function failureTexts(checks: readonly GasCheck[]): string[] {
  return checks.flatMap((c) => {
    const t = gasCheckText('en', c);
    return t === null ? [] : [t];
  });
}

/** The position the test goes on at (the first with a step not done), or null when it is complete. */
export function nextPosition(steps: readonly TestStep[], done: ReadonlySet<string>): TestPosition | null {
  return steps.find((s) => !done.has(stepKey(s.position, s.gas)))?.position ?? null;
}

export const stepKey = (position: string, gas: GasIdentity) => `${position}|${gasKey(gas)}`;

/** The steps recorded so far (a passed or failed reading both count as taken). */
export function doneSteps(readings: readonly PermitTestReadingsTable[]): Set<string> {
  return new Set(readings.map((r) => stepKey(r.position, JSON.parse(r.gas) as GasIdentity)));
}

/** The last placement at each position (moving the detector back starts its hold again). */
export function lastPlacement(placements: readonly Placement[], position: TestPosition): Placement | null {
  return placements.filter((p) => p.position === position).at(-1) ?? null;
}

function stepIndex(steps: readonly TestStep[], r: PermitTestReadingsTable): number {
  const key = stepKey(r.position, JSON.parse(r.gas) as GasIdentity);
  return steps.findIndex((s) => stepKey(s.position, s.gas) === key);
}

export function toTest(t: PermitTestsTable, readings: readonly PermitTestReadingsTable[]): GasTest {
  const steps = JSON.parse(t.steps) as TestStep[];
  const placements = JSON.parse(t.placements) as Placement[];
  const done = doneSteps(readings);
  const next = t.completed_at === null ? nextPosition(steps, done) : null;
  const placed = next === null ? null : lastPlacement(placements, next);
  const hold = t.response_time_s * 1000;
  return {
    id: t.id,
    permit: t.permit_id,
    status: t.status as GasTest['status'],
    device: t.device,
    gw: t.gw,
    instrument: t.instrument,
    manual: t.device === null,
    responseTimeS: t.response_time_s,
    gases: JSON.parse(t.gases) as GasTest['gases'],
    steps: steps.map((s) => ({ ...s, done: done.has(stepKey(s.position, s.gas)) })),
    placements: placements.map((p) => ({
      position: p.position,
      at: iso(p.at),
      settledAt: iso(p.at + hold),
      by: p.by,
    })),
    // In the test's order (position by position, O2 → combustible → toxic), however they were stored.
    readings: [...readings]
      .sort((a, b) => stepIndex(steps, a) - stepIndex(steps, b))
      .map((r) => {
        const checks = JSON.parse(r.checks) as GasCheck[];
        return {
          position: r.position as TestPosition,
          gas: JSON.parse(r.gas) as GasIdentity,
          check: r.check_kind as 'oxygen' | 'combustible' | 'toxic',
          value: r.value,
          unit: r.unit as GasTest['readings'][number]['unit'],
          pass: r.pass === 1,
          reasons: failureTexts(checks),
          checks: checks as unknown as Record<string, unknown>[],
          placedAt: iso(r.placed_at),
          readAt: iso(r.read_at),
          sampledAt: isoOrNull(r.sampled_at),
          source: r.source as 'live' | 'manual',
          recorded: {
            by: r.recorded_by,
            name: r.recorded_name,
            role: r.recorded_role as Signature['role'],
            at: iso(r.read_at),
          },
        };
      }),
    next:
      next === null
        ? null
        : {
            position: next,
            placedAt: placed === null ? null : iso(placed.at),
            settledAt: placed === null ? null : iso(placed.at + hold),
          },
    started: {
      by: t.started_by,
      name: t.started_name,
      role: t.started_role as Signature['role'],
      at: iso(t.started_at),
    },
    completedAt: isoOrNull(t.completed_at),
    note: t.note,
  };
}

export function toMonitoring(m: PermitMonitoringTable): MonitoringRecord {
  return {
    at: iso(m.at),
    device: m.device,
    instrument: m.instrument,
    values: JSON.parse(m.readings) as MonitoringRecord['values'],
    pass: m.pass === 1,
    reasons: failureTexts(JSON.parse(m.reasons) as GasCheck[]),
    checks: JSON.parse(m.reasons) as Record<string, unknown>[],
    why: m.why as MonitoringRecord['why'],
    recordedBy: m.recorded_by,
    note: m.note,
  };
}
