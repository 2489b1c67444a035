import { databaseEnv, loadEnv, logEnv, queueEnv, redisEnv } from '@bootfarm/config';
import { resolve } from 'node:path';
import { z } from 'zod';

// The only file of the scheduler that reads process.env.

/** An API token secret; an empty value (as a compose env file writes it) means unset. */
const TokenSecret = z.preprocess(
  (v) => (v === '' ? undefined : v),
  z.string().regex(/^bft_[A-Za-z0-9_-]{43}$/, 'bft_ followed by 43 base64url characters (32 random bytes)').optional(),
);

const SchedulerEnv = z.object({
  ...databaseEnv,
  ...redisEnv,
  ...queueEnv,
  ...logEnv,
  /** Address to listen on; loopback unless deployed behind a proxy. */
  SCHEDULER_HOST: z.string().default('127.0.0.1'),
  SCHEDULER_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Content-addressed, read-only store of uploaded images (plus its quarantine area). */
  IMAGE_STORE_DIR: z.string().min(1).default('.bootfarm/images'),
  /** Largest accepted upload, counted while streaming (Content-Length is not trusted). */
  UPLOAD_MAX_BYTES: z.coerce.number().int().positive().default(8 * 1024 ** 3),
  /** An upload that sends nothing for this long is dropped. */
  UPLOAD_IDLE_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
  /** Largest virtual disk accepted (a small qcow2 can claim 64 TiB). */
  INSPECT_MAX_VIRTUAL_BYTES: z.coerce.number().int().positive().default(64 * 1024 ** 3),
  /** Wall and CPU time allowed to the inspector and to qemu-img info per upload. */
  INSPECT_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  /** Address-space limit of the inspector and qemu-img processes. */
  INSPECT_ADDRESS_SPACE_BYTES: z.coerce.number().int().positive().default(2 * 1024 ** 3),
  /**
   * Operator-chosen API token secrets (`bft_` + 43 base64url characters), registered at start:
   * an admin token of the vendor `operators`, and the token workers send (their SCHEDULER_TOKEN).
   */
  BOOTFARM_ADMIN_TOKEN: TokenSecret,
  BOOTFARM_WORKER_TOKEN: TokenSecret,
  /** Rate limits per API token and fixed window, shared by every replica through Redis. */
  RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1000).default(60_000),
  /** Requests per window on ordinary routes. */
  RATE_LIMIT_REQUESTS: z.coerce.number().int().positive().default(600),
  /** Image uploads per window. */
  RATE_LIMIT_UPLOADS: z.coerce.number().int().positive().default(30),
  /** Run creations per window. */
  RATE_LIMIT_RUNS: z.coerce.number().int().positive().default(60),
  /** Bytes of images a vendor may have stored in total (an over-quota upload gets 413 quota_exceeded). */
  VENDOR_STORAGE_QUOTA_BYTES: z.coerce.number().int().positive().default(100 * 1024 ** 3),
  /** Largest JSON request body on ordinary routes (uploads are streamed and capped by UPLOAD_MAX_BYTES). */
  JSON_BODY_MAX_BYTES: z.coerce.number().int().min(1024).max(16 * 1024 ** 2).default(64 * 1024),
  /** Live console streams (SSE) one cell, and one vendor, may hold open at once. */
  CONSOLE_STREAM_MAX_PER_CELL: z.coerce.number().int().positive().default(16),
  CONSOLE_STREAM_MAX_PER_VENDOR: z.coerce.number().int().positive().default(64),
  /** A live console stream re-reads this often even without a NOTIFY (the fallback). */
  CONSOLE_STREAM_POLL_MS: z.coerce.number().int().positive().default(2_000),
  /** A comment line this often keeps proxies from closing an idle stream. */
  CONSOLE_STREAM_HEARTBEAT_MS: z.coerce.number().int().positive().default(15_000),
  /** How often finished attempts' consoles are compacted into chunks (0: never), and how long after the attempt ends. */
  CONSOLE_COMPACT_INTERVAL_MS: z.coerce.number().int().min(0).default(60_000),
  CONSOLE_COMPACT_GRACE_MS: z.coerce.number().int().min(0).default(60_000),
  /** The built dashboard (apps/dashboard/dist) to serve at `/` from this origin; unset: API only. */
  DASHBOARD_DIR: z.preprocess((v) => (v === '' ? undefined : v), z.string().optional()),
  /** Apply pending database migrations before serving. */
  MIGRATE_ON_START: z.stringbool().default(true),
  /** How often the reconciler re-adds cells PostgreSQL says are in flight but Redis lost. */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().positive().default(15_000),
  /** Runs younger than this are left to the request that is still enqueueing them. */
  RECONCILE_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  /** How often the deadline reaper looks for cells running past their deadline. */
  REAPER_INTERVAL_MS: z.coerce.number().int().positive().default(15_000),
  /** Time a cell's attempt may take beyond its boot timeout for the platform probe (2 probe boots × 60 s). */
  PLATFORM_PROBE_BUDGET_MS: z.coerce.number().int().min(0).default(120_000),
  /** Slack on top of a cell's deadline: image fetch, QEMU start, the result write. */
  REAPER_GRACE_MS: z.coerce.number().int().min(0).default(60_000),
  /** Delay before a run's settle job looks again at a run whose cells are not all terminal yet. */
  RUN_SETTLE_RETRY_MS: z.coerce.number().int().positive().default(5_000),
  /** This replica owns the nightly job scheduler (exactly one replica should). */
  NIGHTLY_OWNER: z.stringbool().default(false),
  /** When the night's runs are created (cron with seconds, UTC). */
  NIGHTLY_CRON: z.string().min(1).default('0 0 2 * * *'),
  /** Boot timeout of each nightly cell. */
  NIGHTLY_TIMEOUT_SEC: z.coerce.number().int().min(1).max(3600).default(120),
  /** Re-runs asked for when a cell newly fails, to tell a regression from a flake (0: a new failure is a regression at once). */
  HISTORY_RECHECKS: z.coerce.number().int().min(0).max(5).default(2),
  /** Webhook deliveries: attempts per event (exponential backoff from the base delay), and each POST's time limit. */
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(8),
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).default(10_000),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /**
   * Let webhooks point at loopback, private and link-local addresses. Off by default: a vendor's
   * URL must not reach the farm's own network (the metadata service, Redis, PostgreSQL).
   */
  WEBHOOK_ALLOW_PRIVATE_HOSTS: z.stringbool().default(false),
  /** The workers' heartbeat interval: a worker silent for 3× this long reads as offline. */
  WORKER_HEARTBEAT_MS: z.coerce.number().int().min(100).default(10_000),
}).refine((env) => !env.BOOTFARM_ADMIN_TOKEN || env.BOOTFARM_ADMIN_TOKEN !== env.BOOTFARM_WORKER_TOKEN, {
  path: ['BOOTFARM_WORKER_TOKEN'],
  message: 'must differ from BOOTFARM_ADMIN_TOKEN',
});

/** The scheduler's validated configuration. */
export type SchedulerConfig = Omit<z.infer<typeof SchedulerEnv>, 'IMAGE_STORE_DIR'> & { IMAGE_STORE_DIR: string };

/** Reads and validates the environment; throws one error listing every bad variable. */
export function loadSchedulerConfig(env: NodeJS.ProcessEnv = process.env): SchedulerConfig {
  const config = loadEnv(SchedulerEnv, env);
  return { ...config, IMAGE_STORE_DIR: resolve(config.IMAGE_STORE_DIR), DASHBOARD_DIR: config.DASHBOARD_DIR && resolve(config.DASHBOARD_DIR) };
}

/** Nest injection token of the configuration. */
export const SCHEDULER_CONFIG = Symbol('SCHEDULER_CONFIG');
