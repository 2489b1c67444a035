import { Module } from '@nestjs/common';
import { DeadlineReaper } from './deadline.reaper.js';
import { QueueReconciler } from './queue.reconciler.js';

/** Background passes that keep Redis consistent with PostgreSQL and end lost cells. */
@Module({ providers: [QueueReconciler, DeadlineReaper], exports: [QueueReconciler, DeadlineReaper] })
export class MaintenanceModule {}
