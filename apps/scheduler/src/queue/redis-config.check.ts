import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { BootQueue } from './boot.queue.js';

/**
 * Warns at start when Redis is not configured as BullMQ requires: an eviction policy other than
 * `noeviction` drops job keys silently, and without AOF a restart loses every job in flight
 * (the reconciler would re-add them, but only from PostgreSQL's view).
 */
@Injectable()
export class RedisConfigCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger(RedisConfigCheck.name);

  constructor(private readonly queue: BootQueue) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      const { maxmemoryPolicy, appendonly } = await this.queue.redisConfig();
      if (maxmemoryPolicy !== 'noeviction') this.logger.warn(`Redis maxmemory-policy is ${maxmemoryPolicy}; BullMQ needs noeviction (jobs may be evicted)`);
      if (appendonly !== 'yes') this.logger.warn('Redis AOF is off (appendonly no): a Redis restart loses the jobs in flight until the reconciler re-adds them');
    } catch (err) {
      this.logger.warn(`could not read the Redis configuration: ${(err as Error).message}`);
    }
  }
}
