/** One transaction at a time on one physical bus: every request waits for the one before it. */
export interface SerialQueue {
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Requests waiting or running. */
  readonly depth: number;
}

export function createSerialQueue(): SerialQueue {
  let tail: Promise<unknown> = Promise.resolve();
  let depth = 0;
  return {
    get depth() {
      return depth;
    },
    run<T>(fn: () => Promise<T>): Promise<T> {
      depth++;
      const result = tail.then(fn, fn);
      tail = result.then(
        () => {
          depth--;
        },
        () => {
          depth--;
        },
      );
      return result;
    },
  };
}
