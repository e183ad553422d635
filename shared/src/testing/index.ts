// Test harness: real peers on loopback and temp dirs. Used by tests and benchmarks only.
export * from './influxd.js';
export * from './mosquitto.js';
export * from './pki.js';
export * from './ports.js';
export * from './postgres.js';
export * from './processes.js';
export * from './random.js';
export * from './socat.js';
