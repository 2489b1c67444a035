// The farm's queue side on real Redis, printed beside baselines measured in the same run:
//   1. expansion + enqueue of a 10,000-cell matrix: expandMatrix, priorities, and the run's one
//      BullMQ flow (settle parent + 10,000 children on their capability queues). Target ≤ 1 s.
//   2. pipeline throughput: the farm's producer (one flow per run) → BullMQ → a trivial cell
//      processor, against raw BullMQ Queue.add → Worker on the same Redis, as a ratio.
// Uses REDIS_URL when set (a private BullMQ prefix per run, removed afterwards), else starts a
// private Redis. Usage: npm run build && node bench/farm.bench.mjs [jobs]. Fails on nothing.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { capabilityFor, cellPriority } from '../packages/contracts/dist/index.js';
import { useLocalServices } from '../packages/local-services/dist/index.js';
import { expandMatrix } from '../packages/matrix/dist/index.js';
import { BootQueue } from '../apps/scheduler/dist/queue/boot.queue.js';

const jobs = Number(process.argv[2] ?? 2_000);
const services = await useLocalServices();
const prefix = `bench-farm-${process.pid}-${Date.now().toString(36)}`;
const config = { REDIS_URL: services.redis.url, QUEUE_PREFIX: prefix };
const producer = new BootQueue(config);
const range = (n, from, step = 1) => Array.from({ length: n }, (_, i) => from + i * step);
const connection = { url: services.redis.url, maxRetriesPerRequest: null };

// 1. A 10,000-cell matrix that can all run: 2 hardware descriptions × 25 vCPU counts × 200 memory sizes (AArch64, edk2, GICv3).
const spec = { axes: { arch: ['aarch64'], firmware: ['edk2'], hwDescription: ['acpi', 'dt'], gic: ['v3'], cpus: range(25, 1), memoryMiB: range(200, 128, 128) } };
await producer.enqueueRun(randomUUID(), []); // connect and load BullMQ's scripts first
const t0 = performance.now();
const cells = expandMatrix(spec, { host: null }).filter((c) => c.applicable);
const t1 = performance.now();
const queued = cells.map((c, i) => ({ cellId: randomUUID(), capability: capabilityFor(c.profile), priority: cellPriority.of(i + 1, false) }));
await producer.enqueueRun(randomUUID(), queued);
const t2 = performance.now();
// Baseline: the same number of plain jobs in one Queue.addBulk (no flow, no parent).
const bulk = new Queue('bulk-baseline', { prefix, connection });
await bulk.add('warm-up', {});
const t3 = performance.now();
await bulk.addBulk(queued.map((c) => ({ name: 'cell.boot', data: { cellId: c.cellId }, opts: { jobId: `cell-${c.cellId}`, priority: c.priority } })));
const t4 = performance.now();
await bulk.close();
console.log(`10,000-cell matrix: ${cells.length} runnable cells`);
console.log(`  expandMatrix:             ${(t1 - t0).toFixed(0)} ms`);
console.log(`  enqueue (one flow):       ${(t2 - t1).toFixed(0)} ms`);
console.log(`  expansion + enqueue:      ${(t2 - t0).toFixed(0)} ms  (target ≤ 1000 ms: ${t2 - t0 <= 1000 ? 'met' : 'missed'})`);
console.log(`  Queue.addBulk of as many plain jobs (baseline): ${(t4 - t3).toFixed(0)} ms; flow/addBulk ratio ${((t2 - t1) / (t4 - t3)).toFixed(2)}`);

// 2. Throughput: produce `jobs` cells and process them with a trivial processor, end to end.
async function pipeline(queueName, produce) {
  let done = 0;
  let finish;
  const finished = new Promise((r) => (finish = r));
  const worker = new Worker(queueName, async () => {}, { prefix, connection, concurrency: 8, autorun: false });
  worker.on('completed', () => ++done === jobs && finish());
  const started = performance.now();
  void worker.run();
  await produce();
  await finished;
  const ms = performance.now() - started;
  await worker.close();
  return ms;
}

const farmMs = await pipeline('boot.qemu-tcg.aarch64', async () => {
  // The farm's shape: one run per cell here, each its own flow with a settle parent.
  const batch = 50;
  for (let i = 0; i < jobs; i += batch) {
    await Promise.all(range(Math.min(batch, jobs - i), i).map((n) => producer.enqueueRun(randomUUID(), [{ cellId: randomUUID(), capability: 'qemu-tcg:aarch64', priority: cellPriority.of(n + 1, false) }])));
  }
});
const raw = new Queue('raw-baseline', { prefix, connection });
const rawMs = await pipeline('raw-baseline', async () => {
  const batch = 50;
  for (let i = 0; i < jobs; i += batch) {
    await Promise.all(range(Math.min(batch, jobs - i), i).map(() => raw.add('cell.boot', { cellId: randomUUID() })));
  }
});
await raw.close();
const farmRate = jobs / (farmMs / 1000);
const rawRate = jobs / (rawMs / 1000);
console.log(`pipeline, ${jobs} jobs, concurrency 8:`);
console.log(`  raw BullMQ add → process (baseline): ${rawRate.toFixed(0)} jobs/s`);
console.log(`  farm producer (flow per run) → process: ${farmRate.toFixed(0)} jobs/s`);
console.log(`  farm/raw throughput ratio: ${(farmRate / rawRate).toFixed(2)}`);

await producer.onApplicationShutdown();
const admin = new Redis(services.redis.url);
let cursor = '0';
do {
  const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
  cursor = next;
  if (keys.length) await admin.del(...keys);
} while (cursor !== '0');
admin.disconnect();
await services.stop();
