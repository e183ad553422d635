/**
 * How faithful is wire timing? A tight-loop master polls 8 holding registers over a socat pty against
 * the RTU slave and counts polls per second, next to the wire limit a real line would allow
 * (request 8 + response 21 characters + two 3.5-character gaps). Also the same loop without wire
 * timing (what a pty alone allows) and over Modbus TCP, for scale.
 *   npm run bench -w @gaswatch/firmware-sim
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { startPtyPair } from '@gaswatch/shared/testing';
import {
  charTimeMs,
  crcOk,
  createDevice,
  createModbusRtuSlave,
  createModbusTcpServer,
  encodeRequestPdu,
  type Parity,
} from '../src/index.js';
import { openRtuMaster, tcpRequest } from '../test/helpers.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const REQ = encodeRequestPdu({ fc: 3, address: 0, count: 8 });

interface Row {
  setup: string;
  polls: number;
  perS: number;
  limit: number | null;
  /** Median time of one poll cycle, ms (robust to a loaded machine's hiccups). */
  medianMs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function rtu(baud: number, parity: Parity, wireTiming: boolean, units: number): Promise<Row> {
  const pty = await startPtyPair();
  const devices = Array.from({ length: units }, (_, i) =>
    createDevice({ id: `co${i + 1}`, profile: 'gaswatch-co', unit: i + 1 }),
  );
  const slave = createModbusRtuSlave({ path: pty.a, devices, baudRate: baud, parity, wireTiming });
  await slave.start();
  const master = await openRtuMaster(pty.b);
  let polls = 0;
  let bad = 0;
  const cycles: number[] = [];
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  let last = t0;
  for (let i = 0; performance.now() < end && i < 1_000_000; i++) {
    const f = await master.request((i % units) + 1, REQ, 1000);
    if (f && crcOk(f)) polls++;
    else bad++;
    const now = performance.now();
    cycles.push(now - last);
    last = now;
  }
  const secs = (performance.now() - t0) / 1000;
  await master.close();
  await slave.stop();
  await pty.stop();
  if (bad) throw new Error(`${bad} polls failed`);
  const ct = charTimeMs(baud, parity);
  const cycle = (8 + 21 + 3.5 + 3.5) * ct;
  const bits = parity === 'none' ? '8N1' : `8${parity[0]!.toUpperCase()}1`;
  return {
    setup: `RTU ${baud} ${bits}, ${units} unit(s), ${wireTiming ? 'wire timing' : 'no wire timing'}`,
    polls,
    perS: polls / secs,
    limit: wireTiming ? 1000 / cycle : null,
    medianMs: median(cycles.slice(1)),
  };
}

async function tcp(): Promise<Row> {
  const dev = createDevice({ id: 'co', profile: 'gaswatch-co' });
  const server = createModbusTcpServer({ devices: [dev] });
  const { port } = await server.start();
  let polls = 0;
  const cycles: number[] = [];
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  let last = t0;
  // New connection per request: the slow path on purpose (a master that reconnects each poll).
  for (let i = 0; performance.now() < end && i < 1_000_000; i++) {
    if (await tcpRequest(port, 1, REQ)) polls++;
    const now = performance.now();
    cycles.push(now - last);
    last = now;
  }
  const secs = (performance.now() - t0) / 1000;
  await server.stop();
  return {
    setup: 'Modbus TCP, connect per poll',
    polls,
    perS: polls / secs,
    limit: null,
    medianMs: median(cycles),
  };
}

const rows = [
  await rtu(9600, 'even', true, 1),
  await rtu(9600, 'even', true, 4),
  await rtu(9600, 'none', true, 4),
  await rtu(19200, 'even', true, 4),
  await rtu(9600, 'even', false, 4),
  await tcp(),
];
console.log(
  `\n### firmware-sim wire timing (${SECONDS} s per row; \`npm run bench -w @gaswatch/firmware-sim\`)\n`,
);
console.log(
  `load average at the end: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')} (${cpus().length} cores)\n`,
);
console.log(
  '| setup | polls | polls/s | wire limit polls/s | measured / limit | median cycle ms | wire cycle ms |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|');
const pct = (r: Row) => (r.limit === null ? '—' : `${((100 * r.perS) / r.limit).toFixed(1)} %`);
for (const r of rows)
  console.log(
    `| ${r.setup} | ${r.polls} | ${r.perS.toFixed(2)} | ${r.limit === null ? '—' : r.limit.toFixed(2)} | ${pct(r)} | ${r.medianMs.toFixed(2)} | ${r.limit === null ? '—' : (1000 / r.limit).toFixed(2)} |`,
  );
