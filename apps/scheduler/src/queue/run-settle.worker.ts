import { RunSettle, type RunSettleResult } from '@bootfarm/contracts';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { SCHEDULER_CONFIG, type SchedulerConfig } from '../config.js';
import { RunSettler } from './run.settler.js';

/**
 * Runs the parents of run flows (`run.settle` on queue `runs`) in the scheduler. A parent runs
 * once its cell jobs have finished, but PostgreSQL decides: while a cell is not terminal (a job
 * re-added by the reconciler, a late result) the job is delayed and looks again, without using up
 * an attempt.
 */
@Injectable()
export class RunSettleWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RunSettleWorker.name);
  private worker: Worker | null = null;

  constructor(
    @Inject(SCHEDULER_CONFIG) private readonly config: SchedulerConfig,
    private readonly settler: RunSettler,
  ) {}

  onApplicationBootstrap(): void {
    this.worker = new Worker<unknown, RunSettleResult>(RunSettle.queue, (job, token) => this.handleRunSettle(job, token), {
      prefix: this.config.QUEUE_PREFIX,
      connection: { url: this.config.REDIS_URL, maxRetriesPerRequest: null },
      concurrency: 4,
    });
    this.worker.on('error', (err) => this.logger.warn(`redis: ${err.message}`));
    this.worker.on('failed', (job, err) => this.logger.warn(`${RunSettle.name} ${job?.id} failed: ${err.message}`));
  }

  async handleRunSettle(job: Job, token: string | undefined): Promise<RunSettleResult> {
    const parsed = RunSettle.data.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid ${RunSettle.name} payload: ${parsed.error.message}`);
    const { runId } = parsed.data;
    const settlement = await this.settler.settle(runId);
    if (settlement.state === 'pending') {
      await job.moveToDelayed(Date.now() + this.config.RUN_SETTLE_RETRY_MS, token);
      throw new DelayedError();
    }
    if (settlement.state === 'missing') return { runId, status: 'missing', reportWritten: false };
    return { runId, status: settlement.status, reportWritten: settlement.reportWritten };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close();
  }
}
