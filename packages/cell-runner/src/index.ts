/**
 * @bootfarm/cell-runner — one matrix cell, run with the emulator core: the image's boot, the
 * VMSPEC probe on the same platform (twice, one variable store), and the cell's requirement
 * verdicts. The worker and the local `bootfarm check` both run cells through it, so a vendor's
 * laptop and the farm decide the same way. No database, no queue: callers store what it returns.
 */
export * from './run-cell.js';
