import { NightlyTrigger, type NightlyTriggerResult } from '@bootfarm/contracts';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { SCHEDULER_CONFIG, type SchedulerConfig } from '../config.js';
import { NightlyService, utcDate } from './nightly.service.js';

/** BullMQ's job-scheduler id of the nightly schedule. WARNING: persisted in Redis; never rename. */
export const NIGHTLY_SCHEDULER_ID = 'nightly';

/**
 * The nightly schedule. Only the replica with NIGHTLY_OWNER=true upserts the BullMQ job scheduler
 * (several upserting replicas are a known source of duplicate or vanished schedules); every
 * replica processes `nightly.trigger` jobs, and the night is the UTC date of the job's scheduled
 * fire time, so a late or redelivered job still books the right night, once.
 */
@Injectable()
export class NightlyScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(NightlyScheduler.name);
  private readonly queue: Queue;
  private worker: Worker | null = null;

  constructor(
    @Inject(SCHEDULER_CONFIG) private readonly config: SchedulerConfig,
    private readonly nightly: NightlyService,
  ) {
    this.queue = new Queue(NightlyTrigger.queue, { prefix: config.QUEUE_PREFIX, connection: { url: config.REDIS_URL, enableOfflineQueue: false, maxRetriesPerRequest: 1 } });
    this.queue.on('error', (err) => this.logger.warn(`redis: ${err.message}`));
  }

  async onApplicationBootstrap(): Promise<void> {
    this.worker = new Worker<unknown, NightlyTriggerResult>(NightlyTrigger.queue, (job) => this.handleNightlyTrigger(job), {
      prefix: this.config.QUEUE_PREFIX,
      connection: { url: this.config.REDIS_URL, maxRetriesPerRequest: null },
    });
    this.worker.on('error', (err) => this.logger.warn(`redis: ${err.message}`));
    this.worker.on('failed', (job, err) => this.logger.warn(`${NightlyTrigger.name} ${job?.id} failed: ${err.message}`));
    if (!this.config.NIGHTLY_OWNER) return;
    try {
      await this.queue.upsertJobScheduler(
        NIGHTLY_SCHEDULER_ID,
        { pattern: this.config.NIGHTLY_CRON, tz: 'UTC' },
        { name: NightlyTrigger.name, data: {}, opts: { attempts: NightlyTrigger.opts.attempts, backoff: NightlyTrigger.opts.backoff, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
      );
      this.logger.log(`nightly schedule owned by this replica: "${this.config.NIGHTLY_CRON}" UTC`);
    } catch (err) {
      this.logger.warn(`could not upsert the nightly schedule: ${(err as Error).message}`);
    }
  }

  async handleNightlyTrigger(job: Job): Promise<NightlyTriggerResult> {
    const parsed = NightlyTrigger.data.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid ${NightlyTrigger.name} payload: ${parsed.error.message}`);
    const date = parsed.data.date ?? utcDate(new Date(scheduledAt(job)));
    return this.nightly.runNight(date);
  }

  /** Replays a night through the queue (the same path as the schedule); the job id makes a replay once. */
  async replay(date: string): Promise<void> {
    const data = NightlyTrigger.data.parse({ date });
    await this.queue.add(NightlyTrigger.name, data, { jobId: NightlyTrigger.jobId(data), removeOnComplete: true, removeOnFail: true });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}

/** When the scheduler meant the job to run: its scheduled fire time, not when a worker got to it. */
function scheduledAt(job: Job): number {
  const opts = job.opts as { prevMillis?: number; delay?: number };
  return opts.prevMillis ?? job.timestamp + (opts.delay ?? 0);
}
