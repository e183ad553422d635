/**
 * RSS of the shipped gateway through an uplink outage and the replay of its backlog (the path a
 * heap limit or an in-memory queue would hurt): 32 detectors at 1 s, Mosquitto stopped for
 * `outageS` seconds, then started again on the same port. The backlog lives in the on-disk outbox;
 * this measures that the process does not grow with it. Used by bench/run.ts.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startProcess, waitFor } from '@gaswatch/shared/testing';
import mqtt from 'mqtt';
import { startRssRig } from './rss-config.js';

export interface OutageRssResult {
  outageS: number;
  /** Max VmRSS in MB: before the outage (steady), during it, during the replay. */
  beforeMb: number;
  outageMb: number;
  replayMb: number;
  /** Readings produced from the start of the outage until the backlog was replayed. */
  backlog: number;
  /** From the broker's restart until every device's seq range had arrived without a hole. */
  replayS: number;
}

function rssMb(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) / 1024 : 0;
}

export async function benchOutageRss(
  command: string[],
  env: Record<string, string>,
  outageS: number,
): Promise<OutageRssResult> {
  const tmp = join('/tmp', `gw-bench-outage-${process.pid}`);
  const rig = await startRssRig();
  const { broker } = rig;
  rig.writeConfig('gw-outage', tmp);
  // A persistent subscriber session: the broker keeps its subscription across its own restart.
  const seqs = new Map<string, Set<number>>();
  const sub = mqtt.connect(broker.url, { clientId: 'bench-outage-sub', clean: false, reconnectPeriod: 200 });
  sub.on('message', (topic, payload) => {
    const dev = topic.split('/')[3] ?? '';
    const seq = (JSON.parse(payload.toString()) as { seq: number }).seq;
    let s = seqs.get(dev);
    if (!s) {
      s = new Set();
      seqs.set(dev, s);
    }
    s.add(seq);
  });
  await sub.subscribeAsync('gaswatch/v1/gw-outage/+/reading', { qos: 1 });
  const gw = startProcess(process.execPath, [...command, '--config', join(tmp, 'gw.yaml')], { env });
  let max = 0;
  const sampleUntil = (done: () => boolean, what: string, timeoutMs: number) =>
    waitFor(
      () => {
        max = Math.max(max, rssMb(gw.pid));
        return done();
      },
      what,
      timeoutMs,
      100,
    );
  const delivered = () => [...seqs.values()].reduce((a, s) => a + s.size, 0);
  const maxSeq = () => [...seqs.values()].reduce((a, s) => a + Math.max(...s) + 1, 0);
  try {
    await sampleUntil(() => seqs.size >= 32, 'a reading of every detector', 60_000);
    let until = Date.now() + 20_000;
    max = 0;
    await sampleUntil(() => Date.now() >= until, 'steady state', 25_000);
    const beforeMb = max;
    const seqBefore = maxSeq();
    await broker.pause();
    max = 0;
    until = Date.now() + outageS * 1000;
    await sampleUntil(() => Date.now() >= until, 'outage', outageS * 1000 + 5000);
    const outageMb = max;
    await broker.start();
    max = 0;
    const t0 = Date.now();
    // Caught up: every device's seq span is delivered without holes and newer than the outage.
    const backlogApprox = 32 * outageS;
    await sampleUntil(
      () => maxSeq() >= seqBefore + backlogApprox && delivered() === maxSeq(),
      'the backlog replayed',
      outageS * 1000 + 120_000,
    );
    const replayS = (Date.now() - t0) / 1000;
    const replayMb = max;
    return {
      outageS,
      beforeMb,
      outageMb,
      replayMb,
      backlog: maxSeq() - seqBefore,
      replayS,
    };
  } finally {
    await gw.stop();
    await sub.endAsync();
    await rig.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}
