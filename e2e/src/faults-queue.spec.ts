// Queue faults end to end (reliability-and-security.md §5.3): real scheduler and worker processes,
// real QEMU TCG + edk2 boots, real PostgreSQL, and the test's OWN Redis (AOF on), which it
// restarts (F3) and flushes (F4); a worker SIGSTOPped mid-boot is reaped at its deadline.
import { startRedis, type RedisServer } from '@bootfarm/local-services';
import { Redis } from 'ioredis';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFarm, waitFor, type Farm } from './farm.harness.js';
import { getRun, resultCounts, sql, submitRun, twoCells, uploadProbe, waitSettled } from './queue.helpers.js';

describe('queue faults: flows, Redis restart and data loss, the deadline reaper', () => {
  let redisDir: string;
  let redis: RedisServer;
  let farm: Farm;
  let imageId: string;

  before(async () => {
    redisDir = mkdtempSync(join(tmpdir(), 'bootfarm-f3-redis-'));
    redis = await startRedis({ dataDir: redisDir });
    farm = await startFarm({
      REDIS_URL: redis.url,
      RECONCILE_INTERVAL_MS: '2000',
      RECONCILE_GRACE_MS: '1000',
      REAPER_INTERVAL_MS: '2000',
      // A 5 s cell is given up 5 + 15 + 5 s after its attempt started (its boots take ~3 s).
      PLATFORM_PROBE_BUDGET_MS: '15000',
      REAPER_GRACE_MS: '5000',
      RUN_SETTLE_RETRY_MS: '500',
    });
    imageId = (await uploadProbe(farm)).id;
  });

  after(async () => {
    if (farm?.processes.worker.pid) {
      try {
        process.kill(farm.processes.worker.pid, 'SIGCONT');
      } catch {
        // already gone
      }
    }
    await farm?.stop();
    await redis?.stop();
    rmSync(redisDir, { recursive: true, force: true });
  });

  test('a multi-cell run is one flow: the settle job runs after the last cell and writes the report once', async () => {
    const { status, run } = await submitRun(farm, { imageId, profiles: twoCells, timeoutSec: 60 });
    assert.equal(status, 201, JSON.stringify(run));
    const done = await waitSettled(farm, run.id);
    assert.equal(done.status, 'passed', JSON.stringify(done.cells.map((c) => c.result?.reason)));
    assert.deepEqual(await resultCounts(farm, run.id), [1, 1]);
    const settledLines = () => farm.log('scheduler').split('\n').filter((l) => l.includes(`run ${run.id} settled`) && l.includes('compliance report(s) written'));
    // The settle job may log just after the run's status became terminal.
    await waitFor(async () => settledLines().length > 0, 30_000, () => farm.log('scheduler'));
    assert.deepEqual(settledLines().map((l) => /; (\d+) compliance report/.exec(l)?.[1]), ['1'], 'the report is written once');
  });

  test('F3: Redis restarts mid-run: POST /api/runs answers 503 while it is down, then the run completes with one result per cell', async () => {
    const { run } = await submitRun(farm, { imageId, profiles: twoCells, timeoutSec: 60 });
    await waitFor(async () => (await getRun(farm, run.id)).cells.some((c) => c.status === 'running'), 60_000, () => farm.log('worker'));
    await redis.stop();
    const down = await submitRun(farm, { imageId, timeoutSec: 60 });
    assert.equal(down.status, 503, JSON.stringify(down.run));
    redis = await startRedis({ dataDir: redisDir, port: redis.port! });
    const done = await waitSettled(farm, run.id);
    assert.ok(['passed', 'error'].includes(done.status), done.status);
    assert.deepEqual(await resultCounts(farm, run.id), [1, 1]);
    // The worker consumes new work after the restart.
    const next = await submitRun(farm, { imageId, timeoutSec: 60 });
    assert.equal(next.status, 201);
    assert.equal((await waitSettled(farm, next.run.id)).status, 'passed');
  });

  test('F4: FLUSHALL mid-run: the reconciler re-enqueues the lost jobs and the run completes with one result per cell', async () => {
    const { run } = await submitRun(farm, { imageId, profiles: twoCells, timeoutSec: 60 });
    await waitFor(async () => (await getRun(farm, run.id)).cells.some((c) => c.status === 'running'), 60_000, () => farm.log('worker'));
    const client = new Redis(redis.url);
    await client.flushall();
    client.disconnect();
    const done = await waitSettled(farm, run.id);
    assert.ok(['passed', 'error'].includes(done.status), done.status);
    assert.deepEqual(await resultCounts(farm, run.id), [1, 1]);
    assert.match(farm.log('scheduler'), new RegExp(`run ${run.id}: re-enqueued`));
  });

  test('reaper: a cell whose worker is SIGSTOPped gets its deadline result, the run settles, and the late write is fenced', async () => {
    const { run } = await submitRun(farm, { imageId, timeoutSec: 5 });
    const cellId = run.cells[0]!.id;
    await waitFor(async () => (await getRun(farm, run.id)).cells[0]!.status === 'running', 60_000, () => farm.log('worker'));
    const pid = farm.processes.worker.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      const done = await waitSettled(farm, run.id, 120_000);
      assert.equal(done.status, 'error');
      assert.equal(done.cells[0]!.result?.outcome, 'infrastructure_error');
      assert.equal(done.cells[0]!.result?.failureClass, 'deadline');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // The stopped worker wakes up and ends its attempt (a result or an infrastructure error):
    // whatever it writes is fenced, the deadline result stays.
    const mark = farm.log('worker').length;
    await waitFor(() => new RegExp(`cell[ -]${cellId}`).test(farm.log('worker').slice(mark)), 120_000, () => farm.log('worker'));
    assert.deepEqual(await resultCounts(farm, run.id), [1]);
    const attempts = await sql<{ number: number; status: string; worker_id: string }>(farm, 'SELECT number, status, worker_id FROM attempt WHERE cell_id = $1 ORDER BY number', [cellId]);
    assert.equal(attempts[0]!.status, 'superseded');
    assert.deepEqual(attempts.at(-1), { number: 2, status: 'infrastructure_error', worker_id: 'deadline-reaper' });
    assert.equal((await getRun(farm, run.id)).cells[0]!.result?.failureClass, 'deadline');
  });
});
