// Confined-space entry and hot-work permits (SPEC §7, issue 14): the rule sets as data and the
// pure functions the server's permit routes and the console's gas-test page call. See
// docs/permits.md.
export * from './conversions.js';
export * from './errors.js';
export * from './judge.js';
export * from './model.js';
export * from './records.js';
export * from './rule-set.js';
export * from './rule-sets.js';
export * from './sequence.js';
export * from './site-rules.js';
export * from './states.js';
export * from './timing.js';
export * from './toxic-limits.js';
