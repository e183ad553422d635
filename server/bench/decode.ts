// decodeMessage on the reading topic (the ingest hot path) vs the zod path it replaced: the same
// payloads through `JSON.parse(Buffer copy)` + `ReadingSchema.safeParse`, in one process, rounds
// alternating. `node --import tsx server/bench/decode.ts`
import { decodeMessage, parseTopic, ReadingSchema } from '@gaswatch/shared';
import { makeMessages, table } from './common.js';

const N = 200_000;
const ROUNDS = 5;
const messages = makeMessages(N, 32, 'd').map((m, i) =>
  // every 10th reading with three channels, quality and faults: the multigas shape
  i % 10 === 0
    ? {
        topic: m.topic,
        payload: Buffer.from(
          JSON.stringify({
            ...(JSON.parse(m.payload.toString()) as object),
            values: { O2: 20.9, LEL: 3, CO: 12.5, H2S: 0 },
            quality: { H2S: 'uncertain' },
            faults: ['sensor_eol'],
          }),
        ),
      }
    : m,
);

/** What decodeMessage did for a reading before the hand-written validator. */
function zodPath(topic: string, payload: Buffer) {
  const address = parseTopic(topic);
  if (!address) return false;
  const json: unknown = JSON.parse(Buffer.from(payload).toString('utf8'));
  return ReadingSchema.safeParse(json).success;
}
const newPath = (topic: string, payload: Buffer) => decodeMessage(topic, payload).ok;
const jsonOnly = (_topic: string, payload: Buffer) => JSON.parse(payload.toString('utf8')) !== null;

function run(f: (topic: string, payload: Buffer) => boolean): number {
  let ok = 0;
  const t0 = performance.now();
  for (const m of messages) if (f(m.topic, m.payload)) ok++;
  const t = performance.now() - t0;
  if (ok !== N) throw new Error(`only ${ok} of ${N} decoded`);
  return (t * 1000) / N; // µs per message
}

const results: Record<string, number[]> = { zod: [], validator: [], json: [] };
for (let r = 0; r < ROUNDS + 1; r++) {
  const z = run(zodPath);
  const v = run(newPath);
  const j = run(jsonOnly);
  if (r === 0) continue; // warm-up round (JIT)
  results.zod?.push(z);
  results.validator?.push(v);
  results.json?.push(j);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const zod = median(results.zod ?? []);
const rows = [
  ['JSON.parse(Buffer copy) + ReadingSchema.safeParse (before)', zod, '100 %'],
  ...(['validator', 'json'] as const).map((k) => {
    const m = median(results[k] ?? []);
    return [
      k === 'validator' ? 'decodeMessage: JSON.parse + validateReading (now)' : 'JSON.parse alone (floor)',
      m,
      `${((100 * m) / zod).toFixed(0)} %`,
    ];
  }),
];
process.stdout.write(
  `${table(
    `Reading decode: ${N} readings (every 10th a 4-gas one with quality and faults), median of ${ROUNDS} rounds (\`node --import tsx server/bench/decode.ts\`)`,
    ['path', 'µs per reading', 'vs before'],
    rows.map(([a, b, c]) => [a as string, Number((b as number).toFixed(2)), c as string]),
  )}\n`,
);
