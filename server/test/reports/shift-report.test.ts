import { describe, expect, it } from 'vitest';
import type { Alarm } from '../../src/alarms/model.js';
import { responseTimes } from '../../src/reports/response-times.js';
import { REPORT_LIST_MAX, shiftReport } from '../../src/reports/shift-report.js';
import { alarmOf } from '../alarm-fixtures.js';

const START = Date.UTC(2026, 11, 1, 0, 0, 0);
const END = START + 8 * 3_600_000;
const MIN = 60_000;

/** An alarm the server raised at `at`, `over` adding what a test needs. */
const raisedAt = (id: string, at: number, over: Partial<Alarm> = {}): Alarm =>
  alarmOf(id, { raisedAt: at, detectedAt: at, ...over });

describe('shift report', () => {
  it('counts what was raised, acknowledged and resolved in (start, end], and lists what is still open', () => {
    const alarms = [
      // Raised before the shift, acknowledged and resolved in it.
      raisedAt('a.1', START - 30 * MIN, {
        state: 'cleared',
        ack: { actor: 'lin', at: START + MIN, note: 'called the daughter' },
        resolution: { actor: 'zhao', at: START + 40 * MIN, reason: 'real_event', note: 'brazier put out' },
      }),
      // Raised in the shift, still open, nobody answered.
      raisedAt('b.1', START + 60 * MIN),
      // Raised at the very ms of the handover: in this shift.
      raisedAt('c.1', END),
      // Raised at the very ms the shift began: in the previous one.
      raisedAt('d.1', START, { state: 'cleared', ack: { actor: 'lin', at: START, note: '' } }),
      // Resolved without an earlier acknowledgement: one note, not two.
      raisedAt('e.1', START + 2 * 60 * MIN, {
        state: 'cleared',
        ack: { actor: 'lin', at: START + 2 * 60 * MIN + 5 * MIN, note: 'test button' },
        resolution: { actor: 'lin', at: START + 2 * 60 * MIN + 5 * MIN, reason: 'test', note: 'test button' },
      }),
      // Acknowledged, condition still on: open, resolved after the shift.
      raisedAt('f.1', START + 3 * 60 * MIN, {
        state: 'acknowledged',
        ack: { actor: 'zhao', at: START + 3 * 60 * MIN + 2 * MIN, note: '' },
        resolution: { actor: 'zhao', at: END + 1, reason: 'false_alarm', note: 'steam' },
      }),
    ];
    const r = shiftReport(alarms, START, END);
    expect(r).toMatchObject({
      from: new Date(START).toISOString(),
      to: new Date(END).toISOString(),
      raised: 4, // b, c, e, f
      acknowledged: 3, // a, e, f
      resolved: 2, // a, e
      byReason: { real_event: 1, false_alarm: 0, test: 1, maintenance: 0, device_fault: 0 },
      open: 3, // b, c, f
      notesTotal: 3,
    });
    expect(r.stillOpen.map((a) => a.id).sort()).toEqual(['b.1', 'c.1', 'f.1']);
    expect(r.notes).toEqual([
      {
        alarmId: 'a.1',
        dev: 'a',
        site: 'lin-family',
        kind: 'ack',
        at: START + MIN,
        actor: 'lin',
        text: 'called the daughter',
      },
      {
        alarmId: 'a.1',
        dev: 'a',
        site: 'lin-family',
        kind: 'resolve',
        at: START + 40 * MIN,
        actor: 'zhao',
        text: 'brazier put out',
        reason: 'real_event',
      },
      {
        alarmId: 'e.1',
        dev: 'e',
        site: 'lin-family',
        kind: 'resolve',
        at: START + 2 * 60 * MIN + 5 * MIN,
        actor: 'lin',
        text: 'test button',
        reason: 'test',
      },
    ]);
    // The same figures as the response-times report over the shift's window.
    expect(r.responseTimes).toEqual(responseTimes(alarms, { from: START + 1, to: END + 1 }));
    expect(r.responseTimes.overall).toEqual({
      acknowledge: { count: 3, p50: 5 * 60, p90: 31 * 60 }, // 2, 5 and 31 min
      resolve: { count: 2, p50: 5 * 60, p90: 70 * 60 }, // 5 and 70 min
    });
    expect(r.responseTimes.byOperator).toEqual([
      {
        operator: 'lin',
        acknowledge: { count: 2, p50: 5 * 60, p90: 31 * 60 },
        resolve: { count: 1, p50: 5 * 60, p90: 5 * 60 },
      },
      {
        operator: 'zhao',
        acknowledge: { count: 1, p50: 2 * 60, p90: 2 * 60 },
        resolve: { count: 1, p50: 70 * 60, p90: 70 * 60 },
      },
    ]);
  });

  it('lists at most REPORT_LIST_MAX open alarms and notes, and counts them all', () => {
    const many = Array.from({ length: REPORT_LIST_MAX + 5 }, (_, i) =>
      raisedAt(`x${i}.1`, START + 1 + i, {
        state: 'acknowledged',
        ack: { actor: 'lin', at: START + 10 * MIN + i, note: `note ${i}` },
      }),
    );
    const r = shiftReport(many, START, END);
    expect([r.open, r.stillOpen.length]).toEqual([REPORT_LIST_MAX + 5, REPORT_LIST_MAX]);
    expect([r.notesTotal, r.notes.length]).toEqual([REPORT_LIST_MAX + 5, REPORT_LIST_MAX]);
    // The latest notes are kept, oldest first.
    expect(r.notes.at(-1)?.text).toBe(`note ${REPORT_LIST_MAX + 4}`);
    expect(r.notes[0]?.text).toBe('note 5');
  });

  it('an empty shift says zero and null, never leaves a field out', () => {
    expect(shiftReport([], START, END)).toEqual({
      from: new Date(START).toISOString(),
      to: new Date(END).toISOString(),
      raised: 0,
      acknowledged: 0,
      resolved: 0,
      byReason: { real_event: 0, false_alarm: 0, test: 0, maintenance: 0, device_fault: 0 },
      open: 0,
      stillOpen: [],
      notes: [],
      notesTotal: 0,
      responseTimes: {
        overall: {
          acknowledge: { count: 0, p50: null, p90: null },
          resolve: { count: 0, p50: null, p90: null },
        },
        byOperator: [],
      },
    });
  });
});
