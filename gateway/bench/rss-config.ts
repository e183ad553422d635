// The gateway config of the RSS benchmarks: 32 gaswatch-co detectors at 1 s, on 4 Modbus TCP
// connections to the simulator process (bench/sim-process.ts tcp 32 <port>).
export function rssBenchConfig(opts: {
  gatewayId: string;
  brokerUrl: string;
  simPort: number;
  outboxDir: string;
}) {
  return {
    gatewayId: opts.gatewayId,
    uplink: { url: opts.brokerUrl },
    outbox: { dir: opts.outboxDir },
    logLevel: 'warn',
    buses: [0, 1, 2, 3].map((b) => ({
      id: `tcp-${b}`,
      type: 'modbus-tcp',
      host: '127.0.0.1',
      port: opts.simPort,
      devices: Array.from({ length: 8 }, (_, i) => ({
        id: `co${b * 8 + i + 1}`,
        unit: b * 8 + i + 1,
        profile: 'gaswatch-co',
        pollIntervalS: 1,
        site: 'bench',
        location: `room-${b * 8 + i + 1}`,
      })),
    })),
  };
}
