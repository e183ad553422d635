// Simulated detectors in their own process, so the benchmark measures only the gateway.
//   node --import tsx bench/sim-process.ts tcp <devices> <port>
//   node --import tsx bench/sim-process.ts rtu <path> [wire]
import { createDevice, createModbusRtuSlave, createModbusTcpServer } from '@gaswatch/firmware-sim';

const [mode, a, b] = process.argv.slice(2);
if (mode === 'tcp') {
  const n = Number(a);
  const devices = Array.from({ length: n }, (_, i) =>
    createDevice({ id: `co${i + 1}`, profile: 'gaswatch-co', unit: i + 1 }),
  );
  devices.forEach((d, i) => {
    d.setConcentration('CO', 5 + i);
  });
  const server = createModbusTcpServer({ devices, host: '127.0.0.1', port: Number(b) });
  const { port } = await server.start();
  console.log(JSON.stringify({ ready: true, port }));
  process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
} else if (mode === 'rtu') {
  const device = createDevice({ id: 'co1', profile: 'gaswatch-co', unit: 1 });
  device.setConcentration('CO', 35);
  const slave = createModbusRtuSlave({
    path: a!,
    devices: [device],
    baudRate: 9600,
    parity: 'even',
    wireTiming: b === 'wire',
  });
  await slave.start();
  console.log(JSON.stringify({ ready: true }));
  process.on('SIGTERM', () => {
    console.log(JSON.stringify({ stats: slave.stats() }));
    void slave.stop().then(() => process.exit(0));
  });
} else {
  console.error('usage: sim-process.ts tcp <devices> <port> | rtu <path> [wire]');
  process.exitCode = 2;
}
