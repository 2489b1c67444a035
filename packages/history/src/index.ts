/**
 * @bootfarm/history — what history is computed from, as pure functions: verdicts and transitions,
 * failure signatures and their join keys, the regression state machine, the cross-hypervisor
 * differential and the stage-aligned console comparison. No database, no Nest.
 */
export * from './verdicts.js';
export * from './signatures.js';
export * from './regressions.js';
export * from './differential.js';
export * from './console-compare.js';
