import { describe, expect, it } from 'vitest';
import { type AlarmFilter, createAlarmBook, matches } from '../../src/alarms/alarm-book.js';
import type { Alarm } from '../../src/alarms/model.js';
import { createBus } from '../../src/bus.js';
import type { AlarmEventRecord } from '../../src/store/types.js';
import { quiet, T0 } from './helpers.js';

/** A small deterministic generator (mulberry32): the same alarms on every run. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A book with `n` alarms raised at random times, many late (before alarms already raised) and some at the same time. */
function bookOf(n: number, seed: number) {
  const stored: AlarmEventRecord[] = [];
  const book = createAlarmBook({
    clock: () => T0,
    logger: quiet,
    bus: createBus(),
    events: { append: (r) => stored.push(r), flush: async () => {}, drained: () => true },
    escalation: { escalate() {}, climbing: () => false },
    onTransition() {},
  });
  const rnd = random(seed);
  for (let i = 0; i < n; i++) {
    const fault = rnd() < 0.2;
    const a = book.raise(
      {
        gw: 'gw-1',
        dev: `dev-${Math.floor(rnd() * 5)}`,
        site: rnd() < 0.5 ? 'home' : 'shop',
        profile: 'en50291',
      },
      {
        key: fault ? `fault:${i}` : `CO:k${i}`, // one alarm per raise: ids never repeat
        rule: fault ? 'fault' : 'en50291-fast',
        severity: fault ? 'warning' : 'critical',
        message: 'm',
        value: 1,
        threshold: 1,
        ...(fault ? {} : { gas: 'CO' as const }),
      },
      // 40 distinct minutes for 200 alarms: ties on raisedAt, ordered by id.
      T0 + Math.floor(rnd() * 40) * 60_000,
      false,
    );
    if (rnd() < 0.3) book.resolve(a, { actor: 'lin', at: T0, reason: 'test', note: '' });
  }
  return { book, stored };
}

/** What the list must answer: every match, newest raise first, then by id. */
function reference(all: Iterable<Alarm>, f: AlarmFilter): string[] {
  return [...all]
    .filter((a) => matches(a, f))
    .sort((x, y) => y.raisedAt - x.raisedAt || (x.id < y.id ? -1 : 1))
    .map((a) => a.id);
}

/** Every page of the list walked with its cursor. */
function walk(book: ReturnType<typeof bookOf>['book'], f: AlarmFilter, limit: number) {
  const ids: string[] = [];
  const totals = new Set<number>();
  let after: AlarmFilter['after'];
  for (let pages = 0; pages < 1000; pages++) {
    const page = book.page({ ...f, limit, after });
    ids.push(...page.alarms.map((a) => a.id));
    totals.add(page.total);
    if (page.next === null) break;
    after = page.next;
  }
  return { ids, totals: [...totals] };
}

describe('the alarm list: one pass over the raise order', () => {
  const filters: AlarmFilter[] = [
    {},
    { from: T0 + 10 * 60_000 },
    { to: T0 + 25 * 60_000 },
    { from: T0 + 10 * 60_000, to: T0 + 25 * 60_000 },
    { from: T0 + 10 * 60_000, to: T0 + 10 * 60_000 },
    { from: T0 + 30 * 60_000, to: T0 + 10 * 60_000 },
    { dev: 'dev-3' },
    { kind: 'fault' },
    { kind: 'gas', gas: 'CO', severity: 'critical' },
    { outcome: 'unresolved', site: 'shop', from: T0 + 5 * 60_000 },
    { outcome: 'test' },
    { visible: (a) => a.dev !== 'dev-1', to: T0 + 30 * 60_000 },
  ];

  it('pages through exactly the matching alarms, newest first, whatever the page size', () => {
    const { book } = bookOf(200, 7);
    for (const f of filters) {
      const want = reference(book.all(), f);
      for (const limit of [1, 7, 50, 1000]) {
        const got = walk(book, f, limit);
        expect(got.ids, `${JSON.stringify(f)} limit ${limit}`).toEqual(want);
        expect(got.totals, `${JSON.stringify(f)} limit ${limit}`).toEqual([want.length]);
      }
    }
  });

  it('answers copies in page(), the alarms themselves in select()', () => {
    const { book } = bookOf(20, 3);
    const [copy] = book.page({ limit: 1 }).alarms;
    const [own] = book.select({ limit: 1 }).alarms;
    expect(copy).toEqual(own);
    expect(copy).not.toBe(own);
    expect(own).toBe(book.get(own?.id ?? ''));
  });

  it('keeps the order after a rebuild from the stored events', () => {
    const { book, stored } = bookOf(120, 11);
    const rebuilt = createAlarmBook({
      clock: () => T0,
      logger: quiet,
      bus: createBus(),
      events: { append() {}, flush: async () => {}, drained: () => true },
      escalation: { escalate() {}, climbing: () => false },
      onTransition() {},
    });
    rebuilt.load(stored);
    for (const f of filters) expect(walk(rebuilt, f, 13).ids).toEqual(reference(book.all(), f));
  });
});
