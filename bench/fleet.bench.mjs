// The farm's scheduling speed on real boots, as ratios of baselines measured in the same run:
//   1. submit → QEMU start with an idle worker: POST /api/runs until the worker's qemu-system
//      process exists (seen in /proc), against raw BullMQ add → processor start on the same Redis;
//   2. wall time of a CPU-bound run (probe image, 6 cells, each with its platform probe) on two
//      worker processes, against the same run on one.
// Usage: node bench/fleet.bench.mjs [rounds]   (after `npm run build`). Prints, never fails on timing.
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Queue, Worker } from 'bullmq';
import { ensureProbeImage } from '../packages/probe/dist/index.js';
import { repoRoot, startFarm, stopProcess, waitFor } from '../e2e/dist/farm.harness.js';

const rounds = Number(process.argv[2] ?? 7);
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))];
const json = (body) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Milliseconds (performance clock) at which a qemu-system process whose command line mentions `dir` appears. */
async function qemuStart(dir, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        // The launcher execs setpriv → prlimit → QEMU in one process: count from QEMU's own exec.
        if (cmd.split('\0')[0].includes('qemu-system') && cmd.includes(dir)) return performance.now();
      } catch {
        // exited meanwhile
      }
    }
    await new Promise((r) => setImmediate(r));
  }
  throw new Error('no QEMU started');
}

async function runToEnd(farm, body) {
  const run = await (await farm.api('/api/runs', json(body))).json();
  if (!run.id) throw new Error(`run refused: ${JSON.stringify(run)}`);
  let last = run;
  await waitFor(async () => {
    last = await (await farm.api(`/api/runs/${run.id}`)).json();
    return !['queued', 'running'].includes(last.status);
  }, 900_000);
  if (last.status !== 'passed') throw new Error(`run ${run.id} ended ${last.status}`);
  return last;
}

// 1b. Baseline: raw BullMQ on the same Redis, add → processor start.
async function rawBullmq(redisUrl) {
  const prefix = `bench-raw-${process.pid}`;
  const connection = { url: redisUrl };
  const queue = new Queue('raw', { prefix, connection });
  let resolveStart;
  const worker = new Worker('raw', async () => resolveStart(performance.now()), { prefix, connection: { url: redisUrl, maxRetriesPerRequest: null } });
  await worker.waitUntilReady();
  const samples = [];
  for (let i = 0; i < rounds * 3; i++) {
    const started = new Promise((r) => (resolveStart = r));
    const t0 = performance.now();
    await queue.add('job', { i }, { removeOnComplete: true });
    samples.push((await started) - t0);
    await new Promise((r) => setTimeout(r, 20));
  }
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return samples;
}

const probe = await ensureProbeImage();
const farm = await startFarm();
const extra = [];
try {
  const up = await farm.api('/api/images?name=probe&format=raw', {
    method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Readable.toWeb(createReadStream(probe.imagePath)), duplex: 'half',
  });
  const image = await up.json();
  await runToEnd(farm, { imageId: image.id }); // warms the worker's image cache

  const latency = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    const started = qemuStart(farm.dir, 60_000);
    const res = await farm.api('/api/runs', json({ imageId: image.id }));
    const run = await res.json();
    latency.push((await started) - t0);
    await waitFor(async () => !['queued', 'running'].includes((await (await farm.api(`/api/runs/${run.id}`)).json()).status), 300_000);
  }
  const raw = await rawBullmq(farm.env.REDIS_URL);

  const matrix = { axes: { hwDescription: ['acpi', 'dt'], gic: ['v2', 'v3'] }, include: [{ disk: 'virtio-mmio' }, { hwDescription: 'dt', disk: 'virtio-mmio' }] };
  let t = performance.now();
  const one = await runToEnd(farm, { imageId: image.id, matrix });
  const oneWorkerMs = performance.now() - t;

  const dir = join(farm.dir, 'worker-2');
  mkdirSync(dir, { recursive: true });
  const second = spawn(process.execPath, ['apps/worker/dist/main.js'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/', ...farm.env, WORKER_ID: 'bench-worker-2', WORKER_WORK_DIR: join(dir, 'work'), WORKER_CACHE_DIR: join(dir, 'cache') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  extra.push(second);
  const log = createWriteStream(join(dir, 'worker.log'));
  second.stdout.pipe(log);
  second.stderr.pipe(log);
  await waitFor(() => readFileSync(join(dir, 'worker.log'), 'utf8').includes('ready'), 120_000);
  t = performance.now();
  await runToEnd(farm, { imageId: image.id, matrix });
  const twoWorkersMs = performance.now() - t;

  const p50 = quantile(latency, 0.5);
  const rawP50 = quantile(raw, 0.5);
  console.log(`fleet bench: ${rounds} rounds; ${one.cells.length}-cell run for the scaling figure`);
  console.log(`submit → QEMU start, idle worker      p50 ${p50.toFixed(1)} ms  p95 ${quantile(latency, 0.95).toFixed(1)} ms  (target p50 ≤ 50 ms)`);
  console.log(`raw BullMQ add → processor (baseline)  p50 ${rawP50.toFixed(2)} ms  → farm ×${(p50 / rawP50).toFixed(1)} of raw BullMQ`);
  console.log(`${one.cells.length} cells, 1 worker                    ${(oneWorkerMs / 1000).toFixed(1)} s`);
  console.log(`${one.cells.length} cells, 2 workers                   ${(twoWorkersMs / 1000).toFixed(1)} s  → ×${(twoWorkersMs / oneWorkerMs).toFixed(2)} of 1 worker`);
} finally {
  for (const p of extra) await stopProcess(p);
  await farm.stop();
}
