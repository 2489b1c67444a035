import { Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';

/** GET /metrics (needs HealthModule's OpsRepository and QueueInspector). */
@Module({ controllers: [MetricsController], providers: [MetricsService] })
export class MetricsModule {}
