export * from './dose.js';
export * from './errors.js';
export * from './packed.js';
export * from './rules.js';
export * from './standards.js';
export * from './threshold.js';
export * from './types.js';
export * from './window.js';
