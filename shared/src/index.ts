export * from './access.js';
export * from './alarms/index.js';
export * from './gases.js';
export * from './ids.js';
export * from './profiles.js';
export * from './registers.js';
export * from './schemas.js';
export * from './topics.js';
