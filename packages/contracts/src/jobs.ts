import { z } from 'zod';
import { BootStage, Outcome } from './enums.js';

// WARNING: queue and job names are persisted in Redis: never rename, add new ones.

/** BullMQ queue names. */
export const QueueName = { Boot: 'boot' } as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

/** A job's definition: its queue, name, payload and result schemas, and default options. */
export interface JobDefinition<Data extends z.ZodType, Result extends z.ZodType> {
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

/** Every job the farm knows; a worker must register a processor for each one of its queues. */
export const jobCatalog = { BootCell } as const;

/** Connection-independent BullMQ defaults shared by producer and consumers. */
export const queueDefaults = {
  // Bounded history in Redis; PostgreSQL keeps the real record.
  removeOnComplete: { count: 1_000 },
  removeOnFail: { count: 5_000 },
} as const;
