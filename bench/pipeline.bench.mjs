// The farm's pipeline without QEMU's CPU cost, against raw BullMQ on the same Redis:
//   farm:     POST /api/runs (matrix) → flow on capability queues → worker replaying a recorded
//             probe console (ReplayLauncher: the image boot and both platform-probe boots) →
//             console lines, attempts, results and verdicts in PostgreSQL → run settled
//   baseline: raw Queue.add → Worker processing a trivial job, same Redis, same concurrency
// Printed as cells/s and as a ratio of the baseline's jobs/s. Usage (after a build):
//   node bench/pipeline.bench.mjs [runs] [concurrency]
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Queue, Worker } from 'bullmq';
import { ensureProbeImage } from '../packages/probe/dist/index.js';
import { repoRoot, startFarm, waitFor } from '../e2e/dist/farm.harness.js';

const runs = Number(process.argv[2] ?? 10);
const concurrency = Number(process.argv[3] ?? 4);
// 8 cells a run: edk2 × {ACPI, DT} × {GICv2, GICv3} × {virtio-pci, virtio-mmio}.
const matrix = { axes: { hwDescription: ['acpi', 'dt'], gic: ['v2', 'v3'], disk: ['virtio-pci', 'virtio-mmio'] } };
const transcript = join(repoRoot, 'fixtures/console/probe-aa64-aavmf-acpi.tlog');

async function rawBullmq(redisUrl, jobs) {
  const prefix = `bench-pipeline-${process.pid}`;
  const queue = new Queue('raw', { prefix, connection: { url: redisUrl } });
  let done = 0;
  let finish;
  const all = new Promise((r) => (finish = r));
  const worker = new Worker('raw', async () => {
    if (++done === jobs) finish();
  }, { prefix, concurrency, connection: { url: redisUrl, maxRetriesPerRequest: null } });
  await worker.waitUntilReady();
  const t0 = performance.now();
  await queue.addBulk(Array.from({ length: jobs }, (_, i) => ({ name: 'job', data: { i }, opts: { removeOnComplete: true } })));
  await all;
  const ms = performance.now() - t0;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return (jobs / ms) * 1000;
}

const probe = await ensureProbeImage();
const farm = await startFarm({}, { workerEnv: { WORKER_REPLAY_TRANSCRIPT: transcript, WORKER_CONCURRENCY: String(concurrency) } });
try {
  const up = await farm.api('/api/images?name=probe&format=raw', {
    method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Readable.toWeb(createReadStream(probe.imagePath)), duplex: 'half',
  });
  const image = await up.json();
  const post = () => farm.api('/api/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ imageId: image.id, matrix }) }).then((r) => r.json());
  const warm = await post(); // warm-up: caches, connections, the worker's health boot
  let warmStatus = 'queued';
  await waitFor(async () => !['queued', 'running'].includes((warmStatus = (await (await farm.api(`/api/runs/${warm.id}`)).json()).status)), 120_000, () => farm.log('worker'));
  if (warmStatus !== 'passed') throw new Error(`warm-up run ended ${warmStatus}`);

  const t0 = performance.now();
  const created = [];
  for (let i = 0; i < runs; i++) created.push(await post());
  let cells = 0;
  await waitFor(async () => {
    const states = await Promise.all(created.map(async (r) => (await (await farm.api(`/api/runs/${r.id}`)).json())));
    cells = states.reduce((n, r) => n + r.cells.length, 0);
    const bad = states.find((r) => !['queued', 'running', 'passed'].includes(r.status));
    if (bad) throw new Error(`run ${bad.id} ended ${bad.status}`);
    return states.every((r) => r.status === 'passed');
  }, 900_000);
  const farmMs = performance.now() - t0;
  const farmRate = (cells / farmMs) * 1000;
  const rawRate = await rawBullmq(farm.env.REDIS_URL, Math.max(1000, cells));
  console.log(`pipeline bench: ${runs} runs × 8 cells, worker concurrency ${concurrency}, replayed ${transcript.split('/').pop()}`);
  console.log(`farm (replay backend, 3 boots a cell, PostgreSQL writes)   ${farmRate.toFixed(1)} cells/s  (${cells} cells in ${(farmMs / 1000).toFixed(1)} s)`);
  console.log(`raw BullMQ add → trivial processor (baseline)               ${rawRate.toFixed(0)} jobs/s`);
  console.log(`farm ÷ raw BullMQ                                            ×${(farmRate / rawRate).toFixed(3)}`);
} finally {
  await farm.stop();
}
