import { Capability, WorkerHealth, WorkerState } from '@bootfarm/contracts';
import { OpsRepository } from '@bootfarm/db';
import { Inject, Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { SCHEDULER_CONFIG, type SchedulerConfig } from '../config.js';
import { QUEUE_STATES, QueueInspector } from '../health/queue.inspector.js';
import { SqlHistogram } from './sql.histogram.js';

/** Upper bounds of the boot-duration buckets, in seconds (a probe boot is ~1 s, a Linux boot a few). */
export const BOOT_DURATION_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600] as const;

/**
 * The scheduler's Prometheus metrics, built with prom-client (the standard Node client).
 * Farm numbers are read from PostgreSQL and Redis at scrape time — one snapshot per scrape —
 * so they are the farm's, not this process's: any replica answers the same.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly up = new Gauge({ name: 'bootfarm_dependency_up', help: 'Whether a dependency answered during this scrape (1) or not (0)', labelNames: ['dependency'], registers: [this.registry] });
  private readonly queueJobs = new Gauge({ name: 'bootfarm_queue_jobs', help: 'Jobs in a boot queue by state', labelNames: ['queue', 'state'], registers: [this.registry] });
  private readonly queueOldest = new Gauge({ name: 'bootfarm_queue_oldest_waiting_seconds', help: 'Age of the oldest job waiting in a boot queue (0 when none waits)', labelNames: ['queue'], registers: [this.registry] });
  private readonly boots = new Counter({ name: 'bootfarm_boots_total', help: 'Cells with a result, by outcome and capability (from PostgreSQL)', labelNames: ['capability', 'outcome'], registers: [this.registry] });
  private readonly durations: SqlHistogram;
  private readonly workers = new Gauge({ name: 'bootfarm_workers', help: 'Registered workers by health and state', labelNames: ['health', 'state'], registers: [this.registry] });
  private readonly workersOnline = new Gauge({ name: 'bootfarm_workers_online', help: 'Online workers with a fresh heartbeat, by capability they serve', labelNames: ['capability'], registers: [this.registry] });
  private readonly cellsWaiting = new Gauge({ name: 'bootfarm_cells_waiting', help: 'Cells queued and not yet started, by capability', labelNames: ['capability'], registers: [this.registry] });

  constructor(
    private readonly ops: OpsRepository,
    private readonly queues: QueueInspector,
    @Inject(SCHEDULER_CONFIG) private readonly config: SchedulerConfig,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'bootfarm_scheduler_' });
    this.durations = new SqlHistogram('bootfarm_boot_duration_seconds', 'Boot durations (result.duration_ms) by capability, bucketed in PostgreSQL at scrape time', BOOT_DURATION_BUCKETS, this.registry);
  }

  private inFlight: Promise<string> | null = null;

  /**
   * The exposition text after refreshing every farm metric. Concurrent scrapes share one
   * refresh: two refreshes interleaving their reset() and set() calls would mix snapshots.
   */
  scrape(): Promise<string> {
    this.inFlight ??= (async () => {
      try {
        await Promise.all([this.refreshDatabase(), this.refreshQueues()]);
        return await this.registry.metrics();
      } finally {
        this.inFlight = null;
      }
    })();
    return this.inFlight;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private async refreshDatabase(): Promise<void> {
    try {
      const [boots, histograms, workers, online, waiting] = await Promise.all([
        this.ops.bootCounts(),
        this.ops.durationHistograms(BOOT_DURATION_BUCKETS),
        this.ops.workerCounts(),
        this.ops.onlineWorkersByCapability(3 * this.config.WORKER_HEARTBEAT_MS),
        this.ops.waitingCells(),
      ]);
      this.boots.reset();
      for (const b of boots) this.boots.inc({ capability: b.capability, outcome: b.outcome }, b.count);
      this.durations.set(histograms);
      this.workers.reset();
      // Every known health × state pair is present (0 included), so alerts need no absent().
      for (const health of WorkerHealth.options) for (const state of WorkerState.options) this.workers.set({ health, state }, 0);
      for (const w of workers) this.workers.set({ health: w.health, state: w.state }, w.count);
      this.workersOnline.reset();
      this.cellsWaiting.reset();
      for (const c of Capability.options) {
        this.workersOnline.set({ capability: c }, online.get(c) ?? 0);
        this.cellsWaiting.set({ capability: c }, waiting.get(c) ?? 0);
      }
      this.up.set({ dependency: 'postgres' }, 1);
    } catch {
      this.up.set({ dependency: 'postgres' }, 0);
    }
  }

  private async refreshQueues(): Promise<void> {
    try {
      const depths = await this.queues.depths();
      this.queueJobs.reset();
      this.queueOldest.reset();
      for (const d of depths) {
        for (const state of QUEUE_STATES) this.queueJobs.set({ queue: d.queue, state }, d.counts[state]);
        this.queueOldest.set({ queue: d.queue }, (d.oldestWaitingAgeMs ?? 0) / 1000);
      }
      this.up.set({ dependency: 'redis' }, 1);
    } catch {
      this.up.set({ dependency: 'redis' }, 0);
    }
  }
}
