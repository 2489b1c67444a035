import type { Logger } from '@nestjs/common';
import type { BootQueue } from '../queue/boot.queue.js';

/**
 * Runs `pass` every `intervalMs`, never two at once in this process and, through a Redis lock,
 * in one scheduler replica at a time. `withoutLock` says what to do when Redis cannot be asked:
 * run anyway (the pass is safe to repeat) or skip.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly opts: { name: string; intervalMs: number; queue: BootQueue; logger: Logger; withoutLock: 'run' | 'skip'; pass: () => Promise<void> },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs);
    this.timer.unref();
  }

  /** One pass now (also what the timer calls); resolves when it is done. */
  async tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.locked().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async locked(): Promise<void> {
    const { name, queue, logger } = this.opts;
    let token: string | null = null;
    try {
      token = await queue.tryLock(name, this.opts.intervalMs * 2);
      if (token === null) return; // another replica runs this pass
    } catch (err) {
      if (this.opts.withoutLock === 'skip') {
        logger.warn(`${name}: skipped, Redis unavailable (${(err as Error).message})`);
        return;
      }
    }
    try {
      await this.opts.pass();
    } catch (err) {
      logger.warn(`${name}: pass failed: ${(err as Error).message}`);
    } finally {
      if (token !== null) await queue.unlock(name, token);
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
