import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/roles.decorator.js';
import { ReadinessService, type Readiness } from './readiness.service.js';

/** Readiness for load balancers and orchestrators: 200 when the scheduler can take work, 503 otherwise. */
@ApiTags('health')
@Controller('api/ready')
export class ReadyController {
  constructor(private readonly readiness: ReadinessService) {}

  @Get()
  @Public()
  @ApiOperation({ summary: 'PostgreSQL, Redis (and its BullMQ settings), queue lag and online workers per capability' })
  async ready(@Res({ passthrough: true }) res: Response): Promise<Readiness> {
    const report = await this.readiness.check();
    res.status(report.ready ? 200 : 503);
    res.setHeader('cache-control', 'no-store');
    return report;
  }
}
