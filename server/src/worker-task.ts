import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * CPU-heavy work off the event loop that serves readings and alarms: one worker thread per task
 * (worker-main.ts), started when needed. The tasks are rare (an office's import, now and then), so
 * a thread's start (~0.1 s) costs nothing worth a pool that would hold memory all day.
 */

/** Tasks worker-main.ts runs. */
export type WorkerTask = 'parse-xlsx';

/** What a task failed with: the error's code (a ServerError's, or worker_*) and message. */
export class WorkerTaskError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'WorkerTaskError';
  }
}

/** What a worker answers. */
export type WorkerAnswer =
  | { ok: true; value: unknown }
  | { ok: false; error: { code: string; message: string } };

/** Longest a task may run: a workbook at the import's cap parses in a few seconds. */
const TASK_TIMEOUT_MS = 120_000;
/** A task's heap: a workbook at the cap needs some hundreds of MB while exceljs holds it. */
const HEAP_MB = 1024;

/**
 * The worker's program: worker-main.js beside this module in the production bundle, whose second
 * entry point it is (scripts/build.mjs); in the sources, worker-main.ts loaded through tsx's
 * tsImport (Node 20 does not apply an `--import tsx` of a worker's execArgv to its entry,
 * nodejs/node#47747).
 */
function program(): { entry: URL | string; eval: boolean } {
  if (!import.meta.url.endsWith('.ts'))
    return { entry: new URL('./worker-main.js', import.meta.url), eval: false };
  // require.resolve finds the package's CommonJS build; its ESM twin lies beside it.
  const api = createRequire(import.meta.url)
    .resolve('tsx/esm/api')
    .replace(/\.cjs$/, '.mjs');
  const tsx = pathToFileURL(api).href;
  const main = new URL('./worker-main.ts', import.meta.url).href;
  return {
    entry: `import(${JSON.stringify(tsx)}).then((t) => t.tsImport(${JSON.stringify(main)}, ${JSON.stringify(main)}))`,
    eval: true,
  };
}

/**
 * Runs `task` on a copy of `input` in a worker thread and answers its value; rejects with a
 * WorkerTaskError: the task's own error (code and message), worker_out_of_memory,
 * worker_timeout, or worker_failed.
 */
export function runInWorker<T>(task: WorkerTask, input: Uint8Array): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const { entry, eval: evaluate } = program();
    const worker = new Worker(entry, {
      eval: evaluate,
      workerData: { task },
      resourceLimits: { maxOldGenerationSizeMb: HEAP_MB },
    });
    let settled = false;
    const settle = (err: WorkerTaskError | null, value?: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      if (err === null) resolve(value as T);
      else reject(err);
    };
    const timer = setTimeout(
      () =>
        settle(new WorkerTaskError('worker_timeout', `${task} took more than ${TASK_TIMEOUT_MS / 1000} s`)),
      TASK_TIMEOUT_MS,
    );
    worker.once('message', (m: WorkerAnswer) =>
      m.ok ? settle(null, m.value as T) : settle(new WorkerTaskError(m.error.code, m.error.message)),
    );
    worker.once('error', (err: Error & { code?: string }) =>
      settle(
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new WorkerTaskError('worker_out_of_memory', `${task} needs more than ${HEAP_MB} MB`)
          : new WorkerTaskError('worker_failed', `${task}: ${err.message}`),
      ),
    );
    worker.once('exit', (code) =>
      settle(
        new WorkerTaskError('worker_failed', `${task}: the worker stopped (exit ${code}) before it answered`),
      ),
    );
    // A copy, moved to the worker: a Buffer may be a slice of Node's shared pool.
    const copy = new Uint8Array(input);
    worker.postMessage(copy, [copy.buffer]);
  });
}
