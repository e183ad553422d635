// The relay baseline's subscriber, in its own process like the server it is compared with (SPEC §8:
// "a subscriber that does nothing"). `node --import tsx null-subscriber.ts URL WARM TOTAL ID`:
// connects with a persistent session (as the server does), subscribes at QoS 1 to the readings,
// prints `ready`, `warm` after WARM messages and `done <epoch ms>` after WARM + TOTAL. mqtt.js
// sends each PUBACK as the message arrives; nothing else is done with it.
import mqtt from 'mqtt';

const [url, warmArg, totalArg, id] = process.argv.slice(2);
const warm = Number(warmArg);
const expected = warm + Number(totalArg);
// mqtt.js debug logging off, as the server has it: the baseline's client must not pay a cost the
// server's does not.
const c = await mqtt.connectAsync(url as string, {
  clientId: `sink-${id}`,
  clean: false,
  reconnectPeriod: 200,
  log: () => {},
});
await c.subscribeAsync('gaswatch/v1/+/+/reading', { qos: 1 });
let n = 0;
c.on('message', () => {
  n++;
  if (n === warm) process.stdout.write('warm\n');
  // Wall-clock with sub-ms resolution, comparable across processes.
  if (n === expected) process.stdout.write(`done ${performance.timeOrigin + performance.now()}\n`);
});
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void c.endAsync().then(() => process.exit(0));
});
