import { bootQueueName, BootCell, Capability, RunSettle } from '@bootfarm/contracts';
import { RunRepository } from '@bootfarm/db';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SCHEDULER_CONFIG, type SchedulerConfig } from '../config.js';
import { BootQueue, type JobRef } from '../queue/boot.queue.js';
import { RunEnqueuer } from '../queue/run.enqueuer.js';
import { PeriodicTask } from './periodic.task.js';

/** What the reconciler did since the process started (for metrics). */
export interface ReconcilerStats {
  passes: number;
  runsRepaired: number;
  cellsReenqueued: number;
  lastPassAt: string | null;
}

/**
 * Exactly-once results on an at-least-once queue, from PostgreSQL's side: every
 * RECONCILE_INTERVAL_MS (one replica at a time) it compares the runs PostgreSQL has in flight with
 * Redis. A cell job that is missing (Redis flushed, restarted without its data) or already
 * finished while the cell is not terminal, or a run whose settle job is missing or finished while
 * the run has no report, gets its run's flow added again with the same job ids: BullMQ ignores
 * the jobs that exist, re-attaches orphaned children, and a redelivered cell supersedes a stale
 * running attempt (BootRepository.startAttempt fences).
 */
@Injectable()
export class QueueReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(QueueReconciler.name);
  private readonly task: PeriodicTask;
  readonly stats: ReconcilerStats = { passes: 0, runsRepaired: 0, cellsReenqueued: 0, lastPassAt: null };

  constructor(
    @Inject(SCHEDULER_CONFIG) private readonly config: SchedulerConfig,
    private readonly runs: RunRepository,
    private readonly queue: BootQueue,
    private readonly enqueuer: RunEnqueuer,
  ) {
    this.task = new PeriodicTask({ name: 'reconciler', intervalMs: config.RECONCILE_INTERVAL_MS, queue, logger: this.logger, withoutLock: 'skip', pass: () => this.reconcile().then(() => {}) });
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  /** One pass under the lock (tests and operators may call it). */
  runOnce(): Promise<void> {
    return this.task.tick();
  }

  /** One pass, without the lock. */
  async reconcile(): Promise<{ runsRepaired: number; cellsReenqueued: number }> {
    const inFlight = await this.runs.runsInFlight(new Date(Date.now() - this.config.RECONCILE_GRACE_MS));
    let runsRepaired = 0;
    let cellsReenqueued = 0;
    for (const run of inFlight) {
      const parent: JobRef = { queue: RunSettle.queue, jobId: RunSettle.jobId({ runId: run.runId }) };
      const children: JobRef[] = run.cells.flatMap((c) => {
        const capability = Capability.safeParse(c.capability);
        return capability.success ? [{ queue: bootQueueName(capability.data), jobId: BootCell.jobId({ cellId: c.cellId }) }] : [];
      });
      const [parentState, ...childStates] = await this.queue.presence([parent, ...children]);
      const lostChildren = children.filter((_, i) => childStates[i] !== 'live');
      if (parentState === 'live' && lostChildren.length === 0) continue;
      // A finished job keeps its id: remove it, or adding the flow again would be ignored.
      for (const [i, ref] of children.entries()) if (childStates[i] === 'finished') await this.queue.removeFinished(ref);
      if (parentState === 'finished') await this.queue.removeFinished(parent);
      await this.enqueuer.enqueue(run.runId);
      runsRepaired++;
      cellsReenqueued += lostChildren.length;
      this.logger.warn(
        `run ${run.runId}: re-enqueued ${lostChildren.length} cell job(s)${parentState === 'live' ? '' : ` and its settle job (${parentState})`}: ${lostChildren.map((r) => r.jobId).join(', ') || 'none'}`,
      );
    }
    this.stats.passes++;
    this.stats.runsRepaired += runsRepaired;
    this.stats.cellsReenqueued += cellsReenqueued;
    this.stats.lastPassAt = new Date().toISOString();
    return { runsRepaired, cellsReenqueued };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }
}
