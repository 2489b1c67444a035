// Medium tests: real PostgreSQL. A finished attempt's console moves into compressed chunks and
// reads exactly as before; a running one stays as rows.
import { defaultProfile } from '@bootfarm/contracts';
import { migratedDatabase } from '../testing/migrated-database.js';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PrismaClient } from '../client.js';
import { BootRepository } from '../repositories/boot.repository.js';
import { ImageRepository } from '../repositories/image.repository.js';
import { RunRepository } from '../repositories/run.repository.js';
import { chunkLines, ConsoleStore, type StoredLine } from './console.store.js';

const line = (seq: number): StoredLine => ({ seq, offsetMs: seq * 7, text: `[    ${(seq / 100).toFixed(6)}] line ${seq} of a boot that says the same things again` });

test('chunks hold consecutive seqs only, at most the chunk size', () => {
  const lines = [0, 1, 2, 3, 4, 7, 8, 20].map(line);
  assert.deepEqual(chunkLines(lines, 3).map((c) => c.map((l) => l.seq)), [[0, 1, 2], [3, 4], [7, 8], [20]]);
  assert.deepEqual(chunkLines([]), []);
});

describe('console compaction on PostgreSQL', () => {
  let close: (() => Promise<void>) | undefined;
  let db: PrismaClient;
  let boots: BootRepository;
  let runs: RunRepository;
  let store: ConsoleStore;
  let vendorId: string;
  let imageId: string;

  before(async () => {
    ({ db, close } = await migratedDatabase());
    const images = new ImageRepository(db);
    boots = new BootRepository(db);
    runs = new RunRepository(db);
    store = new ConsoleStore(db);
    vendorId = await images.ensureVendor('acme');
    imageId = (await images.record({ vendorId, name: 'img', format: 'raw', sha256: 'f'.repeat(64), sizeBytes: 1 })).image.id;
  });

  after(async () => {
    await close?.();
  });

  const attemptWith = async (lines: StoredLine[]) => {
    const cellId = (await runs.create({ vendorId, imageIds: [imageId], profiles: [defaultProfile], timeoutMs: 60_000 })).cells[0]!.id;
    const ticket = (await boots.startAttempt(cellId, 'w1'))!;
    await boots.appendConsole(ticket.attemptId, lines);
    return { cellId, ticket };
  };
  const pages = async (cellId: string) => {
    const out: unknown[] = [];
    for (const [afterSeq, limit] of [[-1, 5000], [-1, 10], [250, 10], [255, 3], [599, 5], [700, 100], [1000, 5]] as const) {
      out.push((await boots.console(cellId, { afterSeq, limit })).lines);
    }
    return out;
  };

  test('a finished attempt is compacted into fewer bytes and reads the same, page by page', async () => {
    const lines = [...Array.from({ length: 600 }, (_, i) => line(i)), ...[700, 701, 702].map(line)]; // a gap at 600..699
    const { cellId, ticket } = await attemptWith(lines);
    assert.equal(await store.compact(ticket.attemptId), 0, 'a running attempt keeps its rows');
    const before = await pages(cellId);
    const rowBytes = Number((await db.$queryRaw<{ n: bigint }[]>`SELECT sum(pg_column_size(l.*))::bigint AS n FROM console_line l WHERE attempt_id = ${ticket.attemptId}::uuid`)[0]!.n);

    await boots.abandonAttempt(ticket, 'infrastructure_error');
    assert.equal(await store.compact(ticket.attemptId), 603);
    assert.equal(await db.consoleLine.count({ where: { attemptId: ticket.attemptId } }), 0);
    const chunks = await db.consoleChunk.findMany({ where: { attemptId: ticket.attemptId }, orderBy: { firstSeq: 'asc' } });
    assert.deepEqual(chunks.map((c) => [c.firstSeq, c.lastSeq]), [[0, 255], [256, 511], [512, 599], [700, 702]]);
    const chunkBytes = Number((await db.$queryRaw<{ n: bigint }[]>`SELECT sum(pg_column_size(c.*))::bigint AS n FROM console_chunk c WHERE attempt_id = ${ticket.attemptId}::uuid`)[0]!.n);
    assert.ok(chunkBytes * 2 < rowBytes, `chunks ${chunkBytes} B vs rows ${rowBytes} B`);

    assert.deepEqual(await pages(cellId), before, 'every page reads the same from chunks');
    assert.equal(await store.compact(ticket.attemptId), 0, 'compacting again moves nothing');
  });

  test('lines that arrive after compaction are served with the chunks, in order', async () => {
    const { cellId, ticket } = await attemptWith([0, 1, 2].map(line));
    await boots.abandonAttempt(ticket, 'infrastructure_error');
    await store.compact(ticket.attemptId);
    await boots.appendConsole(ticket.attemptId, [3, 4].map(line)); // a lost worker's late batch
    assert.deepEqual((await boots.console(cellId, { afterSeq: 1, limit: 10 })).lines.map((l) => l.seq), [2, 3, 4]);
  });

  test('finished attempts with rows are found for compaction once their grace has passed', async () => {
    const { ticket } = await attemptWith([line(0)]);
    await boots.abandonAttempt(ticket, 'infrastructure_error');
    assert.ok(!(await store.compactable(60_000, 100)).includes(ticket.attemptId), 'still in its grace period');
    assert.ok((await store.compactable(0, 100)).includes(ticket.attemptId));
    await store.compact(ticket.attemptId);
    assert.ok(!(await store.compactable(0, 100)).includes(ticket.attemptId), 'nothing left to compact');
  });
});
