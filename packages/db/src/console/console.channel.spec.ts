// Medium tests: real PostgreSQL. NOTIFY from the worker's side reaches a LISTEN connection with
// the cell resolved, and the listener comes back after its connection is killed.
import { defaultProfile } from '@bootfarm/contracts';
import { useLocalServices, type LocalServices } from '@bootfarm/local-services';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createPrismaClient, type PrismaClient } from '../client.js';
import { migrateDeploy } from '../migrate/index.js';
import { BootRepository } from '../repositories/boot.repository.js';
import { ImageRepository } from '../repositories/image.repository.js';
import { RunRepository } from '../repositories/run.repository.js';
import { ConsoleListener, ConsoleNotificationError, parseConsoleAppended, type ConsoleAppended } from './console.channel.js';

/** Resolves with the first value pushed that `accept` takes, or rejects after `ms`. */
function next<T>(subscribe: (push: (v: T) => void) => void, accept: (v: T) => boolean = () => true, ms = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nothing within ${ms} ms`)), ms);
    subscribe((v) => {
      if (!accept(v)) return;
      clearTimeout(timer);
      resolve(v);
    });
  });
}

describe('console notifications on PostgreSQL', () => {
  let services: LocalServices;
  let url: string;
  let db: PrismaClient;
  let boots: BootRepository;
  let cellId: string;
  let listener: ConsoleListener;
  let onEvent: (e: ConsoleAppended) => void = () => {};
  let onListening: () => void = () => {};

  before(async () => {
    services = await useLocalServices();
    url = await services.createDatabase();
    await migrateDeploy({ databaseUrl: url });
    db = createPrismaClient({ databaseUrl: url });
    const images = new ImageRepository(db);
    boots = new BootRepository(db);
    const vendorId = await images.ensureVendor('acme');
    const imageId = (await images.record({ vendorId, name: 'img', format: 'raw', sha256: 'b'.repeat(64), sizeBytes: 1 << 20 })).image.id;
    cellId = (await new RunRepository(db).create({ vendorId, imageIds: [imageId], profiles: [defaultProfile], timeoutMs: 60_000 })).cells[0]!.id;
    listener = new ConsoleListener({ databaseUrl: url, reconnectDelayMs: 100, onAppended: (e) => onEvent(e), onListening: () => onListening() });
    await listener.start();
  });

  after(async () => {
    await listener?.stop();
    await db?.$disconnect();
    await services?.stop();
  });

  test('a stored batch notifies its cell, attempt and last seq', async () => {
    const started = next<ConsoleAppended>((push) => (onEvent = push));
    const ticket = (await boots.startAttempt(cellId, 'w1'))!;
    assert.deepEqual(await started, { cellId, attemptId: ticket.attemptId, attempt: ticket.number, lastSeq: -1 }, 'a new attempt is announced on commit');
    const got = next<ConsoleAppended>((push) => (onEvent = push), (e) => e.lastSeq >= 0);
    await boots.appendConsole(ticket.attemptId, [{ seq: 0, offsetMs: 5, text: 'hello' }, { seq: 1, offsetMs: 6, text: 'world' }]);
    await boots.notifyConsole(ticket.attemptId, 1);
    assert.deepEqual(await got, { cellId, attemptId: ticket.attemptId, attempt: ticket.number, lastSeq: 1 });
  });

  test('after its connection is killed the listener reconnects, says so, and hears notifications again', async () => {
    assert.equal(listener.listening, true);
    const relistened = next<void>((push) => (onListening = push));
    await db.$executeRaw`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN bootfarm_console' AND datname = current_database() AND pid <> pg_backend_pid()`;
    await relistened;
    assert.equal(listener.listening, true);
    const ticket = (await boots.startAttempt(cellId, 'w2'))!;
    const got = next<ConsoleAppended>((push) => (onEvent = push), (e) => e.lastSeq === 7);
    await boots.notifyConsole(ticket.attemptId, 7);
    assert.equal((await got).attempt, ticket.number);
    // The accepted result wakes the cell's streams too (they end).
    const finished = next<ConsoleAppended>((push) => (onEvent = push), (e) => e.lastSeq === -1);
    await boots.finishAttempt(ticket, {
      outcome: 'passed', failureClass: null, reason: 'marker', stage: 'os', durationMs: 5, command: {}, commandLine: 'q', firmware: {}, facts: {}, evidence: {},
    });
    assert.deepEqual(await finished, { cellId, attemptId: ticket.attemptId, attempt: ticket.number, lastSeq: -1 });
  });

  test('a foreign payload on the channel is refused, not trusted', () => {
    assert.throws(() => parseConsoleAppended('{"cellId":1}'), ConsoleNotificationError);
    assert.throws(() => parseConsoleAppended('not json'), ConsoleNotificationError);
    assert.throws(() => parseConsoleAppended(undefined), ConsoleNotificationError);
  });
});
