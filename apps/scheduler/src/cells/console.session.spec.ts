// Medium tests: real PostgreSQL. How one live console session moves through a cell's attempts.
import { defaultProfile } from '@bootfarm/contracts';
import { BootRepository, ImageRepository, OpsRepository, RunRepository, type PrismaClient } from '@bootfarm/db';
import { migratedDatabase } from '@bootfarm/db/testing';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConsoleSession, type ConsoleCursor, type ConsoleSink } from './console.session.js';

type Event = ['attempt', number] | ['line', number, number, string] | ['end', string];

/** Records what a client would receive; `settled` resolves when the session is idle again. */
function recorder() {
  const events: Event[] = [];
  const sink: ConsoleSink = {
    line: async (l) => void events.push(['line', l.attempt, l.seq, l.text]),
    attempt: async (a) => void events.push(['attempt', a]),
    end: async (s) => void events.push(['end', s]),
  };
  return { events, sink };
}

describe('a live console session on PostgreSQL', () => {
  let close: (() => Promise<void>) | undefined;
  let db: PrismaClient;
  let boots: BootRepository;
  let ops: OpsRepository;
  let runs: RunRepository;
  let vendorId: string;
  let imageId: string;

  before(async () => {
    ({ db, close } = await migratedDatabase());
    const images = new ImageRepository(db);
    boots = new BootRepository(db);
    ops = new OpsRepository(db);
    runs = new RunRepository(db);
    vendorId = await images.ensureVendor('acme');
    imageId = (await images.record({ vendorId, name: 'img', format: 'raw', sha256: 'd'.repeat(64), sizeBytes: 1 << 20 })).image.id;
  });

  after(async () => {
    await close?.();
  });

  const session = (cellId: string, cursor: ConsoleCursor = { attempt: null, seq: -1 }) => {
    const { events, sink } = recorder();
    let done = false;
    const s = new ConsoleSession(cellId, { ops, boots }, sink, cursor, (err) => assert.fail(err as Error), () => (done = true));
    /** Wakes the session and waits until it has read everything there is. */
    const read = async () => {
      s.wake();
      while ((s as unknown as { reading: boolean }).reading) await new Promise((r) => setTimeout(r, 5));
    };
    return { events, read, isDone: () => done };
  };
  const lines = (from: number, n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ seq: from + i, offsetMs: 10 * (from + i), text: `${tag} ${from + i}` }));

  test('waits for the first attempt, announces a retry after draining the first, and ends on a terminal cell', async () => {
    const cellId = (await runs.create({ vendorId, imageIds: [imageId], profiles: [defaultProfile], timeoutMs: 60_000 })).cells[0]!.id;
    const live = session(cellId);
    await live.read();
    assert.deepEqual(live.events, [], 'a queued cell has nothing to say yet');

    const first = (await boots.startAttempt(cellId, 'w1'))!;
    await boots.appendConsole(first.attemptId, lines(0, 2, 'a'));
    await live.read();
    // The worker was lost; a retry starts while attempt 1 still gets its last batch.
    await boots.appendConsole(first.attemptId, lines(2, 1, 'a'));
    await boots.abandonAttempt(first, 'infrastructure_error');
    const second = (await boots.startAttempt(cellId, 'w2'))!;
    await boots.appendConsole(second.attemptId, lines(0, 2, 'b'));
    await live.read();
    assert.equal(live.isDone(), false);
    await boots.finishAttempt(second, {
      outcome: 'passed', failureClass: null, reason: 'marker', stage: 'os', durationMs: 5, command: {}, commandLine: 'q', firmware: {}, facts: {}, evidence: {},
    });
    await live.read();
    assert.deepEqual(live.events, [
      ['attempt', 1], ['line', 1, 0, 'a 0'], ['line', 1, 1, 'a 1'], ['line', 1, 2, 'a 2'],
      ['attempt', 2], ['line', 2, 0, 'b 0'], ['line', 2, 1, 'b 1'],
      ['end', 'passed'],
    ]);
    assert.equal(live.isDone(), true);

    // A client that disconnected after "a 1" resumes exactly there, through the retry.
    const resumed = session(cellId, { attempt: 1, seq: 1 });
    await resumed.read();
    assert.deepEqual(resumed.events, [['line', 1, 2, 'a 2'], ['attempt', 2], ['line', 2, 0, 'b 0'], ['line', 2, 1, 'b 1'], ['end', 'passed']]);
  });

  test('a cell that disappears ends the stream', async () => {
    const run = await runs.create({ vendorId, imageIds: [imageId], profiles: [defaultProfile], timeoutMs: 60_000 });
    const live = session(run.cells[0]!.id);
    await db.run.delete({ where: { id: run.id } });
    await live.read();
    assert.deepEqual(live.events, [['end', 'missing']]);
  });
});
