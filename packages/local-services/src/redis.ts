import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports.js';

/** A Redis server this process can use. */
export interface RedisServer {
  readonly url: string;
  readonly owned: boolean;
  readonly port?: number;
  stop(): Promise<void>;
}

/** Thrown when redis-server is missing or will not start. */
export class RedisUnavailableError extends Error {
  readonly code = 'REDIS_UNAVAILABLE';
  override readonly name = 'RedisUnavailableError';
}

/**
 * Starts a private Redis configured the way BullMQ requires: `noeviction` (evicting a job key
 * loses work silently) and AOF `appendfsync everysec` (a restart loses at most a second).
 * Listens on loopback only; data in `dataDir`.
 */
export async function startRedis(opts: { dataDir: string; port?: number }): Promise<RedisServer> {
  if (spawnSync('redis-server', ['--version']).error) {
    throw new RedisUnavailableError('redis-server not found: run scripts/setup.sh');
  }
  const port = opts.port ?? (await freePort());
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const pidFile = join(opts.dataDir, 'redis.pid');
  const args = [
    '--bind', '127.0.0.1', '-::1',
    '--port', String(port),
    '--dir', opts.dataDir,
    '--appendonly', 'yes',
    '--appendfsync', 'everysec',
    '--save', '',
    '--maxmemory-policy', 'noeviction',
    '--daemonize', 'yes',
    '--pidfile', pidFile,
    '--logfile', join(opts.dataDir, 'redis.log'),
  ];
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new RedisUnavailableError(`redis-server exited with ${code}; see ${join(opts.dataDir, 'redis.log')}`);
  await waitForPort(port, 15_000);
  const stop = async () => {
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { url: `redis://127.0.0.1:${port}`, owned: true, port, stop };
}
