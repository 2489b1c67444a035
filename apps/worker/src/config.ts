import { databaseEnv, loadEnv, logEnv, queueEnv, redisEnv } from '@bootfarm/config';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';

// The only file of the worker that reads process.env.
const WorkerEnv = z.object({
  ...databaseEnv,
  ...redisEnv,
  ...queueEnv,
  ...logEnv,
  /** Where the worker fetches images by id (and verifies their sha256). */
  SCHEDULER_URL: z.url({ protocol: /^https?$/ }),
  /** Boots this worker runs at once (~250–400 MiB of RAM and one core each under TCG). */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  /** Name shown in attempts; unique per worker process. */
  WORKER_ID: z.string().min(1).default(`${hostname()}-${process.pid}`),
  /** Per-boot scratch directories (overlay, variable store, sockets); removed after each boot. */
  WORKER_WORK_DIR: z.string().min(1).default('.bootfarm/work'),
  /** Images fetched from the scheduler, by digest. */
  WORKER_CACHE_DIR: z.string().min(1).default('.bootfarm/cache/images'),
  /** How long SIGTERM waits for running boots before cancelling them. */
  WORKER_DRAIN_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
});

/** The worker's validated configuration. */
export type WorkerConfig = z.infer<typeof WorkerEnv>;

/** Reads and validates the environment; throws one error listing every bad variable. */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const config = loadEnv(WorkerEnv, env);
  return { ...config, WORKER_WORK_DIR: resolve(config.WORKER_WORK_DIR), WORKER_CACHE_DIR: resolve(config.WORKER_CACHE_DIR) };
}
