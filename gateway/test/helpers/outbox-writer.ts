// A process that appends readings to an outbox with group commit until it is killed, printing
// `{"stored":[dev, seq]}` as each append resolves (test/outbox-commit.test.ts kills it):
//   node --import tsx test/helpers/outbox-writer.ts <dir> <commitMs>
import pino from 'pino';
import { createOutbox } from '../../src/outbox.js';

const [dir, commitMs] = process.argv.slice(2);
const outbox = createOutbox({
  dir: dir!,
  maxReadings: 1_000_000,
  logger: pino({ level: 'silent' }),
  commitMs: Number(commitMs),
  keepWritten: true,
});
await outbox.start();
console.log(JSON.stringify({ ready: true }));
// Three devices, a reading every millisecond or so: many readings share each commit window.
for (let i = 0; ; i++) {
  const dev = `d${i % 3}`;
  outbox
    .appendReading(dev, (seq) => ({ topic: `t/${dev}`, payload: JSON.stringify({ dev, seq }) }))
    .then(
      (seq) => console.log(JSON.stringify({ stored: [dev, seq] })),
      (err: Error) => console.log(JSON.stringify({ failed: err.message })),
    );
  await new Promise((r) => setTimeout(r, 1));
}
