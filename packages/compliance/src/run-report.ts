import type { CellCompliance, RunCompliance } from '@bootfarm/contracts';
import { evaluateRun } from './verdicts.js';

/** What {@link settleRunCompliance} reads: a run's image, status, cells and any stored report. */
export interface RunComplianceSources {
  runId: string;
  status: string;
  report: RunCompliance | null;
  image: { id: string; name: string; sha256: string; format: string };
  cells: { key: string; compliance: CellCompliance | null }[];
}

/** Where a computed report is kept. */
export interface RunComplianceStore {
  saveCompliance(runId: string, report: RunCompliance): Promise<void>;
}

/**
 * The run's report: the stored one, or, once every cell is terminal, computed from the cells'
 * verdicts and stored. Null while the run still has work. Safe to call twice at once: the
 * report is a function of the terminal cells, so both writers store the same verdicts.
 */
export async function settleRunCompliance(store: RunComplianceStore, run: RunComplianceSources, now: Date): Promise<RunCompliance | null> {
  if (run.report) return run.report;
  if (run.status === 'queued' || run.status === 'running') return null;
  const report = evaluateRun({
    runId: run.runId,
    image: run.image,
    generatedAt: now.toISOString(),
    cells: run.cells.flatMap((c) => (c.compliance ? [c.compliance] : [])),
  });
  await store.saveCompliance(run.runId, report);
  return report;
}
