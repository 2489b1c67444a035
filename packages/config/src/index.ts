/**
 * @bootfarm/config — zod fragments for the environment variables several apps share, and one
 * loader that fails fast listing every bad variable at once. Only apps call it; packages take
 * options as arguments.
 */
import { z } from 'zod';

/** PostgreSQL, the source of truth. */
export const databaseEnv = {
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
};

/** Redis, which holds only work in flight (BullMQ). */
export const redisEnv = {
  REDIS_URL: z.url({ protocol: /^rediss?$/ }),
};

/** BullMQ key prefix in Redis; separate farms (or test runs) sharing one Redis use different ones. */
export const queueEnv = {
  QUEUE_PREFIX: z.string().regex(/^[\w-]+$/).default('bootfarm'),
};

/** Logging verbosity. */
export const logEnv = {
  LOG_LEVEL: z.enum(['error', 'warn', 'log', 'debug', 'verbose']).default('log'),
};

/** Thrown with every problem in the environment, one per line. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Parses `env` with `schema`, throwing one ConfigError that lists every bad variable. */
export function loadEnv<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  return parsed.data;
}
