import { BootRepository, RunRepository, type RunningCell } from '@bootfarm/db';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SCHEDULER_CONFIG, type SchedulerConfig } from '../config.js';
import { BootQueue } from '../queue/boot.queue.js';
import { RunSettler } from '../queue/run.settler.js';
import { PeriodicTask } from './periodic.task.js';

/** Who the reaper's attempts are recorded as. */
export const REAPER_WORKER_ID = 'deadline-reaper';

/**
 * Ends cells that run past their deadline, like KernelCI's timeout service:
 *
 *   deadline = current attempt's start + the cell's boot timeout + PLATFORM_PROBE_BUDGET_MS + REAPER_GRACE_MS
 *
 * (the worker boots the image for at most the timeout, then the platform probe twice; the grace
 * covers the image fetch, QEMU start and the result write). Such a cell gets an
 * `infrastructure_error` result with failureClass `deadline` through the fenced repository path:
 * the reaper opens its own attempt, which supersedes the stuck one, so a late write of the lost
 * worker is fenced. Queued cells are never reaped: waiting for a capable worker is visible, not a fault.
 */
@Injectable()
export class DeadlineReaper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeadlineReaper.name);
  private readonly task: PeriodicTask;
  /** Cells reaped by this process (for metrics). */
  reaped = 0;

  constructor(
    @Inject(SCHEDULER_CONFIG) private readonly config: SchedulerConfig,
    private readonly runs: RunRepository,
    private readonly boots: BootRepository,
    private readonly settler: RunSettler,
    queue: BootQueue,
  ) {
    // Without Redis the pass still runs: every write it makes is fenced in PostgreSQL.
    this.task = new PeriodicTask({ name: 'reaper', intervalMs: config.REAPER_INTERVAL_MS, queue, logger: this.logger, withoutLock: 'run', pass: () => this.reap().then(() => {}) });
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  runOnce(): Promise<void> {
    return this.task.tick();
  }

  /** The moment a running cell is given up on. */
  deadlineOf(cell: RunningCell): Date {
    return new Date(cell.attempt.startedAt.getTime() + cell.timeoutMs + this.config.PLATFORM_PROBE_BUDGET_MS + this.config.REAPER_GRACE_MS);
  }

  /** One pass, without the lock; returns the cells it ended. */
  async reap(now = new Date()): Promise<string[]> {
    const reaped: string[] = [];
    for (const cell of await this.runs.runningCells()) {
      const deadline = this.deadlineOf(cell);
      if (deadline > now) continue;
      const ticket = await this.boots.startAttempt(cell.cellId, REAPER_WORKER_ID);
      if (!ticket) continue; // its result arrived meanwhile
      const reason = `no result by the deadline ${deadline.toISOString()}: attempt ${cell.attempt.number} on ${cell.attempt.workerId} started ${cell.attempt.startedAt.toISOString()}`;
      const { accepted, runSettled } = await this.boots.finishAttempt(ticket, {
        outcome: 'infrastructure_error',
        failureClass: 'deadline',
        reason,
        stage: 'none',
        durationMs: now.getTime() - cell.attempt.startedAt.getTime(),
        command: {},
        commandLine: '',
        firmware: {},
        facts: {},
        evidence: {
          deadline: deadline.toISOString(),
          formula: 'attempt start + cell timeout + platform probe budget + grace',
          timeoutMs: cell.timeoutMs,
          platformProbeBudgetMs: this.config.PLATFORM_PROBE_BUDGET_MS,
          graceMs: this.config.REAPER_GRACE_MS,
          lostAttempt: { number: cell.attempt.number, workerId: cell.attempt.workerId, startedAt: cell.attempt.startedAt.toISOString() },
        },
      });
      if (!accepted) continue;
      reaped.push(cell.cellId);
      this.reaped++;
      this.logger.warn(`cell ${cell.cellId} reaped: ${reason}`);
      // The run's settle job waits on the lost worker's job; settle the run now.
      if (runSettled) await this.settler.settle(cell.runId);
    }
    return reaped;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }
}
