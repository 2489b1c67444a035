import { OpsRepository, PrismaClient } from '@bootfarm/db';
import { Global, Module } from '@nestjs/common';
import { QueueInspector } from './queue.inspector.js';
import { ReadinessService } from './readiness.service.js';
import { ReadyController } from './ready.controller.js';

/** Readiness, and the read-only views of PostgreSQL and the queues that metrics share. */
@Global()
@Module({
  controllers: [ReadyController],
  providers: [
    { provide: OpsRepository, inject: [PrismaClient], useFactory: (db: PrismaClient) => new OpsRepository(db) },
    QueueInspector,
    ReadinessService,
  ],
  exports: [OpsRepository, QueueInspector],
})
export class HealthModule {}
