import { Module } from '@nestjs/common';
import { NightlyController } from './nightly.controller.js';
import { NightlyScheduler } from './nightly.scheduler.js';
import { NightlyService } from './nightly.service.js';

/** Nightly registrations, the schedule and its runs. */
@Module({
  controllers: [NightlyController],
  providers: [NightlyService, NightlyScheduler],
  exports: [NightlyService, NightlyScheduler],
})
export class NightlyModule {}
