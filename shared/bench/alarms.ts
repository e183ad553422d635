/**
 * Alarm math throughput: how many samples per second one core pushes through each rule set, on
 * 8 simulated hours of 1-s samples (28 800 per device) with a moving CO/H2S/O2/LEL mix, so the
 * 8-h TWA window is full; each rule set as the gateway runs it (plain states) and as the server
 * does (packed states, packed.ts: unpacked and packed again at every step). Prints a markdown
 * table. Run: npm run bench -w @gaswatch/shared
 */
import {
  type AlarmProfileId,
  type AlarmSample,
  createRuleSet,
  packedRuleSet,
  type RuleSet,
} from '../src/index.js';

const T0 = Date.UTC(2026, 10, 23);
const N = 8 * 3600;

function samples(): AlarmSample[] {
  const out: AlarmSample[] = [];
  for (let i = 0; i < N; i++) {
    const co = 20 + 20 * Math.sin(i / 900) + (i % 3600 < 300 ? 150 : 0);
    out.push({
      ts: T0 + i * 1000,
      values: {
        CO: co,
        H2S: 3 + 3 * Math.sin(i / 500),
        O2: 20.9 - (i % 7200 < 60 ? 2 : 0),
        LEL: (i % 1000) / 50,
      },
      status: 'ok',
    });
  }
  return out;
}

function bench(profile: AlarmProfileId, input: AlarmSample[], packed = false) {
  const plain = createRuleSet(profile);
  const rs = (packed ? packedRuleSet(plain) : plain) as RuleSet<unknown>;
  let s = rs.initial();
  let events = 0;
  const lat: number[] = [];
  const t0 = process.hrtime.bigint();
  for (const sample of input) {
    const a = process.hrtime.bigint();
    const r = rs.step(s, sample);
    lat.push(Number(process.hrtime.bigint() - a) / 1000);
    s = r.state;
    events += r.events.length;
  }
  const totalMs = Number(process.hrtime.bigint() - t0) / 1e6;
  lat.sort((x, y) => x - y);
  return {
    profile: packed ? `${profile} (packed)` : profile,
    perS: Math.round(input.length / (totalMs / 1000)),
    p50: lat[Math.floor(lat.length * 0.5)]!,
    p99: lat[Math.floor(lat.length * 0.99)]!,
    max: lat[lat.length - 1]!,
    events,
  };
}

const input = samples();
// Warm-up pass so the JIT has compiled the hot paths before measuring.
for (const p of ['ul2034', 'confined-space'] as const) {
  bench(p, input.slice(0, 5000));
  bench(p, input.slice(0, 5000), true);
}
console.log('`npm run bench -w @gaswatch/shared` — 28 800 samples (8 h at 1 s), one device, one core\n');
console.log('| profile | samples/s | p50 µs/step | p99 µs/step | max µs/step | events |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const p of ['ul2034', 'en50291', 'combustible', 'confined-space'] as const)
  for (const packed of [false, true]) {
    const r = bench(p, input, packed);
    console.log(
      `| ${r.profile} | ${r.perS.toLocaleString('en')} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(0)} | ${r.events} |`,
    );
  }
