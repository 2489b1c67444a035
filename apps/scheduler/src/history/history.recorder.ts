import { ALL_VENDORS, HistoryRepository, NightlyRepository, PrismaClient } from '@bootfarm/db';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { SCHEDULER_CONFIG, type SchedulerConfig } from '../config.js';
import { RunEnqueuer } from '../queue/run.enqueuer.js';
import { WebhookDispatcher } from '../webhooks/webhook.dispatcher.js';

/**
 * What history does when a run settles: records its results (signatures, transitions,
 * regressions), enqueues the re-runs that tell a regression from a flake, and tells vendors about
 * confirmed regressions and complete nights. Safe to repeat: results are recorded once, re-run
 * runs are created with them, and events are keyed.
 */
@Injectable()
export class HistoryRecorder {
  private readonly logger = new Logger(HistoryRecorder.name);

  constructor(
    @Inject(SCHEDULER_CONFIG) private readonly config: SchedulerConfig,
    private readonly history: HistoryRepository,
    private readonly nightly: NightlyRepository,
    private readonly enqueuer: RunEnqueuer,
    private readonly webhooks: WebhookDispatcher,
    private readonly db: PrismaClient,
  ) {}

  async recordRun(runId: string): Promise<void> {
    const out = await this.history.recordRun(runId, { rechecks: this.config.HISTORY_RECHECKS });
    for (const recheck of out.recheckRunIds) {
      // A failed enqueue leaves the run queued in PostgreSQL: the reconciler adds it.
      await this.enqueuer.enqueue(recheck).catch((err: Error) => this.logger.warn(`re-run ${recheck} not enqueued yet (${err.message}); the reconciler will`));
    }
    if (out.recheckRunIds.length > 0) this.logger.log(`run ${runId}: ${out.recheckRunIds.length} re-run(s) to check new failures`);
    const confirmed = [...new Set([...out.confirmed, ...(await this.history.confirmedByRun(runId))])];
    for (const regression of await this.history.regressionsById(confirmed)) {
      const { vendorId, ...dto } = regression;
      await this.webhooks.regressionConfirmed(vendorId, dto);
    }
    await this.nightSettled(runId);
  }

  /** When this run was the last open piece of a night (its runs and their re-runs), each vendor gets the night's summary. */
  private async nightSettled(runId: string): Promise<void> {
    const [row] = await this.db.$queryRaw<{ night: string | null }[]>`
      SELECT COALESCE(ru.nightly_date, g.nightly_date) AS night FROM run ru LEFT JOIN regression g ON g.id = ru.regression_id WHERE ru.id = ${runId}::uuid`;
    if (!row?.night) return;
    const all = await this.nightly.summary(ALL_VENDORS, row.night);
    if (!all?.complete) return;
    const vendors = await this.db.vendor.findMany({ where: { name: { in: all.vendors.map((v) => v.vendor) } }, select: { id: true, name: true } });
    for (const v of vendors) {
      const mine = await this.nightly.summary(v.id, row.night);
      if (mine) await this.webhooks.nightlySummary(v.id, mine);
    }
  }
}
