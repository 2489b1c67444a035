/** The one place this package reads probe facts from: `@bootfarm/probe/protocol` (pure, no I/O). */
export { readProbeRecords, lastRecord, allRecords, type ProbeRecord } from '@bootfarm/probe/protocol';
