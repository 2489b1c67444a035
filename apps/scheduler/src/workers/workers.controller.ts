import { Capability, WorkerHealth, type FleetQueuesDto, type WorkerDto } from '@bootfarm/contracts';
import { OpsRepository } from '@bootfarm/db';
import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Roles } from '../auth/roles.decorator.js';
import { ZodPipe } from '../common/zod.pipe.js';
import { QueueInspector } from '../health/queue.inspector.js';
import { WorkersService } from './workers.service.js';

/** Operators set maintenance, or unknown to force a health boot; good and bad are the workers' own verdicts. */
const SetHealthRequest = z.strictObject({ health: WorkerHealth.extract(['maintenance', 'unknown']) });

/** The worker fleet: liveness from heartbeats, health in the LAVA model. */
@ApiTags('workers')
@Controller('api/workers')
export class WorkersController {
  constructor(
    private readonly workers: WorkersService,
    private readonly queues: QueueInspector,
    private readonly ops: OpsRepository,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Workers with their capabilities, health and liveness (offline after 3 missed heartbeats)' })
  list(): Promise<WorkerDto[]> {
    return this.workers.list();
  }

  @Get('queues')
  @ApiOperation({ summary: "Boot queues' depths, and per capability the workers serving it and the cells waiting for it (farm-wide counts)" })
  async queueDepths(): Promise<FleetQueuesDto> {
    const [depths, served, waiting] = await Promise.all([this.queues.depths().catch(() => null), this.workers.servedCapabilities(), this.ops.waitingCells()]);
    const serving = new Map<Capability, number>();
    for (const w of await this.workers.list()) {
      if (w.state !== 'online' || !['good', 'unknown'].includes(w.health)) continue;
      for (const c of w.capabilities) serving.set(c, (serving.get(c) ?? 0) + 1);
    }
    return {
      redis: depths !== null,
      queues: (depths ?? []).map((d) => ({
        queue: d.queue,
        capability: d.capability,
        waiting: d.counts.waiting + d.counts.prioritized,
        active: d.counts.active,
        delayed: d.counts.delayed,
        failed: d.counts.failed,
        oldestWaitingAgeMs: d.oldestWaitingAgeMs === null ? null : Math.round(d.oldestWaitingAgeMs),
      })),
      capabilities: Capability.options.map((capability) => {
        const queuedCells = waiting.get(capability) ?? 0;
        return { capability, servingWorkers: serving.get(capability) ?? 0, queuedCells, unserved: queuedCells > 0 && !served.has(capability) };
      }),
    };
  }

  @Put(':id/health')
  @Roles('admin')
  @ApiOperation({ summary: 'Put a worker in maintenance (it finishes what it runs, takes nothing new) or send it through a health boot' })
  setHealth(@Param('id') id: string, @Body(new ZodPipe(SetHealthRequest)) body: z.output<typeof SetHealthRequest>): Promise<WorkerDto> {
    return this.workers.setHealth(id, body.health);
  }
}
