import 'reflect-metadata';
import { ConfigError } from '@bootfarm/config';
import { migrateDeploy } from '@bootfarm/db';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Server } from 'node:http';
import { AppModule } from './app.module.js';
import { loadSchedulerConfig } from './config.js';
import { serveOpenApi } from './openapi.js';

async function bootstrap(): Promise<void> {
  const config = loadSchedulerConfig();
  const logger = new Logger('Scheduler');
  if (config.MIGRATE_ON_START) {
    const { applied } = await migrateDeploy({ databaseUrl: config.DATABASE_URL });
    logger.log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database schema is up to date');
  }
  const app = await NestFactory.create(AppModule.forRoot(config), {
    logger: levels(config.LOG_LEVEL),
    bodyParser: true,
  });
  app.enableShutdownHooks();
  serveOpenApi(app);
  const server = app.getHttpServer() as Server;
  // Slow or stalled clients must not hold a connection forever.
  server.headersTimeout = 30_000;
  server.requestTimeout = 0; // uploads are long; the image store's idle guard bounds them instead
  await app.listen(config.SCHEDULER_PORT, config.SCHEDULER_HOST);
  logger.log(`listening on ${await app.getUrl()}`);
}

function levels(level: string) {
  const all = ['error', 'warn', 'log', 'debug', 'verbose'] as const;
  return all.slice(0, all.indexOf(level as (typeof all)[number]) + 1);
}

bootstrap().catch((err: unknown) => {
  // Configuration errors list every bad variable; print them plainly, no stack.
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
