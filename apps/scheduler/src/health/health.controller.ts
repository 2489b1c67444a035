import { PrismaClient } from '@bootfarm/db';
import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/roles.decorator.js';
import { BootQueue } from '../queue/boot.queue.js';

/** Liveness of the scheduler's dependencies, and whether Redis is configured as BullMQ requires. */
@ApiTags('health')
@Public()
@Controller('api/health')
export class HealthController {
  constructor(
    private readonly db: PrismaClient,
    private readonly queue: BootQueue,
  ) {}

  @Get()
  @Public()
  @ApiOperation({ summary: 'Liveness: ok / degraded / down, per dependency (see /api/ready for readiness)' })
  async health(@Res({ passthrough: true }) res: Response) {
    const database = await this.db.$queryRaw`SELECT 1`.then(() => 'ok', (e: Error) => `down: ${e.message}`);
    const policy = await this.queue.evictionPolicy().catch((e: Error) => `down: ${e.message}`);
    const redis = policy === 'noeviction' ? 'ok' : policy.startsWith('down') ? policy : `degraded: maxmemory-policy is ${policy}, BullMQ needs noeviction`;
    const status = [database, redis].some((s) => s.startsWith('down')) ? 'down' : redis === 'ok' ? 'ok' : 'degraded';
    if (status === 'down') res.status(503);
    return { status, database, redis };
  }
}
