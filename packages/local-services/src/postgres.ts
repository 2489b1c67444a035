import { execFile as execFileCb, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';

const execFile = promisify(execFileCb);

/** A PostgreSQL server this process can use: its admin URL and how to stop it (a no-op when not ours). */
export interface PostgresServer {
  /** Connection URL of the server's default `postgres` database (trust auth on loopback). */
  readonly url: string;
  /** True when this process started the server and owns its data directory. */
  readonly owned: boolean;
  readonly dataDir?: string;
  stop(): Promise<void>;
}

/** Thrown when the system PostgreSQL binaries are missing or a private server will not start. */
export class PostgresUnavailableError extends Error {
  readonly code = 'POSTGRES_UNAVAILABLE';
  override readonly name = 'PostgresUnavailableError';
}

/** Finds the newest installed PostgreSQL server binaries (Debian keeps them per major version). */
export function postgresBinDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new PostgresUnavailableError('PostgreSQL server binaries not found under /usr/lib/postgresql: run scripts/setup.sh');
  }
  return join(base, versions[0]!, 'bin');
}

/** PostgreSQL refuses to run as root: private servers run as the `postgres` system user then. */
function asServerUser(argv: string[]): string[] {
  return process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--', ...argv] : argv;
}

/**
 * Starts (or restarts) a private PostgreSQL server with its data in `dataDir`, listening on
 * 127.0.0.1 only. The cluster is initialised on first use and kept across restarts.
 */
export async function startPostgres(opts: { dataDir: string; port?: number }): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const port = opts.port ?? (await freePort());
  const { dataDir } = opts;
  const socketDir = join(dataDir, 'socket');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (process.getuid?.() === 0) chownPostgres(dataDir);
  const pgdata = join(dataDir, 'pgdata');
  if (!existsSync(join(pgdata, 'PG_VERSION'))) {
    const [cmd, ...args] = asServerUser([join(bin, 'initdb'), '-D', pgdata, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    await run(cmd!, args, 'initdb');
  }
  const running = runningPort(pgdata);
  if (running !== null) {
    // A server from an earlier start is still up on this data directory: use it.
    return { url: `postgresql://postgres@127.0.0.1:${running}/postgres`, owned: true, dataDir, stop: () => stopPostgres(bin, pgdata) };
  }
  mkdirSync(socketDir, { recursive: true });
  if (process.getuid?.() === 0) chownPostgres(socketDir);
  const options = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${socketDir} -c fsync=off -c max_connections=200`;
  const logFile = join(dataDir, 'postgres.log');
  if (process.getuid?.() === 0 && !existsSync(logFile)) {
    writeFileSync(logFile, '');
    chownPostgres(logFile);
  }
  const [cmd, ...args] = asServerUser([join(bin, 'pg_ctl'), '-D', pgdata, '-l', logFile, '-o', options, '-w', '-t', '60', 'start']);
  await run(cmd!, args, 'pg_ctl start');
  return { url: `postgresql://postgres@127.0.0.1:${port}/postgres`, owned: true, dataDir, stop: () => stopPostgres(bin, pgdata) };
}

async function stopPostgres(bin: string, pgdata: string): Promise<void> {
  const [c, ...a] = asServerUser([join(bin, 'pg_ctl'), '-D', pgdata, '-m', 'fast', '-w', 'stop']);
  spawnSync(c!, a, { stdio: 'ignore' });
}

/** The port of a live server on `pgdata` (from postmaster.pid), or null. */
function runningPort(pgdata: string): number | null {
  const pidFile = join(pgdata, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const [pid, , , port] = readFileSync(pidFile, 'utf8').split('\n');
  try {
    process.kill(Number(pid), 0);
  } catch {
    return null;
  }
  return Number(port) || null;
}

function chownPostgres(path: string): void {
  const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new PostgresUnavailableError('the postgres system user does not exist: run scripts/setup.sh');
  }
  chownSync(path, uid, gid);
}

async function run(cmd: string, args: string[], what: string): Promise<void> {
  try {
    await execFile(cmd, args, { timeout: 120_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new PostgresUnavailableError(`${what} failed: ${(e.stderr || e.message).trim()}`);
  }
}
