/**
 * Property test: random byte mutations of valid images in their first 64 KiB. openImage plus a
 * 1 MiB guest read must always end in success or an ImageRejectedError, never another exception
 * and never a hang.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageRejectedError } from './container.errors.js';
import { openImage } from './image.opener.js';
import { makeRawGptDisk, prng, run, tempDir } from './fixtures.testing.js';

const tmp = tempDir('fuzz');
const p = (n: string) => join(tmp.dir, n);
const bases: Array<{ name: string; declared: 'raw' | 'qcow2'; bytes: Buffer }> = [];

before(() => {
  makeRawGptDisk(p('disk.raw'), '8M');
  const variants: Array<[string, string[]]> = [
    ['v3-4k.qcow2', ['-o', 'cluster_size=4096']],
    ['v3-4k-compressed.qcow2', ['-c', '-o', 'cluster_size=4096']],
    ['v2-512.qcow2', ['-o', 'compat=0.10,cluster_size=512']],
    ['v3-64k-compressed.qcow2', ['-c']],
  ];
  for (const [name, opts] of variants) {
    run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', ...opts, p('disk.raw'), p(name)]);
    bases.push({ name, declared: 'qcow2', bytes: readFileSync(p(name)) });
  }
  run('truncate', ['-s', '2M', p('small.raw')]);
  run('sgdisk', ['-o', '-n', '1:2048:+512K', p('small.raw')]);
  bases.push({ name: 'small.raw', declared: 'raw', bytes: readFileSync(p('small.raw')) });
});
after(() => tmp.remove());

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff];

// FUZZ_ITERATIONS and FUZZ_SEED turn this bounded run into a long one (see bench/README.md).
const iterations = Number(process.env.FUZZ_ITERATIONS ?? 300);
const seed = Number(process.env.FUZZ_SEED ?? 0xb007fa);

test('mutated images: success or ImageRejectedError, bounded time', { timeout: 120_000 + iterations * 50 }, async (t) => {
  const rand = prng(seed);
  const tally: Record<string, number> = {};
  let slowest = 0;
  for (let i = 0; i < iterations; i++) {
    const base = bases[i % bases.length]!;
    const bytes = Buffer.from(base.bytes);
    const window = Math.min(bytes.length, 64 * 1024);
    const edits = 1 + Math.floor(rand() * 8);
    for (let k = 0; k < edits; k++) {
      // Half the edits hit the header / first sector, where the fields are.
      const at = Math.floor(rand() * (rand() < 0.5 ? Math.min(512, window) : window));
      bytes[at] = rand() < 0.5 ? INTERESTING[Math.floor(rand() * INTERESTING.length)]! : Math.floor(rand() * 256);
    }
    const path = p(`m-${i % 4}`);
    writeFileSync(path, bytes);
    const t0 = performance.now();
    let key: string;
    try {
      const img = await openImage(path, { declaredFormat: base.declared, policy: { maxVirtualBytes: 1 << 30 } });
      try {
        await img.disk.read(0, 1 << 20);
        await img.disk.read(4095, 17);
        key = 'ok';
      } finally {
        await img.close();
      }
    } catch (e) {
      assert.ok(e instanceof ImageRejectedError, `iteration ${i} (${base.name}): unexpected ${String((e as Error)?.stack ?? e)}`);
      key = e.code;
    }
    tally[key] = (tally[key] ?? 0) + 1;
    slowest = Math.max(slowest, performance.now() - t0);
  }
  t.diagnostic(`outcomes ${JSON.stringify(tally)}; slowest iteration ${slowest.toFixed(1)} ms`);
  assert.ok(slowest < 2000, `slowest iteration ${slowest} ms`);
  assert.ok((tally['ok'] ?? 0) > 0, 'some mutations should still open');
});
