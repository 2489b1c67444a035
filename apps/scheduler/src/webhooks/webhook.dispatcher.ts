import { WEBHOOK_HEADERS, type NightlySummaryDto, type NightlySummaryEvent, type RegressionDto, type RegressionEvent, type RunDto, type RunFinishedEvent, type WebhookEvent } from '@bootfarm/contracts';
import { ALL_VENDORS, RunRepository, WebhookRepository } from '@bootfarm/db';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { SCHEDULER_CONFIG, type SchedulerConfig } from '../config.js';
import { PeriodicTask } from '../maintenance/periodic.task.js';
import { BootQueue } from '../queue/boot.queue.js';
import { assertDeliverableUrl, WebhookUrlRefusedError } from './webhook-url.policy.js';
import { signWebhook } from './webhook.signature.js';

/** The BullMQ queue of deliveries; a job is one delivery (job id = delivery id), retried with exponential backoff. */
export const WEBHOOK_QUEUE = 'webhooks';

/**
 * Raises events and delivers them. PostgreSQL holds the delivery log (one row per webhook and
 * event key, so an event raised twice is sent once); BullMQ carries the attempts and their
 * backoff; a periodic pass hands pending deliveries Redis lost back to the queue.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private readonly queue: Queue;
  private worker: Worker | null = null;
  private readonly sweep: PeriodicTask;

  constructor(
    @Inject(SCHEDULER_CONFIG) private readonly config: SchedulerConfig,
    private readonly hooks: WebhookRepository,
    private readonly runs: RunRepository,
    bootQueue: BootQueue,
  ) {
    this.queue = new Queue(WEBHOOK_QUEUE, { prefix: config.QUEUE_PREFIX, connection: { url: config.REDIS_URL, maxRetriesPerRequest: 1, enableOfflineQueue: false } });
    this.queue.on('error', (err) => this.logger.warn(`redis: ${err.message}`));
    this.sweep = new PeriodicTask({
      name: 'webhook-sweep', intervalMs: config.RECONCILE_INTERVAL_MS, queue: bootQueue, logger: this.logger, withoutLock: 'skip',
      pass: () => this.resendPending().then(() => {}),
    });
  }

  onApplicationBootstrap(): void {
    this.worker = new Worker(WEBHOOK_QUEUE, (job) => this.deliver(job), {
      prefix: this.config.QUEUE_PREFIX,
      connection: { url: this.config.REDIS_URL, maxRetriesPerRequest: null },
      concurrency: 8,
    });
    this.worker.on('error', (err) => this.logger.warn(`redis: ${err.message}`));
    this.sweep.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sweep.stop();
    await this.worker?.close();
    await this.queue.close();
  }

  /** `run.finished` for a settled run (safe to call again: the event key is the run). */
  async runFinished(runId: string): Promise<void> {
    const vendorId = await this.runs.runVendor(runId);
    const run = await this.runs.find(ALL_VENDORS, runId);
    if (!vendorId || !run) return;
    await this.emit(vendorId, 'run.finished', `run.finished:${runId}`, runFinishedEvent(run));
  }

  /** `regression` once re-runs confirm a new failure (key: the regression, so it is told once). */
  async regressionConfirmed(vendorId: string, regression: RegressionDto): Promise<void> {
    const payload: RegressionEvent = { event: 'regression', regression };
    await this.emit(vendorId, 'regression', `regression:${regression.id}`, payload);
  }

  /** `nightly.summary` for one vendor's part of a complete night (key: the night). */
  async nightlySummary(vendorId: string, summary: NightlySummaryDto): Promise<void> {
    const payload: NightlySummaryEvent = { event: 'nightly.summary', summary };
    await this.emit(vendorId, 'nightly.summary', `nightly.summary:${summary.date}`, payload);
  }

  /** Records the event for the vendor's subscribed webhooks and queues the new deliveries. */
  async emit(vendorId: string, event: WebhookEvent, eventKey: string, payload: unknown): Promise<string[]> {
    const ids = await this.hooks.recordEvent(vendorId, event, eventKey, payload);
    // Redis down here is not fatal: the deliveries are recorded and the sweep queues them later.
    await this.enqueue(ids).catch((err: Error) => this.logger.warn(`webhooks: ${ids.length} deliveries wait for the queue: ${err.message}`));
    return ids;
  }

  /** Queues pending deliveries older than the reconcile grace (jobs that exist are left alone). */
  async resendPending(): Promise<number> {
    const ids = await this.hooks.pending(new Date(Date.now() - this.config.RECONCILE_GRACE_MS), 500);
    await this.enqueue(ids);
    return ids.length;
  }

  private async enqueue(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.queue.addBulk(ids.map((id) => ({
      name: 'deliver',
      data: { deliveryId: id },
      opts: {
        jobId: id,
        attempts: this.config.WEBHOOK_MAX_ATTEMPTS,
        backoff: { type: 'exponential', delay: this.config.WEBHOOK_RETRY_BASE_MS },
        removeOnComplete: { age: 24 * 3600 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    })));
  }

  /** One attempt: POST the signed body; a 2xx delivers, anything else is logged and retried until the attempts run out. */
  async deliver(job: Job): Promise<string> {
    const deliveryId = String((job.data as { deliveryId?: unknown }).deliveryId ?? '');
    const work = await this.hooks.work(deliveryId);
    if (!work || work.status !== 'pending') return 'skipped';
    const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const body = JSON.stringify(work.payload);
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      await assertDeliverableUrl(work.url, { allowPrivate: this.config.WEBHOOK_ALLOW_PRIVATE_HOSTS });
      const res = await fetch(work.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'bootfarm-webhooks',
          [WEBHOOK_HEADERS.event]: work.event,
          [WEBHOOK_HEADERS.delivery]: work.id,
          [WEBHOOK_HEADERS.signature]: signWebhook(work.secret, body, Math.floor(Date.now() / 1000)),
        },
        body,
        // A redirect could lead anywhere, past the address check: it counts as a failure.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.config.WEBHOOK_TIMEOUT_MS),
      });
      statusCode = res.status;
      await res.body?.cancel().catch(() => undefined);
      if (!res.ok) error = `HTTP ${res.status}`;
    } catch (err) {
      error = (err as Error).cause ? `${(err as Error).message}: ${String(((err as Error).cause as Error).message ?? (err as Error).cause)}` : (err as Error).message;
      if (err instanceof WebhookUrlRefusedError) {
        await this.hooks.noteAttempt(work.id, { status: 'failed', statusCode: null, error: `refused: ${err.message}` });
        throw new UnrecoverableError(err.message);
      }
    }
    if (error === null) {
      await this.hooks.noteAttempt(work.id, { status: 'delivered', statusCode, error: null });
      return 'delivered';
    }
    await this.hooks.noteAttempt(work.id, { status: last ? 'failed' : 'pending', statusCode, error });
    throw new Error(`delivery ${work.id} to ${new URL(work.url).host}: ${error}`);
  }
}

/** The body of `run.finished`: the run's outcome, each image's verdicts, cells per status. */
export function runFinishedEvent(run: RunDto): RunFinishedEvent {
  const cells: Record<string, number> = {};
  for (const c of run.cells) cells[c.status] = (cells[c.status] ?? 0) + 1;
  return {
    event: 'run.finished',
    run: { id: run.id, status: run.status, trigger: run.trigger, createdAt: run.createdAt, finishedAt: run.finishedAt, images: run.images, cells },
  };
}
