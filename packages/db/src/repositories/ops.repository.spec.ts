// Medium tests: real PostgreSQL. The aggregates behind /api/ready and /metrics.
import { defaultProfile } from '@bootfarm/contracts';
import { migratedDatabase } from '../testing/migrated-database.js';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PrismaClient } from '../client.js';
import { BootRepository, type CellOutcome } from './boot.repository.js';
import { ImageRepository } from './image.repository.js';
import { OpsRepository } from './ops.repository.js';
import { RunRepository } from './run.repository.js';

const outcome = (o: Partial<CellOutcome>): CellOutcome => ({
  outcome: 'passed', failureClass: null, reason: 'marker seen', stage: 'os', durationMs: 1000,
  command: {}, commandLine: 'qemu-system-aarch64', firmware: {}, facts: {}, evidence: {}, ...o,
});

describe('operations aggregates on PostgreSQL', () => {
  let close: (() => Promise<void>) | undefined;
  let db: PrismaClient;
  let ops: OpsRepository;
  let boots: BootRepository;
  let runs: RunRepository;
  let vendorId: string;
  let imageId: string;

  before(async () => {
    ({ db, close } = await migratedDatabase());
    const images = new ImageRepository(db);
    ops = new OpsRepository(db);
    boots = new BootRepository(db);
    runs = new RunRepository(db);
    vendorId = await images.ensureVendor('acme');
    imageId = (await images.record({ vendorId, name: 'img', format: 'raw', sha256: 'c'.repeat(64), sizeBytes: 1 << 20 })).image.id;
  });

  after(async () => {
    await close?.();
  });

  const boot = async (durationMs: number, result: CellOutcome['outcome'], capability = 'qemu-tcg:aarch64') => {
    const run = await runs.create({ vendorId, imageIds: [imageId], profiles: [defaultProfile], timeoutMs: 60_000 });
    const cellId = run.cells[0]!.id;
    await db.cell.update({ where: { id: cellId }, data: { capability } });
    const ticket = (await boots.startAttempt(cellId, 'w1'))!;
    await boots.finishAttempt(ticket, outcome({ outcome: result, durationMs }));
    return cellId;
  };

  test('boots by outcome and capability, and cumulative duration buckets per capability', async () => {
    await boot(400, 'passed');
    await boot(1500, 'passed');
    await boot(7000, 'failed');
    await boot(90_000, 'passed', 'qemu-tcg:arm');
    const queued = await runs.create({ vendorId, imageIds: [imageId], profiles: [defaultProfile], timeoutMs: 60_000 });

    assert.deepEqual(await ops.bootCounts(), [
      { capability: 'qemu-tcg:aarch64', outcome: 'failed', count: 1 },
      { capability: 'qemu-tcg:aarch64', outcome: 'passed', count: 2 },
      { capability: 'qemu-tcg:arm', outcome: 'passed', count: 1 },
    ]);
    const hist = await ops.durationHistograms([0.5, 1, 2, 10, 100]);
    assert.deepEqual(hist, [
      { capability: 'qemu-tcg:aarch64', buckets: [{ le: 0.5, count: 1 }, { le: 1, count: 1 }, { le: 2, count: 2 }, { le: 10, count: 3 }, { le: 100, count: 3 }], count: 3, sumSeconds: 8.9 },
      { capability: 'qemu-tcg:arm', buckets: [{ le: 0.5, count: 0 }, { le: 1, count: 0 }, { le: 2, count: 0 }, { le: 10, count: 0 }, { le: 100, count: 1 }], count: 1, sumSeconds: 90 },
    ]);
    assert.equal((await ops.waitingCells()).get('qemu-tcg:aarch64'), 1);
    assert.deepEqual(await ops.cellProgress(queued.cells[0]!.id), { cellId: queued.cells[0]!.id, status: 'queued', latestAttempt: null });
  });

  test('online workers per capability count only fresh heartbeats of online workers', async () => {
    const fresh = new Date();
    const stale = new Date(Date.now() - 60_000);
    const worker = (id: string, state: string, lastHeartbeatAt: Date, capabilities: string[]) =>
      db.worker.create({ data: { id, host: 'h', capabilities, probe: {}, concurrency: 1, health: 'good', state, lastHeartbeatAt } });
    await worker('a', 'online', fresh, ['qemu-tcg:aarch64', 'qemu-tcg:arm']);
    await worker('b', 'online', fresh, ['qemu-tcg:aarch64']);
    await worker('c', 'online', stale, ['qemu-tcg:aarch64']);
    await worker('d', 'draining', fresh, ['qemu-tcg:arm']);
    const online = await ops.onlineWorkersByCapability(30_000);
    assert.equal(online.get('qemu-tcg:aarch64'), 2);
    assert.equal(online.get('qemu-tcg:arm'), 1);
    assert.deepEqual(await ops.workerCounts(), [
      { health: 'good', state: 'draining', count: 1 },
      { health: 'good', state: 'online', count: 3 },
    ]);
  });
});
