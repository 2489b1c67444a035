import { settleRunCompliance } from '@bootfarm/compliance';
import { isTerminalCell, CellStatus, type RunCompliance } from '@bootfarm/contracts';
import { RunRepository } from '@bootfarm/db';
import { Injectable, Logger } from '@nestjs/common';
import { HistoryRecorder } from '../history/history.recorder.js';
import { WebhookDispatcher } from '../webhooks/webhook.dispatcher.js';

/** What settling a run found. */
export type Settlement =
  | { state: 'missing' }
  /** Some cell still waits or runs. */
  | { state: 'pending' }
  | { state: 'settled'; status: string; reportWritten: boolean };

/**
 * The one authority for a run's compliance reports and its history (one per image): they are written here, by the scheduler, once
 * PostgreSQL shows every cell terminal, and each at most once (a conditional update), whoever calls
 * (the run's settle job, normally; the deadline reaper for the runs it ends).
 */
@Injectable()
export class RunSettler {
  private readonly logger = new Logger(RunSettler.name);
  /** Reports written by this process (for metrics). */
  reportsWritten = 0;

  constructor(
    private readonly runs: RunRepository,
    private readonly webhooks: WebhookDispatcher,
    private readonly history: HistoryRecorder,
  ) {}

  async settle(runId: string): Promise<Settlement> {
    const sources = await this.runs.complianceSources(runId);
    if (!sources) return { state: 'missing' };
    if (!sources.cellStatuses.every((s) => isTerminalCell(CellStatus.parse(s)))) return { state: 'pending' };
    let written = 0;
    // One report per image, each over that image's cells.
    for (const image of sources.images) {
      const store = {
        saveCompliance: async (id: string, report: RunCompliance) => {
          if (await this.runs.saveComplianceOnce(id, image.image.id, report)) written++;
        },
      };
      // Cells terminal but the run row not yet (its last write is committing): look again later.
      if (!(await settleRunCompliance(store, image, new Date()))) return { state: 'pending' };
    }
    const reportWritten = written > 0;
    if (reportWritten) {
      this.reportsWritten++;
      this.logger.log(`run ${runId} settled (${sources.status}); ${written} compliance report(s) written`);
    }
    // History and events on every settle, not only by the report's writer: if that settle died
    // half-way, the next one (a retried job, the reconciler) finishes; results are recorded once
    // and event keys make each event one delivery.
    await this.history.recordRun(runId);
    await this.webhooks.runFinished(runId);
    return { state: 'settled', status: sources.status, reportWritten };
  }
}
