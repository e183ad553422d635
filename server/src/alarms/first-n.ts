/**
 * The first `n` of the items pushed, in `order`, without keeping the others: a heap of at most
 * `n` whose root is the last of those kept. A page of 100 among a million alarms costs a million
 * pushes of O(log 100) and 100 slots, not a sorted copy of the million.
 */
export class FirstN<T> {
  private readonly heap: T[] = [];

  constructor(
    private readonly n: number,
    /** Negative when `x` comes before `y`. */
    private readonly order: (x: T, y: T) => number,
  ) {}

  push(x: T): void {
    const h = this.heap;
    if (h.length < this.n) {
      h.push(x);
      this.up(h.length - 1);
    } else if (h.length > 0 && this.order(x, h[0] as T) < 0) {
      h[0] = x;
      this.down(0);
    }
  }

  /** The items kept, in order (the heap is emptied). */
  take(): T[] {
    return this.heap.splice(0).sort(this.order);
  }

  /** Later in the order sits nearer the root. */
  private later(i: number, j: number): boolean {
    return this.order(this.heap[i] as T, this.heap[j] as T) > 0;
  }

  private swap(i: number, j: number): void {
    const h = this.heap;
    [h[i], h[j]] = [h[j] as T, h[i] as T];
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.later(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const size = this.heap.length;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let top = i;
      if (left < size && this.later(left, top)) top = left;
      if (right < size && this.later(right, top)) top = right;
      if (top === i) return;
      this.swap(i, top);
      i = top;
    }
  }
}
