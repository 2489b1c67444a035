import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AuthModule } from './auth/auth.module.js';
import { CellsController } from './cells/cells.controller.js';
import { ComplianceController } from './compliance/compliance.controller.js';
import { ApiExceptionFilter } from './common/exception.filter.js';
import { SCHEDULER_CONFIG, type SchedulerConfig } from './config.js';
import { DashboardModule } from './dashboard/dashboard.module.js';
import { DatabaseModule } from './database/database.module.js';
import { HealthController } from './health/health.controller.js';
import { HealthModule } from './health/health.module.js';
import { HistoryModule } from './history/history.module.js';
import { LiveConsoleModule } from './cells/live-console.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { ImageInspector } from './images/image.inspector.js';
import { ImageStore } from './images/image.store.js';
import { ImagesController } from './images/images.controller.js';
import { ImagesService } from './images/images.service.js';
import { MaintenanceModule } from './maintenance/maintenance.module.js';
import { NightlyModule } from './nightly/nightly.module.js';
import { QueueModule } from './queue/queue.module.js';
import { RunsController } from './runs/runs.controller.js';
import { RunsService } from './runs/runs.service.js';
import { VendorModule } from './vendors/vendor.context.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';
import { WorkersModule } from './workers/workers.module.js';

/** Config is global: every module may inject it. */
@Module({})
class ConfigModule {
  static forRoot(config: SchedulerConfig): DynamicModule {
    return { module: ConfigModule, global: true, providers: [{ provide: SCHEDULER_CONFIG, useValue: config }], exports: [SCHEDULER_CONFIG] };
  }
}

/** The scheduler: HTTP API, image intake, run creation and the boot queue's producer. */
@Module({})
export class AppModule {
  static forRoot(config: SchedulerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), LoggingModule.forRoot(config), DatabaseModule, QueueModule, VendorModule, AuthModule, MaintenanceModule, NightlyModule, WorkersModule, HealthModule, MetricsModule, LiveConsoleModule, WebhooksModule, HistoryModule, ...(config.DASHBOARD_DIR ? [DashboardModule.forRoot(config.DASHBOARD_DIR)] : [])],
      controllers: [ImagesController, RunsController, CellsController, ComplianceController, HealthController],
      providers: [ImageStore, ImageInspector, ImagesService, RunsService, { provide: APP_FILTER, useClass: ApiExceptionFilter }],
    };
  }
}
