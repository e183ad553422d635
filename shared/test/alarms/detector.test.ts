import { describe, expect, it } from 'vitest';
import { AlarmInputError, type AlarmSample, createRuleSet, type ReadingStatus } from '../../src/index.js';
import { feed, T0 } from './helpers.js';

const PROFILES = ['ul2034', 'en50291', 'combustible', 'confined-space'] as const;

type Row = [seconds: number, alarm: boolean | undefined, status?: ReadingStatus];
function samples(rows: Row[]): AlarmSample[] {
  return rows.map(([s, alarm, status = 'ok']) => ({
    ts: T0 + s * 1000,
    // Clean air on every channel: only the detector's own output can alarm.
    values: { CO: 0, O2: 20.9, LEL: 0, H2S: 0 },
    status,
    ...(alarm === undefined ? {} : { alarm }),
  }));
}
const brief = (events: { type: string; ts: number; condition: { key: string } }[]) =>
  events.map((e) => `${(e.ts - T0) / 1000} ${e.type} ${e.condition.key}`);

describe("the detector's own alarm output (Reading.alarm), every profile", () => {
  it.each(PROFILES)('%s: alarm true raises "detector" (critical) once, false clears it', (profile) => {
    const rs = createRuleSet(profile);
    expect(rs.conditions.find((c) => c.key === 'detector')).toMatchObject({
      rule: 'detector',
      severity: 'critical',
      onDelayMs: 0,
    });
    const { events, state } = feed(
      rs,
      samples([
        [0, false],
        [10, true],
        [20, true], // no second raise
        [30, undefined], // not reported: stays raised
        [40, false],
        [50, undefined], // not reported: stays clear
        [60, true],
      ]),
    );
    expect(brief(events)).toEqual(['10 raised detector', '40 cleared detector', '60 raised detector']);
    expect(events[0]!.condition).toMatchObject({
      key: 'detector',
      rule: 'detector',
      severity: 'critical',
      message: "detector's own alarm output on",
    });
    expect(events[1]!.condition.message).toBe("detector's own alarm output off, cleared");
    expect(Object.keys(state.active)).toEqual(['detector']);
  });

  it('is believed in warm-up and fault; ignored during a bump test or calibration (test gas on purpose)', () => {
    const { events } = feed(
      createRuleSet('en50291'),
      samples([
        [0, true, 'bump_test'], // the bump test makes the detector sound: not an alarm
        [10, true, 'calibrating'],
        [20, false],
        [30, true, 'warmup'],
        [40, true, 'fault'],
        [50, false, 'bump_test'], // no information: stays raised
        [60, false],
      ]),
    );
    expect(brief(events)).toEqual([
      '30 raised detector',
      '40 raised fault',
      '50 cleared fault',
      '60 cleared detector',
    ]);
  });

  it('survives a JSON round trip of the state (restart) and a long gap without data', () => {
    const rs = createRuleSet('combustible');
    const a = feed(rs, samples([[0, true]]));
    const revived = JSON.parse(JSON.stringify(a.state)) as typeof a.state;
    const b = feed(
      rs,
      samples([
        [7200, undefined],
        [7210, false],
      ]),
      revived,
    );
    expect(brief(b.events)).toEqual(['7210 cleared detector']);
  });

  it('a non-boolean alarm field is refused with a clear error and the state is untouched', () => {
    const rs = createRuleSet('ul2034');
    const s0 = rs.initial();
    expect(() =>
      rs.step(s0, { ts: T0, values: { CO: 0 }, status: 'ok', alarm: 'yes' as unknown as boolean }),
    ).toThrow(AlarmInputError);
    expect(() =>
      rs.step(s0, { ts: T0, values: { CO: 0 }, status: 'ok', alarm: 1 as unknown as boolean }),
    ).toThrow(/alarm must be true or false/);
    expect(s0).toEqual(rs.initial());
  });
});
