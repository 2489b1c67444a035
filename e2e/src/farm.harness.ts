import { useLocalServices, freePort, type LocalServices } from '@bootfarm/local-services';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is e2e/dist/farm.harness.js). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A farm on one machine, as real processes: the scheduler (which also serves the built dashboard) and a worker. */
export interface Farm {
  services: LocalServices;
  schedulerUrl: string;
  /** Where the dashboard is served: the scheduler's own origin (DASHBOARD_DIR). */
  dashboardUrl: string;
  dir: string;
  env: Record<string, string>;
  /** The API token of the farm's vendor (`e2e`), which farm.api() sends. */
  token: string | null;
  /** The operator's admin token (BOOTFARM_ADMIN_TOKEN). */
  adminToken: string;
  /** Creates another vendor with a vendor token, over the admin API. */
  createVendor(name: string): Promise<{ vendorId: string; token: string }>;
  /** fetch() against the scheduler, with the farm's token: `farm.api('/api/runs')`. */
  api(path: string, init?: RequestInit): Promise<Response>;
  processes: Record<'scheduler' | 'worker', ChildProcess>;
  /**
   * Starts one more worker process named `name` (log `farm.log(name)`), with its own work and
   * cache directories unless `env` names them; stopped with the farm.
   */
  startWorker(name: string, env?: Record<string, string>, opts?: { launchPrefix?: string[] }): ChildProcess;
  log(name: string): string;
  stop(): Promise<void>;
}

/** Options of {@link startFarm} beyond the shared environment. */
export interface FarmOptions {
  /** Extra environment of the farm's first worker only (e.g. WORKER_CAPABILITIES). */
  workerEnv?: Record<string, string>;
  /** What the first worker's log must show before startFarm returns (default: `ready`). */
  workerReady?: string;
}

/** Starts the farm against a fresh database and a private BullMQ prefix. */
export async function startFarm(overrides: Record<string, string> = {}, options: FarmOptions = {}): Promise<Farm> {
  const services = await useLocalServices();
  const dir = mkdtempSync(join(tmpdir(), 'bootfarm-e2e-'));
  chmodSync(dir, 0o711); // the scheduler's unprivileged inspector must reach the image store below
  const schedulerPort = await freePort();
  const schedulerUrl = `http://127.0.0.1:${schedulerPort}`;
  const workerToken = newSecret();
  const env: Record<string, string> = {
    DATABASE_URL: await services.createDatabase('bootfarm_e2e'),
    REDIS_URL: services.redis.url,
    QUEUE_PREFIX: `e2e-${process.pid}-${Date.now().toString(36)}`,
    SCHEDULER_PORT: String(schedulerPort),
    SCHEDULER_URL: schedulerUrl,
    IMAGE_STORE_DIR: join(dir, 'images'),
    WORKER_WORK_DIR: join(dir, 'work'),
    WORKER_CACHE_DIR: join(dir, 'cache'),
    DASHBOARD_DIR: join(repoRoot, 'apps/dashboard/dist'),
    LOG_LEVEL: 'log',
    BOOTFARM_ADMIN_TOKEN: newSecret(),
    // Polling specs must not be throttled; tenancy.spec.ts sets small limits to test them.
    RATE_LIMIT_REQUESTS: '100000',
    RATE_LIMIT_UPLOADS: '10000',
    RATE_LIMIT_RUNS: '10000',
    // The worker authenticates with the scheduler's bootstrap worker token.
    BOOTFARM_WORKER_TOKEN: workerToken,
    SCHEDULER_TOKEN: workerToken,
    ...overrides,
  };
  const start = (name: string, args: string[], cwd = repoRoot, extraEnv: Record<string, string> = {}, launchPrefix: string[] = []) => {
    // launchPrefix runs node through another command that execs it (e.g. `ip netns exec NS`).
    const [command, ...prefixArgs] = [...launchPrefix, process.execPath];
    const child = spawn(command!, [...prefixArgs, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/', ...env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = createWriteStream(join(dir, `${name}.log`));
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    return child;
  };
  const processes = {
    scheduler: start('scheduler', ['apps/scheduler/dist/main.js']),
    worker: start('worker', ['apps/worker/dist/main.js'], repoRoot, options.workerEnv),
  };
  const extraWorkers: ChildProcess[] = [];
  const farm: Farm = {
    services,
    schedulerUrl,
    dashboardUrl: schedulerUrl,
    dir,
    env,
    token: null,
    adminToken: env.BOOTFARM_ADMIN_TOKEN!,
    async createVendor(name) {
      const admin = { authorization: `Bearer ${farm.adminToken}`, 'content-type': 'application/json' };
      const vendor = await fetch(`${schedulerUrl}/api/vendors`, { method: 'POST', headers: admin, body: JSON.stringify({ name }) });
      if (vendor.status !== 201) throw new Error(`creating vendor ${name}: ${vendor.status} ${await vendor.text()}`);
      const { id: vendorId } = (await vendor.json()) as { id: string };
      const token = await fetch(`${schedulerUrl}/api/vendors/${vendorId}/tokens`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'e2e', role: 'vendor' }) });
      if (token.status !== 201) throw new Error(`creating a token for ${name}: ${token.status} ${await token.text()}`);
      return { vendorId, token: ((await token.json()) as { token: string }).token };
    },
    api: (path, init = {}) => {
      const headers = new Headers(init.headers);
      if (farm.token && !headers.has('authorization')) headers.set('authorization', `Bearer ${farm.token}`);
      return fetch(`${schedulerUrl}${path}`, { ...init, headers });
    },
    processes,
    startWorker(name, workerEnv = {}, opts = {}) {
      const child = start(
        name,
        ['apps/worker/dist/main.js'],
        repoRoot,
        { WORKER_WORK_DIR: join(dir, `work-${name}`), WORKER_CACHE_DIR: join(dir, `cache-${name}`), ...workerEnv },
        opts.launchPrefix,
      );
      extraWorkers.push(child);
      return child;
    },
    log: (name) => readFileSync(join(dir, `${name}.log`), 'utf8'),
    async stop() {
      await Promise.all([...Object.values(processes), ...extraWorkers].map(stopProcess));
      await services.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor(async () => (await fetch(`${schedulerUrl}/api/health`)).ok, 60_000, () => farm.log('scheduler'));
    farm.token = (await farm.createVendor('e2e')).token;
    await waitFor(async () => farm.log('worker').includes(options.workerReady ?? 'ready'), 30_000, () => farm.log('worker'));
  } catch (err) {
    await farm.stop();
    throw err;
  }
  return farm;
}

/** A fresh API token secret, as the scheduler expects them: bft_ + 32 random bytes in base64url. */
export function newSecret(): string {
  return `bft_${randomBytes(32).toString('base64url')}`;
}

/** SIGTERM, then SIGKILL after 10 s. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Polls `check` until it returns true; the error carries `context()` (a log) on timeout. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, context?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not ready yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms${context ? `\n${context()}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Pids of live processes whose command line mentions `needle` (e.g. a per-test work directory). */
export function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}
