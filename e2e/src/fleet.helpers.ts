// Small helpers shared by the fleet and worker-fault specs.
import type { ImageDto, RunDto, VmProfile, WorkerDto } from '@bootfarm/contracts';
import { createReadStream, readFileSync, readdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import pg from 'pg';
import { waitFor, type Farm } from './farm.harness.js';

export async function uploadImage(farm: Farm, path: string, name: string): Promise<ImageDto> {
  const res = await farm.api(`/api/images?name=${encodeURIComponent(name)}&format=raw`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: Readable.toWeb(createReadStream(path)) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  if (res.status !== 201 && res.status !== 200) throw new Error(`upload ${name}: ${res.status} ${await res.text()}`);
  return (await res.json()) as ImageDto;
}

export async function createRun(farm: Farm, imageId: string, extra: { profiles?: VmProfile[]; timeoutSec?: number } = {}): Promise<RunDto> {
  const res = await farm.api('/api/runs', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ imageId, timeoutSec: 120, ...extra }),
  });
  if (res.status !== 201) throw new Error(`create run: ${res.status} ${await res.text()}`);
  return (await res.json()) as RunDto;
}

export async function getRun(farm: Farm, runId: string): Promise<RunDto> {
  return (await (await farm.api(`/api/runs/${runId}`)).json()) as RunDto;
}

/** `PUT /api/workers/:id/health`: an operator's route, so with the admin token unless another is given. */
export function setWorkerHealth(farm: Farm, id: string, health: string, token = farm.adminToken): Promise<Response> {
  return fetch(`${farm.schedulerUrl}/api/workers/${id}/health`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ health }),
  });
}

export async function listWorkers(farm: Farm): Promise<WorkerDto[]> {
  return (await (await farm.api('/api/workers')).json()) as WorkerDto[];
}

/** Waits for worker `id` to satisfy `check` (as GET /api/workers shows it) and returns it. */
export async function waitForWorker(farm: Farm, id: string, check: (w: WorkerDto) => boolean, timeoutMs = 120_000, logName = 'worker'): Promise<WorkerDto> {
  let found: WorkerDto | undefined;
  await waitFor(async () => {
    found = (await listWorkers(farm)).find((w) => w.id === id);
    return found !== undefined && check(found);
  }, timeoutMs, () => `${JSON.stringify(found)}\n${farm.log(logName)}`);
  return found!;
}

/** Waits until every cell of the run is terminal and returns the run. */
export async function waitForRunEnd(farm: Farm, runId: string, timeoutMs = 240_000, logName = 'worker'): Promise<RunDto> {
  let run: RunDto | undefined;
  await waitFor(async () => {
    run = await getRun(farm, runId);
    return !['queued', 'running'].includes(run.status);
  }, timeoutMs, () => `${JSON.stringify(run?.cells.map((c) => [c.key, c.status, c.attempts]))}\n${farm.log(logName)}`);
  return run!;
}

/** Rows straight from the farm's database (attempts, results), to check what the API summarises. */
export async function sql<T>(databaseUrl: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

export interface AttemptRow {
  number: number;
  worker_id: string;
  status: string;
}

export const attemptsOf = (farm: Farm, cellId: string) =>
  sql<AttemptRow>(farm.env.DATABASE_URL!, 'SELECT number, worker_id, status FROM attempt WHERE cell_id = $1 ORDER BY number', [cellId]);

export const resultCount = async (farm: Farm, cellId: string) =>
  Number((await sql<{ n: string }>(farm.env.DATABASE_URL!, 'SELECT count(*) AS n FROM result WHERE cell_id = $1', [cellId]))[0]!.n);

/** Pids of live QEMU processes whose command line mentions `needle` (e.g. one worker's work directory). */
export function qemuProcessesMentioning(needle: string | RegExp): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!/qemu-system-/.test(cmdline[0] ?? '') && !cmdline.some((a) => /\/qemu-system-/.test(a))) continue;
      const joined = cmdline.join(' ');
      if (typeof needle === 'string' ? joined.includes(needle) : needle.test(joined)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** JSON log lines of a worker's log whose `event` is `event`. */
export function logEvents(farm: Farm, name: string, event: string): Record<string, unknown>[] {
  return farm
    .log(name)
    .split('\n')
    .flatMap((line) => {
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        return parsed.event === event ? [parsed] : [];
      } catch {
        return [];
      }
    });
}
