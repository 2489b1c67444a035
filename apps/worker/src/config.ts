import { databaseEnv, loadEnv, logEnv, queueEnv, redisEnv } from '@bootfarm/config';
import { Capability } from '@bootfarm/contracts';
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
  /** The worker's API token (the scheduler's BOOTFARM_WORKER_TOKEN, or one an admin created with role worker). */
  SCHEDULER_TOKEN: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(1).optional()),
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
  /**
   * Comma list of capabilities to serve (`qemu-tcg:aarch64,qemu-tcg:arm`); default: every one
   * the host probe finds runnable. A listed capability the host cannot run fails the health boot.
   */
  WORKER_CAPABILITIES: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.split(',').map((c) => c.trim())))
    .pipe(z.array(Capability).min(1).optional()),
  /** Heartbeat into the worker registry; 3 missed heartbeats read as offline. */
  WORKER_HEARTBEAT_MS: z.coerce.number().int().min(100).default(10_000),
  /** BullMQ lock of a running job (renewed at half of it while the event loop is free). */
  WORKER_LOCK_DURATION_MS: z.coerce.number().int().min(500).default(30_000),
  /** How often BullMQ looks for jobs whose worker vanished (their lock expired). */
  WORKER_STALLED_INTERVAL_MS: z.coerce.number().int().min(500).default(30_000),
  /** How long a finished boot's result write is retried while PostgreSQL is unreachable. */
  WORKER_RESULT_RETRY_MS: z.coerce.number().int().min(0).default(600_000),
  /** Limit of the health boot (the known-good probe image on each served capability). */
  WORKER_HEALTH_BOOT_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(60_000),
  /**
   * Load tests only: replay this recorded console (`.tlog`) for every boot instead of starting a
   * guest (the emulator's ReplayLauncher). Every result then says it was a replay.
   */
  WORKER_REPLAY_TRANSCRIPT: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(1).optional()),
  /** Replay speed: transcript time × this (0, the default, replays as fast as the pipeline goes; 1 is real time). */
  WORKER_REPLAY_TIME_SCALE: z.coerce.number().min(0).max(10).default(0),
});

/** The worker's validated configuration. */
export type WorkerConfig = z.infer<typeof WorkerEnv>;

/** Reads and validates the environment; throws one error listing every bad variable. */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const config = loadEnv(WorkerEnv, env);
  return { ...config, WORKER_WORK_DIR: resolve(config.WORKER_WORK_DIR), WORKER_CACHE_DIR: resolve(config.WORKER_CACHE_DIR) };
}
