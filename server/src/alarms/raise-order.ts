/** Where an alarm sorts: by its raise time and id. */
export interface RaisePosition {
  raisedAt: number;
  id: string;
}

/**
 * Negative when `x` sorts before `y` here: raised earlier; at the same time, the greater id first.
 * The reverse of the lists' order (newest raise first, then by id), so walking back from the end
 * gives a list's order.
 */
export function oldestFirst(x: RaisePosition, y: RaisePosition): number {
  return x.raisedAt - y.raisedAt || (x.id < y.id ? 1 : x.id > y.id ? -1 : 0);
}

/**
 * Every alarm once, sorted by raise time (oldest first): a time range is two binary searches, a
 * cursor one more, and a page is read off in order, so a list with a time filter looks only at
 * the alarms of that time, and one without other filters at its page only. Alarms are raised in
 * time order but for those raised late from a gateway's outbox, which are inserted (a memmove of
 * references: about a millisecond at a million alarms).
 */
export class RaiseOrder<A extends RaisePosition> {
  private items: A[] = [];

  get length(): number {
    return this.items.length;
  }

  at(i: number): A {
    return this.items[i] as A;
  }

  /** Index of the first alarm at or after `p` (those before it all sort before `p`). */
  lowerBound(p: RaisePosition): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (oldestFirst(this.items[mid] as A, p) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first alarm raised at or after `ts`. */
  firstRaisedAt(ts: number): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.items[mid] as A).raisedAt < ts) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Adds an alarm, or puts it in the place of the one with its raise time and id. */
  add(a: A): void {
    const items = this.items;
    const last = items.at(-1);
    if (last === undefined || oldestFirst(last, a) < 0) {
      items.push(a);
      return;
    }
    const i = this.lowerBound(a);
    const there = items[i];
    if (there !== undefined && oldestFirst(there, a) === 0) items[i] = a;
    else items.splice(i, 0, a);
  }

  /** Starts again from these alarms (the rebuild at start). */
  reset(all: Iterable<A>): void {
    this.items = [...all].sort(oldestFirst);
  }
}
