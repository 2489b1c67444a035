import { ConsoleStore, PrismaClient } from '@bootfarm/db';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SCHEDULER_CONFIG, type SchedulerConfig } from '../config.js';

/**
 * Compacts the console of attempts that ended more than CONSOLE_COMPACT_GRACE_MS ago into
 * chunks (see ConsoleStore). Safe with several scheduler replicas: each attempt is taken with
 * FOR UPDATE SKIP LOCKED and compacting twice moves nothing.
 */
@Injectable()
export class ConsoleCompactor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ConsoleCompactor.name);
  private readonly store: ConsoleStore;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(db: PrismaClient, @Inject(SCHEDULER_CONFIG) private readonly config: SchedulerConfig) {
    this.store = new ConsoleStore(db);
  }

  onApplicationBootstrap(): void {
    if (this.config.CONSOLE_COMPACT_INTERVAL_MS === 0) return;
    this.timer = setInterval(() => {
      this.running ??= this.tick().then(
        () => undefined,
        () => undefined,
      ).finally(() => (this.running = null));
    }, this.config.CONSOLE_COMPACT_INTERVAL_MS);
    this.timer.unref();
  }

  /** One pass: up to 100 attempts, oldest first. Returns the lines moved. */
  async tick(): Promise<number> {
    let moved = 0;
    try {
      for (const id of await this.store.compactable(this.config.CONSOLE_COMPACT_GRACE_MS, 100)) moved += await this.store.compact(id);
      if (moved) this.logger.debug(`compacted ${moved} console lines`);
    } catch (err) {
      this.logger.warn(`console compaction: ${(err as Error).message}`);
    }
    return moved;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
