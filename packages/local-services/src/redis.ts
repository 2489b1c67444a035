import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const pidFile = join(opts.dataDir, 'redis.pid');
  const portFile = join(opts.dataDir, 'redis.port');
  const stop = () => stopRedis(pidFile);
  const running = alivePid(pidFile) !== null && existsSync(portFile) ? Number(readFileSync(portFile, 'utf8')) : null;
  if (running) return { url: `redis://127.0.0.1:${running}`, owned: true, port: running, stop };
  const port = opts.port ?? (await freePort());
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
  writeFileSync(portFile, String(port));
  return { url: `redis://127.0.0.1:${port}`, owned: true, port, stop };
}

function alivePid(pidFile: string): number | null {
  if (!existsSync(pidFile)) return null;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

async function stopRedis(pidFile: string): Promise<void> {
  const pid = alivePid(pidFile);
  if (pid === null) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && alivePid(pidFile) !== null; i++) await new Promise((r) => setTimeout(r, 50));
}
