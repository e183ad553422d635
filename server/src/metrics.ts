import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The core's Prometheus metrics, registered on the app's registry (`app.metrics`). */
export function createCoreMetrics(registry: Registry) {
  const registers = [registry];
  return {
    messages: new Counter({
      name: 'gaswatch_ingest_messages_total',
      help: 'MQTT messages received from gateways, by topic kind',
      labelNames: ['kind'] as const,
      registers,
    }),
    readings: new Counter({
      name: 'gaswatch_ingest_readings_total',
      help: 'Readings accepted (validated, de-duplicated, durable in the journal or store)',
      registers,
    }),
    duplicates: new Counter({
      name: 'gaswatch_ingest_duplicates_total',
      help: 'Readings received again for a (device, ts) already accepted (replays); stored once',
      registers,
    }),
    rejects: new Counter({
      name: 'gaswatch_ingest_rejects_total',
      help: 'Messages rejected, by reason (bad_topic, too_large, not_json, bad_schema, buffer_full)',
      labelNames: ['reason'] as const,
      registers,
    }),
    late: new Counter({
      name: 'gaswatch_ingest_late_readings_total',
      help: 'Readings that arrived more than 60 s after they were sampled (outbox replays)',
      registers,
    }),
    clockSuspect: new Counter({
      name: 'gaswatch_ingest_clock_suspect_total',
      help: 'Readings stamped more than 5 min ahead of the server clock (stored, flagged)',
      registers,
    }),
    storeWrite: new Histogram({
      name: 'gaswatch_store_write_seconds',
      help: 'Latency of one batched store write',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    storeWritten: new Counter({
      name: 'gaswatch_store_readings_written_total',
      help: 'Readings written to the store (replays of the journal included)',
      registers,
    }),
    storeErrors: new Counter({
      name: 'gaswatch_store_write_errors_total',
      help: 'Failed store writes (the batch stays in the journal and is retried)',
      registers,
    }),
    storeRejected: new Counter({
      name: 'gaswatch_store_rejected_batches_total',
      help: 'Batches the store refused in part and will never accept (logged with the first reading)',
      registers,
    }),
    journalErrors: new Counter({
      name: 'gaswatch_ingest_journal_errors_total',
      help: 'Journal writes that failed (disk full or broken): their readings were not acknowledged, the gateways resend them',
      registers,
    }),
    buffered: new Gauge({
      name: 'gaswatch_ingest_buffered_readings',
      help: 'Readings in the on-disk journal not yet confirmed by the store',
      registers,
    }),
    // Per gateway, not per device: a label per device is a time series (and server memory) per
    // device, a million of them at city scale. /api/devices/:id has each device's own count.
    seqGaps: new Gauge({
      name: 'gaswatch_gateway_seq_gaps',
      help: "Readings missing by seq, summed over the gateway's devices, since the server started (filled gaps are subtracted)",
      labelNames: ['gw'] as const,
      registers,
    }),
    outboxDepth: new Gauge({
      name: 'gaswatch_gateway_outbox_depth',
      help: 'Readings waiting in a gateway outbox, as the gateway reported in its status',
      labelNames: ['gw'] as const,
      registers,
    }),
    gatewaysOnline: new Gauge({
      name: 'gaswatch_gateway_online',
      help: '1 while the gateway reports itself online, 0 after its will message',
      labelNames: ['gw'] as const,
      registers,
    }),
  };
}
export type CoreMetrics = ReturnType<typeof createCoreMetrics>;
