/**
 * Container-level hostile inputs (reliability-and-security.md §5.1 B1–B13 + extras), built by
 * scripts/build-hostile-container.sh at test time. Each must be refused with its code, quickly,
 * reading little, and without the canary's content ever reaching an error.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageRejectedError } from './container.errors.js';
import { FileByteSource } from './file.source.js';
import { openImage } from './image.opener.js';
import { run, tempDir } from './fixtures.testing.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '../../scripts/build-hostile-container.sh');
const REQUIRED = ['B1', 'B2', 'B3', 'B4a', 'B4b', 'B5', 'B6', 'B7', 'B8', 'B9', 'B10', 'B11', 'B12a', 'B12b', 'B13a', 'B13b', 'B13c'];

const tmp = tempDir('hostile');
const canaryPath = join(tmp.dir, 'canary.txt');
const canary = `bootfarm-canary-${randomBytes(16).toString('hex')}`;
const out = join(tmp.dir, 'out');
interface Case { id: string; file: string; declared: 'raw' | 'qcow2'; expected: string; maxVirtualBytes: number }
let cases: Case[] = [];

before(() => {
  writeFileSync(canaryPath, canary);
  run('bash', [SCRIPT, out, canaryPath]);
  cases = readFileSync(join(out, 'manifest.tsv'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [id, file, declared, expected, max] = line.split('\t');
      return { id: id!, file: file!, declared: declared as Case['declared'], expected: expected!, maxVirtualBytes: Number(max) };
    });
});
after(() => tmp.remove());

test('the script builds every B case and leaves the canary untouched', () => {
  const ids = new Set(cases.map((c) => c.id));
  for (const id of REQUIRED) assert.ok(ids.has(id), `missing case ${id}`);
  assert.equal(readFileSync(canaryPath, 'utf8'), canary);
});

test('each hostile image gets its typed rejection, fast, reading little, leaking nothing', async (t) => {
  // Wrap the file source's open to prove only image paths are ever opened.
  const opened: string[] = [];
  const realOpen = FileByteSource.open.bind(FileByteSource);
  t.mock.method(FileByteSource, 'open', (path: string, opts?: object) => {
    opened.push(path);
    return realOpen(path, opts);
  });
  const rssBefore = process.memoryUsage().rss;
  for (const c of cases) {
    const t0 = performance.now();
    let outcome: unknown;
    let bytesRead = -1;
    try {
      const img = await openImage(join(out, c.file), { declaredFormat: c.declared, policy: { maxVirtualBytes: c.maxVirtualBytes } });
      try {
        for (let s = 0; s <= 40; s++) await img.disk.read(s * 512, 512);
        await img.disk.read(0, 1 << 20);
        await img.disk.read(img.virtualSize - 33 * 512, 33 * 512);
        bytesRead = img.disk.bytesRead;
        outcome = 'ok';
      } finally {
        await img.close();
      }
    } catch (e) {
      outcome = e;
    }
    const ms = performance.now() - t0;
    t.diagnostic(`${c.id} ${c.file}: ${outcome instanceof ImageRejectedError ? `${outcome.code}: ${outcome.message}` : String(outcome)} (${ms.toFixed(1)} ms)`);
    if (c.expected === 'ok') {
      assert.equal(outcome, 'ok', `${c.id}: ${String(outcome)}`);
      assert.ok(bytesRead >= 0 && bytesRead < 2 * 1024 * 1024, `${c.id}: bytesRead ${bytesRead}`);
    } else {
      assert.ok(outcome instanceof ImageRejectedError, `${c.id} (${c.file}): expected ${c.expected}, got ${String(outcome)}`);
      assert.equal(outcome.code, c.expected, `${c.id} (${c.file}): ${outcome.message}`);
      assert.equal(outcome.name, 'ImageRejectedError');
      assert.ok(!outcome.message.includes('\n') && outcome.message.length < 300, `${c.id}: message is one short line`);
      const text = JSON.stringify({ message: outcome.message, evidence: outcome.evidence, stack: outcome.stack });
      assert.ok(!text.includes(canary), `${c.id}: canary content leaked`);
    }
    assert.ok(ms < 1000, `${c.id} took ${ms} ms`);
  }
  assert.ok(opened.length > 0 && opened.every((p) => p.startsWith(out + '/')), 'only image paths are opened');
  assert.ok(!opened.includes(canaryPath));
  const growth = process.memoryUsage().rss - rssBefore;
  assert.ok(growth < 64 * 1024 * 1024, `rss grew by ${growth} bytes`);
  assert.equal(readFileSync(canaryPath, 'utf8'), canary);
});

test('B8: a sparse VMDK claiming a 2 MiB descriptor is refused after reading only the detection window', async () => {
  const counting: number[] = [];
  const realRead = FileByteSource.prototype.read;
  const mock = test.mock.method(FileByteSource.prototype, 'read', function (this: FileByteSource, o: number, n: number) {
    counting.push(n);
    return realRead.call(this, o, n);
  });
  try {
    await assert.rejects(openImage(join(out, 'b08-vmdk-huge-descriptor.vmdk'), { declaredFormat: 'raw', policy: { maxVirtualBytes: 1 << 30 } }), {
      code: 'format_not_allowed',
    });
  } finally {
    mock.mock.restore();
  }
  assert.ok(counting.reduce((a, b) => a + b, 0) <= 64 * 1024 + 512, `asked for ${counting.join('+')} bytes`);
});

test('B1/B5 evidence names the backing file path but never its content', async () => {
  await assert.rejects(openImage(join(out, 'b01-backing-file.qcow2'), { declaredFormat: 'qcow2', policy: { maxVirtualBytes: 1 << 30 } }), (e: unknown) => {
    assert.ok(e instanceof ImageRejectedError && e.code === 'backing_file');
    assert.equal(e.evidence?.offset, 8);
    assert.equal(e.evidence?.value, canaryPath);
    return true;
  });
});
