import { z } from 'zod';
import { BootStage, Outcome } from './enums.js';

// WARNING: queue and job names are persisted in Redis: never rename, add new ones.

/**
 * BullMQ queue names. Cells are not queued on `boot` any more but on their capability's queue
 * (`bootQueueName(capability)`, e.g. `boot.qemu-tcg.aarch64`); `boot` stays for jobs already in Redis.
 */
export const QueueName = {
  /** @deprecated the single boot queue before capability queues; kept for jobs still in Redis. */
  Boot: 'boot',
  /** Parents of run flows: `run.settle` runs once every cell job of the run has finished. */
  Runs: 'runs',
  /** The nightly job scheduler and its `nightly.trigger` jobs. */
  Nightly: 'nightly',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

/** A job's definition: its queue, name, payload and result schemas, and default options. */
export interface JobDefinition<Data extends z.ZodType, Result extends z.ZodType> {
  /** The queue; for {@link BootCell} the capability queue of the cell decides (see `bootQueueName`). */
  readonly queue: QueueName;
  readonly name: string;
  readonly data: Data;
  readonly result: Result;
  /** Deterministic BullMQ job id: enqueueing the same work twice adds one job. */
  readonly jobId: (data: z.infer<Data>) => string;
  readonly opts: { attempts: number; backoff: { type: 'exponential' | 'fixed'; delay: number } };
}

/** Declares a job; only a typing helper. */
export function defineJob<D extends z.ZodType, R extends z.ZodType>(def: JobDefinition<D, R>): JobDefinition<D, R> {
  return def;
}

/** Boot one matrix cell. The payload is the cell id only: PostgreSQL holds everything else. */
export const BootCell = defineJob({
  queue: QueueName.Boot,
  name: 'cell.boot',
  data: z.object({ cellId: z.uuid() }),
  result: z.discriminatedUnion('skipped', [
    z.object({
      skipped: z.literal(false),
      cellId: z.uuid(),
      outcome: Outcome,
      stage: BootStage,
      durationMs: z.number().int().nonnegative(),
      /** False when a newer attempt had already taken over the cell (this one was fenced). */
      accepted: z.boolean(),
    }),
    /** This delivery found the cell already finished and did nothing. */
    z.object({ skipped: z.literal(true), cellId: z.uuid() }),
  ]),
  jobId: (d) => `cell-${d.cellId}`,
  // Only infrastructure errors are thrown to BullMQ (and so retried); guest outcomes are results.
  opts: { attempts: 3, backoff: { type: 'exponential', delay: 5_000 } },
});
export type BootCellData = z.infer<typeof BootCell.data>;
export type BootCellResult = z.infer<typeof BootCell.result>;

/**
 * Settle a run: the parent of a run's flow, run by the scheduler after every `cell.boot` child
 * finished (children that fail are ignored, never blocking it). PostgreSQL decides: when every
 * cell is terminal it writes the run's compliance report once; otherwise it is retried later.
 */
export const RunSettle = defineJob({
  queue: QueueName.Runs,
  name: 'run.settle',
  data: z.object({ runId: z.uuid() }),
  result: z.object({ runId: z.uuid(), status: z.string(), reportWritten: z.boolean() }),
  jobId: (d) => `run-${d.runId}`,
  // Thrown errors (PostgreSQL down) are retried; "not terminal yet" is a delay, not an attempt.
  opts: { attempts: 20, backoff: { type: 'exponential', delay: 2_000 } },
});
export type RunSettleData = z.infer<typeof RunSettle.data>;
export type RunSettleResult = z.infer<typeof RunSettle.result>;

/**
 * Create the night's runs: one per image registered for nightly runs. Produced by the `nightly`
 * job scheduler (the night is the UTC date of the scheduled fire time) or replayed with a `date`.
 */
export const NightlyTrigger = defineJob({
  queue: QueueName.Nightly,
  name: 'nightly.trigger',
  data: z.object({ date: z.iso.date().optional() }),
  result: z.object({ date: z.iso.date(), created: z.number().int(), deduplicated: z.number().int() }),
  // The scheduler's own jobs get BullMQ's ids; a replay of a night uses this one.
  jobId: (d) => `nightly-${d.date ?? 'scheduled'}`,
  opts: { attempts: 5, backoff: { type: 'exponential', delay: 10_000 } },
});
export type NightlyTriggerData = z.infer<typeof NightlyTrigger.data>;
export type NightlyTriggerResult = z.infer<typeof NightlyTrigger.result>;

/** Every job the farm knows; a worker must register a processor for each one of its queues. */
export const jobCatalog = { BootCell, RunSettle, NightlyTrigger } as const;

/**
 * BullMQ priorities of cell jobs (1 runs first; BullMQ runs jobs without a priority before all
 * prioritised ones, so every cell job gets one, and caps priorities at 2^21). A vendor's cells are
 * ranked 1, 2, 3… among its outstanding cells, so vendors interleave round-robin; nightly work
 * comes after every vendor submission.
 */
export const cellPriority = {
  /** Added to nightly cells' rank. */
  nightlyOffset: 1_000_000,
  /** Ranks beyond this share it (keeps nightly + rank under BullMQ's 2^21 cap). */
  maxRank: 999_999,
  of(rank: number, nightly: boolean): number {
    const r = Math.min(Math.max(1, Math.floor(rank)), this.maxRank);
    return (nightly ? this.nightlyOffset : 0) + r;
  },
} as const;

/** Connection-independent BullMQ defaults shared by producer and consumers. */
export const queueDefaults = {
  // Bounded history in Redis; PostgreSQL keeps the real record.
  removeOnComplete: { count: 1_000 },
  removeOnFail: { count: 5_000 },
} as const;
