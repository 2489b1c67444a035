// Worker faults on real parts (reliability §5.3): F9 a hung guest, F10 QEMU killed mid-boot, F1 the
// worker SIGKILLed mid-boot, F7 PostgreSQL down while the result is written. Every fault is
// injected into a process or server this file started.
import type { RunDto } from '@bootfarm/contracts';
import { ensureFixture } from '@bootfarm/fixtures';
import { ensureDatabase, startPostgres, type PostgresServer } from '@bootfarm/local-services';
import { ensureProbeImage } from '@bootfarm/probe';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFarm, waitFor, type Farm } from './farm.harness.js';
import {
  attemptsOf,
  createRun,
  logEvents,
  qemuProcessesMentioning,
  resultCount,
  sql,
  uploadImage,
  waitForRunEnd,
  waitForWorker,
  setWorkerHealth,
} from './fleet.helpers.js';

/** A vendor boot's scratch directory (`w<pid>-<ticks>-<n>/`), not a health boot's or a platform probe's. */
const vendorBootDir = (workDir: string) => new RegExp(`${workDir}/w[0-9a-z]+-[0-9a-z]+-[0-9a-z]+/`);


describe('worker faults: hung guest, QEMU killed, worker killed', () => {
  let farm: Farm;
  let linuxId: string;

  before(async () => {
    const linux = await ensureFixture('linux-uki');
    farm = await startFarm(
      // Short locks so that a lost worker's job is back in the queue within seconds (F1).
      { WORKER_HEARTBEAT_MS: '500', WORKER_LOCK_DURATION_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000' },
      { workerEnv: { WORKER_ID: 'worker-f', WORKER_CAPABILITIES: 'qemu-tcg:aarch64' } },
    );
    linuxId = (await uploadImage(farm, linux.path, 'linux-uki')).id;
    await waitForWorker(farm, 'worker-f', (w) => w.health === 'good');
  });

  after(async () => {
    await farm?.stop();
  });

  test('F9: a guest that does not reach its marker in time ends timeout, is not retried, and the worker stays good', async () => {
    // Hold the worker off while the cell's limit is cut below the guest's boot time.
    assert.equal((await setWorkerHealth(farm, 'worker-f', 'maintenance')).status, 200);
    await waitFor(() => logEvents(farm, 'worker', 'health').some((e) => e.to === 'maintenance'), 10_000, () => farm.log('worker'));
    const run = await createRun(farm, linuxId);
    const cellId = run.cells[0]!.id;
    await sql(farm.env.DATABASE_URL!, 'UPDATE cell SET timeout_ms = 1500 WHERE id = $1', [cellId]);
    assert.equal((await setWorkerHealth(farm, 'worker-f', 'unknown')).status, 200);

    const ended = await waitForRunEnd(farm, run.id);
    const cell = ended.cells[0]!;
    assert.equal(cell.status, 'timeout', JSON.stringify(cell.result?.reason));
    assert.deepEqual((await attemptsOf(farm, cellId)).map((a) => a.status), ['timeout'], 'a guest timeout is a result, never retried');
    assert.equal(await resultCount(farm, cellId), 1);
    await sleep(1_500); // a health change would be picked up by now
    const worker = await waitForWorker(farm, 'worker-f', () => true);
    assert.equal(worker.health, 'good', 'a guest that hangs says nothing about the worker');
    assert.ok(!logEvents(farm, 'worker', 'health').some((e) => e.cellId === cellId), 'no health transition names the cell');
  });

  test('F10: QEMU killed mid-boot is an infrastructure error: retried, and the worker goes unknown → health boot → good', async () => {
    const workDir = farm.env.WORKER_WORK_DIR!;
    const run = await createRun(farm, linuxId);
    const cellId = run.cells[0]!.id;
    let qemu: number[] = [];
    await waitFor(() => (qemu = qemuProcessesMentioning(vendorBootDir(workDir))).length > 0, 120_000, () => farm.log('worker'));
    for (const pid of qemu) process.kill(pid, 'SIGKILL');

    const ended = await waitForRunEnd(farm, run.id);
    assert.equal(ended.cells[0]!.status, 'passed', JSON.stringify(ended.cells[0]!.result?.reason));
    const attempts = await attemptsOf(farm, cellId);
    assert.deepEqual(attempts.map((a) => a.status), ['infrastructure_error', 'passed'], 'the killed boot was retried once');
    assert.equal(await resultCount(farm, cellId), 1, 'exactly one accepted result');

    const health = logEvents(farm, 'worker', 'health');
    const lost = health.findIndex((e) => e.from === 'good' && e.to === 'unknown' && e.cellId === cellId);
    assert.ok(lost >= 0, `a transition names the cell: ${JSON.stringify(health)}`);
    assert.match(String(health[lost]!.reason), /QEMU was killed by SIGKILL/);
    assert.ok(health.slice(lost + 1).some((e) => e.from === 'unknown' && e.to === 'good'), 'a health boot made it good again');
    const worker = await waitForWorker(farm, 'worker-f', (w) => w.health === 'good');
    assert.match(worker.healthReason ?? '', /health boot passed/);
  });

  test('F1: a worker SIGKILLed mid-boot takes its QEMU with it; another worker finishes the cell; one result', async () => {
    const workDir = farm.env.WORKER_WORK_DIR!;
    const run = await createRun(farm, linuxId);
    const cellId = run.cells[0]!.id;
    await waitFor(() => qemuProcessesMentioning(vendorBootDir(workDir)).length > 0, 120_000, () => farm.log('worker'));
    farm.processes.worker.kill('SIGKILL');
    await waitFor(() => qemuProcessesMentioning(workDir).length === 0, 15_000);
    assert.deepEqual(qemuProcessesMentioning(workDir), [], 'no QEMU outlives its worker');
    assert.ok(readdirSync(workDir).length > 0, 'the killed boot left its scratch directory');

    farm.startWorker('worker-g', { WORKER_ID: 'worker-g' });
    const ended: RunDto = await waitForRunEnd(farm, run.id, 240_000, 'worker-g');
    assert.equal(ended.cells[0]!.status, 'passed', JSON.stringify(ended.cells[0]!.result?.reason));
    const attempts = await attemptsOf(farm, cellId);
    assert.deepEqual(attempts.map((a) => [a.worker_id, a.status]), [['worker-f', 'superseded'], ['worker-g', 'passed']]);
    assert.equal(await resultCount(farm, cellId), 1);
    await waitForWorker(farm, 'worker-f', (w) => w.state === 'offline', 10_000);

    // A worker starting on the lost worker's directory removes what the killed boot left.
    farm.startWorker('worker-h', { WORKER_ID: 'worker-h', WORKER_WORK_DIR: workDir, WORKER_CAPABILITIES: 'qemu-tcg:aarch64' });
    await waitFor(() => logEvents(farm, 'worker-h', 'ready').length > 0, 30_000, () => farm.log('worker-h'));
    const cleanup = logEvents(farm, 'worker-h', 'scratch_cleanup');
    assert.equal(cleanup.length, 1, farm.log('worker-h'));
    assert.ok((cleanup[0]!.removed as string[]).length > 0);
    const ownPrefix = readdirSync(workDir).filter((n) => (cleanup[0]!.removed as string[]).includes(n));
    assert.deepEqual(ownPrefix, [], 'the lost worker\'s scratch directories are gone');
  });
});

describe('worker faults: PostgreSQL down while the result is written (F7)', () => {
  let farm: Farm;
  let scratch: string;
  let pg: PostgresServer;
  let port: number;

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'bootfarm-f7-'));
    chmodSync(scratch, 0o755); // the postgres user must reach its data directory below
    pg = await startPostgres({ dataDir: join(scratch, 'postgres') });
    port = Number(new URL(pg.url).port);
    const databaseUrl = await ensureDatabase(pg.url, 'bootfarm_f7');
    farm = await startFarm({ DATABASE_URL: databaseUrl, WORKER_HEARTBEAT_MS: '500' }, { workerEnv: { WORKER_ID: 'worker-pg' } });
    await waitForWorker(farm, 'worker-pg', (w) => w.health === 'good');
  });

  after(async () => {
    await farm?.stop();
    await pg?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test('the result waits for PostgreSQL: one result, one boot, after it returns', async () => {
    const probe = await ensureProbeImage();
    const image = await uploadImage(farm, probe.imagePath, 'vmspec-probe');
    const run = await createRun(farm, image.id);
    const cellId = run.cells[0]!.id;
    const bootEnded = () => farm.log('worker').split('\n').filter((l) => l.includes(`cell ${cellId} attempt`) && l.includes('boot ended')).length;
    // The platform probe (two boots) runs between the end of the boot and the result write.
    await waitFor(() => bootEnded() > 0, 120_000, () => farm.log('worker'));
    await pg.stop();
    await waitFor(() => logEvents(farm, 'worker', 'result_retry').length >= 2, 60_000, () => farm.log('worker'));
    pg = await startPostgres({ dataDir: join(scratch, 'postgres'), port });

    const ended = await waitForRunEnd(farm, run.id, 120_000);
    assert.equal(ended.cells[0]!.status, 'passed', JSON.stringify(ended.cells[0]!.result?.reason));
    assert.equal(await resultCount(farm, cellId), 1, 'exactly one result');
    assert.deepEqual((await attemptsOf(farm, cellId)).map((a) => [a.worker_id, a.status]), [['worker-pg', 'passed']], 'one attempt');
    assert.equal(bootEnded(), 1, 'the cell was booted once');
    assert.ok(!logEvents(farm, 'worker', 'health').some((e) => e.to !== 'good'), 'a database outage is not the worker\'s health');
  });

  test('a job that meets PostgreSQL down is given back without spending its attempts, and boots once it returns', async () => {
    const probe = await ensureProbeImage();
    const image = await uploadImage(farm, probe.imagePath, 'vmspec-probe');
    // Queue a cell while the worker is held off, then let it go just as PostgreSQL stops.
    assert.equal((await setWorkerHealth(farm, 'worker-pg', 'maintenance')).status, 200);
    await waitFor(() => logEvents(farm, 'worker', 'health').some((e) => e.to === 'maintenance'), 10_000, () => farm.log('worker'));
    const run = await createRun(farm, image.id);
    const cellId = run.cells[0]!.id;
    assert.equal((await setWorkerHealth(farm, 'worker-pg', 'unknown')).status, 200);
    await waitFor(() => logEvents(farm, 'worker', 'health').some((e) => e.from === 'maintenance' && e.to === 'unknown'), 10_000, () => farm.log('worker'));
    await pg.stop();
    // More give-backs than the job has attempts (3): none of them may count as one.
    await waitFor(() => logEvents(farm, 'worker', 'db_unavailable').length >= 4, 90_000, () => farm.log('worker'));
    pg = await startPostgres({ dataDir: join(scratch, 'postgres'), port });

    const ended = await waitForRunEnd(farm, run.id, 120_000);
    assert.equal(ended.cells[0]!.status, 'passed', JSON.stringify(ended.cells[0]!.result?.reason));
    assert.deepEqual((await attemptsOf(farm, cellId)).map((a) => a.status), ['passed'], 'one attempt, opened once PostgreSQL was back');
    assert.equal(await resultCount(farm, cellId), 1);
  });
});
