import { Capability, cellPriority } from '@bootfarm/contracts';
import { RunRepository, type RunFlowCells } from '@bootfarm/db';
import { Injectable, Logger } from '@nestjs/common';
import { BootQueue } from './boot.queue.js';
import type { QueuedCell } from './run-flow.js';

/**
 * Puts a run recorded in PostgreSQL on the queues, with the priorities that make the farm fair:
 * a cell's rank among its vendor's outstanding cells (so a vendor's thousandth cell waits behind
 * another vendor's first), nightly work after every vendor submission.
 */
@Injectable()
export class RunEnqueuer {
  private readonly logger = new Logger(RunEnqueuer.name);

  constructor(
    private readonly runs: RunRepository,
    private readonly queue: BootQueue,
  ) {}

  /** Enqueues the run's flow with every cell that still needs a boot; returns how many cells. */
  async enqueue(runId: string): Promise<number> {
    const run = await this.runs.flowCells(runId);
    if (!run) return 0;
    await this.queue.enqueueRun(runId, await this.queuedCells(run));
    return run.cells.length;
  }

  /** The run's cells with their queues and priorities. */
  async queuedCells(run: RunFlowCells): Promise<QueuedCell[]> {
    const ahead = run.cells.length > 0 ? await this.runs.outstandingCellCount(run.vendorId, run.trigger, run.runId) : 0;
    const nightly = run.trigger === 'nightly';
    return run.cells.flatMap((cell, i) => {
      const capability = Capability.safeParse(cell.capability);
      if (!capability.success) {
        // Only not-applicable cells name a capability no backend has, and they are never queued.
        this.logger.warn(`cell ${cell.cellId} needs unknown capability ${cell.capability}; not queued`);
        return [];
      }
      return [{ cellId: cell.cellId, capability: capability.data, priority: cellPriority.of(ahead + i + 1, nightly) }];
    });
  }
}
