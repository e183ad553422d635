import {
  GASES,
  type GasCheck,
  type GasId,
  judgeReading,
  type MonitoringInput,
  PermitRuleError,
  type Reading,
} from '@gaswatch/shared';
import {
  gasCheckText,
  PERMIT_WORDS,
  type PermitSuspensionReason,
  permitRefusalText,
} from '@gaswatch/shared/permit-words';
import { createChainResolver } from '../alarms/chain.js';
import type { AlarmTransition, ReadingAccepted, ServerEvents } from '../bus.js';
import { appendAudit } from '../db/audit.js';
import {
  getPermit,
  insertMonitoring,
  monitoredPermits,
  monitoringOf,
  permitEvents,
  permitsPastValidity,
} from '../db/permits.js';
import type { PermitsTable } from '../db/schema.js';
import { HttpError } from '../errors.js';
import { deviceView } from '../ingest/device-view.js';
import { type Actor, auditActorOf, type PermitCore } from './core.js';
import { createEvacuationNotice } from './evacuation-notice.js';
import { recordEveryMs, rulesOf, spaceOf, typeOf } from './rules.js';
import { createEvacuationSounder } from './sounder.js';
import { failureTexts, type TestGas } from './view.js';

/**
 * The watch over work in progress (SPEC §7 "during the work"; GB 30871-2022 6.5): the detector
 * bound to a permit when work starts; its readings judged by the permit's rule set as they arrive
 * and kept as monitoring records at the rule set's interval; and the stop: any alarm of the
 * detector, a reading that fails, the detector going offline or no longer measuring suspends the
 * permit by itself (a record signed "system" with the reason) and raises the evacuation alert, a
 * `permit` event of kind `evacuate` on the bus (the console's live feed; a notification channel
 * can subscribe to it). The same queue per permit as every other change, so an action a person
 * takes and a suspension never interleave.
 *
 * The alert also sounds the work site: an `evacuate` command to the gateway of the bound detector
 * (sounder.ts), sent after the suspension is recorded and outside the permit's queue, so a slow
 * broker never holds up the next change of the permit.
 */

/** A reading as the watch keeps it: the latest of a device that is being tested or watched. */
export interface LatestReading {
  reading: Reading;
  /** Sampling time, ms. */
  ts: number;
  /** Server wall clock at receipt, ms. */
  receivedAt: number;
}

export interface PermitMonitor {
  start(): Promise<void>;
  stop(): void;
  /** After a state change: binds the detector of work in progress, releases it otherwise. */
  changed(permit: PermitsTable): void;
  /** A gas test uses this detector: keep its latest reading. */
  watchTest(device: string): void;
  unwatchTest(device: string): void;
  /** The latest on-time reading of a watched device since this server started. */
  latest(device: string): LatestReading | undefined;
  /** A typed reading of the portable instrument watching the work; a failing one stops it. */
  recordManual(
    id: string,
    input: MonitoringInput,
    caller: Extract<Actor, { principal: unknown }>,
  ): Promise<PermitsTable>;
  /** When the next monitoring record of work in progress is due, ms. */
  nextDue(permit: PermitsTable): Promise<number>;
  /** Expires permits past their validity; suspends work whose detector went quiet. */
  sweep(): Promise<void>;
}

export function createPermitMonitor(core: PermitCore): PermitMonitor {
  const { db, bus, clock, logger, config, devices } = core.deps;
  const fallbackMin = config.permits.recordEveryMin;
  /** Device → the permits in progress it watches. */
  const bound = new Map<string, Set<string>>();
  /** Device → gas tests using it now. */
  const testing = new Map<string, number>();
  const latestReadings = new Map<string, LatestReading>();
  /** Permit → time of its last monitoring record since the work (re)started; null: none yet. */
  const lastRecord = new Map<string, number | null>();
  const sounder = createEvacuationSounder(core);
  const notice = createEvacuationNotice(core, {
    dispatcher: core.deps.notify,
    chains: createChainResolver({ config, areas: core.deps.auth.areas }),
  });

  function bind(p: PermitsTable): void {
    if (p.monitor_device === null) return;
    const set = bound.get(p.monitor_device) ?? new Set<string>();
    bound.set(p.monitor_device, set.add(p.id));
  }
  function unbind(p: PermitsTable): void {
    for (const [dev, set] of bound) {
      set.delete(p.id);
      if (set.size === 0) bound.delete(dev);
    }
    lastRecord.delete(p.id);
  }

  /** When work last started or resumed, ms (0 when it never did). */
  async function workSince(permitId: string): Promise<number> {
    const e = (await permitEvents(db, permitId)).filter((x) => x.action === 'start' || x.action === 'resume');
    return e.at(-1)?.at ?? 0;
  }

  async function lastRecordAt(permitId: string): Promise<number | null> {
    const known = lastRecord.get(permitId);
    if (known !== undefined) return known;
    const [since, last] = await Promise.all([workSince(permitId), monitoringOf(db, permitId, 1)]);
    const at = last.rows[0]?.at ?? null;
    const value = at !== null && at >= since ? at : null;
    lastRecord.set(permitId, value);
    return value;
  }

  type Judged = {
    gas: TestGas['gas'];
    value: number;
    unit: '%vol' | '%LEL' | 'ppm' | 'mg/m³';
    checks: GasCheck[];
  };

  function judge(p: PermitsTable, values: { gas: TestGas['gas']; value: number; unit: Judged['unit'] }[]) {
    const rules = rulesOf(p);
    const space = spaceOf(p);
    const judged: Judged[] = values.map((v) => ({
      ...v,
      checks: judgeReading(rules, v.gas, { value: v.value, unit: v.unit }, space).checks,
    }));
    const failedChecks = judged.flatMap((j) => j.checks.filter((c) => !c.pass));
    return { judged, failedChecks, failed: failureTexts(failedChecks) };
  }

  /** Suspends work in progress by the server's own hand and raises the evacuation alert (inside the permit's queue). */
  async function suspendNow(
    p: PermitsTable,
    reason: PermitSuspensionReason,
    detail: {
      message: string;
      alarmId?: string;
      /** The checks that failed (a failed reading): the records say them in each language. */
      checks?: GasCheck[];
      record?: Parameters<typeof insertMonitoring>[1];
    },
  ): Promise<void> {
    if (p.state !== 'in_progress') return;
    const note = `${permitRefusalText('en', { code: 'evacuated', params: { reason } })} (${detail.message})`;
    const { permit: after } = await core.transition(
      p,
      'suspend',
      { system: true },
      {
        note,
        data: {
          reason,
          retest: true,
          device: p.monitor_device,
          message: detail.message,
          ...(detail.alarmId === undefined ? {} : { alarmId: detail.alarmId }),
          ...(detail.checks === undefined ? {} : { checks: detail.checks }),
        },
        ...(detail.record === undefined
          ? {}
          : { extra: async (tx) => void (await insertMonitoring(tx, detail.record as never)) }),
      },
    );
    unbind(after);
    const text = (locale: 'zh-CN' | 'en') => {
      const zh = locale === 'zh-CN';
      const why =
        detail.checks === undefined
          ? detail.message
          : detail.checks.flatMap((c) => gasCheckText(locale, c) ?? []).join(zh ? '；' : '; ');
      return `${p.location}${zh ? '：' : ': '}${permitRefusalText(locale, { code: 'evacuated', params: { reason } })}${zh ? `（${why}）` : ` (${why})`}`;
    };
    logger.warn(
      { permit: p.id, reason, device: p.monitor_device, message: detail.message },
      'work suspended: evacuate and test again',
    );
    core.emit(after, {
      kind: 'evacuate',
      // The suspension's record: what a console acknowledges (Permit.suspension.seq).
      seq: after.seq,
      reason,
      device: p.monitor_device,
      message: detail.message,
      location: p.location,
      attendant: (JSON.parse(p.attendant) as { name: string }).name,
      ...(detail.alarmId === undefined ? {} : { alarmId: detail.alarmId }),
      text: { 'zh-CN': text('zh-CN'), en: text('en') },
    });
    void sounder.sound(
      p,
      `${permitRefusalText('en', { code: 'evacuated', params: { reason } })} (${detail.message})`,
    );
    // The message says why in the reader's words: the failed checks, else the reason and the
    // detector (the engine's own message is English, kept for English readers).
    const why = (locale: 'zh-CN' | 'en') => {
      const zh = locale === 'zh-CN';
      const checks = detail.checks?.flatMap((c) => gasCheckText(locale, c) ?? []) ?? [];
      const said = PERMIT_WORDS[locale].suspensions[reason];
      const what =
        checks.length > 0
          ? checks.join(zh ? '；' : '; ')
          : zh
            ? `检测仪 ${p.monitor_device ?? ''}`.trim()
            : detail.message;
      return zh ? `${said}（${what}）` : `${said} (${what})`;
    };
    notice.send(after, after.seq, { 'zh-CN': why('zh-CN'), en: why('en') });
  }

  function suspendLater(
    id: string,
    reason: PermitSuspensionReason,
    detail: { message: string; alarmId?: string },
  ) {
    core
      .serial(id, async () => {
        const p = await getPermit(db, id);
        if (p !== undefined) await suspendNow(p, reason, detail);
      })
      .catch((err: unknown) => logger.error({ err, permit: id, reason }, 'could not suspend the permit'));
  }

  async function monitorReading(id: string, e: ReadingAccepted): Promise<void> {
    const p = await getPermit(db, id);
    if (p === undefined || p.state !== 'in_progress' || p.monitor_device !== e.dev) return;
    if (e.reading.status !== 'ok') {
      await suspendNow(p, 'detector_status', { message: `${e.dev} reports ${e.reading.status}` });
      return;
    }
    const gases = JSON.parse(p.monitor_gases ?? '[]') as TestGas[];
    const values = gases.flatMap((g) => {
      const v = g.channel === null ? undefined : e.reading.values[g.channel as GasId];
      return v === undefined ? [] : [{ gas: g.gas, value: v, unit: GASES[g.channel as GasId].unit }];
    });
    if (values.length === 0) return;
    const { failed, failedChecks } = judge(p, values);
    const record = {
      permit_id: id,
      at: e.receivedAt,
      device: e.dev,
      instrument: null,
      readings: JSON.stringify(values),
      pass: failed.length === 0 ? 1 : 0,
      reasons: JSON.stringify(failedChecks),
      recorded_by: 'system',
      note: '',
    };
    if (failed.length > 0) {
      await suspendNow(p, 'reading_failed', {
        message: failed.join('; '),
        checks: failedChecks,
        record: { ...record, why: 'failed' },
      });
      return;
    }
    const last = await lastRecordAt(id);
    const every = recordEveryMs(rulesOf(p), typeOf(p), fallbackMin);
    const pollMs = (devices.get(e.dev)?.state?.pollIntervalS ?? 10) * 1000;
    // "At least every 2 h": keep this reading when waiting for the next would pass the interval.
    if (last !== null && e.receivedAt + pollMs < last + every) return;
    await insertMonitoring(db, { ...record, why: last === null ? 'start' : 'interval' });
    lastRecord.set(id, e.receivedAt);
    core.emit(p, { kind: 'monitoring', device: e.dev, values });
  }

  const listeners = {
    reading: (e: ServerEvents['reading'][0]) => {
      const ids = bound.get(e.dev);
      if ((ids !== undefined || testing.has(e.dev)) && !e.late)
        latestReadings.set(e.dev, { reading: e.reading, ts: e.ts, receivedAt: e.receivedAt });
      // A replayed reading is not the air now: it is stored, but it does not judge the work.
      if (ids === undefined || e.late) return;
      for (const id of ids)
        core
          .serial(id, () => monitorReading(id, e))
          .catch((err: unknown) =>
            logger.error({ err, permit: id }, 'could not record the monitoring reading'),
          );
    },
    alarm: (e: AlarmTransition) => {
      if (e.type !== 'raised' && e.type !== 'reraised') return;
      const ids = bound.get(e.dev);
      if (ids === undefined) return;
      const reason: PermitSuspensionReason = e.key === 'offline' ? 'offline' : 'alarm';
      for (const id of [...ids])
        suspendLater(id, reason, { message: String(e.message ?? e.key ?? 'alarm'), alarmId: e.alarmId });
    },
    deviceState: (e: ServerEvents['deviceState'][0]) => {
      if (e.state.online !== false) return;
      for (const id of [...(bound.get(e.dev) ?? [])])
        suspendLater(id, 'offline', { message: `${e.dev} reported offline by its gateway` });
    },
  };

  return {
    async start() {
      for (const p of await monitoredPermits(db)) if (p.state === 'in_progress') bind(p);
      const open = await db
        .selectFrom('permit_tests')
        .select('device')
        .where('completed_at', 'is', null)
        .where('device', 'is not', null)
        .execute();
      for (const t of open) if (t.device !== null) testing.set(t.device, (testing.get(t.device) ?? 0) + 1);
      bus.on('reading', listeners.reading);
      bus.on('alarm', listeners.alarm);
      bus.on('deviceState', listeners.deviceState);
      sounder.start();
      notice.start();
    },
    stop() {
      sounder.stop();
      notice.stop();
      bus.off('reading', listeners.reading);
      bus.off('alarm', listeners.alarm);
      bus.off('deviceState', listeners.deviceState);
    },
    changed(p) {
      unbind(p);
      if (p.state === 'in_progress' && p.monitor_device !== null) {
        bind(p);
        lastRecord.set(p.id, null);
      }
    },
    watchTest(device) {
      testing.set(device, (testing.get(device) ?? 0) + 1);
    },
    unwatchTest(device) {
      const n = (testing.get(device) ?? 0) - 1;
      if (n > 0) testing.set(device, n);
      else testing.delete(device);
    },
    latest: (device) => latestReadings.get(device),
    async recordManual(id, input, caller) {
      return core.serial(id, async () => {
        const p = await core.load(id);
        if (p.state !== 'in_progress')
          throw new HttpError(
            409,
            'not_in_progress',
            `permit ${id} is ${p.state}: monitoring records are kept while the work goes on`,
          );
        let judged: ReturnType<typeof judge>;
        try {
          judged = judge(p, input.values);
        } catch (err) {
          if (err instanceof PermitRuleError)
            throw new HttpError(400, 'bad_request', `values: ${err.message}`);
          throw err;
        }
        const now = clock();
        const record = {
          permit_id: id,
          at: now,
          device: null,
          instrument: p.monitor_instrument,
          readings: JSON.stringify(input.values),
          pass: judged.failed.length === 0 ? 1 : 0,
          reasons: JSON.stringify(judged.failedChecks),
          why: 'manual',
          recorded_by: caller.principal.id,
          note: input.note,
        };
        await db.transaction().execute(async (tx) => {
          await insertMonitoring(tx, record);
          await appendAudit(tx, {
            ts: now,
            ...auditActorOf(caller),
            action: 'permit.monitoring',
            target: { kind: 'permit', id },
            after: { values: input.values, pass: record.pass === 1, note: input.note },
          });
        });
        lastRecord.set(id, now);
        core.emit(p, { kind: 'monitoring', values: input.values, pass: record.pass === 1 });
        if (judged.failed.length > 0)
          await suspendNow(p, 'reading_failed', { message: judged.failed.join('; ') });
        return core.load(id);
      });
    },
    async nextDue(p) {
      const every = recordEveryMs(rulesOf(p), typeOf(p), fallbackMin);
      const last = await lastRecordAt(p.id);
      return (last ?? (await workSince(p.id))) + every;
    },
    async sweep() {
      const now = clock();
      for (const p of await permitsPastValidity(db, now))
        await core
          .serial(p.id, async () => {
            const fresh = await getPermit(db, p.id);
            if (
              fresh === undefined ||
              fresh.valid_until >= clock() ||
              !['approved', 'testing', 'ready', 'in_progress', 'suspended'].includes(fresh.state)
            )
              return;
            const { permit: after } = await core.transition(
              fresh,
              'expire',
              { system: true },
              {
                note: `valid until ${new Date(fresh.valid_until).toISOString()}: ${permitRefusalText('en', { code: 'permit_expired', params: {} })}`,
                data: { validUntil: fresh.valid_until, wasInProgress: fresh.state === 'in_progress' },
              },
            );
            unbind(after);
            // Work still going on when the permit ran out must stop: the same alert as a suspension.
            if (fresh.state === 'in_progress') {
              const text = (locale: 'zh-CN' | 'en') =>
                `${fresh.location}${locale === 'zh-CN' ? '：' : ': '}${permitRefusalText(locale, { code: 'permit_expired', params: {} })}`;
              logger.warn({ permit: fresh.id }, 'permit expired while work went on: stop the work');
              core.emit(after, {
                kind: 'evacuate',
                seq: after.seq,
                reason: 'permit_expired',
                device: fresh.monitor_device,
                location: fresh.location,
                attendant: (JSON.parse(fresh.attendant) as { name: string }).name,
                text: { 'zh-CN': text('zh-CN'), en: text('en') },
              });
              void sounder.sound(fresh, permitRefusalText('en', { code: 'permit_expired', params: {} }));
              notice.send(after, after.seq, {
                'zh-CN': permitRefusalText('zh-CN', { code: 'permit_expired', params: {} }),
                en: permitRefusalText('en', { code: 'permit_expired', params: {} }),
              });
            }
          })
          .catch((err: unknown) => logger.error({ err, permit: p.id }, 'could not expire the permit'));
      for (const [dev, ids] of [...bound]) {
        const d = devices.get(dev);
        if (d !== undefined && deviceView(d, now).online) continue;
        for (const id of [...ids])
          suspendLater(id, 'offline', {
            message: `${dev}: no reading for more than ${Math.round((d === undefined ? 30_000 : deviceView(d, now).offlineAfterMs) / 1000)} s`,
          });
      }
    },
  };
}
