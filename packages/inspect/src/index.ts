/**
 * @bootfarm/inspect — untrusted image bytes in, typed facts out. Pure: no Nest, database or
 * Redis; reads files read-only through bounded, counted byte sources; never mounts anything.
 */
export type { ByteSource } from './byte-source.js';
export type { Evidence, Finding, FindingLevel } from './finding.js';
export * from './container/index.js';
export * from './disk/index.js';
export { inspectImage, type InspectionPolicy, type InspectionReport } from './image.inspector.js';
export { inspectIsolated, assertReachableByOthers, type IsolatedInspection, type IsolationLimits } from './isolated.inspector.js';
