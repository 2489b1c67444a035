import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageRejectedError } from './container.errors.js';
import { FileByteSource } from './file.source.js';
import { openImage } from './image.opener.js';
import { run, tempDir } from './fixtures.testing.js';

const tmp = tempDir('file');
after(() => tmp.remove());

test('bounded, counted reads; short at EOF; closes', async () => {
  const path = join(tmp.dir, 'f.bin');
  writeFileSync(path, Buffer.from('0123456789'));
  const f = await FileByteSource.open(path);
  assert.equal(f.size, 10);
  assert.deepEqual(Buffer.from(await f.read(2, 3)).toString(), '234');
  assert.equal((await f.read(8, 100)).length, 2);
  assert.equal((await f.read(100, 5)).length, 0);
  assert.equal(f.bytesRead, 5);
  await assert.rejects(f.read(-1, 1), RangeError);
  await f.close();
  await f.close();
  await assert.rejects(f.read(0, 1));
});

test('read caps: per read and total budget', async () => {
  const path = join(tmp.dir, 'g.bin');
  writeFileSync(path, new Uint8Array(8192));
  const f = await FileByteSource.open(path, { maxReadBytes: 4096, maxTotalBytesRead: 6000 });
  const limits = (e: unknown) => e instanceof ImageRejectedError && e.code === 'limits_exceeded';
  await assert.rejects(f.read(0, 4097), limits);
  await f.read(0, 4096);
  await assert.rejects(f.read(4096, 4096), limits);
  await f.close();
});

test('a directory or a FIFO is refused without hanging', async () => {
  const fifo = join(tmp.dir, 'pipe');
  run('mkfifo', [fifo]);
  for (const path of [tmp.dir, fifo]) {
    await assert.rejects(openImage(path, { declaredFormat: 'raw', policy: { maxVirtualBytes: 1 << 30 } }), (e: unknown) => e instanceof ImageRejectedError && e.code === 'not_a_disk');
  }
});

test('openImage validates its options', async () => {
  const path = join(tmp.dir, 'f.bin');
  await assert.rejects(openImage(path, { declaredFormat: 'raw', policy: { maxVirtualBytes: 0 } }), TypeError);
  await assert.rejects(openImage(path, { declaredFormat: 'vmdk' as 'raw', policy: { maxVirtualBytes: 1 } }), TypeError);
});
