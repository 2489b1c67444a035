import type { WorkerHealth } from '@bootfarm/contracts';
import type { StoredHealth, WorkerRepository } from '@bootfarm/db';
import type { HealthBootResult } from './health.boot.js';
import type { WorkerLog } from './worker.log.js';

/** What the health monitor uses. */
export interface HealthMonitorDeps {
  registry: Pick<WorkerRepository, 'setHealthByWorker'>;
  workerId: string;
  log: WorkerLog;
  /** Runs the health boot (holding a boot slot). */
  healthBoot: () => Promise<HealthBootResult>;
  /** Called after every transition (the consumers open or close). */
  onChange: (health: WorkerHealth) => void;
}

/**
 * The worker's health, as in LAVA. It starts `unknown` and runs a health boot: pass → `good`
 * (takes vendor work), fail → `bad` (takes nothing, keeps heartbeating, visible). An
 * infrastructure failure of a vendor cell makes a good worker `unknown` again, so it runs a health
 * boot before its next vendor job. `maintenance` (and `unknown`, to force a health boot) come from
 * an operator through PostgreSQL and are picked up on the next heartbeat; only an operator ends
 * maintenance. Every transition is logged and stored with its reason.
 */
export class HealthMonitor {
  private current: WorkerHealth = 'unknown';
  private reason = 'starting: health boot pending';
  /** The health PostgreSQL holds as far as this worker knows (an operator's change shows as a difference). */
  private persisted: WorkerHealth = 'unknown';
  /** A transition that could not be stored yet (PostgreSQL down): written on the next heartbeat. */
  private dirty = false;
  private checking: Promise<void> | null = null;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: HealthMonitorDeps) {}

  get health(): WorkerHealth {
    return this.current;
  }

  get healthReason(): string {
    return this.reason;
  }

  /** Starts the first health boot (the worker registered itself as unknown). */
  start(): void {
    this.scheduleCheck();
  }

  /** A vendor cell failed for an infrastructure reason: good → unknown, then a health boot. */
  infrastructureFailure(cellId: string, reason: string): void {
    void this.serial(async () => {
      if (this.current !== 'good') return;
      await this.transition('unknown', `infrastructure failure of cell ${cellId}: ${reason}`, { cellId });
    });
  }

  /** The health stored in PostgreSQL, read by a heartbeat. */
  observe(stored: StoredHealth): Promise<void> {
    return this.serial(async () => {
      if (this.dirty) {
        await this.persist();
        if (stored.health !== 'maintenance') return;
      }
      if (stored.health === this.persisted) return;
      if (stored.health === 'maintenance') {
        this.persisted = 'maintenance';
        await this.transition('maintenance', stored.reason ?? 'set to maintenance by an operator', { by: 'operator' });
      } else if (stored.health === 'unknown') {
        this.persisted = 'unknown';
        await this.transition('unknown', stored.reason ?? 'health boot requested by an operator', { by: 'operator' });
      } else {
        this.persisted = stored.health;
      }
    });
  }

  /** Waits for a running health boot (tests, shutdown). */
  async settled(): Promise<void> {
    await this.checking;
  }

  private async transition(to: WorkerHealth, reason: string, fields: Record<string, unknown> = {}): Promise<void> {
    const from = this.current;
    this.current = to;
    this.reason = reason;
    this.deps.log(`health ${from} -> ${to}: ${reason}`, { event: 'health', from, to, reason, ...fields });
    this.deps.onChange(to);
    if (to !== 'maintenance') await this.persist();
    if (to === 'unknown') this.scheduleCheck();
  }

  private async persist(): Promise<void> {
    if (this.current === 'maintenance') {
      this.dirty = false;
      return;
    }
    try {
      const stored = await this.deps.registry.setHealthByWorker(this.deps.workerId, this.current, this.reason);
      // Not stored means an operator's maintenance is in place: the next heartbeat adopts it.
      if (stored) this.persisted = this.current;
      this.dirty = false;
    } catch (err) {
      this.dirty = true;
      this.deps.log.warn(`could not store health ${this.current}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private scheduleCheck(): void {
    if (this.checking) return;
    this.checking = this.check().finally(() => {
      this.checking = null;
      // An infrastructure failure or an operator may have asked for another one meanwhile.
      if (this.current === 'unknown') this.scheduleCheck();
    });
  }

  private async check(): Promise<void> {
    this.deps.log('health boot starting', { event: 'health_boot' });
    const result = await this.deps.healthBoot();
    await this.serial(async () => {
      if (this.current !== 'unknown') return; // an operator moved it meanwhile (maintenance)
      await this.transition(result.passed ? 'good' : 'bad', result.reason);
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => {});
    return next;
  }
}
