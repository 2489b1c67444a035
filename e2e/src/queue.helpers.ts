// Helpers shared by the queue e2e specs: upload the probe image, submit runs, read PostgreSQL.
import type { ImageDto, RunDto } from '@bootfarm/contracts';
import { ensureProbeImage } from '@bootfarm/probe';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import pg from 'pg';
import { waitFor, type Farm } from './farm.harness.js';

/** Uploads the VMSPEC probe image (boots to its verdict in about a second under TCG). */
export async function uploadProbe(farm: Farm, name = 'vmspec-probe'): Promise<ImageDto> {
  const probe = await ensureProbeImage();
  const res = await farm.api(`/api/images?name=${name}&format=raw`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: Readable.toWeb(createReadStream(probe.imagePath)) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  if (res.status !== 201 && res.status !== 200) throw new Error(`upload answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as ImageDto;
}

/** Two cells of the default platform that differ only in vCPUs. */
export const twoCells = [
  { arch: 'aarch64', firmware: 'edk2', hwDescription: 'dt', gic: 'v3', disk: 'virtio-pci', cpus: 1, memoryMiB: 512, accel: 'tcg' },
  { arch: 'aarch64', firmware: 'edk2', hwDescription: 'dt', gic: 'v3', disk: 'virtio-pci', cpus: 2, memoryMiB: 512, accel: 'tcg' },
];

export async function submitRun(farm: Farm, body: Record<string, unknown>): Promise<{ status: number; run: RunDto }> {
  const res = await farm.api('/api/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, run: (await res.json()) as RunDto };
}

export async function getRun(farm: Farm, id: string): Promise<RunDto> {
  return (await (await farm.api(`/api/runs/${id}`)).json()) as RunDto;
}

/** Waits until the run is terminal, its compliance report is stored and history has recorded its results (the settle's last step). */
export async function waitSettled(farm: Farm, id: string, timeoutMs = 180_000): Promise<RunDto> {
  let run: RunDto | null = null;
  await waitFor(async () => {
    run = await getRun(farm, id);
    if (['queued', 'running'].includes(run.status) || !run.images.every((i) => i.compliance !== null)) return false;
    const [row] = await sql<{ n: string }>(farm, 'SELECT count(*) AS n FROM result WHERE run_id = $1 AND recorded_at IS NULL', [id]);
    return Number(row?.n) === 0;
  }, timeoutMs, () => `run ${JSON.stringify(run)}\n--- scheduler\n${farm.log('scheduler').slice(-4000)}\n--- worker\n${farm.log('worker').slice(-4000)}`);
  return run!;
}

/** Rows straight from the farm's database (what the API does not show: counts, attempt states). */
export async function sql<T extends pg.QueryResultRow>(farm: Farm, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: farm.env.DATABASE_URL });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Results per cell of a run: exactly-once means every count is 1. */
export async function resultCounts(farm: Farm, runId: string): Promise<number[]> {
  const rows = await sql<{ n: string }>(farm, 'SELECT count(r.id) AS n FROM cell c LEFT JOIN result r ON r.cell_id = c.id WHERE c.run_id = $1 GROUP BY c.id', [runId]);
  return rows.map((r) => Number(r.n));
}
