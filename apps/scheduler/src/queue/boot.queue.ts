import { BootCell, queueDefaults, type BootCellData } from '@bootfarm/contracts';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { SCHEDULER_CONFIG, type SchedulerConfig } from '../config.js';
import { UnavailableError } from '../common/errors.js';

/** The producer side of the boot queue. Payloads are parsed before they can enter Redis. */
@Injectable()
export class BootQueue implements OnApplicationShutdown {
  private readonly logger = new Logger(BootQueue.name);
  readonly queue: Queue;
  /** A plain connection for health checks, separate from BullMQ's. */
  private readonly admin: Redis;

  constructor(@Inject(SCHEDULER_CONFIG) config: SchedulerConfig) {
    this.queue = new Queue(BootCell.queue, {
      prefix: config.QUEUE_PREFIX,
      connection: { url: config.REDIS_URL, enableOfflineQueue: false, maxRetriesPerRequest: 1 },
    });
    this.queue.on('error', (err) => this.logger.warn(`redis: ${err.message}`));
    this.admin = new Redis(config.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
    this.admin.on('error', () => {}); // reported by the health endpoint
  }

  /** Enqueues one cell; enqueueing the same cell twice adds one job (deterministic job id). */
  async enqueueCell(data: BootCellData): Promise<void> {
    const payload = BootCell.data.parse(data);
    try {
      await this.queue.add(BootCell.name, payload, {
        jobId: BootCell.jobId(payload),
        attempts: BootCell.opts.attempts,
        backoff: BootCell.opts.backoff,
        removeOnComplete: queueDefaults.removeOnComplete,
        removeOnFail: queueDefaults.removeOnFail,
      });
    } catch (err) {
      throw new UnavailableError(`the boot queue is unavailable (${(err as Error).message}); try again`);
    }
  }

  /** Redis's eviction policy: anything but noeviction can drop jobs silently. */
  async evictionPolicy(): Promise<string> {
    const reply = (await this.admin.config('GET', 'maxmemory-policy')) as string[];
    return reply[1] ?? 'unknown';
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
    this.admin.disconnect();
  }
}
