import { describe, expect, it } from 'vitest';
import {
  AlarmInputError,
  type AlarmSample,
  createRuleSet,
  type GasId,
  offlineTimeoutMs,
  profileForKind,
  type ReadingStatus,
} from '../../src/index.js';
import { feed, MIN, T0 } from './helpers.js';

type Row = [
  seconds: number,
  values: Partial<Record<GasId, number>>,
  status?: ReadingStatus,
  faults?: string[],
];
function samples(rows: Row[]): AlarmSample[] {
  return rows.map(([s, values, status = 'ok', faults]) => ({
    ts: T0 + s * 1000,
    values,
    status,
    ...(faults ? { faults } : {}),
  }));
}
const brief = (events: { type: string; ts: number; condition: { key: string } }[]) =>
  events.map((e) => `${(e.ts - T0) / 1000} ${e.type} ${e.condition.key}`);

describe('confined-space', () => {
  it('O2 deficiency: < 19.5 %vol raises (critical), clears above 19.5 + 10 % of (20.9 − 19.5) = 19.64', () => {
    const { events, state } = feed(
      createRuleSet('confined-space'),
      samples([
        [0, { O2: 20.9 }],
        [1, { O2: 19.5 }], // not below 19.5
        [2, { O2: 19.4 }], // raised
        [3, { O2: 19.6 }], // inside the band
        [4, { O2: 19.7 }], // cleared
      ]),
    );
    expect(brief(events)).toEqual(['2 raised O2:low', '4 cleared O2:low']);
    expect(events[0]!.condition).toMatchObject({
      severity: 'critical',
      threshold: 19.5,
      unit: '%vol',
      gas: 'O2',
    });
    expect(events[0]!.condition.message).toBe('O2 19.4 %vol < 19.5 %vol (O2 deficiency)');
    expect(Object.keys(state.active)).toEqual([]);
  });

  it('O2 enrichment: > 23.5 %vol raises, clears below 23.5 − 0.26 = 23.24', () => {
    const { events } = feed(
      createRuleSet('confined-space'),
      samples([
        [0, { O2: 23.5 }],
        [1, { O2: 23.6 }],
        [2, { O2: 23.3 }],
        [3, { O2: 23.2 }],
      ]),
    );
    expect(brief(events)).toEqual(['1 raised O2:high', '3 cleared O2:high']);
  });

  it('LEL, CO and H2S low/high set points: 10/20 %LEL, 35/200 ppm, 10/15 ppm', () => {
    const { events } = feed(
      createRuleSet('confined-space', { stelTwa: [] }),
      samples([
        [0, { LEL: 9.9, CO: 34, H2S: 9.9, O2: 20.9 }],
        [1, { LEL: 10, CO: 35, H2S: 10, O2: 20.9 }],
        [2, { LEL: 19.9, CO: 199, H2S: 14.9, O2: 20.9 }],
        [3, { LEL: 20, CO: 200, H2S: 15, O2: 20.9 }],
      ]),
    );
    expect(brief(events)).toEqual([
      '1 raised LEL:low',
      '1 raised CO:low',
      '1 raised H2S:low',
      '3 raised LEL:high',
      '3 raised CO:high',
      '3 raised H2S:high',
    ]);
    expect(events.map((e) => e.condition.severity)).toEqual([
      'warning',
      'warning',
      'warning',
      'critical',
      'critical',
      'critical',
    ]);
  });

  it('reports every active condition after each step, with its current value', () => {
    const rs = createRuleSet('confined-space');
    const a = rs.step(rs.initial(), { ts: T0, values: { O2: 18, H2S: 20 }, status: 'ok' });
    expect(a.active.map((c) => c.key)).toEqual(['O2:low', 'H2S:low', 'H2S:high', 'H2S:mac']);
    const b = rs.step(a.state, { ts: T0 + 1000, values: { O2: 17, H2S: 20 }, status: 'ok' });
    expect(b.events).toEqual([]); // one 'raised' per condition, no repeats
    expect(b.active.find((c) => c.key === 'O2:low')?.value).toBe(17);
  });
});

describe('combustible (GB/T 50493-2019)', () => {
  it('two stages: first alarm ≥ 25 %LEL (warning), second ≥ 50 %LEL (critical), each clears with hysteresis', () => {
    const { events } = feed(
      createRuleSet('combustible'),
      samples([
        [0, { LEL: 24 }],
        [1, { LEL: 30 }], // first alarm
        [2, { LEL: 55 }], // second alarm (first stays)
        [3, { LEL: 46 }], // inside the second alarm's band (45)
        [4, { LEL: 40 }], // second clears
        [5, { LEL: 20 }], // first clears (below 22.5)
        [6, { LEL: 0 }],
      ]),
    );
    expect(brief(events)).toEqual([
      '1 raised LEL:low',
      '2 raised LEL:high',
      '4 cleared LEL:high',
      '5 cleared LEL:low',
    ]);
    expect(events[0]!.condition).toMatchObject({ severity: 'warning', rule: 'combustible', threshold: 25 });
    expect(events[1]!.condition).toMatchObject({ severity: 'critical', threshold: 50 });
    expect(events[1]!.condition.message).toBe('LEL 55 %LEL ≥ 50 %LEL (GB/T 50493-2019 second alarm)');
  });

  it('in a household (GB 15322) the first alarm is 10 %LEL on every combustible channel, the second stays 50', () => {
    const rs = createRuleSet('combustible', { siteType: 'household' });
    const { events } = feed(
      rs,
      samples([
        [0, { LEL: 9, CH4: 9, C3H8: 9 }],
        [1, { LEL: 12, CH4: 12, C3H8: 12 }],
        [2, { LEL: 49, CH4: 12, C3H8: 12 }],
        [3, { LEL: 50, CH4: 12, C3H8: 12 }],
      ]),
    );
    expect(brief(events)).toEqual([
      '1 raised LEL:low',
      '1 raised CH4:low',
      '1 raised C3H8:low',
      '3 raised LEL:high',
    ]);
    expect(events[0]!.condition.message).toBe('LEL 12 %LEL ≥ 10 %LEL (GB 15322 household first alarm)');
    // A workplace (the default) stays quiet at 12 %LEL.
    for (const options of [{}, { siteType: 'workplace' as const }])
      expect(feed(createRuleSet('combustible', options), samples([[0, { LEL: 12 }]])).events).toEqual([]);
  });

  it('a threshold by key wins over the household first alarm', () => {
    const rs = createRuleSet('combustible', { siteType: 'household', thresholds: { 'LEL:low': 15 } });
    expect(rs.conditions.filter((c) => c.rule === 'combustible').map((c) => [c.key, c.setPoint])).toEqual([
      ['LEL:low', 15],
      ['LEL:high', 50],
      ['CH4:low', 10],
      ['CH4:high', 50],
      ['C3H8:low', 10],
      ['C3H8:high', 50],
    ]);
  });

  it('an unknown siteType is refused, not read as a workplace', () => {
    expect(() => createRuleSet('combustible', { siteType: 'home' as never })).toThrow(
      /siteType must be one of household, workplace, got home/,
    );
  });

  it('a CO channel on a combustible detector uses the EN 50291 tiers (or UL 2034 when configured)', () => {
    const co = (ppm: number): Row[] => Array.from({ length: 181 }, (_, s): Row => [s, { LEL: 0, CO: ppm }]);
    // 400 ppm for 3 min: the EN 50291 fast tier fires at 120 s; UL 2034 would need 10.7 min.
    expect(brief(feed(createRuleSet('combustible'), samples(co(400))).events)).toEqual([
      '120 raised CO:fast',
    ]);
    expect(feed(createRuleSet('combustible', { combustibleCo: 'ul2034' }), samples(co(400))).events).toEqual(
      [],
    );
    // 100 ppm: no plain threshold fires instantly (the dose takes 23 min).
    expect(feed(createRuleSet('combustible'), samples(co(100))).events).toEqual([]);
  });
});

describe('faults and non-measuring states (every profile)', () => {
  it.each(['ul2034', 'en50291', 'combustible', 'confined-space'] as const)(
    '%s: status fault and sensor_eol raise the fault condition, ok clears it',
    (profile) => {
      const { events } = feed(
        createRuleSet(profile),
        samples([
          [0, { CO: 0 }],
          [1, { CO: 0 }, 'fault'],
          [2, { CO: 0 }, 'fault'], // no repeat
          [3, { CO: 0 }],
          [4, { CO: 0 }, 'ok', ['sensor_eol']],
          [5, { CO: 0 }, 'ok', ['some_info']], // not a configured fault code
        ]),
      );
      expect(brief(events)).toEqual([
        '1 raised fault',
        '3 cleared fault',
        '4 raised fault',
        '5 cleared fault',
      ]);
      expect(events[0]!.condition).toMatchObject({
        rule: 'fault',
        severity: 'warning',
        message: 'detector fault',
      });
    },
  );

  it('warm-up, calibration and bump-test samples raise no gas alarm and add no dose', () => {
    const rs = createRuleSet('en50291');
    const rows: Row[] = [];
    // 400 ppm of test gas for 10 min in each non-measuring state, then clean air.
    for (const [i, status] of (['warmup', 'calibrating', 'bump_test'] as const).entries()) {
      for (let s = 0; s < 600; s += 10) rows.push([i * 600 + s, { CO: 400 }, status]);
    }
    for (let s = 1800; s <= 3600; s += 10) rows.push([s, { CO: 0 }]);
    const { events, state } = feed(rs, samples(rows));
    expect(events).toEqual([]);
    expect((state.measures['CO:dose'] as { dose: number }).dose).toBe(0);
  });

  it('a fault sample neither raises nor clears a gas alarm (its values are not trusted)', () => {
    const { events, state } = feed(
      createRuleSet('combustible'),
      samples([
        [0, { LEL: 30 }],
        [1, { LEL: 0 }, 'fault'], // 0 from a faulty detector does not clear LEL:low
        [2, { LEL: 80 }, 'fault'], // nor does 80 raise LEL:high
      ]),
    );
    expect(brief(events)).toEqual(['0 raised LEL:low', '1 raised fault']);
    expect(Object.keys(state.active)).toEqual(['LEL:low', 'fault']);
  });

  it('a warm-up that never ends raises fault:warmup after maxWarmupS, cleared when measuring starts', () => {
    const rows: Row[] = [];
    for (let s = 0; s <= 400; s += 20) rows.push([s, {}, 'warmup']);
    rows.push([420, { CO: 0 }]);
    const { events } = feed(createRuleSet('ul2034', { maxWarmupS: 300 }), samples(rows));
    expect(brief(events)).toEqual(['300 raised fault:warmup', '420 cleared fault:warmup']);
    expect(events[0]!.condition.message).toBe('warm-up not finished after 300 s (limit 300 s)');
  });
});

describe('bad input gets a clear error and loses nothing', () => {
  const rs = createRuleSet('en50291');
  const s0 = rs.step(rs.initial(), { ts: T0, values: { CO: 100 }, status: 'ok' }).state;
  const cases: [string, unknown, string, RegExp][] = [
    ['NaN value', { ts: T0 + 1, values: { CO: Number.NaN }, status: 'ok' }, 'invalid_sample', /CO value/],
    ['negative value', { ts: T0 + 1, values: { CO: -1 }, status: 'ok' }, 'invalid_sample', /≥ 0/],
    ['unknown gas', { ts: T0 + 1, values: { XX: 1 }, status: 'ok' }, 'invalid_sample', /unknown gas 'XX'/],
    ['bad status', { ts: T0 + 1, values: { CO: 1 }, status: 'sleepy' }, 'invalid_sample', /status 'sleepy'/],
    [
      'ts not a number',
      { ts: '2026-11-23', values: { CO: 1 }, status: 'ok' },
      'invalid_sample',
      /ts must be/,
    ],
    ['values missing', { ts: T0 + 1, status: 'ok' }, 'invalid_sample', /values must be an object/],
    ['older sample', { ts: T0 - 1, values: { CO: 1 }, status: 'ok' }, 'out_of_order', /older than the last/],
  ];
  it.each(cases)('%s → AlarmInputError', (_name, sample, code, message) => {
    const before = JSON.stringify(s0);
    let err: unknown;
    try {
      rs.step(s0, sample as AlarmSample);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AlarmInputError);
    expect(err).toMatchObject({ code, message: expect.stringMatching(message) });
    // The state is untouched and still usable.
    expect(JSON.stringify(s0)).toBe(before);
    expect(rs.step(s0, { ts: T0 + 60_000, values: { CO: 100 }, status: 'ok' }).state.lastTs).toBe(
      T0 + 60_000,
    );
  });

  it('bad options are refused at creation', () => {
    expect(() => createRuleSet('ul2034', { hysteresis: 1.5 })).toThrow(/hysteresis/);
    expect(() => createRuleSet('combustible', { thresholds: { 'LEL:low': -1 } })).toThrow(
      /thresholds.LEL:low/,
    );
    expect(() => createRuleSet('confined-space', { stelTwa: [{ gas: 'LEL', twaMgM3: 1 }] })).toThrow(/LEL/);
    expect(() => createRuleSet('nope' as 'ul2034')).toThrow(AlarmInputError);
  });
});

describe('determinism and replay', () => {
  it('a replay through a JSON round trip of the state at any point gives the same alarms', () => {
    const rs = createRuleSet('confined-space');
    const rows: AlarmSample[] = [];
    for (let s = 0; s <= 3 * 3600; s += 15) {
      const co = s > 1800 && s < 4000 ? 80 : 5;
      const o2 = s > 6000 && s < 6100 ? 19 : 20.9;
      rows.push({ ts: T0 + s * 1000, values: { CO: co, O2: o2, H2S: 0, LEL: 0 }, status: 'ok' });
    }
    const whole = feed(rs, rows);
    expect(brief(whole.events).length).toBeGreaterThan(3);
    for (const cut of [1, 200, 317, 500]) {
      const a = feed(rs, rows.slice(0, cut));
      const restored = JSON.parse(JSON.stringify(a.state));
      const b = feed(rs, rows.slice(cut), restored);
      expect([...a.events, ...b.events]).toEqual(whole.events);
    }
  });
});

describe('helpers', () => {
  it('profileForKind follows SPEC §6', () => {
    expect(profileForKind('household-co')).toBe('en50291');
    expect(profileForKind('household-co', 'ul2034')).toBe('ul2034');
    expect(profileForKind('multigas')).toBe('confined-space');
    expect(profileForKind('combustible')).toBe('combustible');
  });

  it('offlineTimeoutMs = max(3 × poll interval, 30 s)', () => {
    expect(offlineTimeoutMs()).toBe(30_000);
    expect(offlineTimeoutMs(5)).toBe(30_000);
    expect(offlineTimeoutMs(20)).toBe(60_000);
    expect(offlineTimeoutMs(0.5)).toBe(30_000);
    expect(() => offlineTimeoutMs(0)).toThrow(AlarmInputError);
    expect(MIN).toBe(60_000);
  });
});
