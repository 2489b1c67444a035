import { ConfigError } from '@bootfarm/config';
import type { Capability } from '@bootfarm/contracts';
import { BootRepository, createPrismaClient, RunRepository, WorkerRepository } from '@bootfarm/db';
import { probeHostCapabilities, QemuLauncher, ReplayLauncher, type BootBackend } from '@bootfarm/emulator';
import { hostname } from 'node:os';
import { BootConsumers } from './boot.consumers.js';
import { loadWorkerConfig } from './config.js';
import { retryWhileDatabaseUnavailable } from './db.retry.js';
import { runHealthBoot } from './health.boot.js';
import { HealthMonitor } from './health.monitor.js';
import { ImageCache } from './image.cache.js';
import { handleBootCell, type BootCellDeps } from './processors/boot-cell.processor.js';
import { ScratchDirs } from './scratch.dirs.js';
import { resolveServedCapabilities } from './served.capabilities.js';
import { SlotPool } from './slot.pool.js';
import { createWorkerLog } from './worker.log.js';
import { WorkerRegistry } from './worker.registry.js';

async function main(): Promise<void> {
  const config = loadWorkerConfig();
  const log = createWorkerLog(config.WORKER_ID);
  const scratch = new ScratchDirs(config.WORKER_WORK_DIR);
  const removed = scratch.removeStale();
  if (removed.length > 0) log(`removed ${removed.length} scratch directories left by workers that are gone`, { event: 'scratch_cleanup', removed });

  const host = await probeHostCapabilities();
  const served = resolveServedCapabilities(host, config.WORKER_CAPABILITIES);
  const launchers = { tcg: new QemuLauncher({ host }), kvm: new QemuLauncher({ backend: 'qemu-kvm', host }) };
  const replay = config.WORKER_REPLAY_TRANSCRIPT;
  if (replay) log(`replaying ${replay} for every boot: no guest runs (load tests only)`, { event: 'replay' });
  const replayLauncher = replay ? new ReplayLauncher({ transcriptFor: () => replay, timeScale: config.WORKER_REPLAY_TIME_SCALE }) : null;
  const launcherFor = (c: Capability): BootBackend => replayLauncher ?? (c.startsWith('qemu-kvm:') ? launchers.kvm : launchers.tcg);

  const prisma = createPrismaClient({ databaseUrl: config.DATABASE_URL, maxConnections: 4 + config.WORKER_CONCURRENCY });
  const workers = new WorkerRepository(prisma);
  let stopping = false;
  let consumers: BootConsumers | null = null;
  const slots = new SlotPool(config.WORKER_CONCURRENCY, () => consumers?.refresh());
  const monitor: HealthMonitor = new HealthMonitor({
    registry: workers,
    workerId: config.WORKER_ID,
    log,
    healthBoot: () =>
      slots.with(() =>
        runHealthBoot({ served, launcherFor, scratchDir: () => scratch.next('health'), timeoutMs: config.WORKER_HEALTH_BOOT_TIMEOUT_MS }),
      ),
    onChange: (health) => consumers?.setAccepting(health === 'good' && !stopping),
  });
  const registry = new WorkerRegistry(
    workers,
    () => ({
      id: config.WORKER_ID,
      host: hostname(),
      capabilities: [...served.serve, ...served.unrunnable.map((u) => u.capability)],
      probe: { ...host, unrunnable: served.unrunnable } as unknown as Record<string, unknown>,
      concurrency: config.WORKER_CONCURRENCY,
      health: monitor.health,
      healthReason: monitor.healthReason,
    }),
    config.WORKER_HEARTBEAT_MS,
    log,
    (stored) => monitor.observe(stored),
  );
  await registry.registerPatiently();

  const deps: Omit<BootCellDeps, 'launcher'> = {
    boots: new BootRepository(prisma),
    runs: new RunRepository(prisma),
    images: new ImageCache(config.WORKER_CACHE_DIR, config.SCHEDULER_URL, config.SCHEDULER_TOKEN),
    workerId: config.WORKER_ID,
    workDir: config.WORKER_WORK_DIR,
    log: (message) => log(message),
    scratchDir: (_attemptId, suffix) => scratch.next(suffix),
    onInfrastructureFailure: (cellId, reason) => monitor.infrastructureFailure(cellId, reason),
    writeResult: (write) =>
      retryWhileDatabaseUnavailable(write, {
        boundMs: config.WORKER_RESULT_RETRY_MS,
        onRetry: (err, attempt, delayMs) =>
          log.warn(`result write failed (PostgreSQL unavailable), retry ${attempt} in ${delayMs} ms: ${(err as Error).message}`, { event: 'result_retry' }),
      }),
  };
  consumers = new BootConsumers({
    capabilities: served.serve,
    slots,
    prefix: config.QUEUE_PREFIX,
    redisUrl: config.REDIS_URL,
    lockDurationMs: config.WORKER_LOCK_DURATION_MS,
    stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS,
    log,
    process: (capability, job, signal) => handleBootCell({ ...deps, launcher: launcherFor(capability) }, job, signal),
  });

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: draining (up to ${config.WORKER_DRAIN_TIMEOUT_MS} ms), then cancelling running boots`, { event: 'draining' });
    await registry.draining();
    const drained = consumers.close();
    // Past the grace period, abort running boots: their AbortSignal kills QEMU; the jobs are retried elsewhere.
    const timer = setTimeout(() => consumers.cancelAll('worker shutting down'), config.WORKER_DRAIN_TIMEOUT_MS);
    await drained;
    clearTimeout(timer);
    await registry.offline();
    await prisma.$disconnect();
    log('stopped', { event: 'stopped' });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  registry.start();
  await consumers.waitUntilReady();
  consumers.startStalledChecks();
  log(`serving ${served.serve.join(', ') || 'nothing'} (queues ${consumers.queues.join(', ') || 'none'}) with ${config.WORKER_CONCURRENCY} boot slots`, {
    event: 'ready',
    capabilities: served.serve,
    unrunnable: served.unrunnable,
  });
  monitor.start();
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
