import { Global, Module } from '@nestjs/common';
import { BootQueue } from './boot.queue.js';

/** BullMQ producers. */
@Global()
@Module({ providers: [BootQueue], exports: [BootQueue] })
export class QueueModule {}
