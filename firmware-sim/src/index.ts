/** firmware-sim: simulated gas detectors speaking the real wire protocols (issue 4). */
export {
  type Corruption,
  createDevice,
  type DeviceOptions,
  type DeviceSnapshot,
  type SimDevice,
} from './device.js';
export {
  CO_STANDARDS,
  type CoAlarmCurve,
  type CoAlarmFactory,
  type CoStandard,
  sharedCoAlarm,
} from './devices/co-alarm.js';
export { SIM_FAULTS, type SimFault } from './faults.js';
export { crc16, crcOk, withCrc } from './modbus/crc.js';
export { ExceptionCode, ModbusException } from './modbus/exceptions.js';
export * from './modbus/frame.js';
export {
  createModbusRtuSlave,
  type ModbusRtuSlave,
  type ModbusRtuSlaveOptions,
  type ModbusRtuStats,
} from './modbus/rtu-slave.js';
export { serveRequest } from './modbus/serve.js';
export {
  createModbusTcpServer,
  type ModbusTcpServer,
  type ModbusTcpServerOptions,
  type ModbusTcpStats,
} from './modbus/tcp-server.js';
export { bitsPerChar, charTimeMs, interFrameGapMs, type Parity } from './modbus/timing.js';
export { createRng, type Rng } from './random.js';
export {
  BUILTIN_SCENARIO_DIR,
  type LoadedScenario,
  listBuiltinScenarios,
  loadScenarioFile,
  parseScenario,
  resolveScenario,
  ScenarioError,
} from './scenario/load.js';
export {
  combustion,
  FUELS,
  type Fuel,
  OUTDOOR_AIR,
  roomStep,
  sourceTermPerHour,
  unitPerFraction,
} from './scenario/room.js';
export {
  createScenarioRunner,
  type ListenerInfo,
  type ScenarioRunner,
  type ScenarioRunnerOptions,
} from './scenario/runner.js';
export { type Scenario, type ScenarioEvent, type ScenarioInput, ScenarioSchema } from './scenario/schema.js';
export { profileGases } from './sensor.js';
export * as winsenFrame from './winsen/frame.js';
export {
  createWinsenModule,
  type WinsenModule,
  type WinsenModuleOptions,
  type WinsenStats,
} from './winsen/module.js';
