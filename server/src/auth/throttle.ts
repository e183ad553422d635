/**
 * Login throttling (issue 11): per account and per client address, counted in memory.
 *
 * An account that fails `accountFree` times in a row is locked for 1 s, then 2 s, 4 s … up to
 * `maxLockMs` after each further failure; an address is locked the same way after `addressFree`
 * failures (one address guessing many accounts). Each attempt counts as a failure from the moment
 * it starts (`attempt`) until it proves right (`succeeded`), so guesses sent all at once cannot
 * slip through before the first of them has failed. A success resets the account's count but
 * takes only itself off the address's: one account of its own must not buy an attacker fresh
 * guesses at others. While locked, a login is refused without looking at the password, so a guess
 * during the lock learns nothing. The account key is the name as typed: a name that does not
 * exist is throttled exactly like one that does, so the answers never tell them apart.
 *
 * In memory, per server process: a restart forgets the counts (an attacker gains one round of
 * free tries per restart), and several instances each count their own.
 */
export interface ThrottleOptions {
  accountFree: number;
  addressFree: number;
  maxLockMs: number;
  /** Entries not failed for this long are forgotten. */
  forgetMs: number;
  /** Most keys kept per kind; the oldest are forgotten first (bounded memory under a flood). */
  maxKeys: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = {
  accountFree: 5,
  addressFree: 20,
  maxLockMs: 15 * 60_000,
  forgetMs: 60 * 60_000,
  maxKeys: 100_000,
};

interface Entry {
  failures: number;
  lockedUntil: number;
  lastFailure: number;
}

class Counter {
  private readonly entries = new Map<string, Entry>();
  constructor(
    private readonly free: number,
    private readonly opts: ThrottleOptions,
  ) {}

  lockedFor(key: string, now: number): number {
    const e = this.entries.get(key);
    if (e === undefined) return 0;
    if (now - e.lastFailure > this.opts.forgetMs) {
      this.entries.delete(key);
      return 0;
    }
    return Math.max(0, e.lockedUntil - now);
  }

  fail(key: string, now: number): void {
    const e = this.entries.get(key) ?? { failures: 0, lockedUntil: 0, lastFailure: now };
    e.failures += 1;
    e.lastFailure = now;
    const over = e.failures - this.free;
    if (over >= 0) e.lockedUntil = now + Math.min(1000 * 2 ** Math.min(over, 30), this.opts.maxLockMs);
    // Re-inserted, so the Map's order is oldest failure first.
    this.entries.delete(key);
    this.entries.set(key, e);
    if (this.entries.size > this.opts.maxKeys) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Takes back one failure (an attempt that proved right), and the lock it may have set. */
  undo(key: string): void {
    const e = this.entries.get(key);
    if (e === undefined) return;
    e.failures -= 1;
    if (e.failures < this.free) e.lockedUntil = 0;
    if (e.failures <= 0) this.entries.delete(key);
  }
}

export class LoginThrottle {
  private readonly accounts: Counter;
  private readonly addresses: Counter;
  constructor(opts: ThrottleOptions = DEFAULT_THROTTLE) {
    this.accounts = new Counter(opts.accountFree, opts);
    this.addresses = new Counter(opts.addressFree, opts);
  }

  /**
   * Starts a login: the ms until one may be tried for this account from this address (refuse it),
   * or 0 after counting the attempt as a failure until `succeeded` says otherwise.
   */
  attempt(username: string, address: string, now: number): number {
    const wait = Math.max(this.accounts.lockedFor(username, now), this.addresses.lockedFor(address, now));
    if (wait > 0) return wait;
    this.accounts.fail(username, now);
    this.addresses.fail(address, now);
    return 0;
  }

  /** The attempt was right: the account starts afresh; the address loses that one failure only. */
  succeeded(username: string, address: string): void {
    this.accounts.reset(username);
    this.addresses.undo(address);
  }
}
