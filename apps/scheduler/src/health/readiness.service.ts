import { Capability } from '@bootfarm/contracts';
import { OpsRepository } from '@bootfarm/db';
import { Inject, Injectable } from '@nestjs/common';
import { SCHEDULER_CONFIG, type SchedulerConfig } from '../config.js';
import { QueueInspector, type QueueDepth } from './queue.inspector.js';

/** `ready`; `degraded`: a Redis setting risks losing work (not ready when it is the eviction policy); `not_ready`: a dependency is down. */
export type ReadinessStatus = 'ready' | 'degraded' | 'not_ready';

/** GET /api/ready. */
export interface Readiness {
  /** Answered with 200 when true, 503 when false. */
  ready: boolean;
  status: ReadinessStatus;
  /** Why the status is not `ready`, one line each. */
  reasons: string[];
  postgres: { ok: boolean; error?: string };
  redis: { ok: boolean; error?: string; maxmemoryPolicy?: string; appendonly?: string };
  queues: (Pick<QueueDepth, 'queue' | 'capability' | 'oldestWaitingAgeMs'> & { waiting: number })[];
  /** Online workers per capability (heartbeat younger than 3 × WORKER_HEARTBEAT_MS). */
  workers: Record<Capability, number>;
  /** Capabilities with waiting jobs and no online worker: their cells wait visibly. */
  unserved: Capability[];
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Whether the scheduler can do its job now. A wrong eviction policy makes it not ready
 * (BullMQ requires noeviction: Redis could drop job keys silently); AOF off only degrades
 * it (a Redis crash would lose the work in flight, which the reconciler re-queues from PostgreSQL).
 */
@Injectable()
export class ReadinessService {
  constructor(
    private readonly ops: OpsRepository,
    private readonly queues: QueueInspector,
    @Inject(SCHEDULER_CONFIG) private readonly config: SchedulerConfig,
  ) {}

  async check(): Promise<Readiness> {
    const reasons: string[] = [];
    let unsafe = false;
    const [postgres, redis, depths, online] = await Promise.all([
      this.ops.ping().then((): Readiness['postgres'] => ({ ok: true }), (e: unknown): Readiness['postgres'] => ({ ok: false, error: message(e) })),
      this.queues.settings().then(
        (s): Readiness['redis'] => ({ ok: true, ...s }),
        (e: unknown): Readiness['redis'] => ({ ok: false, error: message(e) }),
      ),
      this.queues.depths().catch(() => [] as QueueDepth[]),
      this.ops.onlineWorkersByCapability(3 * this.config.WORKER_HEARTBEAT_MS).catch(() => new Map<string, number>()),
    ]);
    if (!postgres.ok) reasons.push(`postgres is down: ${postgres.error}`);
    if (!redis.ok) reasons.push(`redis is down: ${redis.error}`);
    if (redis.ok) {
      if (redis.maxmemoryPolicy !== 'noeviction') {
        unsafe = true;
        reasons.push(`redis maxmemory-policy is ${redis.maxmemoryPolicy}; BullMQ requires noeviction`);
      }
      if (redis.appendonly !== 'yes') reasons.push(`redis appendonly is ${redis.appendonly}; jobs in flight are lost if Redis restarts (use appendonly yes, appendfsync everysec)`);
    }
    const workers = Object.fromEntries(Capability.options.map((c) => [c, online.get(c) ?? 0])) as Record<Capability, number>;
    const queues = depths.map((d) => ({ queue: d.queue, capability: d.capability, waiting: d.counts.waiting + d.counts.prioritized, oldestWaitingAgeMs: d.oldestWaitingAgeMs }));
    const unserved = queues.filter((q) => q.capability && q.waiting > 0 && workers[q.capability] === 0).map((q) => q.capability!);
    const down = !postgres.ok || !redis.ok;
    const status: ReadinessStatus = down ? 'not_ready' : reasons.length > 0 ? 'degraded' : 'ready';
    return { ready: !down && !unsafe, status, reasons, postgres, redis, queues, workers, unserved };
  }
}
