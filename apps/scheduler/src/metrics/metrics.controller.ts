import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/roles.decorator.js';
import { MetricsService } from './metrics.service.js';

/** Prometheus exposition (text format 0.0.4) at /metrics, outside /api as scrapers expect. */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Public()
  async scrape(@Res() res: Response): Promise<void> {
    const body = await this.metrics.scrape();
    res.status(200).setHeader('content-type', this.metrics.contentType);
    res.setHeader('cache-control', 'no-store');
    res.end(body);
  }
}
