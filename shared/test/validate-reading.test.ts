// Differential test: the hand-written Reading validator (the ingest hot path) against
// ReadingSchema.safeParse (the contract), on thousands of random and mutated payloads. They must
// agree on accept/reject for every one, return the same data when they accept, and the validator
// must say why when it rejects.

import { prng } from '@gaswatch/shared/testing';
import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  GAS_IDS,
  ID_PATTERN,
  parseTopic,
  ReadingSchema,
  type TopicAddress,
  topics,
} from '../src/index.js';
import { validateReading, validateReadingJson } from '../src/validate-reading.js';

const SEED = 20261123;
const rand = prng(SEED);
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
const chance = (p: number) => rand() < p;

const NUMBERS = [
  0,
  -0,
  -1,
  -0.000001,
  0.5,
  1,
  2,
  1.5,
  35.2,
  999_999.999,
  1_000_000,
  1_000_000.0000001,
  1_000_001,
  2 ** 31,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 1,
  Number.MAX_SAFE_INTEGER + 2,
  -Number.MAX_SAFE_INTEGER,
  1e21,
  1e308,
  Number.MIN_VALUE,
  Number.EPSILON,
];
const STRINGS = [
  '',
  'ok',
  'OK',
  'warmup',
  'fault',
  'calibrating',
  'bump_test',
  'good',
  'bad',
  'uncertain',
  'CO',
  '1',
  'true',
  'NaN',
  '__proto__',
  'x'.repeat(63),
  'x'.repeat(64),
  'x'.repeat(65),
  '😀'.repeat(32), // 64 UTF-16 units, 32 code points
  '😀'.repeat(33), // 66 units, 33 code points: zod counts code points, so still fine
  '😀'.repeat(64), // 128 units, 64 code points
  `${'😀'.repeat(64)}x`, // 65 code points
  '\ud800'.repeat(65), // lone surrogates count one each
  `${'a'.repeat(63)}\ud83d`,
  '2026-11-23T18:00:00.000Z',
];
const TIMESTAMPS = [
  '2026-11-23T18:00:00.000Z',
  '2026-11-23T18:00:00Z',
  '2026-11-23T18:00:00.1Z',
  '2026-11-23T18:00:00.123456789Z',
  '2026-11-23T18:00:00.000+08:00',
  '2026-11-23T18:00:00.000-23:59',
  '2026-11-23T18:00:00.000+24:00',
  '2026-11-23T18:00:00.000+0800',
  '2026-11-23T18:00:00.000+08',
  '2026-11-23T18:00.000Z',
  '2026-11-23T18:00Z',
  '2026-11-23T24:00:00.000Z',
  '2026-11-23T23:59:60.000Z',
  '2026-11-23 18:00:00.000Z',
  '2026-11-23t18:00:00.000z',
  '2026-11-23T18:00:00.000',
  '2026-11-23T18:00:00.Z',
  '2024-02-29T00:00:00.000Z',
  '2023-02-29T00:00:00.000Z',
  '2000-02-29T00:00:00.000Z',
  '1900-02-29T00:00:00.000Z',
  '2026-04-31T00:00:00.000Z',
  '2026-13-01T00:00:00.000Z',
  '2026-00-10T00:00:00.000Z',
  '0000-01-01T00:00:00.000Z',
  '+02026-11-23T18:00:00.000Z',
  ' 2026-11-23T18:00:00.000Z',
  '2026-11-23T18:00:00.000Z\n',
  '2026-11-23',
  '1763920800000',
];
const OTHER: unknown[] = [null, true, false, [], {}, [1], ['x'], { CO: 1 }, { CO: 'good' }];
const KEYS = [
  ...GAS_IDS,
  'co',
  'CO ',
  'XE',
  '',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'v',
  '0',
  'extra',
];

function anyValue(): unknown {
  const r = rand();
  if (r < 0.35) return pick(NUMBERS) * (chance(0.1) ? -1 : 1);
  if (r < 0.55) return pick(STRINGS);
  if (r < 0.65) return pick(TIMESTAMPS);
  if (r < 0.85) return pick(OTHER);
  return randomJson(2);
}

/** Any JSON value, nested up to `depth`. */
function randomJson(depth: number): unknown {
  const r = rand();
  if (depth <= 0 || r < 0.5) {
    return pick<unknown>([null, true, false, int(1000), rand() * 2e6 - 1e6, pick(STRINGS), pick(TIMESTAMPS)]);
  }
  if (r < 0.7) return Array.from({ length: int(4) }, () => randomJson(depth - 1));
  const o: Record<string, unknown> = {};
  for (let i = int(4); i > 0; i--) o[pick(KEYS)] = randomJson(depth - 1);
  return o;
}

/** A valid Reading with a random selection of channels and optional fields. */
function validReading(): Record<string, unknown> {
  const values: Record<string, number> = {};
  const gases = GAS_IDS.filter(() => chance(0.4));
  if (gases.length === 0) gases.push(pick(GAS_IDS));
  for (const g of gases) values[g] = pick([0, 1_000_000, Math.round(rand() * 10_000) / 10, rand() * 100]);
  const r: Record<string, unknown> = {
    v: 1,
    ts: pick(TIMESTAMPS.slice(0, 5)),
    seq: pick([0, int(1_000_000), Number.MAX_SAFE_INTEGER]),
    values,
    status: pick(['ok', 'warmup', 'fault', 'calibrating', 'bump_test']),
  };
  if (chance(0.3))
    r.faults = Array.from({ length: int(4) }, () => pick(['sensor_eol', 'x'.repeat(64), '😀'.repeat(64)]));
  if (chance(0.3))
    r.quality = Object.fromEntries(
      gases.filter(() => chance(0.5)).map((g) => [g, pick(['good', 'bad', 'uncertain'])]),
    );
  if (chance(0.2)) r.alarm = chance(0.5);
  if (chance(0.1)) {
    // reorder the keys: order must not matter
    return Object.fromEntries(Object.entries(r).sort(() => rand() - 0.5));
  }
  return r;
}

/** One field, nested or not, set to something else, deleted, or an unknown key added. */
function mutate(r: Record<string, unknown>): unknown {
  const n = 1 + int(chance(0.8) ? 1 : 3);
  for (let k = 0; k < n; k++) {
    const where = rand();
    if (where < 0.35) {
      const key = pick(['v', 'ts', 'seq', 'values', 'status', 'faults', 'quality', 'alarm']);
      if (chance(0.15)) delete r[key];
      else r[key] = key === 'ts' && chance(0.5) ? mutateString(pick(TIMESTAMPS)) : anyValue();
    } else if (where < 0.55) {
      const values = (isRecord(r.values) ? r.values : {}) as Record<string, unknown>;
      r.values = values;
      if (chance(0.2)) for (const key of Object.keys(values)) delete values[key];
      else values[pick(KEYS)] = chance(0.7) ? pick(NUMBERS) * (chance(0.2) ? -1 : 1) : anyValue();
    } else if (where < 0.7) {
      const q = (isRecord(r.quality) ? r.quality : {}) as Record<string, unknown>;
      r.quality = q;
      q[pick(KEYS)] = chance(0.6) ? pick(['good', 'bad', 'uncertain', 'GOOD', '']) : anyValue();
    } else if (where < 0.82) {
      const len = pick([0, 1, 31, 32, 33, 40]);
      r.faults = Array.from({ length: len }, () => (chance(0.97) ? pick(STRINGS) : anyValue()));
    } else if (where < 0.92) {
      r[pick(KEYS)] = anyValue();
    } else {
      r.ts = mutateString(String(r.ts ?? pick(TIMESTAMPS)));
    }
  }
  return r;
}

function isRecord(x: unknown): boolean {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function mutateString(s: string): string {
  const chars = [...s];
  const i = int(chars.length + 1);
  const c = pick(['0', '9', '2', '5', ':', '.', '-', '+', 'Z', 'T', ' ', 'x', '']);
  const op = int(3);
  if (op === 0) chars.splice(i, 1, c);
  else if (op === 1) chars.splice(i, 0, c);
  else chars.splice(i, 1);
  return chars.join('');
}

/** Byte-level damage to the JSON text; only texts that still parse are compared. */
function mutateText(text: string): string {
  const b = Buffer.from(text);
  for (let k = 1 + int(3); k > 0; k--) b[int(b.length)] = pick([...Buffer.from('{}[]",:01-.e Ex\\')]);
  return b.toString('utf8');
}

/** Both verdicts must match; accepted data must be equal (strictly so for JSON values). */
function agree(input: unknown, json = true) {
  const zod = ReadingSchema.safeParse(input);
  const mine = validateReading(input);
  // decodeMessage's variant (no symbol-key check) must agree on anything JSON can carry.
  if (json) expect(validateReadingJson(input)).toStrictEqual(mine);
  if (mine.ok !== zod.success) {
    // A readable failure: the payload and both verdicts.
    expect({
      input,
      validator: mine.ok ? 'accept' : mine.issues,
      zod: zod.success ? 'accept' : zod.error.issues,
    }).toBe('the same verdict');
  }
  if (mine.ok && zod.success) {
    // For a null-prototype input the validator returns the input itself, zod a plain copy.
    if (json) expect(mine.data).toStrictEqual(zod.data);
    else expect(mine.data).toEqual(zod.data);
  }
  if (!mine.ok) {
    expect(mine.issues.length).toBeGreaterThan(0);
    for (const i of mine.issues) expect(i.message.length).toBeGreaterThan(0);
  }
  return mine.ok;
}

describe('validateReading agrees with ReadingSchema.safeParse', () => {
  it('on valid readings, single and multiple mutations, byte damage and random JSON (seeded)', () => {
    // [accepted, rejected] per generator
    const tally: Record<string, [number, number]> = {
      valid: [0, 0],
      mutated: [0, 0],
      bytes: [0, 0],
      random: [0, 0],
    };
    const count = (k: string, ok: boolean) => {
      const t = tally[k] as [number, number];
      t[ok ? 0 : 1]++;
    };
    for (let i = 0; i < 4_000; i++) count('valid', agree(validReading()));
    for (let i = 0; i < 16_000; i++)
      count('mutated', agree(JSON.parse(JSON.stringify(mutate(validReading()))) as unknown));
    for (let i = 0; i < 6_000; i++) {
      const text = mutateText(JSON.stringify(validReading()));
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        continue;
      }
      count('bytes', agree(json));
    }
    for (let i = 0; i < 3_000; i++) count('random', agree(randomJson(3)));
    // The generators must exercise both verdicts, or this test could not fail.
    const { valid, mutated, bytes, random } = tally as Record<string, [number, number]>;
    expect(valid).toEqual([4_000, 0]);
    expect(mutated?.[0]).toBeGreaterThan(1_000);
    expect(mutated?.[1]).toBeGreaterThan(8_000);
    expect((bytes?.[0] ?? 0) + (bytes?.[1] ?? 0)).toBeGreaterThan(1_000);
    expect(bytes?.[1]).toBeGreaterThan(200);
    expect(random?.[1]).toBeGreaterThan(2_000);
  });

  const base = { v: 1, ts: '2026-11-23T18:00:00.000Z', seq: 1, values: { CO: 35.2 }, status: 'ok' };
  it.each<[string, unknown]>([
    ['every timestamp form', TIMESTAMPS.map((ts) => ({ ...base, ts }))],
    [
      'every boundary number as seq',
      NUMBERS.flatMap((seq) => [
        { ...base, seq },
        { ...base, seq: -seq },
      ]),
    ],
    [
      'every boundary number as a concentration',
      NUMBERS.map((c) => ({ ...base, values: { O2: 20.9, CO: c } })),
    ],
    ['every string as a fault', STRINGS.map((f) => ({ ...base, faults: [f] }))],
    ['32 and 33 faults', [32, 33].map((n) => ({ ...base, faults: Array(n).fill('f') }))],
    ['numbers as v', [1, 1.0, -1, 0, 2, '1', true].map((v) => ({ ...base, v }))],
  ])('on %s', (_name, inputs) => {
    for (const input of inputs as unknown[]) {
      agree(input);
      agree(JSON.parse(JSON.stringify(input)) as unknown);
    }
  });

  it('on values JSON cannot carry but a caller could pass', () => {
    const proto = Object.create({ inherited: 1 }) as Record<string, unknown>;
    Object.assign(proto, base);
    class Values {
      CO = 1;
    }
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, base, {
      values: Object.assign(Object.create(null) as object, { CO: 2 }),
    });
    const withSymbol = { ...base, values: { CO: 1, [Symbol('x')]: 1 } };
    const hiddenSymbol = { ...base, values: { CO: 1 } };
    Object.defineProperty(hiddenSymbol.values, Symbol('y'), { value: 1, enumerable: false });
    const hidden = { ...base, values: { CO: 1 } };
    Object.defineProperty(hidden.values, 'XE', { value: 1, enumerable: false });
    const inputs: unknown[] = [
      undefined,
      null,
      NaN,
      1n,
      'x',
      [base],
      new Date(),
      new Map(Object.entries(base)),
      proto,
      bare,
      withSymbol,
      hiddenSymbol,
      hidden,
      { ...base, values: new Values() },
      { ...base, values: [1] },
      { ...base, values: { CO: NaN } },
      { ...base, values: { CO: Number.POSITIVE_INFINITY } },
      { ...base, values: { CO: undefined } },
      { ...base, values: { CO: 1, H2S: undefined } },
      { ...base, seq: 1n },
      { ...base, seq: NaN },
      { ...base, faults: undefined, quality: undefined, alarm: undefined },
      { ...base, faults: new Array(2).fill('x', 1) }, // a hole at 0
      { ...base, alarm: 1 },
    ];
    for (const input of inputs) agree(input, false);
  });

  it('drops a __proto__ record key as zod does, and rejects it at the top level', () => {
    const values = JSON.parse('{"__proto__":{"x":1},"CO":3}') as unknown;
    expect(agree({ ...base, values })).toBe(true);
    const accepted = validateReading({ ...base, values });
    expect(accepted.ok && Object.keys(accepted.data.values)).toEqual(['CO']);
    expect(agree({ ...base, values: JSON.parse('{"__proto__":5}') })).toBe(false);
    expect(agree({ ...base, quality: JSON.parse('{"__proto__":"good","CO":"bad"}') })).toBe(true);
    expect(agree(JSON.parse(`{"__proto__":1,${JSON.stringify(base).slice(1)}`))).toBe(false);
  });
});

describe('decodeMessage on the reading topic', () => {
  const topic = topics.reading('gw1', 'dev1');

  it('rejects with bad_schema and a message naming the field', () => {
    const cases: [unknown, RegExp][] = [
      [{ ...base(), seq: -1 }, /^seq: /],
      [{ ...base(), values: { CO: -1 } }, /^values\.CO: must be ≥ 0/],
      [{ ...base(), values: {} }, /^values: at least one channel/],
      [{ ...base(), values: { XE: 1 } }, /^values: unknown gas "XE"/],
      [{ ...base(), extra: 1 }, /^\(root\): unknown field "extra"/],
      [{ ...base(), ts: 'yesterday' }, /^ts: not an ISO 8601 time/],
      [{ ...base(), status: 'great' }, /^status: expected one of ok\|warmup/],
      [[1], /^\(root\): expected an object, got array/],
    ];
    for (const [payload, message] of cases) {
      const r = decodeMessage(topic, JSON.stringify(payload));
      expect(r).toMatchObject({ ok: false, reason: 'bad_schema' });
      if (!r.ok) expect(r.message).toMatch(message);
    }
    const many = decodeMessage(topic, JSON.stringify({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7 }));
    expect(!many.ok && many.message.split('; ')).toHaveLength(6);
    expect(!many.ok && many.message).toMatch(/more issues not shown$/);
  });

  it('decodes a Buffer, a view into a larger buffer and a string alike', () => {
    const text = JSON.stringify(base());
    const big = Buffer.from(`xxxx${text}yyyy`);
    const view = new Uint8Array(big.buffer, big.byteOffset + 4, Buffer.byteLength(text));
    for (const payload of [text, Buffer.from(text), view, big.subarray(4, 4 + text.length)]) {
      expect(decodeMessage(topic, payload)).toMatchObject({ ok: true, payload: base() });
    }
    expect(decodeMessage(topic, big)).toMatchObject({ ok: false, reason: 'not_json' });
  });

  function base() {
    return { v: 1, ts: '2026-11-23T18:00:00.000Z', seq: 1, values: { CO: 35.2 }, status: 'ok' };
  }
});

/** parseTopic as it was (split and a regular expression per id): the oracle for the fast one. */
function referenceParseTopic(topic: string): TopicAddress | null {
  const parts = topic.split('/');
  if (parts[0] !== 'gaswatch' || parts[1] !== 'v1') return null;
  const gw = parts[2];
  if (gw === undefined || !ID_PATTERN.test(gw)) return null;
  if (parts.length === 4) {
    if (parts[3] === 'status') return { kind: 'status', gw };
    if (parts[3] === 'cmd') return { kind: 'cmd', gw };
    return null;
  }
  if (parts.length === 5) {
    const [, , , a, b] = parts;
    if (a === 'cmd' && b === 'result') return { kind: 'cmdResult', gw };
    if (a === undefined || !ID_PATTERN.test(a)) return null;
    if (b === 'reading' || b === 'state' || b === 'event') return { kind: b, gw, dev: a };
  }
  return null;
}

describe('parseTopic agrees with the split-and-regex reference', () => {
  it('on seeded random topics built from good and bad segments', () => {
    const segments = [
      'gaswatch',
      'v1',
      'v2',
      'gw-1',
      'a',
      '0',
      '_a',
      '-a',
      'a_',
      'a-',
      'A',
      'gW',
      'é',
      'a b',
      '',
      'x'.repeat(63),
      'x'.repeat(64),
      'x'.repeat(65),
      'status',
      'cmd',
      'result',
      'reading',
      'state',
      'event',
      'readings',
      '+',
      '#',
      'cmdx',
      'cmd-1',
      '$SYS',
      'dev\n',
    ];
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const n = pick([1, 2, 3, 4, 4, 4, 5, 5, 5, 5, 6, 7]);
      const parts: string[] = [];
      for (let k = 0; k < n; k++) {
        // mostly well-formed prefixes, so the deeper branches are reached
        if (k === 0 && chance(0.85)) parts.push('gaswatch');
        else if (k === 1 && chance(0.85)) parts.push('v1');
        else if (k === n - 1 && chance(0.7))
          parts.push(pick(['status', 'cmd', 'result', 'reading', 'state', 'event']));
        else if (chance(0.5)) parts.push(pick(['gw-1', 'a', '0', 'cmd', 'x'.repeat(64)]));
        else parts.push(pick(segments));
      }
      const topic = chance(0.05) ? `/${parts.join('/')}` : parts.join('/');
      const expected = referenceParseTopic(topic);
      expect(parseTopic(topic), topic).toStrictEqual(expected);
      if (expected) accepted++;
    }
    expect(accepted).toBeGreaterThan(1_000);
  });
});
