import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { FlowProducer, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { SCHEDULER_CONFIG, type SchedulerConfig } from '../config.js';
import { UnavailableError } from '../common/errors.js';
import { runFlow, type QueuedCell } from './run-flow.js';

const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/** Where a job stands in Redis, as far as the reconciler cares. */
export type JobPresence = 'missing' | 'finished' | 'live';

/** A job by queue and id. */
export interface JobRef {
  queue: string;
  jobId: string;
}

/** Redis settings BullMQ depends on (https://docs.bullmq.io/guide/going-to-production). */
export interface RedisConfig {
  maxmemoryPolicy: string;
  appendonly: string;
}

/**
 * The producer side of the farm's queues: a run is added as one flow (settle parent + one child
 * per cell on its capability queue). Producers fail fast while Redis is down
 * (`enableOfflineQueue: false`), so the API answers 503 instead of hanging.
 */
@Injectable()
export class BootQueue implements OnApplicationShutdown {
  private readonly logger = new Logger(BootQueue.name);
  private readonly flows: FlowProducer;
  private readonly queues = new Map<string, Queue>();
  /** A plain connection for state lookups and health checks, separate from BullMQ's. */
  private readonly admin: Redis;
  readonly prefix: string;

  constructor(@Inject(SCHEDULER_CONFIG) private readonly config: SchedulerConfig) {
    this.prefix = config.QUEUE_PREFIX;
    this.flows = new FlowProducer({ prefix: this.prefix, connection: this.connection() });
    this.flows.on('error', (err) => this.logger.warn(`redis: ${err.message}`));
    this.admin = new Redis(config.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.admin.on('error', () => {}); // reported by the health endpoint and the callers
  }

  /** Adds (or completes) a run's flow. Idempotent: existing jobs keep their state. */
  async enqueueRun(runId: string, cells: readonly QueuedCell[]): Promise<void> {
    const flow = runFlow(runId, cells);
    try {
      await this.flows.add(flow);
    } catch (err) {
      throw new UnavailableError(`the boot queue is unavailable (${(err as Error).message}); try again`);
    }
  }

  /** Throws UnavailableError unless Redis answers now (checked before a run is recorded). */
  async ensureAvailable(): Promise<void> {
    try {
      await this.adminReady(500);
      await this.admin.ping();
    } catch (err) {
      throw new UnavailableError(`the boot queue is unavailable (${(err as Error).message}); try again`);
    }
  }

  /** The queue of a capability, or of `runs`; created on first use. */
  queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { prefix: this.prefix, connection: this.connection() });
      queue.on('error', (err) => this.logger.warn(`redis: ${err.message}`));
      this.queues.set(name, queue);
    }
    return queue;
  }

  /**
   * Whether each job exists and has finished, in one round trip: a job hash always has `name`,
   * and `finishedOn` once it completed or failed.
   */
  async presence(refs: readonly JobRef[]): Promise<JobPresence[]> {
    if (refs.length === 0) return [];
    const pipeline = this.admin.pipeline();
    for (const ref of refs) pipeline.hmget(`${this.prefix}:${ref.queue}:${ref.jobId}`, 'name', 'finishedOn');
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([err, value]) => {
      if (err) throw err;
      const [name, finishedOn] = value as (string | null)[];
      return name === null ? 'missing' : finishedOn !== null ? 'finished' : 'live';
    });
  }

  /** Removes a finished job so the same id can be added again (BullMQ ignores an existing id). */
  async removeFinished(ref: JobRef): Promise<void> {
    await this.queue(ref.queue).remove(ref.jobId, { removeChildren: false });
  }

  /**
   * Takes the farm-wide lock `name` for `ttlMs` (one scheduler replica at a time runs a
   * maintenance pass); returns its token, or null when another replica holds it.
   */
  async tryLock(name: string, ttlMs: number): Promise<string | null> {
    const token = randomUUID();
    const ok = await this.admin.set(`${this.prefix}:lock:${name}`, token, 'PX', ttlMs, 'NX');
    return ok === 'OK' ? token : null;
  }

  /** Releases a lock taken with {@link tryLock}, only if it is still ours. */
  async unlock(name: string, token: string): Promise<void> {
    await this.admin.eval(RELEASE_LOCK, 1, `${this.prefix}:lock:${name}`, token).catch(() => {});
  }

  /** Redis's eviction policy: anything but noeviction can drop jobs silently. */
  async evictionPolicy(): Promise<string> {
    return (await this.redisConfig()).maxmemoryPolicy;
  }

  /** The settings BullMQ needs: `noeviction`, and AOF on for durability. */
  async redisConfig(): Promise<RedisConfig> {
    await this.adminReady();
    const policy = (await this.admin.config('GET', 'maxmemory-policy')) as string[];
    const aof = (await this.admin.config('GET', 'appendonly')) as string[];
    return { maxmemoryPolicy: policy[1] ?? 'unknown', appendonly: aof[1] ?? 'unknown' };
  }

  /**
   * The admin connection fails fast while Redis is down (no offline queue), which also fails a
   * command sent while it is still connecting at start or reconnecting: wait briefly for it.
   */
  private async adminReady(timeoutMs = 2_000): Promise<void> {
    if (this.admin.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.admin.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.admin.once('ready', done);
    });
  }

  private connection() {
    return { url: this.config.REDIS_URL, enableOfflineQueue: false, maxRetriesPerRequest: 1 };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flows.close();
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.admin.disconnect();
  }
}

