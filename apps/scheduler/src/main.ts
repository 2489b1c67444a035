import 'reflect-metadata';
import { ConfigError } from '@bootfarm/config';
import { migrateDeploy } from '@bootfarm/db';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger as PinoLogger } from 'nestjs-pino';
import type { Server } from 'node:http';
import { AppModule } from './app.module.js';
import { loadSchedulerConfig } from './config.js';
import { serveOpenApi } from './openapi.js';

async function bootstrap(): Promise<void> {
  const config = loadSchedulerConfig();
  // Logs are buffered until pino is in place, so every line, the first included, is JSON.
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(PinoLogger));
  const logger = new Logger('Scheduler');
  // Before init: module init hooks query the schema.
  if (config.MIGRATE_ON_START) {
    const { applied } = await migrateDeploy({ databaseUrl: config.DATABASE_URL });
    logger.log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database schema is up to date');
  }
  // JSON only, and small: uploads are streamed (octet-stream) and never pass through a parser.
  app.useBodyParser('json', { limit: config.JSON_BODY_MAX_BYTES });
  app.enableShutdownHooks();
  serveOpenApi(app);
  const server = app.getHttpServer() as Server;
  // Slow or stalled clients must not hold a connection forever.
  server.headersTimeout = 30_000;
  server.requestTimeout = 0; // uploads are long; the image store's idle guard bounds them instead
  await app.listen(config.SCHEDULER_PORT, config.SCHEDULER_HOST);
  logger.log(`listening on ${await app.getUrl()}`);
}

bootstrap().catch((err: unknown) => {
  // Configuration errors list every bad variable; print them plainly, no stack.
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
