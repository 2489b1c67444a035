// Medium tests: real PostgreSQL, a fresh migrated database per file.
import { defaultProfile } from '@bootfarm/contracts';
import { migratedDatabase } from '../testing/migrated-database.js';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PrismaClient } from '../client.js';
import { BootRepository, type CellOutcome } from './boot.repository.js';
import { ImageRepository } from './image.repository.js';
import { RunRepository } from './run.repository.js';

const outcome = (o: Partial<CellOutcome> = {}): CellOutcome => ({
  outcome: 'passed', failureClass: null, reason: 'marker seen', stage: 'bootloader', durationMs: 1234,
  command: { argv: ['qemu-system-aarch64'] }, commandLine: 'qemu-system-aarch64', firmware: {}, facts: {}, evidence: {}, ...o,
});

describe('repositories on PostgreSQL', () => {
  let close: (() => Promise<void>) | undefined;
  let db: PrismaClient;
  let images: ImageRepository;
  let runs: RunRepository;
  let boots: BootRepository;
  let vendorId: string;
  let imageId: string;

  before(async () => {
    ({ db, close } = await migratedDatabase());
    images = new ImageRepository(db);
    runs = new RunRepository(db);
    boots = new BootRepository(db);
    vendorId = await images.ensureVendor('acme');
    imageId = (await images.record({ vendorId, name: 'img', format: 'raw', sha256: 'a'.repeat(64), sizeBytes: 1 << 20 })).image.id;
  });

  after(async () => {
    await close?.();
  });

  const newCell = async () => {
    const run = await runs.create({ vendorId, imageIds: [imageId], profiles: [defaultProfile], timeoutMs: 60_000 });
    return { runId: run.id, cellId: run.cells[0]!.id };
  };

  test('the same bytes from the same vendor are one image; another vendor cannot see it', async () => {
    const again = await images.record({ vendorId, name: 'other name', format: 'raw', sha256: 'a'.repeat(64), sizeBytes: 1 << 20 });
    assert.equal(again.created, false);
    assert.equal(again.image.id, imageId);
    const other = await images.ensureVendor('globex');
    assert.equal(await images.find(other, imageId), null);
  });

  test('a job delivered twice leaves one result, and a stale attempt is fenced', async () => {
    const { runId, cellId } = await newCell();
    const first = await boots.startAttempt(cellId, 'w1');
    const second = await boots.startAttempt(cellId, 'w2'); // redelivery while the first still runs
    assert.ok(first && second);
    assert.equal(second.number, first.number + 1);

    assert.deepEqual(await boots.finishAttempt(first, outcome({ outcome: 'failed' })), { accepted: false, runSettled: false });
    assert.deepEqual(await boots.finishAttempt(second, outcome()), { accepted: true, runSettled: true });
    assert.deepEqual(await boots.finishAttempt(second, outcome({ outcome: 'failed' })), { accepted: true, runSettled: false }, 'a replayed write is idempotent');
    assert.equal(await boots.startAttempt(cellId, 'w3'), null, 'a finished cell is not booted again');

    assert.equal(await db.result.count({ where: { cellId } }), 1);
    assert.equal((await db.result.findUniqueOrThrow({ where: { cellId } })).outcome, 'passed', 'the replay did not overwrite');
    const run = await runs.find(vendorId, runId);
    assert.equal(run?.status, 'passed');
    assert.equal(run?.cells[0]?.status, 'passed');
    assert.equal(run?.cells[0]?.attempts, 2);
    assert.ok(run?.finishedAt);
    const attempts = await db.attempt.findMany({ where: { cellId }, orderBy: { number: 'asc' } });
    assert.deepEqual(attempts.map((a) => a.status), ['superseded', 'passed'], 'the late write of the superseded attempt was refused');
  });

  test('the last cells of a run finishing at once settle the run exactly once', async () => {
    for (let round = 0; round < 10; round++) {
      const run = await runs.create({
        vendorId,
        imageIds: [imageId],
        profiles: [defaultProfile, { ...defaultProfile, gic: 'v2' }, { ...defaultProfile, hwDescription: 'dt' }],
        timeoutMs: 60_000,
      });
      const tickets = await Promise.all(run.cells.map((c) => boots.startAttempt(c.id, 'w')));
      const results = await Promise.all(tickets.map((t) => boots.finishAttempt(t!, outcome())));
      assert.ok(results.every((r) => r.accepted));
      assert.equal(results.filter((r) => r.runSettled).length, 1, 'one writer made the run terminal');
      const row = await db.run.findUniqueOrThrow({ where: { id: run.id } });
      assert.equal(row.status, 'passed');
      assert.ok(row.finishedAt);
    }
  });

  test('concurrent deliveries serialise on the cell: attempts get distinct numbers', async () => {
    const { cellId } = await newCell();
    const tickets = await Promise.all([1, 2, 3, 4].map((i) => boots.startAttempt(cellId, `w${i}`)));
    assert.deepEqual(tickets.map((t) => t!.number).sort(), [1, 2, 3, 4]);
  });

  test('console lines: a repeated batch is stored once and pages follow seq', async () => {
    const { cellId } = await newCell();
    const ticket = (await boots.startAttempt(cellId, 'w1'))!;
    const batch = Array.from({ length: 30 }, (_, i) => ({ seq: i, offsetMs: i * 10, text: `line ${i}\u0000` }));
    await boots.appendConsole(ticket.attemptId, batch);
    await boots.appendConsole(ticket.attemptId, batch.slice(10, 20));
    const page1 = await boots.console(cellId, { limit: 20 });
    assert.equal(page1.lines.length, 20);
    assert.equal(page1.nextSeq, 19);
    assert.equal(page1.lines[3]!.text, 'line 3', 'NUL bytes are dropped');
    const page2 = await boots.console(cellId, { afterSeq: page1.nextSeq!, limit: 20 });
    assert.deepEqual(page2.lines.map((l) => l.seq), Array.from({ length: 10 }, (_, i) => 20 + i));
    assert.equal(page2.nextSeq, null);
  });

  test('an infrastructure error is an outcome of its own and makes the run an error', async () => {
    const { runId, cellId } = await newCell();
    const ticket = (await boots.startAttempt(cellId, 'w1'))!;
    await boots.abandonAttempt(ticket, 'infrastructure_error');
    const retry = (await boots.startAttempt(cellId, 'w2'))!;
    await boots.finishAttempt(retry, outcome({ outcome: 'infrastructure_error', reason: 'qemu would not start' }));
    assert.equal((await runs.find(vendorId, runId))?.status, 'error');
  });

  test('run list: keyset pages, newest first, scoped to the vendor', async () => {
    const before = await runs.list(vendorId, { limit: 100 });
    const page1 = await runs.list(vendorId, { limit: 2 });
    assert.equal(page1.items.length, 2);
    assert.ok(page1.nextCursor);
    const page2 = await runs.list(vendorId, { limit: 100, cursor: page1.nextCursor! });
    assert.deepEqual([...page1.items, ...page2.items].map((r) => r.id), before.items.map((r) => r.id));
    const other = await images.ensureVendor('initech');
    assert.equal((await runs.list(other, { limit: 10 })).items.length, 0);
    await assert.rejects(runs.list(vendorId, { limit: 2, cursor: 'garbage' }), /invalid cursor/);
  });
});
