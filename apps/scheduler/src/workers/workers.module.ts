import { PrismaClient, WorkerRepository } from '@bootfarm/db';
import { Module } from '@nestjs/common';
import { WorkersController } from './workers.controller.js';
import { WorkersService } from './workers.service.js';

/** GET /api/workers, PUT /api/workers/:id/health, and the `waitingFor` of queued cells. */
@Module({
  providers: [{ provide: WorkerRepository, inject: [PrismaClient], useFactory: (db: PrismaClient) => new WorkerRepository(db) }, WorkersService],
  controllers: [WorkersController],
  exports: [WorkersService],
})
export class WorkersModule {}
