/**
 * @bootfarm/compliance — the ARM VM System Specification requirement catalogue, one evaluator per
 * requirement, and the cell/run verdict aggregation (bootfarm.compliance/v1). Pure: no I/O.
 */
export * from './catalogue.js';
export * from './inputs.js';
export * from './judge.js';
export * from './context.js';
export * from './evaluators/image.js';
export * from './evaluators/platform.js';
export * from './evaluators/guest.js';
export * from './evaluators/run.js';
export * from './verdicts.js';
export * from './readme-table.js';
export { readProbeRecords, type ProbeRecord } from './probe-records.js';
export * from './run-report.js';
export * from './report/index.js';
