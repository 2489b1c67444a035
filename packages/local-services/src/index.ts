/**
 * Local PostgreSQL and Redis for the one-machine farm and for tests: the servers named by
 * DATABASE_URL / REDIS_URL when given, otherwise private instances started from the system
 * packages (loopback only, data in a directory of the caller's choice).
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, type PostgresServer } from './postgres.js';
import { startRedis, type RedisServer } from './redis.js';

export { startPostgres, postgresBinDir, PostgresUnavailableError, type PostgresServer } from './postgres.js';
export { startRedis, RedisUnavailableError, type RedisServer } from './redis.js';
export { freePort, waitForPort } from './ports.js';

/** Servers for one test file (or one farm), plus a way to get an isolated database. */
export interface LocalServices {
  readonly postgres: PostgresServer;
  readonly redis: RedisServer;
  /** Creates a fresh, empty database on the PostgreSQL server and returns its URL. */
  createDatabase(prefix?: string): Promise<string>;
  /** Drops the databases it created and stops the servers it started. */
  stop(): Promise<void>;
}

/**
 * Uses DATABASE_URL / REDIS_URL from `env` when set, else starts private servers under a
 * temporary directory (removed by `stop`). Fault-injection tests call startPostgres/startRedis
 * directly: they must never stop a server they did not start.
 */
export async function useLocalServices(env: NodeJS.ProcessEnv = process.env): Promise<LocalServices> {
  const scratch = mkdtempSync(join(tmpdir(), 'bootfarm-services-'));
  chmodSync(scratch, 0o755); // the postgres user must reach its data directory below
  const postgres: PostgresServer = env.DATABASE_URL
    ? { url: env.DATABASE_URL, owned: false, stop: async () => {} }
    : await startPostgres({ dataDir: join(scratch, 'postgres') });
  const redis: RedisServer = env.REDIS_URL
    ? { url: env.REDIS_URL, owned: false, stop: async () => {} }
    : await startRedis({ dataDir: join(scratch, 'redis') });
  const created: string[] = [];
  const admin = () => new pg.Client({ connectionString: postgres.url });
  return {
    postgres,
    redis,
    async createDatabase(prefix = 'bootfarm_test') {
      const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
      created.push(name);
      return ensureDatabase(postgres.url, name);
    },
    async stop() {
      if (!postgres.owned && created.length > 0) {
        const client = admin();
        await client.connect();
        try {
          for (const name of created) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        } finally {
          await client.end();
        }
      }
      await redis.stop();
      await postgres.stop();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/** Creates database `name` on the server at `serverUrl` unless it exists; returns its URL. */
export async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  if (!/^\w+$/.test(name)) throw new Error(`invalid database name ${name}`);
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
