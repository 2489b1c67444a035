import { z } from 'zod';
import { Capability } from './farm.js';

/** One boot queue's depth, and who could take its work. */
export const QueueDepthDto = z.object({
  queue: z.string(),
  /** The capability it serves; null for the legacy single `boot` queue. */
  capability: Capability.nullable(),
  waiting: z.number().int().nonnegative(),
  active: z.number().int().nonnegative(),
  delayed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  /** Age of the oldest job waiting to be picked up; null when none waits. */
  oldestWaitingAgeMs: z.number().int().nonnegative().nullable(),
});
export type QueueDepthDto = z.infer<typeof QueueDepthDto>;

/** A capability's supply and demand. */
export const CapabilityLoadDto = z.object({
  capability: Capability,
  /** Online workers in good or unknown health that serve it. */
  servingWorkers: z.number().int().nonnegative(),
  /** Cells not started yet that need it (every vendor's). */
  queuedCells: z.number().int().nonnegative(),
  /** True when cells need it and no worker can take them: they wait visibly ("no capable worker"). */
  unserved: z.boolean(),
});
export type CapabilityLoadDto = z.infer<typeof CapabilityLoadDto>;

/** GET /api/workers/queues: the queues' depths and each capability's load, farm-wide. */
export const FleetQueuesDto = z.object({
  /** False when Redis did not answer: `queues` is then empty. */
  redis: z.boolean(),
  queues: z.array(QueueDepthDto),
  capabilities: z.array(CapabilityLoadDto),
});
export type FleetQueuesDto = z.infer<typeof FleetQueuesDto>;
