import { BootCell, bootQueueName, queueDefaults, RunSettle, type Capability } from '@bootfarm/contracts';
import type { FlowJob } from 'bullmq';

/** A cell as its job is queued: where (its capability's queue) and in which order (priority). */
export interface QueuedCell {
  cellId: string;
  capability: Capability;
  /** BullMQ priority, 1 first (see `cellPriority`). */
  priority: number;
}

/**
 * A run as one BullMQ flow: the `run.settle` parent (queue `runs`) over one `cell.boot` child per
 * cell on the cell's capability queue. Deterministic job ids make adding the same flow twice
 * harmless (BullMQ ignores a duplicate id and re-attaches an orphaned child to its parent).
 * A child that fails for good is moved to the parent's failed dependencies instead of blocking
 * it (`ignoreDependencyOnFailure`): PostgreSQL, not BullMQ, says whether the run is done.
 */
export function runFlow(runId: string, cells: readonly QueuedCell[]): FlowJob {
  const data = RunSettle.data.parse({ runId });
  return {
    name: RunSettle.name,
    queueName: RunSettle.queue,
    data,
    opts: {
      jobId: RunSettle.jobId(data),
      attempts: RunSettle.opts.attempts,
      backoff: RunSettle.opts.backoff,
      removeOnComplete: queueDefaults.removeOnComplete,
      removeOnFail: queueDefaults.removeOnFail,
    },
    children: cells.map((cell) => {
      const payload = BootCell.data.parse({ cellId: cell.cellId });
      return {
        name: BootCell.name,
        queueName: bootQueueName(cell.capability),
        data: payload,
        opts: {
          jobId: BootCell.jobId(payload),
          priority: cell.priority,
          attempts: BootCell.opts.attempts,
          backoff: BootCell.opts.backoff,
          ignoreDependencyOnFailure: true,
          removeOnComplete: queueDefaults.removeOnComplete,
          removeOnFail: queueDefaults.removeOnFail,
        },
      };
    }),
  };
}
