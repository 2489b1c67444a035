import { ConfigError } from '@bootfarm/config';
import { BootCell, type BootCellResult } from '@bootfarm/contracts';
import { BootRepository, createPrismaClient } from '@bootfarm/db';
import { QemuLauncher } from '@bootfarm/emulator';
import { Worker } from 'bullmq';
import { mkdirSync } from 'node:fs';
import { loadWorkerConfig } from './config.js';
import { ImageCache } from './image.cache.js';
import { handleBootCell } from './processors/boot-cell.processor.js';

const log = (message: string) => console.log(`${new Date().toISOString()} [worker] ${message}`);

async function main(): Promise<void> {
  const config = loadWorkerConfig();
  mkdirSync(config.WORKER_WORK_DIR, { recursive: true });
  const prisma = createPrismaClient({ databaseUrl: config.DATABASE_URL, maxConnections: 4 + config.WORKER_CONCURRENCY });
  const deps = {
    boots: new BootRepository(prisma),
    images: new ImageCache(config.WORKER_CACHE_DIR, config.SCHEDULER_URL),
    launcher: new QemuLauncher(),
    workerId: config.WORKER_ID,
    workDir: config.WORKER_WORK_DIR,
    log,
  };
  const worker = new Worker<unknown, BootCellResult>(BootCell.queue, (job, _token, signal) => handleBootCell(deps, job, signal), {
    prefix: config.QUEUE_PREFIX,
    connection: { url: config.REDIS_URL, maxRetriesPerRequest: null },
    concurrency: config.WORKER_CONCURRENCY,
    autorun: false,
  });
  worker.on('failed', (job, err) => log(`job ${job?.id} failed (attempt ${job?.attemptsMade}): ${err.message}`));
  worker.on('error', (err) => log(`error: ${err.message}`));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: draining (up to ${config.WORKER_DRAIN_TIMEOUT_MS} ms), then cancelling running boots`);
    const drained = worker.close();
    // Past the grace period, abort running boots: their AbortSignal kills QEMU; the jobs are retried elsewhere.
    const timer = setTimeout(() => worker.cancelAllJobs('worker shutting down'), config.WORKER_DRAIN_TIMEOUT_MS);
    await drained;
    clearTimeout(timer);
    await prisma.$disconnect();
    log('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  log(`${config.WORKER_ID} serving queue "${BootCell.queue}" with concurrency ${config.WORKER_CONCURRENCY}`);
  void worker.run();
  await worker.waitUntilReady();
  log('ready');
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
