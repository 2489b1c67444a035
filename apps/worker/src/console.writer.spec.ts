// Medium test: real PostgreSQL. The writer's NOTIFY follows the stored batch, so a woken reader
// always finds the lines it was told about.
import { defaultProfile } from '@bootfarm/contracts';
import { BootRepository, ConsoleListener, createPrismaClient, ImageRepository, migrateDeploy, RunRepository, type ConsoleAppended, type PrismaClient } from '@bootfarm/db';
import { useLocalServices, type LocalServices } from '@bootfarm/local-services';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConsoleWriter } from './console.writer.js';

let services: LocalServices;
let db: PrismaClient;
let listener: ConsoleListener;
const heard: { event: ConsoleAppended; storedThen: Promise<number> }[] = [];

before(async () => {
  services = await useLocalServices();
  const url = await services.createDatabase('bootfarm_writer');
  await migrateDeploy({ databaseUrl: url });
  db = createPrismaClient({ databaseUrl: url });
  listener = new ConsoleListener({
    databaseUrl: url,
    onAppended: (event) => {
      if (event.lastSeq < 0) return; // the attempt's start, not a batch
      // In arrival order, with what a live stream would read when woken.
      heard.push({ event, storedThen: db.consoleLine.count({ where: { attemptId: event.attemptId } }) });
    },
  });
  await listener.start();
});

after(async () => {
  await listener?.stop();
  await db?.$disconnect();
  await services?.stop();
});

test('each stored batch is followed by one notification naming its last line', async () => {
  const images = new ImageRepository(db);
  const vendorId = await images.ensureVendor('acme');
  const imageId = (await images.record({ vendorId, name: 'img', format: 'raw', sha256: 'e'.repeat(64), sizeBytes: 1 })).image.id;
  const cellId = (await new RunRepository(db).create({ vendorId, imageIds: [imageId], profiles: [defaultProfile], timeoutMs: 60_000 })).cells[0]!.id;
  const boots = new BootRepository(db);
  const ticket = (await boots.startAttempt(cellId, 'w1'))!;
  const writer = new ConsoleWriter(boots, ticket.attemptId, 20, 3);
  const tick = () => new Promise((r) => setTimeout(r, 100));
  for (let seq = 0; seq < 7; seq++) {
    writer.push({ seq, offsetMs: seq, text: `line ${seq}` });
    if (seq % 3 === 2) await tick(); // a full batch (maxBatch 3) is written at once
  }
  await writer.flush();
  const deadline = Date.now() + 10_000;
  while (heard.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(heard.map((h) => h.event.lastSeq), [2, 5, 6], 'two full batches, then the rest on flush');
  assert.ok(heard.every((h) => h.event.cellId === cellId && h.event.attempt === 1));
  const stored = await Promise.all(heard.map((h) => h.storedThen));
  assert.ok(heard.every((h, i) => stored[i]! >= h.event.lastSeq + 1), 'the lines were stored before the notification');
});
