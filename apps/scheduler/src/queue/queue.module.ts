import { Global, Module } from '@nestjs/common';
import { HistoryRecorder } from '../history/history.recorder.js';
import { BootQueue } from './boot.queue.js';
import { RedisConfigCheck } from './redis-config.check.js';
import { RunEnqueuer } from './run.enqueuer.js';
import { RunSettleWorker } from './run-settle.worker.js';
import { RunSettler } from './run.settler.js';

/** BullMQ: the run-flow producer, the settle worker (compliance reports and history), and the Redis configuration check. */
@Global()
@Module({ providers: [BootQueue, RunEnqueuer, RunSettler, RunSettleWorker, RedisConfigCheck, HistoryRecorder], exports: [BootQueue, RunEnqueuer, RunSettler] })
export class QueueModule {}
