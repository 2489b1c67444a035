import { Capability, capabilityFor, type CellDto, type WorkerDto } from '@bootfarm/contracts';
import { WorkerRepository } from '@bootfarm/db';
import { Inject, Injectable } from '@nestjs/common';
import { SCHEDULER_CONFIG, type SchedulerConfig } from '../config.js';
import { NotFoundError } from '../common/errors.js';

/** A worker whose last heartbeat is older than this many intervals reads as offline (LAVA's 3 × ping). */
const MISSED_HEARTBEATS = 3;

/** The worker registry as operators and vendors see it. */
@Injectable()
export class WorkersService {
  private readonly staleAfterMs: number;

  constructor(
    private readonly workers: WorkerRepository,
    @Inject(SCHEDULER_CONFIG) config: SchedulerConfig,
  ) {
    this.staleAfterMs = MISSED_HEARTBEATS * config.WORKER_HEARTBEAT_MS;
  }

  list(): Promise<WorkerDto[]> {
    return this.workers.list(this.staleAfterMs);
  }

  /** Capabilities an online worker in good or unknown health can take work for now. */
  servedCapabilities(): Promise<Set<Capability>> {
    return this.workers.servedCapabilities(this.staleAfterMs);
  }

  /** An operator's health change; the worker picks it up on its next heartbeat. */
  async setHealth(id: string, health: 'maintenance' | 'unknown'): Promise<WorkerDto> {
    const reason = health === 'maintenance' ? 'set to maintenance by an operator' : 'health boot requested by an operator';
    const updated = await this.workers.setHealthByOperator(id, health, reason);
    if (!updated) throw new NotFoundError(`worker ${id.slice(0, 200)} not found`);
    return (await this.workers.find(id, this.staleAfterMs)) ?? updated;
  }

  /**
   * The run with `waitingFor` set on each queued cell that no online worker in good or unknown
   * health can take: the cell waits visibly for a capable worker instead of failing.
   */
  async withWaitingFor<C extends CellDto, R extends { cells: C[] }>(run: R): Promise<R> {
    if (!run.cells.some((c) => c.status === 'queued')) return run;
    const served = await this.workers.servedCapabilities(this.staleAfterMs);
    return {
      ...run,
      cells: run.cells.map((cell) => {
        if (cell.status !== 'queued') return cell;
        const needed = Capability.safeParse(capabilityFor(cell.profile));
        return { ...cell, waitingFor: needed.success && !served.has(needed.data) ? needed.data : null };
      }),
    };
  }
}
