import {
  GASES,
  type GasCheck,
  type GasId,
  type GasIdentity,
  type GasTest,
  type GasTestInput,
  gasCheckOf,
  gasLabel,
  judgeReading,
  lelOf,
  maintenanceFitness,
  missingChecks,
  PermitRuleError,
  readingSettled,
  requiredChecks,
  type TestPosition,
  type TestReadingInput,
  testSequence,
} from '@gaswatch/shared';
import { appendAudit } from '../db/audit.js';
import type { Db } from '../db/database.js';
import { timeOrderedId } from '../db/page.js';
import {
  abandonOpenTests,
  getTest,
  insertReadings,
  insertTest,
  PermitChangedError,
  readingsOf,
  TestNotFoundError,
  updateTest,
} from '../db/permits.js';
import type { PermitsTable, PermitTestReadingsTable, PermitTestsTable } from '../db/schema.js';
import { getSpace } from '../db/spaces.js';
import { HttpError } from '../errors.js';
import { type Actor, auditActorOf, channelGases, deviceChannels, type PermitCore, signerOf } from './core.js';
import { PermitRefusedError, refusal, refusalsFor } from './gate.js';
import type { PermitMonitor } from './monitor.js';
import { rulesOf, spaceOf, typeOf } from './rules.js';
import {
  doneSteps,
  gasKey,
  lastPlacement,
  nextPosition,
  type Placement,
  type TestGas,
  type TestStep,
  toTest,
} from './view.js';

/**
 * The guided gas test (SPEC §7; docs/permits.md "The test"): a detector on a gateway or a
 * portable instrument; testSequence's positions in turn (top, middle, bottom as the probe goes
 * down), at each oxygen, then combustibles, then toxics; a reading counts only once the detector
 * has been at its position for its response time, and for a detector only a reading it sampled
 * after that. A test whose every reading passed makes the permit ready; one that failed keeps it
 * in testing, with the reasons, until a new test passes.
 */

type Caller = Extract<Actor, { principal: unknown }>;

export interface GasTests {
  startTest(
    id: string,
    input: GasTestInput,
    caller: Caller,
  ): Promise<{ permit: PermitsTable; test: GasTest }>;
  /** The detector (or probe) is at `position` now: its hold starts. */
  place(
    id: string,
    testId: string,
    position: TestPosition,
    caller: Caller,
  ): Promise<{ permit: PermitsTable; test: GasTest }>;
  /** Takes the readings of the next gases at `position`: the detector's settled reading, or the values typed. */
  recordReading(
    id: string,
    testId: string,
    input: TestReadingInput,
    caller: Caller,
  ): Promise<{ permit: PermitsTable; test: GasTest }>;
  testView(permitId: string, testId: string): Promise<GasTest>;
}

const iso = (ms: number) => new Date(ms).toISOString();

function refuse(code: string, message: string): never {
  throw new HttpError(409, code, message);
}

export function createGasTests(core: PermitCore, monitor: PermitMonitor): GasTests {
  const deps = core.deps;
  const { db, clock, config, devices, auth } = deps;
  const { timeZone } = deps;

  async function view(t: PermitTestsTable): Promise<GasTest> {
    return toTest(t, (await readingsOf(db, [t.id])).get(t.id) ?? []);
  }

  /** The open test of a permit in testing (404 / 409 otherwise) with its readings. */
  async function openTest(p: PermitsTable, testId: string) {
    const t = await getTest(db, p.id, testId);
    if (t === undefined) throw new TestNotFoundError(p.id, testId);
    if (t.completed_at !== null)
      refuse(
        'test_complete',
        `gas test ${testId} is ${t.status}: start a new test (POST /api/permits/${p.id}/tests)`,
      );
    if (p.state !== 'testing')
      refuse('not_testing', `permit ${p.id} is ${p.state}: a gas test goes on only while it is in testing`);
    const readings = (await readingsOf(db, [t.id])).get(t.id) ?? [];
    const steps = JSON.parse(t.steps) as TestStep[];
    const placements = JSON.parse(t.placements) as Placement[];
    const done = doneSteps(readings);
    return { t, readings, steps, placements, done, next: nextPosition(steps, done) };
  }

  function outOfOrder(steps: readonly TestStep[], next: TestPosition | null, asked: TestPosition): never {
    const order = [...new Set(steps.map((s) => s.position))].join(', ');
    refuse(
      'out_of_order',
      `the test goes on at ${next ?? '(none)'}, not ${asked}: positions are tested in turn (${order})`,
    );
  }

  /** The gases a test reads and judges (a detector's channels, or the instrument's list). */
  function testGases(
    input: GasTestInput,
    caller: Caller,
  ): { gases: TestGas[]; gw: string | null; label: string } {
    if (input.device !== undefined) {
      const d = devices.get(input.device);
      if (
        d === undefined ||
        !auth.canSee(caller.principal, auth.areaOf({ gw: d.gw, dev: d.dev, site: d.state?.site }))
      )
        throw new HttpError(404, 'device_not_found', `no device ${input.device}`);
      const channels = deviceChannels(d);
      if (input.combustibleAs !== undefined) {
        if (lelOf(input.combustibleAs) === null)
          throw new HttpError(
            400,
            'bad_request',
            'combustibleAs: must be a combustible gas (CH4, C3H8, or one with its LEL)',
          );
        if (!channels.includes('LEL'))
          throw new HttpError(
            400,
            'bad_request',
            `combustibleAs: ${input.device} has no combustible (LEL) channel`,
          );
      }
      const now = core.detectorNow(input.device);
      if (!now.online) throw new PermitRefusedError([refusal('detector_offline', { device: input.device })]);
      return { gases: channelGases(channels, input.combustibleAs), gw: d.gw, label: input.device };
    }
    const inst = input.instrument as NonNullable<GasTestInput['instrument']>;
    return { gases: inst.gases.map((gas) => ({ channel: null, gas })), gw: null, label: inst.id };
  }

  /**
   * The space's expected gases a test's gases do not cover, among the checks the test must make
   * and does: a combustible is covered by any combustible channel, an oxygen or toxic gas only by
   * itself.
   */
  async function uncovered(
    p: PermitsTable,
    gases: readonly TestGas[],
    checks: readonly string[],
  ): Promise<GasIdentity[]> {
    if (p.space_id === null) return [];
    const s = await getSpace(db, p.space_id);
    const expected = s === undefined ? [] : (JSON.parse(s.gases) as GasIdentity[]);
    const keys = new Set(gases.map((g) => gasKey(g.gas)));
    return expected.filter(
      (g) => checks.includes(gasCheckOf(g)) && gasCheckOf(g) !== 'combustible' && !keys.has(gasKey(g)),
    );
  }

  return {
    async startTest(id, input, caller) {
      return core.serial(id, async () => {
        const p = await core.load(id);
        if (p.state !== 'testing') {
          const ctx = await core.gateContext(p, caller, null);
          const refused = refusalsFor('start_test', ctx);
          if (refused.length > 0) throw new PermitRefusedError(refused);
        } else if (clock() > p.valid_until) throw new PermitRefusedError([refusal('permit_expired')]);
        const rules = rulesOf(p);
        const type = typeOf(p);
        const space = spaceOf(p);
        const { gases, gw, label } = testGases(input, caller);
        const identities = gases.map((g) => g.gas);
        const lacking = missingChecks(type, space, identities);
        const made = requiredChecks(type, space).filter((c) => !lacking.includes(c));
        const missing = [...lacking, ...(await uncovered(p, gases, made)).map(gasLabel)];
        if (missing.length > 0)
          throw new PermitRefusedError([
            refusal('detector_cannot_test', { device: label, checks: missing.join(',') }),
          ]);
        // A detector fit to trust (SPEC §7, §11): bump-tested today, calibration not overdue. A
        // portable instrument is judged the same way from the dates the tester reads off it.
        const inst = input.instrument;
        if (inst !== undefined && Date.parse(inst.bumpTestedAt) > clock() + 5 * 60_000)
          throw new HttpError(400, 'bad_request', 'instrument.bumpTestedAt: is in the future');
        const fitness =
          inst === undefined
            ? await deps.fitness(label)
            : maintenanceFitness(
                {
                  lastBumpTest: { at: Date.parse(inst.bumpTestedAt), result: 'pass' },
                  lastCalibration: { at: 0, result: 'pass', nextDue: inst.calibrationDue },
                  sensorEndOfLife: null,
                  alarmExpiresOn: null,
                },
                { now: clock(), timeZone: timeZone },
              );
        if (!fitness.fit)
          throw new PermitRefusedError([
            refusal('detector_unfit', { device: label, reasons: fitness.reasons.join(',') }),
          ]);
        const now = clock();
        const open = await db
          .selectFrom('permit_tests')
          .select('device')
          .where('permit_id', '=', id)
          .where('completed_at', 'is', null)
          .execute();
        const row: PermitTestsTable = {
          id: timeOrderedId(now),
          permit_id: id,
          status: 'in_progress',
          device: input.device ?? null,
          gw,
          instrument: input.instrument?.id ?? null,
          response_time_s: input.responseTimeS ?? config.permits.responseTimeS,
          gases: JSON.stringify(gases),
          steps: JSON.stringify(testSequence(rules, type, space, identities)),
          placements: '[]',
          note: input.note,
          started_by: caller.principal.id,
          started_name: caller.principal.name,
          started_role: caller.principal.role,
          started_at: now,
          completed_at: null,
        };
        const write = async (tx: Db) => {
          await abandonOpenTests(tx, id, now);
          await insertTest(tx, row);
        };
        let after = p;
        if (p.state === 'testing') {
          await db.transaction().execute(async (tx) => {
            await write(tx);
            await appendAudit(tx, {
              ts: now,
              ...auditActorOf(caller),
              action: 'permit.test.start',
              target: { kind: 'permit', id },
              after: { test: row.id, device: row.device, instrument: row.instrument, replaces: open.length },
            });
          });
        } else {
          after = (
            await core.transition(p, 'start_test', caller, {
              note: input.note,
              data: { test: row.id, device: row.device, instrument: row.instrument },
              extra: write,
            })
          ).permit;
          monitor.changed(after);
        }
        for (const o of open) if (o.device !== null) monitor.unwatchTest(o.device);
        if (row.device !== null) monitor.watchTest(row.device);
        const test = await view(row);
        core.emit(after, { kind: 'test', test: row.id, status: row.status });
        return { permit: after, test };
      });
    },

    async place(id, testId, position, caller) {
      return core.serial(id, async () => {
        const p = await core.load(id);
        const { t, steps, placements, next } = await openTest(p, testId);
        if (position !== next) outOfOrder(steps, next, position);
        const now = clock();
        const list = [...placements, { position, at: now, by: caller.principal.id }];
        await db.transaction().execute(async (tx) => {
          if (!(await updateTest(tx, t.id, t.status, { placements: JSON.stringify(list) })))
            throw new PermitChangedError(id);
          await appendAudit(tx, {
            ts: now,
            ...auditActorOf(caller),
            action: 'permit.test.place',
            target: { kind: 'permit', id },
            after: { test: t.id, position },
          });
        });
        const test = await view({ ...t, placements: JSON.stringify(list) });
        core.emit(p, { kind: 'test', test: t.id, status: t.status, position });
        return { permit: p, test };
      });
    },

    async recordReading(id, testId, input, caller) {
      return core.serial(id, async () => {
        const p = await core.load(id);
        const { t, steps, placements, done, next } = await openTest(p, testId);
        if (t.device !== null && input.values !== undefined)
          throw new HttpError(
            400,
            'bad_request',
            `values: the readings of ${t.device} are taken from it, not typed`,
          );
        if (t.device === null && input.values === undefined)
          throw new HttpError(400, 'bad_request', 'values: type the readings of the portable instrument');
        const position = input.position;
        if (position !== next) outOfOrder(steps, next, position);
        const placed = lastPlacement(placements, position);
        if (placed === null)
          refuse('not_placed', `place the detector at ${position} first (POST …/tests/${t.id}/placements)`);
        const now = clock();
        const holdMs = t.response_time_s * 1000;
        if (!readingSettled(placed.at, now, t.response_time_s))
          refuse(
            'not_settled',
            `hold the detector at ${position} ${Math.ceil((placed.at + holdMs - now) / 1000)} s more: a reading counts after its response time (${t.response_time_s} s), from ${iso(placed.at + holdMs)}`,
          );
        const todo = steps.filter(
          (s) => s.position === position && !done.has(`${s.position}|${gasKey(s.gas)}`),
        );
        const gases = JSON.parse(t.gases) as TestGas[];
        let taken: { step: TestStep; value: number; unit: '%vol' | '%LEL' | 'ppm' | 'mg/m³' }[];
        let sampledAt: number | null = null;
        if (t.device !== null) {
          if (input.values !== undefined)
            throw new HttpError(
              400,
              'bad_request',
              `values: the readings of ${t.device} are taken from it, not typed`,
            );
          const latest = monitor.latest(t.device);
          if (latest === undefined || latest.receivedAt < placed.at + holdMs)
            refuse(
              'no_settled_reading',
              `no reading from ${t.device} since ${iso(placed.at + holdMs)} (the end of its hold at ${position}): wait for its next reading`,
            );
          if (!core.detectorNow(t.device).online)
            throw new PermitRefusedError([refusal('detector_offline', { device: t.device })]);
          if (latest.reading.status !== 'ok')
            refuse(
              'detector_not_measuring',
              `${t.device} reports ${latest.reading.status}: its reading cannot count`,
            );
          sampledAt = latest.ts;
          taken = todo.map((step) => {
            const channel = gases.find((g) => gasKey(g.gas) === gasKey(step.gas))?.channel as GasId;
            const value = latest.reading.values[channel];
            if (value === undefined)
              refuse(
                'gas_missing',
                `the reading of ${t.device} has no ${channel}: it cannot test ${gasLabel(step.gas)}`,
              );
            return { step, value, unit: GASES[channel].unit };
          });
        } else {
          taken = (input.values ?? []).map((v, i) => {
            const step = todo[i];
            if (step === undefined || gasKey(step.gas) !== gasKey(v.gas))
              refuse(
                'out_of_order',
                `at ${position} the gases are read in turn: ${todo.map((s) => gasLabel(s.gas)).join(', ')}; ${gasLabel(v.gas)} is not next`,
              );
            return { step, value: v.value, unit: v.unit };
          });
        }
        const rules = rulesOf(p);
        const space = spaceOf(p);
        const rows: Omit<PermitTestReadingsTable, 'id'>[] = taken.map(({ step, value, unit }) => {
          let checks: GasCheck[];
          let pass: boolean;
          try {
            const j = judgeReading(rules, step.gas, { value, unit }, space);
            checks = j.checks;
            pass = j.pass;
          } catch (err) {
            if (err instanceof PermitRuleError)
              throw new HttpError(400, 'bad_request', `values: ${err.message}`);
            throw err;
          }
          return {
            test_id: t.id,
            position,
            gas: JSON.stringify(step.gas),
            check_kind: step.check,
            value,
            unit,
            pass: pass ? 1 : 0,
            checks: JSON.stringify(checks),
            placed_at: placed.at,
            read_at: now,
            sampled_at: sampledAt,
            source: t.device === null ? 'manual' : 'live',
            recorded_by: caller.principal.id,
            recorded_name: caller.principal.name,
            recorded_role: caller.principal.role,
          };
        });
        const failed = rows.some((r) => r.pass === 0) || t.status === 'failed';
        const after = new Set(done);
        for (const r of rows) after.add(`${position}|${gasKey(JSON.parse(r.gas) as GasIdentity)}`);
        const complete = nextPosition(steps, after) === null;
        const status = failed ? 'failed' : complete ? 'passed' : 'in_progress';
        const write = async (tx: Db) => {
          await insertReadings(tx, rows);
          if (!(await updateTest(tx, t.id, t.status, { status, completed_at: complete ? now : null })))
            throw new PermitChangedError(id);
        };
        let permit = p;
        if (status === 'passed') {
          permit = (
            await core.transition(p, 'pass_test', caller, {
              note: '',
              data: { test: t.id },
              extra: write,
              live: { test: t.id },
            })
          ).permit;
        } else {
          await db.transaction().execute(async (tx) => {
            await write(tx);
            await appendAudit(tx, {
              ts: now,
              ...auditActorOf(caller),
              action: 'permit.test.reading',
              target: { kind: 'permit', id },
              after: {
                test: t.id,
                position,
                readings: rows.map((r) => ({
                  gas: JSON.parse(r.gas),
                  value: r.value,
                  unit: r.unit,
                  pass: r.pass === 1,
                })),
              },
            });
          });
        }
        if (complete && t.device !== null) monitor.unwatchTest(t.device);
        const test = await view({ ...t, status, completed_at: complete ? now : null });
        core.emit(permit, { kind: 'test', test: t.id, status, position, by: signerOf(caller).by });
        return { permit, test };
      });
    },

    async testView(permitId, testId) {
      const t = await getTest(db, permitId, testId);
      if (t === undefined) throw new TestNotFoundError(permitId, testId);
      return view(t);
    },
  };
}
