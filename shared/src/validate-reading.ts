import { GAS_IDS } from './gases.js';
import { type Reading, ReadingSchema, ReadingStatusSchema } from './schemas.js';

/**
 * A hand-written validator for `Reading`, the payload of the hot ingest path (every reading of
 * every detector goes through it). `ReadingSchema` (zod) stays the source of truth for the
 * contract, the docs and OpenAPI; this function accepts and rejects exactly what
 * `ReadingSchema.safeParse` does, only without zod's per-field machinery (about 3× faster). The
 * enums and the timestamp patterns are taken from the schema itself; the bounds are written here
 * and `shared/test/validate-reading.test.ts` checks the two agree on thousands of random and
 * mutated payloads, boundaries included. Change both together.
 */

/** Why a payload is not a Reading: where (dotted path, `(root)` for the object) and what. */
export interface ReadingIssue {
  path: string;
  message: string;
}

export type ReadingValidation = { ok: true; data: Reading } | { ok: false; issues: ReadingIssue[] };

/** Issues reported per payload at most (a last one says there were more). */
const MAX_ISSUES = 5;

const shape = ReadingSchema.shape;
const SHAPE_KEYS = ['v', 'ts', 'seq', 'values', 'status', 'faults', 'quality', 'alarm'] as const;
const KNOWN_KEYS = new Set<string>(SHAPE_KEYS);
{
  // The schema gained or lost a field: this validator must be updated with it.
  const schemaKeys = Object.keys(shape).sort().join(',');
  const mine = [...SHAPE_KEYS].sort().join(',');
  if (schemaKeys !== mine)
    throw new Error(`validate-reading.ts knows fields ${mine} but ReadingSchema has ${schemaKeys}`);
}

const GAS_SET = new Set<string>(GAS_IDS);
const STATUS_SET = new Set<string>(ReadingStatusSchema.options);
const QUALITY_VALUES: readonly string[] = shape.quality.unwrap().valueType.options;
const QUALITY_SET = new Set<string>(QUALITY_VALUES);

/** The ISO 8601 patterns of `ts` (a union of two zod datetime formats), taken from the schema. */
const TS_PATTERNS: readonly RegExp[] = (
  shape.ts as unknown as { options: { _zod: { def: { pattern?: unknown } } }[] }
).options.map((o) => {
  const p = o._zod.def.pattern;
  if (!(p instanceof RegExp) || p.global || p.sticky)
    throw new Error('validate-reading.ts: ReadingSchema.ts is no longer a union of zod datetime formats');
  return p;
});

const MAX_SEQ = Number.MAX_SAFE_INTEGER;
const MAX_CONCENTRATION = 1_000_000;
const MAX_FAULTS = 32;
const MAX_FAULT_LENGTH = 64;

const GAS_LIST = GAS_IDS.join('|');
const STATUS_LIST = ReadingStatusSchema.options.join('|');
const QUALITY_LIST = QUALITY_VALUES.join('|');

/** zod's `isObject`: an object that is not null and not an array. */
function isObject(o: unknown): o is Record<string, unknown> {
  return typeof o === 'object' && o !== null && !Array.isArray(o);
}

/** zod's `isPlainObject` (what a record accepts): no class instances, Dates, Maps... */
function isPlainObject(o: unknown): o is Record<string, unknown> {
  if (!isObject(o)) return false;
  const ctor = (o as { constructor?: unknown }).constructor;
  if (ctor === undefined || typeof ctor !== 'function') return true;
  const prot = (ctor as { prototype?: unknown }).prototype;
  if (!isObject(prot)) return false;
  return Object.hasOwn(prot, 'isPrototypeOf');
}

/** Length in Unicode code points (zod measures string limits this way, not in UTF-16 units). */
function codePoints(s: string): number {
  const units = s.length;
  let count = units;
  for (let i = 0; i < units - 1; i++) {
    const c = s.charCodeAt(i);
    if ((c & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      count--;
      i++;
    }
  }
  return count;
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'array';
  if (typeof x === 'number') return Number.isNaN(x) ? 'NaN' : Number.isFinite(x) ? 'number' : String(x);
  return typeof x;
}

function isConcentration(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= MAX_CONCENTRATION;
}

function concentrationProblem(x: unknown): string {
  if (typeof x !== 'number' || !Number.isFinite(x)) return `expected a finite number, got ${describe(x)}`;
  return x < 0 ? `must be ≥ 0, got ${x}` : `must be ≤ ${MAX_CONCENTRATION}, got ${x}`;
}

/**
 * Validates a decoded JSON value as a `Reading` (SPEC §2). On success `data` is the input itself
 * (a strict schema admits no other keys), except that a record key `__proto__`, which zod skips,
 * is left out of a copy. Never throws.
 */
export function validateReading(input: unknown): ReadingValidation {
  return check(input, false);
}

/**
 * `validateReading` for a value `JSON.parse` returned (what decodeMessage has): such a value has no
 * symbol keys, so looking for them is skipped.
 */
export function validateReadingJson(json: unknown): ReadingValidation {
  return check(json, true);
}

function check(input: unknown, fromJson: boolean): ReadingValidation {
  if (!isObject(input)) return fail('(root)', `expected an object, got ${describe(input)}`);
  // No closure and no array unless something is wrong: this runs for every reading.
  let issues: ReadingIssue[] | null = null;

  if (input.v !== 1) issues = add(issues, 'v', `expected 1, got ${shortValue(input.v)}`);

  const ts = input.ts;
  if (typeof ts !== 'string') issues = add(issues, 'ts', `expected an ISO 8601 string, got ${describe(ts)}`);
  else if (!matchesTimestamp(ts))
    issues = add(issues, 'ts', `not an ISO 8601 time with seconds and offset: ${ts.slice(0, 40)}`);

  const seq = input.seq;
  if (!Number.isSafeInteger(seq) || (seq as number) < 0 || (seq as number) > MAX_SEQ)
    issues = add(
      issues,
      'seq',
      `expected a safe integer ≥ 0, got ${typeof seq === 'number' ? seq : describe(seq)}`,
    );

  const values = input.values;
  let cleanValues = false;
  if (!isPlainObject(values))
    issues = add(issues, 'values', `expected an object of gas → number, got ${describe(values)}`);
  else {
    let n = 0;
    for (const key of Object.keys(values)) {
      if (key === '__proto__') {
        cleanValues = true;
        continue;
      }
      if (!GAS_SET.has(key))
        issues = add(issues, 'values', `unknown gas "${key.slice(0, 32)}" (one of ${GAS_LIST})`);
      else {
        const c = values[key];
        if (!isConcentration(c)) issues = add(issues, `values.${key}`, concentrationProblem(c));
        n++;
      }
    }
    if (!fromJson && hasSymbols(values)) issues = add(issues, 'values', 'symbol keys are not gases');
    if (n === 0) issues = add(issues, 'values', 'at least one channel');
  }

  const status = input.status;
  if (typeof status !== 'string' || !STATUS_SET.has(status))
    issues = add(issues, 'status', `expected one of ${STATUS_LIST}, got ${shortValue(status)}`);

  const faults = input.faults;
  if (faults !== undefined) {
    if (!Array.isArray(faults))
      issues = add(issues, 'faults', `expected an array of strings, got ${describe(faults)}`);
    else {
      if (faults.length > MAX_FAULTS)
        issues = add(issues, 'faults', `at most ${MAX_FAULTS} entries, got ${faults.length}`);
      for (let i = 0; i < faults.length; i++) {
        const f: unknown = faults[i];
        if (typeof f !== 'string')
          issues = add(issues, `faults.${i}`, `expected a string, got ${describe(f)}`);
        else if (f.length > MAX_FAULT_LENGTH && codePoints(f) > MAX_FAULT_LENGTH)
          issues = add(issues, `faults.${i}`, `at most ${MAX_FAULT_LENGTH} characters`);
      }
    }
  }

  const quality = input.quality;
  let cleanQuality = false;
  if (quality !== undefined) {
    if (!isPlainObject(quality))
      issues = add(issues, 'quality', `expected an object of gas → quality, got ${describe(quality)}`);
    else {
      for (const key of Object.keys(quality)) {
        if (key === '__proto__') {
          cleanQuality = true;
          continue;
        }
        if (!GAS_SET.has(key))
          issues = add(issues, 'quality', `unknown gas "${key.slice(0, 32)}" (one of ${GAS_LIST})`);
        else {
          const q = quality[key];
          if (typeof q !== 'string' || !QUALITY_SET.has(q))
            issues = add(issues, `quality.${key}`, `expected one of ${QUALITY_LIST}, got ${shortValue(q)}`);
        }
      }
      if (!fromJson && hasSymbols(quality)) issues = add(issues, 'quality', 'symbol keys are not gases');
    }
  }

  const alarm = input.alarm;
  if (alarm !== undefined && typeof alarm !== 'boolean')
    issues = add(issues, 'alarm', `expected a boolean, got ${describe(alarm)}`);

  // Strict object: nothing but the schema's fields (inherited enumerable keys count, as in zod).
  for (const key in input) {
    if (!KNOWN_KEYS.has(key)) issues = add(issues, '(root)', `unknown field "${key.slice(0, 32)}"`);
  }

  if (issues !== null) return { ok: false, issues: capped(issues) };
  if (cleanValues || cleanQuality) {
    // zod drops a `__proto__` record key from its output: so do we, on a copy.
    const data: Record<string, unknown> = { ...input };
    if (cleanValues) data.values = withoutProto(values as Record<string, unknown>);
    if (cleanQuality) data.quality = withoutProto(quality as Record<string, unknown>);
    return { ok: true, data: data as Reading };
  }
  return { ok: true, data: input as Reading };
}

/** One message for all issues, as decodeMessage reports them: `path: message; ...`. */
export function formatReadingIssues(issues: readonly ReadingIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('; ');
}

/** Collects an issue; one more than reported is kept, to say that there were more. */
function add(issues: ReadingIssue[] | null, path: string, message: string): ReadingIssue[] {
  const out = issues ?? [];
  if (out.length <= MAX_ISSUES) out.push({ path, message });
  return out;
}

function matchesTimestamp(ts: string): boolean {
  for (const re of TS_PATTERNS) if (re.test(ts)) return true;
  return false;
}

/** zod's records see enumerable symbol keys too (and reject them: no gas is a symbol). */
function hasSymbols(o: object): boolean {
  const symbols = Object.getOwnPropertySymbols(o);
  for (const s of symbols) if (Object.prototype.propertyIsEnumerable.call(o, s)) return true;
  return false;
}

function withoutProto(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(o)) if (key !== '__proto__') out[key] = o[key];
  return out;
}

function shortValue(x: unknown): string {
  if (typeof x === 'string') return JSON.stringify(x.slice(0, 32));
  if (typeof x === 'number' || typeof x === 'boolean') return String(x);
  return describe(x);
}

function capped(issues: ReadingIssue[]): ReadingIssue[] {
  if (issues.length <= MAX_ISSUES) return issues;
  return [...issues.slice(0, MAX_ISSUES), { path: '(root)', message: 'more issues not shown' }];
}

function fail(path: string, message: string): ReadingValidation {
  return { ok: false, issues: [{ path, message }] };
}
