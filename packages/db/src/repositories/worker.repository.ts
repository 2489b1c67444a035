import { Capability, WorkerHealth, WorkerState, type WorkerDto } from '@bootfarm/contracts';
import type { Prisma, PrismaClient } from '../client.js';
import type { Worker } from '../generated/prisma/client.js';

/** What a worker says about itself when it starts. */
export interface WorkerRegistration {
  id: string;
  host: string;
  capabilities: Capability[];
  /** The emulator core's HostCapabilities (plain JSON). */
  probe: Record<string, unknown>;
  concurrency: number;
  health: WorkerHealth;
  healthReason: string | null;
}

/** A worker's health as PostgreSQL holds it (an operator may have changed it). */
export interface StoredHealth {
  health: WorkerHealth;
  reason: string | null;
}

/**
 * The worker registry: one row per worker process, its heartbeat and its health (the LAVA
 * model). Liveness is derived at read time: a heartbeat older than `staleAfterMs` reads as offline,
 * so a SIGKILLed worker needs nobody to mark it.
 */
export class WorkerRepository {
  constructor(private readonly db: PrismaClient) {}

  /** Registers (or re-registers) a worker: online, heartbeat now. */
  async register(w: WorkerRegistration): Promise<void> {
    const now = new Date();
    const data = {
      host: w.host,
      capabilities: w.capabilities,
      probe: w.probe as Prisma.InputJsonValue,
      concurrency: w.concurrency,
      health: w.health,
      healthReason: w.healthReason,
      healthChangedAt: now,
      state: 'online',
      startedAt: now,
      lastHeartbeatAt: now,
    };
    await this.db.worker.upsert({ where: { id: w.id }, create: { id: w.id, ...data }, update: data });
  }

  /**
   * Records a heartbeat (and the worker's state) and returns the stored health, which an operator
   * may have changed since (maintenance, or unknown to force a health boot). Null when the row is gone.
   */
  async heartbeat(id: string, state: Exclude<WorkerState, 'offline'>): Promise<StoredHealth | null> {
    const rows = await this.db.worker.updateManyAndReturn({
      where: { id },
      data: { lastHeartbeatAt: new Date(), state },
      select: { health: true, healthReason: true },
    });
    const row = rows[0];
    return row ? { health: WorkerHealth.parse(row.health), reason: row.healthReason } : null;
  }

  /**
   * A health transition decided by the worker itself. Never overrides an operator's maintenance
   * (only an operator ends it). Returns false when the stored health was maintenance.
   */
  async setHealthByWorker(id: string, health: Exclude<WorkerHealth, 'maintenance'>, reason: string): Promise<boolean> {
    const { count } = await this.db.worker.updateMany({
      where: { id, health: { not: 'maintenance' } },
      data: { health, healthReason: reason, healthChangedAt: new Date() },
    });
    return count === 1;
  }

  /** An operator's health change (maintenance, or unknown to send the worker through a health boot). */
  async setHealthByOperator(id: string, health: 'maintenance' | 'unknown', reason: string): Promise<WorkerDto | null> {
    const rows = await this.db.worker.updateManyAndReturn({ where: { id }, data: { health, healthReason: reason, healthChangedAt: new Date() } });
    return rows[0] ? toWorkerDto(rows[0], Number.POSITIVE_INFINITY, new Date()) : null;
  }

  /** The worker's own state change (draining on SIGTERM, offline on exit). */
  async setState(id: string, state: WorkerState): Promise<void> {
    await this.db.worker.updateMany({ where: { id }, data: { state, lastHeartbeatAt: new Date() } });
  }

  /** Every worker, newest start first, with liveness derived from the heartbeat age. */
  async list(staleAfterMs: number, now = new Date()): Promise<WorkerDto[]> {
    const rows = await this.db.worker.findMany({ orderBy: [{ startedAt: 'desc' }, { id: 'asc' }] });
    return rows.map((r) => toWorkerDto(r, staleAfterMs, now));
  }

  /** One worker, or null. */
  async find(id: string, staleAfterMs: number, now = new Date()): Promise<WorkerDto | null> {
    const row = await this.db.worker.findUnique({ where: { id } });
    return row ? toWorkerDto(row, staleAfterMs, now) : null;
  }

  /**
   * Capabilities some worker can take work for right now: online (fresh heartbeat, not draining)
   * and in good or unknown health (unknown runs its health boot, then takes the work).
   */
  async servedCapabilities(staleAfterMs: number, now = new Date()): Promise<Set<Capability>> {
    const rows = await this.db.worker.findMany({
      where: { state: 'online', health: { in: ['good', 'unknown'] }, lastHeartbeatAt: { gte: new Date(now.getTime() - staleAfterMs) } },
      select: { capabilities: true },
    });
    return new Set(rows.flatMap((r) => r.capabilities.flatMap((c) => (Capability.safeParse(c).success ? [c as Capability] : []))));
  }
}

/** Row to API shape; a stale heartbeat reads as offline whatever the row says. */
function toWorkerDto(r: Worker, staleAfterMs: number, now: Date): WorkerDto {
  const stale = now.getTime() - r.lastHeartbeatAt.getTime() > staleAfterMs;
  return {
    id: r.id,
    host: r.host,
    capabilities: r.capabilities.flatMap((c) => (Capability.safeParse(c).success ? [c as Capability] : [])),
    concurrency: r.concurrency,
    health: WorkerHealth.parse(r.health),
    healthReason: r.healthReason,
    healthChangedAt: r.healthChangedAt.toISOString(),
    state: stale ? 'offline' : WorkerState.parse(r.state),
    startedAt: r.startedAt.toISOString(),
    lastHeartbeatAt: r.lastHeartbeatAt.toISOString(),
  };
}
