import { z } from 'zod';
import {
  type Alarm,
  AlarmSchema,
  isOpen,
  RESOLUTION_REASONS,
  type ResolutionReason,
} from '../alarms/model.js';
import { IsoTimeSchema } from '../api-schemas.js';
import {
  inWindow,
  ResponseTimesSummarySchema,
  respondedIn,
  responseTimes,
  type TimeWindow,
} from './response-times.js';

/** Most open alarms and most notes a report lists (it counts them all). */
export const REPORT_LIST_MAX = 1000;

/** What a report says of one alarm: the Alarm's own fields (times in ms, as in /api/alarms). */
export const AlarmSummarySchema = AlarmSchema.pick({
  id: true,
  gw: true,
  dev: true,
  site: true,
  key: true,
  rule: true,
  gas: true,
  severity: true,
  state: true,
  message: true,
  value: true,
  unit: true,
  raisedAt: true,
  detectedAt: true,
  ack: true,
  resolution: true,
  onMyWay: true,
  onSite: true,
  calls: true,
}).describe('AlarmSummary');
export type AlarmSummary = z.infer<typeof AlarmSummarySchema>;

export const ShiftNoteSchema = z.object({
  alarmId: z.string(),
  dev: z.string(),
  site: z.string().nullable(),
  kind: z.enum(['ack', 'resolve']).describe("The acknowledgement's note or the resolution's"),
  at: z.number().describe('Wall clock, ms since epoch (as ack.at and resolution.at)'),
  actor: z.string().describe('Username or token id'),
  text: z.string(),
  reason: z.enum(RESOLUTION_REASONS).optional().describe('Resolution notes: the reason code'),
});
export type ShiftNote = z.infer<typeof ShiftNoteSchema>;

export const ShiftReportSchema = z
  .object({
    from: IsoTimeSchema.describe('Start of the shift (exclusive): the previous handover'),
    to: IsoTimeSchema.describe(
      'End of the shift (inclusive): the handover, or now for the shift in progress',
    ),
    raised: z.number().int().describe('Alarms the server raised in the shift (detectedAt)'),
    acknowledged: z.number().int().describe('Alarms acknowledged in the shift'),
    resolved: z.number().int().describe('Alarms resolved in the shift'),
    byReason: z
      .record(z.enum(RESOLUTION_REASONS), z.number().int())
      .describe('Alarms resolved in the shift, by reason (every reason, 0 included)'),
    open: z.number().int().describe('Alarms open at the end (every state but cleared), whenever raised'),
    stillOpen: z
      .array(AlarmSummarySchema)
      .describe(`The open alarms, newest raise first (the first ${REPORT_LIST_MAX}; \`open\` counts all)`),
    notes: z
      .array(ShiftNoteSchema)
      .describe(
        `Acknowledgement and resolution notes written in the shift, oldest first (the last ${REPORT_LIST_MAX}; \`notesTotal\` counts all); empty notes left out`,
      ),
    notesTotal: z.number().int(),
    responseTimes: ResponseTimesSummarySchema.describe(
      'Response times of the alarms acknowledged and resolved in the shift',
    ),
  })
  .describe('ShiftReport');
export type ShiftReport = z.infer<typeof ShiftReportSchema>;

/**
 * The window of a shift that began at `startedAt` and was handed over at `endedAt`: it covers
 * (startedAt, endedAt], so what happened in the very ms of a handover is in the report made then,
 * and never in the next shift's too. Times are whole ms, so that is [startedAt + 1, endedAt + 1).
 */
export const shiftWindow = (startedAt: number, endedAt: number): TimeWindow => ({
  from: startedAt + 1,
  to: endedAt + 1,
});

/** The alarm has something to say in a report of `w`: still open, raised or answered in it. */
export const concernsShift = (a: Alarm, w: TimeWindow): boolean =>
  isOpen(a) || inWindow(a.detectedAt, w) || respondedIn(a, w);

function summary(a: Alarm): AlarmSummary {
  const out: AlarmSummary = {
    id: a.id,
    gw: a.gw,
    dev: a.dev,
    site: a.site,
    key: a.key,
    rule: a.rule,
    severity: a.severity,
    state: a.state,
    message: a.message,
    value: a.value,
    raisedAt: a.raisedAt,
    detectedAt: a.detectedAt,
    ack: a.ack,
  };
  if (a.gas !== undefined) out.gas = a.gas;
  if (a.unit !== undefined) out.unit = a.unit;
  if (a.resolution !== undefined) out.resolution = a.resolution;
  if (a.onMyWay !== undefined) out.onMyWay = a.onMyWay;
  if (a.onSite !== undefined) out.onSite = a.onSite;
  if (a.calls !== undefined) out.calls = a.calls;
  return out;
}

/**
 * The report of a shift from `startedAt` to `endedAt` over `alarms` (those the reader may see,
 * newest raise first as the engine lists them): what was raised, acknowledged and resolved in it,
 * what is still open at its end, the notes written, and the response times.
 */
export function shiftReport(alarms: readonly Alarm[], startedAt: number, endedAt: number): ShiftReport {
  const w = shiftWindow(startedAt, endedAt);
  const byReason = Object.fromEntries(RESOLUTION_REASONS.map((r) => [r, 0])) as Record<
    ResolutionReason,
    number
  >;
  let raised = 0;
  let acknowledged = 0;
  let resolved = 0;
  const open: Alarm[] = [];
  const notes: ShiftNote[] = [];
  for (const a of alarms) {
    if (inWindow(a.detectedAt, w)) raised++;
    if (isOpen(a)) open.push(a);
    const where = { alarmId: a.id, dev: a.dev, site: a.site };
    const r = a.resolution;
    if (a.ack !== null && inWindow(a.ack.at, w)) {
      acknowledged++;
      // Resolving an unacknowledged alarm acknowledges it with the same note: one note, not two.
      const sameAsResolution =
        r !== undefined && r.at === a.ack.at && r.actor === a.ack.actor && r.note === a.ack.note;
      if (a.ack.note !== '' && !sameAsResolution)
        notes.push({ ...where, kind: 'ack', at: a.ack.at, actor: a.ack.actor, text: a.ack.note });
    }
    if (r !== undefined && inWindow(r.at, w)) {
      resolved++;
      byReason[r.reason]++;
      if (r.note !== '')
        notes.push({ ...where, kind: 'resolve', at: r.at, actor: r.actor, text: r.note, reason: r.reason });
    }
  }
  notes.sort((x, y) => x.at - y.at || (x.alarmId < y.alarmId ? -1 : x.alarmId > y.alarmId ? 1 : 0));
  return {
    from: new Date(startedAt).toISOString(),
    to: new Date(endedAt).toISOString(),
    raised,
    acknowledged,
    resolved,
    byReason,
    open: open.length,
    stillOpen: open.slice(0, REPORT_LIST_MAX).map(summary),
    notes: notes.slice(-REPORT_LIST_MAX),
    notesTotal: notes.length,
    responseTimes: responseTimes(alarms, w),
  };
}
