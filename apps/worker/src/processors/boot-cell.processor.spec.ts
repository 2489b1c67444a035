// Medium tests of the boot processor: real PostgreSQL, real QEMU + edk2 booting the probe image.
import { defaultProfile } from '@bootfarm/contracts';
import { BootRepository, createPrismaClient, ImageRepository, migrateDeploy, RunRepository, type PrismaClient } from '@bootfarm/db';
import { QemuLauncher } from '@bootfarm/emulator';
import { useLocalServices, type LocalServices } from '@bootfarm/local-services';
import { ensureProbeImage } from '@bootfarm/probe';
import { UnrecoverableError, type Job } from 'bullmq';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ImageCache } from '../image.cache.js';
import { handleBootCell, InfrastructureError, type BootCellDeps } from './boot-cell.processor.js';

const job = (data: unknown, attemptsMade = 0, attempts = 3) => ({ data, attemptsMade, opts: { attempts } }) as unknown as Job;

describe('handleBootCell', () => {
  let services: LocalServices;
  let db: PrismaClient;
  let deps: BootCellDeps;
  let dir: string;
  let runs: RunRepository;
  let vendorId: string;
  let imageId: string;
  let liar: Server;
  let liarUrl: string;

  before(async () => {
    services = await useLocalServices();
    const url = await services.createDatabase('bootfarm_worker');
    await migrateDeploy({ databaseUrl: url });
    db = createPrismaClient({ databaseUrl: url });
    dir = mkdtempSync(join(tmpdir(), 'bootfarm-worker-spec-'));
    const probe = await ensureProbeImage();
    // Seed the cache with the image, as if it had been fetched and verified before.
    copyFileSync(probe.imagePath, join(dir, probe.sha256));
    const images = new ImageRepository(db);
    runs = new RunRepository(db);
    vendorId = await images.ensureVendor('acme');
    imageId = (await images.record({ vendorId, name: 'probe', format: 'raw', sha256: probe.sha256, sizeBytes: 1 })).image.id;
    deps = {
      boots: new BootRepository(db),
      runs: new RunRepository(db),
      images: new ImageCache(dir, 'http://127.0.0.1:1'),
      launcher: new QemuLauncher(),
      workerId: 'spec-worker',
      workDir: join(dir, 'work'),
      log: () => {},
    };
    // A "scheduler" that serves bytes which do not match the digest.
    liar = createServer((_req, res) => res.end('not the image you are looking for'));
    await new Promise<void>((r) => liar.listen(0, '127.0.0.1', r));
    liarUrl = `http://127.0.0.1:${(liar.address() as { port: number }).port}`;
  });

  after(async () => {
    liar?.close();
    await db?.$disconnect();
    await services?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const newCell = async (image = imageId) => {
    const run = await runs.create({ vendorId, imageIds: [image], profiles: [defaultProfile], timeoutMs: 120_000 });
    return run.cells[0]!.id;
  };

  test('a job delivered twice boots once and leaves one result', async () => {
    const cellId = await newCell();
    const first = await handleBootCell(deps, job({ cellId }));
    assert.equal(first.skipped, false);
    assert.ok(!first.skipped && first.outcome === 'passed' && first.accepted);
    const second = await handleBootCell(deps, job({ cellId }));
    assert.deepEqual(second, { skipped: true, cellId });
    assert.equal(await db.result.count({ where: { cellId } }), 1);
    assert.equal(await db.attempt.count({ where: { cellId } }), 1);
    const result = await db.result.findUniqueOrThrow({ where: { cellId } });
    const facts = result.facts as { probe: { uefiRevision: string; acpi20Present: boolean } };
    assert.equal(facts.probe.uefiRevision, '2.70');
    assert.equal(facts.probe.acpi20Present, true);
    const evidence = result.evidence as { marker: { text: string }; exit: { by: string } };
    assert.equal(evidence.marker.text, 'VMSPEC-PROBE result=done');
    assert.equal(evidence.exit.by, 'self', 'the probe powered the VM off by itself');
    const lines = await db.consoleLine.count({ where: { attempt: { cellId } } });
    assert.ok(lines > 20, `console lines stored: ${lines}`);
  });

  test('two concurrent deliveries leave exactly one accepted result', async () => {
    const cellId = await newCell();
    const results = await Promise.all([handleBootCell(deps, job({ cellId })), handleBootCell(deps, job({ cellId }))]);
    const accepted = results.filter((r) => !r.skipped && r.accepted);
    assert.equal(accepted.length, 1, JSON.stringify(results));
    assert.equal(await db.result.count({ where: { cellId } }), 1);
  });

  test('an invalid payload or an unknown cell is unrecoverable (never retried)', async () => {
    await assert.rejects(handleBootCell(deps, job({ cellId: 'nope' })), UnrecoverableError);
    await assert.rejects(handleBootCell(deps, job({ cellId: '8d7c3f4e-0000-4000-8000-000000000000' })), UnrecoverableError);
  });

  test('an image that does not match its digest is an infrastructure error: retried, then recorded', async () => {
    const images = new ImageRepository(db);
    const bogus = (await images.record({ vendorId, name: 'bogus', format: 'raw', sha256: 'b'.repeat(64), sizeBytes: 1 })).image.id;
    const cellId = await newCell(bogus);
    const lying = { ...deps, images: new ImageCache(join(dir, 'other-cache'), liarUrl) };
    await assert.rejects(handleBootCell(lying, job({ cellId }, 0, 2)), InfrastructureError);
    assert.equal(await db.result.count({ where: { cellId } }), 0, 'not the last delivery: no result yet');
    await assert.rejects(handleBootCell(lying, job({ cellId }, 1, 2)), /expected/);
    const result = await db.result.findUniqueOrThrow({ where: { cellId } });
    assert.equal(result.outcome, 'infrastructure_error');
    assert.match(result.reason, /sha256/);
    const attempts = await db.attempt.findMany({ where: { cellId }, orderBy: { number: 'asc' } });
    assert.deepEqual(attempts.map((a) => a.status), ['infrastructure_error', 'infrastructure_error']);
  });
});
