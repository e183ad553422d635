import { describe, expect, it } from 'vitest';
import { type AlarmSample, createRuleSet, type GasId } from '../../src/index.js';
import { feed, T0 } from './helpers.js';

/**
 * The gateway marks a channel 'bad' when its value is above the sensor's full scale (over range):
 * the gas is at least that much. A doubtful value on the alarm side of a set point must raise
 * (fail safe); a doubtful value on the safe side must neither clear an alarm nor read as clean air.
 */
const bad = (s: number, gas: GasId, v: number): AlarmSample => ({
  ts: T0 + s * 1000,
  values: { [gas]: v },
  quality: { [gas]: 'bad' },
  status: 'ok',
});
const good = (s: number, gas: GasId, v: number): AlarmSample => ({
  ts: T0 + s * 1000,
  values: { [gas]: v },
  status: 'ok',
});
const brief = (events: { type: string; ts: number; condition: { key: string } }[]) =>
  events.map((e) => `${(e.ts - T0) / 1000} ${e.type} ${e.condition.key}`);

describe("a channel marked 'bad' (over range): fail safe", () => {
  it('ul2034: CO over range (1000 ppm, bad) raises the dose alarm at τ·ln(1000/955) = 4.14 min', () => {
    const samples = [];
    for (let s = 0; s <= 600; s += 10) samples.push(bad(s, 'CO', 1000));
    const { events } = feed(createRuleSet('ul2034'), samples);
    expect(brief(events)).toEqual(['250 raised CO:dose']);
  });

  it('en50291: CO over range held 2 min raises the fast tier', () => {
    const samples = [];
    for (let s = 0; s <= 200; s += 10) samples.push(bad(s, 'CO', 1000));
    const { events } = feed(createRuleSet('en50291'), samples);
    expect(brief(events).filter((e) => e.endsWith('CO:fast'))).toEqual(['120 raised CO:fast']);
  });

  it('combustible: LEL over range (100 %LEL, bad) raises both stages at once', () => {
    const { events } = feed(createRuleSet('combustible'), [good(0, 'LEL', 0), bad(10, 'LEL', 100)]);
    expect(brief(events)).toEqual(['10 raised LEL:low', '10 raised LEL:high']);
  });

  it('confined-space: O2 over range raises enrichment; a bad value on the safe side clears nothing', () => {
    const { events, state } = feed(createRuleSet('confined-space'), [
      good(0, 'O2', 20.9),
      bad(10, 'O2', 31),
      bad(20, 'O2', 20.9), // doubtful "normal" reading: the alarm stays
      good(30, 'H2S', 0),
    ]);
    expect(brief(events)).toEqual(['10 raised O2:high']);
    expect(Object.keys(state.active)).toEqual(['O2:high']);
  });

  it('a bad value on the safe side never clears an active alarm', () => {
    const rs = createRuleSet('combustible');
    const { events } = feed(rs, [
      good(0, 'LEL', 60),
      bad(10, 'LEL', 0),
      bad(20, 'LEL', 0),
      good(30, 'LEL', 0),
    ]);
    expect(brief(events)).toEqual([
      '0 raised LEL:low',
      '0 raised LEL:high',
      '30 cleared LEL:low',
      '30 cleared LEL:high',
    ]);
  });
});
