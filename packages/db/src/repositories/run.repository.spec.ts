// Medium tests: real PostgreSQL. Runs of several images, and the migration that introduced them.
import { defaultProfile, type RunCompliance } from '@bootfarm/contracts';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { useLocalServices } from '@bootfarm/local-services';
import { createPrismaClient, type PrismaClient } from '../client.js';
import { DEFAULT_MIGRATIONS_DIR, migrateDeploy } from '../migrate/index.js';
import { migratedDatabase } from '../testing/migrated-database.js';
import { BootRepository } from './boot.repository.js';
import { ImageRepository } from './image.repository.js';
import { RunRepository } from './run.repository.js';

const dt = { ...defaultProfile, hwDescription: 'dt' as const };

describe('runs of several images', () => {
  let close: (() => Promise<void>) | undefined;
  let db: PrismaClient;
  let images: ImageRepository;
  let runs: RunRepository;
  let vendorId: string;
  let first: string;
  let second: string;

  before(async () => {
    ({ db, close } = await migratedDatabase());
    images = new ImageRepository(db);
    runs = new RunRepository(db);
    vendorId = await images.ensureVendor('acme');
    first = (await images.record({ vendorId, name: 'first', format: 'raw', sha256: '1'.repeat(64), sizeBytes: 1 })).image.id;
    second = (await images.record({ vendorId, name: 'second', format: 'qcow2', sha256: '2'.repeat(64), sizeBytes: 1 })).image.id;
  });
  after(() => close?.());

  test('every image gets every cell, image-major in submission order, and each cell boots its own image', async () => {
    const run = await runs.create({
      vendorId,
      imageIds: [second, first],
      profiles: [dt, defaultProfile],
      notApplicable: [{ profile: { ...defaultProfile, gic: 'v2', cpus: 9 }, reason: 'GICv2 has at most 8 CPUs' }],
      timeoutMs: 60_000,
    });
    assert.deepEqual(run.images.map((i) => i.name), ['second', 'first']);
    assert.deepEqual(run.images.map((i) => i.compliance), [null, null]);
    assert.equal(run.cells.length, 6);
    assert.deepEqual(run.cells.map((c) => c.imageId), [second, second, second, first, first, first]);
    const keys = run.cells.slice(0, 3).map((c) => c.key);
    assert.deepEqual(run.cells.slice(3).map((c) => c.key), keys, 'the same cells for both images');
    assert.deepEqual([...keys].sort(), keys, 'by key within an image');
    assert.equal(run.cells.filter((c) => c.status === 'not_applicable').length, 2);

    const boots = new BootRepository(db);
    for (const cell of run.cells) assert.equal((await boots.loadWork(cell.id))!.image.id, cell.imageId);
    const listed = await runs.list(vendorId, { limit: 5 });
    assert.deepEqual(listed.items.find((r) => r.id === run.id)!.images.map((i) => i.id), [second, first]);
  });

  test('a cell can only hold one of its run\'s images (composite foreign key)', async () => {
    const run = await runs.create({ vendorId, imageIds: [first], profiles: [defaultProfile], timeoutMs: 60_000 });
    await assert.rejects(db.cell.update({ where: { id: run.cells[0]!.id }, data: { imageId: second } }), /foreign key/i);
  });

  test('each image\'s report is written once, and the run counts as reported only when all are', async () => {
    const run = await runs.create({ vendorId, imageIds: [first, second], profiles: [defaultProfile], timeoutMs: 60_000 });
    const report = (imageId: string, name: string): RunCompliance => ({
      schema: 'bootfarm.compliance/v1', runId: run.id, image: { id: imageId, name, sha256: '0'.repeat(64), format: 'raw' },
      generatedAt: new Date().toISOString(), catalogueVersion: 'test', summary: {}, requirements: [], cells: [],
    } as unknown as RunCompliance);
    await db.run.update({ where: { id: run.id }, data: { status: 'passed', finishedAt: new Date() } });
    const past = new Date(Date.now() + 60_000);
    assert.ok((await runs.runsInFlight(past)).some((r) => r.runId === run.id), 'no report yet: still carried');
    assert.equal(await runs.saveComplianceOnce(run.id, first, report(first, 'first')), true);
    assert.equal(await runs.saveComplianceOnce(run.id, first, report(first, 'again')), false, 'write-once');
    assert.ok((await runs.runsInFlight(past)).some((r) => r.runId === run.id), 'one image still without its report');
    assert.equal(await runs.saveComplianceOnce(run.id, second, report(second, 'second')), true);
    assert.ok(!(await runs.runsInFlight(past)).some((r) => r.runId === run.id));
    const stored = await db.runImage.findMany({ where: { runId: run.id }, orderBy: { position: 'asc' } });
    assert.deepEqual(stored.map((i) => (i.compliance as { image: { name: string } }).image.name), ['first', 'second']);
    const sources = (await runs.complianceSources(run.id))!;
    assert.deepEqual(sources.images.map((i) => i.image.id), [first, second]);
    assert.deepEqual(sources.images.map((i) => i.cells.length), [1, 1]);
  });
});

describe('the run_images migration', () => {
  test('keeps an existing run\'s image, cells, report and nightly key', async () => {
    const services = await useLocalServices();
    const dir = await mkdtemp(join(tmpdir(), 'bootfarm-migrations-'));
    let db: PrismaClient | undefined;
    try {
      const all = (await readdir(DEFAULT_MIGRATIONS_DIR)).sort();
      for (const name of all.filter((n) => n === 'migration_lock.toml' || n < '20261207022000')) await cp(join(DEFAULT_MIGRATIONS_DIR, name), join(dir, name), { recursive: true });
      const url = await services.createDatabase();
      await migrateDeploy({ databaseUrl: url, migrationsDir: dir });
      db = createPrismaClient({ databaseUrl: url });
      await db.$executeRawUnsafe(`
        INSERT INTO vendor (id, name) VALUES ('00000000-0000-4000-8000-000000000001', 'acme');
        INSERT INTO image (id, vendor_id, name, format, sha256, size_bytes) VALUES ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001', 'img', 'raw', '${'a'.repeat(64)}', 1);
        INSERT INTO run (id, vendor_id, image_id, status, trigger, compliance, nightly_date) VALUES
          ('00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002', 'passed', 'nightly', '{"x":1}', '2026-12-01'),
          ('00000000-0000-4000-8000-000000000004', '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002', 'queued', 'vendor', NULL, NULL);
        INSERT INTO cell (id, run_id, key, backend, profile, status, timeout_ms) VALUES
          ('00000000-0000-4000-8000-000000000005', '00000000-0000-4000-8000-000000000003', 'k', 'qemu-tcg', '{}', 'passed', 1000);
      `.split(';').filter((q) => q.trim()).join(';'));
      await migrateDeploy({ databaseUrl: url });
      const ri = await db.runImage.findMany({ orderBy: { runId: 'asc' } });
      assert.deepEqual(ri.map((r) => [r.runId.slice(-1), r.imageId.slice(-1), r.position, r.compliance]), [['3', '2', 0, { x: 1 }], ['4', '2', 0, null]]);
      const cell = await db.cell.findUniqueOrThrow({ where: { id: '00000000-0000-4000-8000-000000000005' } });
      assert.equal(cell.imageId, '00000000-0000-4000-8000-000000000002');
      const runs = await db.run.findMany({ orderBy: { id: 'asc' } });
      assert.deepEqual(runs.map((r) => r.nightlyImageId), ['00000000-0000-4000-8000-000000000002', null]);
    } finally {
      await db?.$disconnect();
      await services.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
