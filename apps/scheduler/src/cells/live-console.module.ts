import { Module } from '@nestjs/common';
import { ConsoleCompactor } from './console.compactor.js';
import { ConsoleHub } from './console.hub.js';
import { ConsoleStreamController } from './console-stream.controller.js';

/** GET /api/cells/:id/console/stream (needs HealthModule's OpsRepository), and the compaction of finished consoles. */
@Module({ controllers: [ConsoleStreamController], providers: [ConsoleHub, ConsoleCompactor] })
export class LiveConsoleModule {}
