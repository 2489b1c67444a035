// Medium tests: real PostgreSQL (a fresh migrated database) and real Redis (a private BullMQ prefix),
// real BullMQ workers; the cell processor here records order or writes results through the fenced
// repository instead of booting (the e2e specs boot real QEMU).
import 'reflect-metadata';
import { bootQueueName, defaultProfile, MatrixSpec, RunSettle, type VmProfile } from '@bootfarm/contracts';
import { BootRepository, createPrismaClient, HistoryRepository, ImageRepository, migrateDeploy, NightlyRepository, RunRepository, WebhookRepository, type CellOutcome, type PrismaClient } from '@bootfarm/db';
import { startRedis, useLocalServices, type LocalServices } from '@bootfarm/local-services';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SchedulerConfig } from '../config.js';
import { DeadlineReaper } from '../maintenance/deadline.reaper.js';
import { QueueReconciler } from '../maintenance/queue.reconciler.js';
import { NightlyScheduler } from '../nightly/nightly.scheduler.js';
import { NightlyService } from '../nightly/nightly.service.js';
import { BootQueue } from './boot.queue.js';
import { RedisConfigCheck } from './redis-config.check.js';
import { RunEnqueuer } from './run.enqueuer.js';
import { RunSettleWorker } from './run-settle.worker.js';
import { RunSettler } from './run.settler.js';
import { WebhookDispatcher } from '../webhooks/webhook.dispatcher.js';
import { HistoryRecorder } from '../history/history.recorder.js';

const aarch64 = bootQueueName('qemu-tcg:aarch64');
const passed: CellOutcome = { outcome: 'passed', failureClass: null, reason: 'marker seen', stage: 'os', durationMs: 10, command: {}, commandLine: 'qemu', firmware: {}, facts: {}, evidence: {} };
const profile = (cpus: number): VmProfile => ({ ...defaultProfile, cpus });
const until = async (check: () => Promise<boolean> | boolean, ms = 30_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('the farm queue on real Redis and PostgreSQL', () => {
  let services: LocalServices;
  let db: PrismaClient;
  let runs: RunRepository;
  let boots: BootRepository;
  let images: ImageRepository;
  let config: SchedulerConfig;
  let queue: BootQueue;
  let enqueuer: RunEnqueuer;
  let settler: RunSettler;
  let redis: Redis;
  const closers: (() => Promise<unknown>)[] = [];

  before(async () => {
    services = await useLocalServices();
    const url = await services.createDatabase('bootfarm_queue');
    await migrateDeploy({ databaseUrl: url });
    db = createPrismaClient({ databaseUrl: url });
    runs = new RunRepository(db);
    boots = new BootRepository(db);
    images = new ImageRepository(db);
    config = {
      DATABASE_URL: url, REDIS_URL: services.redis.url, QUEUE_PREFIX: `queue-spec-${process.pid}-${Date.now().toString(36)}`,
      RECONCILE_INTERVAL_MS: 60_000, RECONCILE_GRACE_MS: 0, REAPER_INTERVAL_MS: 60_000, PLATFORM_PROBE_BUDGET_MS: 1_000, REAPER_GRACE_MS: 1_000,
      RUN_SETTLE_RETRY_MS: 200, WEBHOOK_MAX_ATTEMPTS: 2, WEBHOOK_RETRY_BASE_MS: 100, WEBHOOK_TIMEOUT_MS: 1_000, WEBHOOK_ALLOW_PRIVATE_HOSTS: true, NIGHTLY_OWNER: false, NIGHTLY_CRON: '0 0 2 * * *', NIGHTLY_TIMEOUT_SEC: 60, HISTORY_RECHECKS: 0,
    } as SchedulerConfig;
    queue = new BootQueue(config);
    enqueuer = new RunEnqueuer(runs, queue);
    const webhooks = new WebhookDispatcher(config, new WebhookRepository(db), runs, queue);
    closers.push(() => webhooks.onApplicationShutdown());
    settler = new RunSettler(runs, webhooks, new HistoryRecorder(config, new HistoryRepository(db), new NightlyRepository(db), enqueuer, webhooks, db));
    redis = new Redis(services.redis.url);
    Logger.overrideLogger(['error', 'warn']);
  });

  after(async () => {
    for (const close of closers.reverse()) await close();
    const keys = await redis.keys(`${config.QUEUE_PREFIX}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await queue.onApplicationShutdown();
    await db.$disconnect();
    await services.stop();
  });

  const image = async (vendor: string) => {
    const vendorId = await images.ensureVendor(vendor);
    const sha = (vendor + '0'.repeat(64)).slice(0, 64).replace(/[^0-9a-f]/g, 'a');
    const imageId = (await images.record({ vendorId, name: vendor, format: 'raw', sha256: sha, sizeBytes: 1 << 20 })).image.id;
    return { vendorId, imageId, imageIds: [imageId] };
  };

  const settleWorker = () => {
    const w = new RunSettleWorker(config, settler);
    w.onApplicationBootstrap();
    closers.push(() => w.onApplicationShutdown());
    return w;
  };

  /** A cell worker that opens an attempt and records `outcome` through the fenced repository. */
  const resultWorker = (handle?: (job: Job) => Promise<void>) => {
    const w = new Worker(aarch64, async (job) => {
      if (handle) return handle(job);
      const ticket = await boots.startAttempt((job.data as { cellId: string }).cellId, 'spec-worker');
      if (ticket) await boots.finishAttempt(ticket, passed);
    }, { prefix: config.QUEUE_PREFIX, connection: { url: config.REDIS_URL, maxRetriesPerRequest: null }, concurrency: 2 });
    closers.push(() => w.close());
    return w;
  };

  test('vendors interleave: vendor B\'s one cell runs among the first few after vendor A\'s 200; nightly work runs after vendor work', async () => {
    const a = await image('aaaa');
    const b = await image('bbbb');
    const nightly = await new NightlyRepository(db).createRun({ ...b, nightlyDate: '2026-01-01', profiles: [defaultProfile], notApplicable: [], timeoutMs: 60_000 });
    assert.ok(nightly);
    await enqueuer.enqueue(nightly.runId);
    const aCells: string[] = [];
    for (let i = 0; i < 200; i++) {
      const run = await runs.create({ ...a, profiles: [defaultProfile], timeoutMs: 60_000 });
      aCells.push(run.cells[0]!.id);
      await enqueuer.enqueue(run.id);
    }
    const bRun = await runs.create({ ...b, profiles: [defaultProfile], timeoutMs: 60_000 });
    await enqueuer.enqueue(bRun.id);
    const order: string[] = [];
    const recorder = new Worker(aarch64, async (job) => void order.push((job.data as { cellId: string }).cellId), {
      prefix: config.QUEUE_PREFIX, connection: { url: config.REDIS_URL, maxRetriesPerRequest: null }, concurrency: 1,
    });
    await until(() => order.length === 202, 60_000);
    await recorder.close();
    const bAt = order.indexOf(bRun.cells[0]!.id);
    assert.ok(bAt >= 0 && bAt <= 2, `vendor B's cell ran at position ${bAt}`);
    const nightlyCell = (await db.cell.findFirstOrThrow({ where: { runId: nightly.runId } })).id;
    assert.equal(order.indexOf(nightlyCell), 201, 'the nightly cell ran after every vendor cell');
    // These cells never got results; end them so later tests start from an idle vendor.
    await db.cell.updateMany({ where: { id: { in: [...aCells, bRun.cells[0]!.id, nightlyCell] } }, data: { status: 'canceled' } });
    await db.run.updateMany({ where: { vendorId: { in: [a.vendorId, b.vendorId] } }, data: { status: 'canceled' } });
  });

  test('a run is one flow: its settle job runs once, after the last cell, and writes the report once, even when a cell fails for good', async () => {
    const c = await image('cccc');
    const run = await runs.create({ ...c, profiles: [profile(1), profile(2), profile(3)], timeoutMs: 60_000 });
    const failing = run.cells[1]!.id;
    const settled: Job[] = [];
    const w = settleWorker();
    (w as unknown as { worker: Worker }).worker.on('completed', (job) => settled.push(job));
    resultWorker(async (job) => {
      const cellId = (job.data as { cellId: string }).cellId;
      const ticket = await boots.startAttempt(cellId, 'spec-worker');
      if (!ticket) return;
      if (cellId === failing) {
        // As the worker's last delivery does: an infrastructure result, then the job fails.
        await boots.finishAttempt(ticket, { ...passed, outcome: 'infrastructure_error', failureClass: 'infrastructure' });
        throw new UnrecoverableError('emulator vanished');
      }
      await boots.finishAttempt(ticket, passed);
    });
    await enqueuer.enqueue(run.id);
    await until(() => settled.some((j) => j.id === `run-${run.id}`));
    const job = settled.find((j) => j.id === `run-${run.id}`)!;
    assert.deepEqual(job.returnvalue, { runId: run.id, status: 'error', reportWritten: true });
    const row = await db.runImage.findFirstOrThrow({ where: { runId: run.id } });
    assert.ok(row.compliance, 'the report is stored');
    // Settling again (a redelivery, the API, the reaper) writes nothing.
    assert.deepEqual(await settler.settle(run.id), { state: 'settled', status: 'error', reportWritten: false });
    assert.equal(settled.filter((j) => j.id === `run-${run.id}`).length, 1);
    const results = await db.result.count({ where: { cell: { runId: run.id } } });
    assert.equal(results, 3);
  });

  test('the reconciler re-adds the jobs Redis lost with the same ids, and the run completes with one result per cell', async () => {
    for (const close of closers.splice(0)) await close(); // no worker may take the jobs before Redis loses them
    const d = await image('dddd');
    const run = await runs.create({ ...d, profiles: [profile(1), profile(2)], timeoutMs: 60_000 });
    await enqueuer.enqueue(run.id);
    // Redis loses the farm's keys (as after FLUSHALL; the machine's other keys are left alone).
    const keys = await redis.keys(`${config.QUEUE_PREFIX}:*`);
    await redis.del(...keys);
    assert.deepEqual(await queue.presence([{ queue: RunSettle.queue, jobId: `run-${run.id}` }]), ['missing']);
    const reconciler = new QueueReconciler(config, runs, queue, enqueuer);
    const repaired = await reconciler.reconcile();
    assert.ok(repaired.cellsReenqueued >= 2, `re-enqueued ${repaired.cellsReenqueued}`);
    assert.deepEqual(await queue.presence(run.cells.map((c) => ({ queue: aarch64, jobId: `cell-${c.id}` }))), ['live', 'live']);
    // Nothing lost any more: a second pass changes nothing.
    const again = await reconciler.reconcile();
    assert.equal(again.runsRepaired, 0);
    settleWorker();
    resultWorker();
    await until(async () => (await db.runImage.findFirstOrThrow({ where: { runId: run.id } })).compliance !== null);
    assert.equal(await db.result.count({ where: { cell: { runId: run.id } } }), 2);
    assert.equal((await db.run.findUniqueOrThrow({ where: { id: run.id } })).status, 'passed');
  });

  test('the reaper ends a cell running past its deadline, the run settles, and the lost worker\'s late write is fenced', async () => {
    const e = await image('eeee');
    const run = await runs.create({ ...e, profiles: [profile(1)], timeoutMs: 5_000 });
    const cellId = run.cells[0]!.id;
    const lost = await boots.startAttempt(cellId, 'lost-worker');
    assert.ok(lost);
    // The attempt started long ago: past start + timeout + probe budget + grace.
    await db.attempt.update({ where: { id: lost.attemptId }, data: { startedAt: new Date(Date.now() - 60_000) } });
    const reaper = new DeadlineReaper(config, runs, boots, settler, queue);
    const queued = await runs.create({ ...e, profiles: [profile(2)], timeoutMs: 5_000 });
    assert.deepEqual(await reaper.reap(), [cellId]);
    const result = await db.result.findUniqueOrThrow({ where: { cellId } });
    assert.equal(result.outcome, 'infrastructure_error');
    assert.equal(result.failureClass, 'deadline');
    const row = await db.run.findUniqueOrThrow({ where: { id: run.id } });
    assert.equal(row.status, 'error');
    assert.ok((await db.runImage.findFirstOrThrow({ where: { runId: run.id } })).compliance, 'the run settled with its report');
    const late = await boots.finishAttempt(lost, passed);
    assert.equal(late.accepted, false, 'the late write is fenced');
    assert.equal((await db.result.findUniqueOrThrow({ where: { cellId } })).outcome, 'infrastructure_error');
    // A queued cell waiting for a worker is never reaped.
    assert.equal((await db.cell.findUniqueOrThrow({ where: { id: queued.cells[0]!.id } })).status, 'queued');
    assert.deepEqual(await reaper.reap(), []);
  });

  test('a night is booked once per image, whatever triggers it: concurrent triggers, a repeat, a replayed scheduler job', async () => {
    const f = await image('ffff');
    const g = await image('aaaf');
    const nightlyRepo = new NightlyRepository(db);
    const nightly = new NightlyService(config, nightlyRepo, enqueuer);
    const matrix = MatrixSpec.parse({ axes: { arch: ['aarch64'] } });
    await nightly.register(f.vendorId, f.imageId, matrix);
    await nightly.register(g.vendorId, g.imageId, matrix);
    await assert.rejects(nightly.register(f.vendorId, g.imageId, matrix), /not found/, "another vendor's image is not found");
    const [one, two] = await Promise.all([nightly.runNight('2026-03-04'), nightly.runNight('2026-03-04')]);
    assert.equal(one!.created + two!.created, 2);
    assert.equal(one!.deduplicated + two!.deduplicated, 2);
    const scheduler = new NightlyScheduler(config, nightly);
    // A scheduler job fired for 02:00 UTC that night, delivered late and then replayed.
    const fired = Date.parse('2026-03-04T02:00:00Z');
    const job = { data: {}, opts: { prevMillis: fired }, timestamp: fired } as unknown as Job;
    assert.deepEqual(await scheduler.handleNightlyTrigger(job), { date: '2026-03-04', created: 0, deduplicated: 2 });
    assert.deepEqual(await scheduler.handleNightlyTrigger(job), { date: '2026-03-04', created: 0, deduplicated: 2 });
    await scheduler.onApplicationShutdown();
    const nightRuns = await db.run.findMany({ where: { nightlyDate: '2026-03-04' }, select: { nightlyImageId: true, trigger: true } });
    assert.equal(nightRuns.length, 2);
    assert.deepEqual(new Set(nightRuns.map((r) => r.nightlyImageId)), new Set([f.imageId, g.imageId]));
    assert.ok(nightRuns.every((r) => r.trigger === 'nightly'));
    await nightly.unregister(g.vendorId, g.imageId);
    assert.equal((await nightly.runNight('2026-03-05')).created, 1);
  });

  test('the scheduler warns at start when Redis evicts or has AOF off (on its own Redis), and not when it is configured as BullMQ needs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bootfarm-redis-config-'));
    const own = await startRedis({ dataDir: dir });
    const warnings: string[] = [];
    Logger.overrideLogger({ log() {}, error() {}, warn: (m: unknown) => void warnings.push(String(m)) });
    const ownQueue = new BootQueue({ ...config, REDIS_URL: own.url });
    try {
      assert.deepEqual(await ownQueue.redisConfig(), { maxmemoryPolicy: 'noeviction', appendonly: 'yes' });
      await new RedisConfigCheck(ownQueue).onApplicationBootstrap();
      assert.deepEqual(warnings, []);
      const admin = new Redis(own.url);
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      await admin.config('SET', 'appendonly', 'no');
      admin.disconnect();
      await new RedisConfigCheck(ownQueue).onApplicationBootstrap();
      assert.equal(warnings.length, 2);
      assert.match(warnings[0]!, /maxmemory-policy is allkeys-lru; BullMQ needs noeviction/);
      assert.match(warnings[1]!, /AOF is off/);
    } finally {
      Logger.overrideLogger(['error', 'warn']);
      await ownQueue.onApplicationShutdown();
      await own.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
