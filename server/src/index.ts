export { type BuildServerOptions, buildServer } from './app.js';
export * from './bus.js';
export { loadConfig, type ServerConfig, ServerEnvSchema } from './config.js';
export * from './errors.js';
export type { DeviceRecord, DeviceRegistry } from './ingest/devices.js';
export { createEmbeddedStore } from './store/embedded.js';
export { createInfluxStore } from './store/influx.js';
export type * from './store/types.js';
