import type { StoredHealth, WorkerRegistration, WorkerRepository } from '@bootfarm/db';
import type { WorkerLog } from './worker.log.js';

/**
 * The worker's row in the registry: registered at start, a heartbeat every `intervalMs` (which
 * also brings back the stored health, where an operator's maintenance shows up), `draining` on
 * SIGTERM and `offline` at exit. A heartbeat that fails (PostgreSQL down) is logged and the next
 * one tries again; readers treat 3 missed heartbeats as offline.
 */
export class WorkerRegistry {
  private timer: NodeJS.Timeout | null = null;
  private state: 'online' | 'draining' = 'online';
  private beating: Promise<void> | null = null;

  constructor(
    private readonly repo: WorkerRepository,
    private readonly registration: () => WorkerRegistration,
    private readonly intervalMs: number,
    private readonly log: WorkerLog,
    private readonly onHealth: (stored: StoredHealth) => Promise<void>,
  ) {}

  async register(): Promise<void> {
    await this.repo.register(this.registration());
  }

  /**
   * Registers, retrying while PostgreSQL is unreachable or not migrated yet (a worker may start
   * before the database or the scheduler that migrates it).
   */
  async registerPatiently(): Promise<void> {
    for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
      try {
        return await this.register();
      } catch (err) {
        this.log.warn(`registration failed, retrying in ${delay} ms: ${err instanceof Error ? err.message.trim().split('\n').at(-1) : String(err)}`);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  start(): void {
    const tick = () => {
      this.beating ??= this.beat().finally(() => (this.beating = null));
    };
    tick(); // at once: the first query of its kind is the slow one
    this.timer = setInterval(tick, this.intervalMs); // not unref'd: a bad worker consumes no queue and must stay up, heartbeating, visible
  }

  async draining(): Promise<void> {
    this.state = 'draining';
    await this.repo.setState(this.registration().id, 'draining').catch((err: Error) => this.log.warn(`could not record draining: ${err.message}`));
  }

  /** Stops the heartbeat and records the worker offline (best effort: a stale heartbeat says the same). */
  async offline(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.beating;
    await this.repo.setState(this.registration().id, 'offline').catch((err: Error) => this.log.warn(`could not record offline: ${err.message}`));
  }

  private async beat(): Promise<void> {
    try {
      const stored = await this.repo.heartbeat(this.registration().id, this.state);
      if (stored) await this.onHealth(stored);
      else await this.register(); // the row was deleted: say who we are again
    } catch (err) {
      this.log.warn(`heartbeat failed: ${err instanceof Error ? err.message : String(err)}`, { event: 'heartbeat_failed' });
    }
  }
}
