import { useLocalServices, freePort, type LocalServices } from '@bootfarm/local-services';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is e2e/dist/farm.harness.js). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A farm on one machine, as real processes: scheduler, worker and dashboard. */
export interface Farm {
  services: LocalServices;
  schedulerUrl: string;
  dashboardUrl: string;
  dir: string;
  env: Record<string, string>;
  processes: Record<'scheduler' | 'worker' | 'dashboard', ChildProcess>;
  log(name: string): string;
  stop(): Promise<void>;
}

/** Starts the farm against a fresh database and a private BullMQ prefix. */
export async function startFarm(overrides: Record<string, string> = {}): Promise<Farm> {
  const services = await useLocalServices();
  const dir = mkdtempSync(join(tmpdir(), 'bootfarm-e2e-'));
  chmodSync(dir, 0o711); // the scheduler's unprivileged inspector must reach the image store below
  const [schedulerPort, dashboardPort] = [await freePort(), await freePort()];
  const schedulerUrl = `http://127.0.0.1:${schedulerPort}`;
  const env: Record<string, string> = {
    DATABASE_URL: await services.createDatabase('bootfarm_e2e'),
    REDIS_URL: services.redis.url,
    QUEUE_PREFIX: `e2e-${process.pid}-${Date.now().toString(36)}`,
    SCHEDULER_PORT: String(schedulerPort),
    SCHEDULER_URL: schedulerUrl,
    IMAGE_STORE_DIR: join(dir, 'images'),
    WORKER_WORK_DIR: join(dir, 'work'),
    WORKER_CACHE_DIR: join(dir, 'cache'),
    DASHBOARD_PORT: String(dashboardPort),
    LOG_LEVEL: 'log',
    ...overrides,
  };
  const start = (name: string, args: string[], cwd = repoRoot) => {
    const child = spawn(process.execPath, args, { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = createWriteStream(join(dir, `${name}.log`));
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    return child;
  };
  const processes = {
    scheduler: start('scheduler', ['apps/scheduler/dist/main.js']),
    worker: start('worker', ['apps/worker/dist/main.js']),
    dashboard: start('dashboard', [join(repoRoot, 'node_modules/vite/bin/vite.js'), 'preview'], join(repoRoot, 'apps/dashboard')),
  };
  const farm: Farm = {
    services,
    schedulerUrl,
    dashboardUrl: `http://127.0.0.1:${dashboardPort}`,
    dir,
    env,
    processes,
    log: (name) => readFileSync(join(dir, `${name}.log`), 'utf8'),
    async stop() {
      await Promise.all(Object.values(processes).map(stopProcess));
      await services.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor(async () => (await fetch(`${schedulerUrl}/api/health`)).ok, 60_000, () => farm.log('scheduler'));
    await waitFor(async () => (await fetch(`${farm.dashboardUrl}/`)).ok, 30_000, () => farm.log('dashboard'));
    await waitFor(async () => farm.log('worker').includes('ready'), 30_000, () => farm.log('worker'));
  } catch (err) {
    await farm.stop();
    throw err;
  }
  return farm;
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
