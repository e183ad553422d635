/**
 * A worker thread's program (worker-task.ts): runs the one task its workerData names on the bytes
 * posted to it, answers its value or its error, and ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { encodeSheets, parseXlsx } from './households/sheet-file.js';
import type { WorkerAnswer, WorkerTask } from './worker-task.js';

const tasks: Record<WorkerTask, (input: Buffer) => Promise<unknown>> = {
  'parse-xlsx': async (input) => encodeSheets(await parseXlsx(input)),
};

const port = parentPort;
if (port === null) throw new Error('worker-main.ts runs as a worker thread (worker-task.ts), not on its own');
port.once('message', (bytes: Uint8Array) => {
  const task = tasks[(workerData as { task: WorkerTask }).task];
  const answer = (a: WorkerAnswer) => port.postMessage(a);
  task(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).then(
    (value) => answer({ ok: true, value }),
    (err: Error & { code?: string }) =>
      answer({ ok: false, error: { code: err.code ?? 'worker_failed', message: err.message } }),
  );
});
