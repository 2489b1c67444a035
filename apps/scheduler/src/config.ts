import { databaseEnv, loadEnv, logEnv, queueEnv, redisEnv } from '@bootfarm/config';
import { resolve } from 'node:path';
import { z } from 'zod';

// The only file of the scheduler that reads process.env.
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
  /** Apply pending database migrations before serving. */
  MIGRATE_ON_START: z.stringbool().default(true),
});

/** The scheduler's validated configuration. */
export type SchedulerConfig = Omit<z.infer<typeof SchedulerEnv>, 'IMAGE_STORE_DIR'> & { IMAGE_STORE_DIR: string };

/** Reads and validates the environment; throws one error listing every bad variable. */
export function loadSchedulerConfig(env: NodeJS.ProcessEnv = process.env): SchedulerConfig {
  const config = loadEnv(SchedulerEnv, env);
  return { ...config, IMAGE_STORE_DIR: resolve(config.IMAGE_STORE_DIR) };
}

/** Nest injection token of the configuration. */
export const SCHEDULER_CONFIG = Symbol('SCHEDULER_CONFIG');
