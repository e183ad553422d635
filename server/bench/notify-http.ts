/**
 * CPU of one provider request on the sending side: Node's fetch (undici), as the adapters sent
 * before, against the notifications' HTTP client (server/src/notify/http-client.ts), and a bare
 * node:http request on a keep-alive agent as the floor. BENCH_REQUESTS (3 000) POSTs each, 256 at
 * once, with Alibaba-like signed headers, to a server in its own process on loopback answering at
 * once; three rounds, each side warmed first.
 *
 *   node --import tsx server/bench/notify-http.ts
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { createHttpClient } from '../src/notify/http-client.js';
import { table } from './common.js';

const N = Number(process.env.BENCH_REQUESTS ?? 3000);
const AT_ONCE = 256;

const SERVER = `
require('node:http')
  .createServer((q, s) => {
    q.resume();
    q.on('end', () => {
      s.writeHead(200, { 'content-type': 'application/json' });
      s.end('{"Code":"OK","Message":"OK","BizId":"b","RequestId":"r"}');
    });
  })
  .listen(0, '127.0.0.1', function () { process.stdout.write(this.address().port + '\\n'); });
`;
const server = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
process.on('exit', () => server.kill());
const port = await new Promise<string>((resolve) =>
  server.stdout.once('data', (d) => resolve(String(d).trim())),
);
const url = `http://127.0.0.1:${port}/?Action=SendSms&OutId=a1.t1.c0`;
const headers = {
  'x-acs-action': 'SendSms',
  'x-acs-version': '2017-05-25',
  'x-acs-date': '2026-12-07T00:00:00Z',
  'x-acs-signature-nonce': '3156853299f313e23d1673dc12e1703d',
  'x-acs-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  authorization: `ACS3-HMAC-SHA256 Credential=LTAI5t,SignedHeaders=host;x-acs-action,Signature=${'0'.repeat(64)}`,
};

const client = createHttpClient({ maxSockets: AT_ONCE });
const agent = new Agent({ keepAlive: true, maxSockets: AT_ONCE });
const parsed = new URL(url);

const sides: [string, () => Promise<void>][] = [
  [
    'fetch (undici), redirect manual, AbortSignal.timeout',
    async () => {
      const res = await fetch(url, {
        method: 'POST',
        headers,
        redirect: 'manual',
        signal: AbortSignal.timeout(5000),
      });
      await res.text();
    },
  ],
  [
    'notify/http-client.ts',
    async () => {
      await client({ method: 'POST', url, headers, timeoutMs: 5000 });
    },
  ],
  [
    'bare node:http request, keep-alive agent',
    () =>
      new Promise<void>((resolve, reject) => {
        const req = request(
          {
            hostname: parsed.hostname,
            port: parsed.port,
            path: `${parsed.pathname}${parsed.search}`,
            method: 'POST',
            headers,
            agent,
          },
          (res) => {
            res.on('data', () => {});
            res.on('end', resolve);
          },
        );
        req.on('error', reject);
        req.end();
      }),
  ],
];

/** CPU µs of this process per request, and the wall time, for `n` requests `AT_ONCE` at a time. */
async function run(send: () => Promise<void>, n: number): Promise<{ cpuUs: number; ms: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: AT_ONCE }, async () => {
      // Bounded: each worker takes requests until n have been started.
      while (next < n) {
        next += 1;
        await send();
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return { cpuUs: (cpu.user + cpu.system) / n, ms: performance.now() - t0 };
}

const rows: (string | number)[][] = [];
const results = new Map<string, number[]>();
for (let round = 0; round < 3; round++) {
  for (const [name, send] of sides) {
    await run(send, Math.min(N, 500));
    const r = await run(send, N);
    results.set(name, [...(results.get(name) ?? []), Math.round(r.cpuUs)]);
  }
}
for (const [name, us] of results) rows.push([name, us.join(' / ')]);
console.log(
  table(
    `One provider request, CPU on the sending side (${N} POSTs, ${AT_ONCE} at once)`,
    ['client', 'µs a request (round 1 / 2 / 3)'],
    rows,
  ),
);

client.close();
agent.destroy();
server.kill();
