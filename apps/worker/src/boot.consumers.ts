import { BootCell, bootQueueName, type BootCellResult, type Capability } from '@bootfarm/contracts';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { isDatabaseUnavailable } from './db.retry.js';
import { InfrastructureError } from './processors/boot-cell.processor.js';
import { SlotPool } from './slot.pool.js';
import type { WorkerLog } from './worker.log.js';

/** Options of {@link BootConsumers}. */
export interface BootConsumersOptions {
  capabilities: readonly Capability[];
  /** Boots at once across every queue (WORKER_CONCURRENCY). */
  slots: SlotPool;
  prefix: string;
  redisUrl: string;
  lockDurationMs: number;
  stalledIntervalMs: number;
  log: WorkerLog;
  process: (capability: Capability, job: Job, signal?: AbortSignal) => Promise<BootCellResult>;
}

/** A job fetched when it could not start goes back to the queue for this long (any worker may take it then). */
const GIVE_BACK_DELAY_MS = 1_000;
/** A job that met PostgreSQL down waits this long before it is tried again. */
const DATABASE_AWAY_DELAY_MS = 5_000;

/**
 * One BullMQ worker per capability queue the worker serves, sharing one pool of boot slots.
 *
 * BullMQ fetches a job before our code sees it, so a per-queue concurrency cannot enforce a total:
 * with two queues and one slot, both could each fetch a job. The consumers are therefore paused
 * whenever no slot is free or the worker must not take vendor work (health not good, draining),
 * and resumed when that changes. A fetch already in flight can still deliver a job in that
 * window: such a job is given back at once (moved to delayed for a second, `DelayedError`, which
 * costs no attempt) instead of waiting for a slot while it holds its lock and hides from other workers.
 */
export class BootConsumers {
  private readonly workers = new Map<Capability, Worker<unknown, BootCellResult>>();
  /**
   * BullMQ's stalled-job check runs inside a worker's main loop and stops while it is paused; a
   * busy fleet (every worker paused with its slots full) would then never put a lost worker's job
   * back. A processor-less worker per queue never fetches and is never paused: it only runs the check.
   */
  private readonly stallSentinels: Worker[] = [];
  private accepting = false;

  constructor(private readonly opts: BootConsumersOptions) {
    for (const capability of opts.capabilities) {
      const worker = new Worker<unknown, BootCellResult>(bootQueueName(capability), (job, token, signal) => this.run(capability, job, token, signal), {
        prefix: opts.prefix,
        connection: { url: opts.redisUrl, maxRetriesPerRequest: null },
        concurrency: opts.slots.size,
        lockDuration: opts.lockDurationMs,
        stalledInterval: opts.stalledIntervalMs,
        autorun: false,
      });
      worker.on('failed', (job, err) => {
        if (!(err instanceof DelayedError)) opts.log.warn(`job ${job?.id} failed (delivery ${job?.attemptsMade}): ${err.message}`, { queue: worker.name });
      });
      worker.on('error', (err) => opts.log.warn(`queue ${worker.name}: ${err.message}`));
      this.workers.set(capability, worker);
      const sentinel = new Worker(bootQueueName(capability), undefined, {
        prefix: opts.prefix,
        connection: { url: opts.redisUrl, maxRetriesPerRequest: null },
        stalledInterval: opts.stalledIntervalMs,
        lockDuration: opts.lockDurationMs,
        autorun: false,
      });
      sentinel.on('error', (err) => opts.log.warn(`stalled check of ${sentinel.name}: ${err.message}`));
      this.stallSentinels.push(sentinel);
    }
  }

  /** Starts the stalled-job checks (they run whatever the consumers' state). */
  startStalledChecks(): void {
    for (const sentinel of this.stallSentinels) void sentinel.startStalledCheckTimer();
  }

  /** The BullMQ queue names consumed. */
  get queues(): string[] {
    return [...this.workers.values()].map((w) => w.name);
  }

  /** Opens (health good, not draining) or closes the consumers; running boots are never interrupted. */
  setAccepting(accepting: boolean): void {
    this.accepting = accepting;
    this.refresh();
  }

  /** Re-evaluates whether to fetch (called when slots are taken or freed). */
  refresh(): void {
    const open = this.accepting && this.opts.slots.free > 0;
    for (const worker of this.workers.values()) {
      if (open) void worker.resume();
      else if (!worker.isPaused()) void worker.pause(true).catch(() => {});
    }
  }

  async waitUntilReady(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.waitUntilReady()));
  }

  /** Stops fetching and waits for running boots (with no limit of its own: see `cancelAll`). */
  async close(): Promise<void> {
    this.accepting = false;
    await Promise.all([...this.workers.values(), ...this.stallSentinels].map((w) => w.close()));
  }

  /** Aborts running boots (their AbortSignal kills QEMU); the jobs are retried elsewhere. */
  cancelAll(reason: string): void {
    for (const worker of this.workers.values()) worker.cancelAllJobs(reason);
  }

  private async run(capability: Capability, job: Job, token: string | undefined, signal?: AbortSignal): Promise<BootCellResult> {
    if (job.name !== BootCell.name) throw new UnrecoverableError(`unknown job ${job.name} on ${bootQueueName(capability)}`);
    if (!this.accepting || !this.opts.slots.tryAcquire()) {
      await job.moveToDelayed(Date.now() + GIVE_BACK_DELAY_MS, token);
      throw new DelayedError();
    }
    try {
      return await this.opts.process(capability, job, signal);
    } catch (err) {
      // PostgreSQL away (no attempt could be opened, or the result could not be written in time):
      // not the job's fault, so it must not burn one of its attempts. Give it back for later.
      if (err instanceof InfrastructureError || !isDatabaseUnavailable(err)) throw err;
      this.opts.log.warn(`job ${job.id}: PostgreSQL unavailable, given back for ${DATABASE_AWAY_DELAY_MS} ms: ${(err as Error).message}`, { event: 'db_unavailable' });
      await job.moveToDelayed(Date.now() + DATABASE_AWAY_DELAY_MS, token);
      throw new DelayedError();
    } finally {
      this.opts.slots.release();
    }
  }
}
