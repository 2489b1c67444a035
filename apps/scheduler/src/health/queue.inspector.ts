import { bootQueueName, BootCell, Capability } from '@bootfarm/contracts';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { SCHEDULER_CONFIG, type SchedulerConfig } from '../config.js';

/** The job states reported per queue. */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

/** One boot queue's depth and lag. */
export interface QueueDepth {
  queue: string;
  /** The capability it serves; null for the legacy single `boot` queue. */
  capability: Capability | null;
  counts: Record<QueueState, number>;
  /** Age of the oldest job waiting to be picked up (waiting or prioritized), null when none waits. */
  oldestWaitingAgeMs: number | null;
}

/** Redis settings BullMQ depends on. */
export interface RedisSettings {
  maxmemoryPolicy: string;
  appendonly: string;
}

/**
 * Read-only view of every boot queue (one per capability, plus the legacy `boot` queue while
 * jobs may still sit in it). All queues share one Redis connection: nothing here blocks.
 */
@Injectable()
export class QueueInspector implements OnApplicationShutdown {
  private readonly redis: Redis;
  private readonly queues: { queue: Queue; capability: Capability | null }[];

  constructor(@Inject(SCHEDULER_CONFIG) config: SchedulerConfig) {
    this.redis = new Redis(config.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.redis.on('error', () => {}); // reported by readiness and metrics
    const names: [string, Capability | null][] = [
      [BootCell.queue, null],
      ...Capability.options.map((c): [string, Capability] => [bootQueueName(c), c]),
    ];
    this.queues = names.map(([name, capability]) => ({ queue: new Queue(name, { prefix: config.QUEUE_PREFIX, connection: this.redis }), capability }));
    for (const { queue } of this.queues) queue.on('error', () => {});
  }

  /** Depth per state and the oldest waiting job's age, for every boot queue. */
  async depths(now = Date.now()): Promise<QueueDepth[]> {
    return Promise.all(
      this.queues.map(async ({ queue, capability }) => {
        const [counts, oldest] = await Promise.all([
          queue.getJobCounts(...QUEUE_STATES) as Promise<Record<QueueState, number>>,
          queue.getJobs(['waiting', 'prioritized'], 0, 0, true),
        ]);
        // The head of each list: the oldest waiting job, and the most urgent prioritized one.
        const first = oldest.map((j) => j.timestamp).filter((t) => t > 0).sort((a, b) => a - b)[0];
        return {
          queue: queue.name,
          capability,
          counts: Object.fromEntries(QUEUE_STATES.map((s) => [s, counts[s] ?? 0])) as Record<QueueState, number>,
          oldestWaitingAgeMs: first === undefined ? null : Math.max(0, now - first),
        };
      }),
    );
  }

  /** Redis answers PING. */
  async ping(): Promise<void> {
    await this.redis.ping();
  }

  /** maxmemory-policy and appendonly as Redis reports them. */
  async settings(): Promise<RedisSettings> {
    const [policy, aof] = await Promise.all([this.redis.config('GET', 'maxmemory-policy'), this.redis.config('GET', 'appendonly')]);
    return { maxmemoryPolicy: (policy as string[])[1] ?? 'unknown', appendonly: (aof as string[])[1] ?? 'unknown' };
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.queues.map(({ queue }) => queue.close().catch(() => {})));
    this.redis.disconnect();
  }
}
