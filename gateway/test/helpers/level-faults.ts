/**
 * Faults of the disk under the outbox, injected into classic-level (the real LevelDB) for one test:
 * late answers, as on a busy Pi, and read errors, as on a failing SD card. Each returns its undo.
 */
import { ClassicLevel } from 'classic-level';

type Method = (...args: unknown[]) => unknown;
const proto = ClassicLevel.prototype as unknown as Record<string, Method>;

function patch(method: string, wrap: (original: Method) => Method): () => void {
  const own = Object.getOwnPropertyDescriptor(proto, method);
  const original = proto[method]!;
  proto[method] = wrap(original);
  return () => {
    if (own) Object.defineProperty(proto, method, own);
    else delete proto[method];
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * LevelDB applies a write on a worker thread, where other reads already see it, before its
 * completion reaches JS. `after` delays the answer of an applied write; `before` delays the write.
 */
export function slowWrites(method: 'batch' | 'del', when: 'before' | 'after', ms: number): () => void {
  // A batch is patched where every batch passes: classic-level's own `_batch`, which the outbox's
  // group commit calls directly (src/outbox.ts writeBatch) and abstract-level's batch() calls too.
  return patch(
    method === 'batch' ? '_batch' : method,
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        if (method === 'batch' && !Array.isArray(args[0])) return original.apply(this, args); // chained form
        if (when === 'before') return sleep(ms).then(() => original.apply(this, args));
        return (original.apply(this, args) as Promise<unknown>).then(async (v) => {
          await sleep(ms);
          return v;
        });
      },
  );
}

/** The next `n` reads by `for await` over an iterator fail, as a read error of the medium does. */
export function failingReads(n: number, message = 'IO error: read failed (injected)'): () => void {
  let left = n;
  return patch(
    'iterator',
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        const it = original.apply(this, args) as AsyncIterable<unknown> & { close(): Promise<void> };
        if (left <= 0) return it;
        left--;
        // On the instance itself: a wrapper object would lose the iterator's private fields.
        it[Symbol.asyncIterator] = async function* () {
          await it.close();
          yield* [];
          throw new Error(message);
        };
        return it;
      },
  );
}

/** `for await` over an iterator gets its first entry `ms` late (the snapshot is taken at once). */
export function slowReads(ms: number): () => void {
  return patch(
    'iterator',
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        const it = original.apply(this, args) as AsyncIterable<unknown>;
        const iterate = it[Symbol.asyncIterator].bind(it);
        // On the instance itself: a wrapper object would lose the iterator's private fields.
        it[Symbol.asyncIterator] = async function* () {
          await sleep(ms);
          yield* { [Symbol.asyncIterator]: iterate };
        };
        return it;
      },
  );
}

/** Batches that `match` fail, as a write error of the medium does; the others are written. */
export function failingBatches(match: (ops: { type: string; key: string }[]) => boolean): () => void {
  return patch(
    '_batch', // see slowWrites
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        const ops = args[0];
        if (Array.isArray(ops) && match(ops))
          return Promise.reject(new Error('IO error: write failed (injected)'));
        return original.apply(this, args);
      },
  );
}
