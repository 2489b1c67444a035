import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageRejectedError } from './container.errors.js';
import { openImage, type OpenedImage } from './image.opener.js';
import { makeRawGptDisk, PATTERN_OFFSETS, run, sha256Of, tempDir } from './fixtures.testing.js';
import { createHash } from 'node:crypto';

const GiB = 1024 ** 3;
const policy = { maxVirtualBytes: 32 * GiB };
const tmp = tempDir('qcow2');
const p = (name: string) => join(tmp.dir, name);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** name → [qemu-img convert options] from the 8 MiB raw GPT disk. */
const VARIANTS: Record<string, string[]> = {
  'v2.qcow2': ['-o', 'compat=0.10'],
  'v3.qcow2': ['-o', 'compat=1.1'],
  'v3-lazy.qcow2': ['-o', 'compat=1.1,lazy_refcounts=on'],
  'v2-compressed.qcow2': ['-c', '-o', 'compat=0.10'],
  'v3-compressed-512.qcow2': ['-c', '-o', 'cluster_size=512'],
  'v3-compressed-4k.qcow2': ['-c', '-o', 'cluster_size=4096'],
  'v3-compressed-64k.qcow2': ['-c'],
  'v3-compressed-2m.qcow2': ['-c', '-o', 'cluster_size=2M'],
  'v3-4k.qcow2': ['-o', 'cluster_size=4096'],
};

before(() => {
  makeRawGptDisk(p('disk.raw'), '8M');
  for (const [name, opts] of Object.entries(VARIANTS)) run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', ...opts, p('disk.raw'), p(name)]);
  // v3 zero clusters: the "reads as zeros" flag over allocated and unallocated clusters.
  copyFileSync(p('v3.qcow2'), p('v3-zero.qcow2'));
  run('qemu-io', ['-f', 'qcow2', '-c', `write -z ${PATTERN_OFFSETS[0]} 128k`, '-c', 'write -z 7M 64k', p('v3-zero.qcow2')]);
  for (const name of [...Object.keys(VARIANTS), 'v3-zero.qcow2']) run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', p(name), p(`${name}.ref`)]);
});
after(() => tmp.remove());

async function withImage<T>(name: string, declaredFormat: 'raw' | 'qcow2', fn: (img: OpenedImage) => Promise<T>): Promise<T> {
  const img = await openImage(p(name), { declaredFormat, policy });
  try {
    return await fn(img);
  } finally {
    await img.close();
  }
}

describe('qcow2 guest view equals qemu-img convert -O raw', () => {
  for (const name of [...Object.keys(VARIANTS), 'v3-zero.qcow2']) {
    test(name, async () => {
      const ref = readFileSync(p(`${name}.ref`));
      await withImage(name, 'qcow2', async (img) => {
        assert.equal(img.format, 'qcow2');
        assert.equal(img.virtualSize, ref.length);
        assert.equal(img.disk.size, ref.length);
        const want = sha(ref);
        for (const chunk of [1 << 20, 64 * 1024, 512]) {
          assert.equal(await sha256Of(img.disk, 0, ref.length, chunk), want, `chunk ${chunk}`);
        }
        // 17-byte reads walking across cluster boundaries around each pattern.
        for (const o of PATTERN_OFFSETS) {
          for (let q = o - 300; q < o + 300; q += 17) assert.deepEqual(await img.disk.read(q, 17), new Uint8Array(ref.subarray(q, q + 17)));
        }
        // A 1 MiB read starting mid-cluster and crossing many clusters.
        const odd = PATTERN_OFFSETS[1] - 999;
        assert.deepEqual(await img.disk.read(odd, 1 << 20), new Uint8Array(ref.subarray(odd, odd + (1 << 20))));
        // Past the end: short, then empty.
        assert.equal((await img.disk.read(ref.length - 10, 100)).length, 10);
        assert.equal((await img.disk.read(ref.length + 10, 100)).length, 0);
        const seen = img.facts.qcow2!.clustersSeen;
        if (name.includes('compressed')) assert.ok(seen.compressed > 0, `no compressed cluster met: ${JSON.stringify(seen)}`);
        if (name.includes('zero')) assert.ok(seen.zero > 0, `no zero cluster met: ${JSON.stringify(seen)}`);
      });
    });
  }
});

test('facts: version, cluster size, features and cluster kinds seen', async () => {
  await withImage('v2.qcow2', 'qcow2', async (img) => {
    assert.equal(img.facts.qcow2?.version, 2);
    assert.equal(img.facts.qcow2?.clusterSize, 65536);
  });
  await withImage('v3-lazy.qcow2', 'qcow2', async (img) => {
    assert.equal(img.facts.qcow2?.version, 3);
    assert.deepEqual(img.facts.qcow2?.features.compatible, ['lazy_refcounts']);
    assert.ok(img.facts.evidence.some((e) => e.what === 'qcow2 virtual size' && e.offset === 24 && e.value === String(8 << 20)));
  });
  await withImage('v3-compressed-4k.qcow2', 'qcow2', async (img) => {
    await img.disk.read(0, 8 << 20);
    const seen = img.facts.qcow2!.clustersSeen;
    assert.ok(seen.compressed > 0, JSON.stringify(seen));
    assert.ok(seen.firstCompressed && seen.firstCompressed.hostOffset > 0);
  });
  await withImage('v3-zero.qcow2', 'qcow2', async (img) => {
    await img.disk.read(0, 8 << 20);
    const seen = img.facts.qcow2!.clustersSeen;
    assert.ok(seen.zero >= 2, JSON.stringify(seen));
    assert.equal(seen.firstZero?.guestOffset, PATTERN_OFFSETS[0]);
    assert.ok(seen.unallocated > 0 && seen.normal > 0);
  });
});

test('raw: the guest view is the file', async () => {
  const ref = readFileSync(p('disk.raw'));
  await withImage('disk.raw', 'raw', async (img) => {
    assert.equal(img.format, 'raw');
    assert.equal(img.virtualSize, ref.length);
    assert.equal(await sha256Of(img.disk, 0, ref.length, 1 << 20), sha(ref));
    assert.ok(img.facts.diskSignature.mbrBootSignature);
    assert.equal(img.facts.diskSignature.gptHeaderOffset, 512);
  });
});

test('read arguments: bad offsets are caller bugs, huge lengths are refused', async () => {
  await withImage('v3.qcow2', 'qcow2', async (img) => {
    await assert.rejects(img.disk.read(-1, 10), RangeError);
    await assert.rejects(img.disk.read(0.5, 10), RangeError);
    await assert.rejects(img.disk.read(0, 1 << 30), (e: unknown) => e instanceof ImageRejectedError && e.code === 'limits_exceeded');
  });
});

describe('16 GiB sparse disks are inspected by touching only what is read', () => {
  const size = 16 * GiB;
  const far = [8 * GiB + 12345, size - (1 << 20)];
  before(() => {
    makeRawGptDisk(p('big.raw'), '16G', [PATTERN_OFFSETS[0], ...far]);
    run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', p('big.raw'), p('big.qcow2')]);
    run('qemu-img', ['convert', '-c', '-f', 'raw', '-O', 'qcow2', '-o', 'cluster_size=4096', p('big.raw'), p('big-c4k.qcow2')]);
  });

  /** The inspector's typical first look: sectors 0..40, a few clusters far in, the backup GPT. */
  async function firstLook(img: OpenedImage): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for (let s = 0; s <= 40; s++) out.push(await img.disk.read(s * 512, 512));
    for (const o of far) out.push(await img.disk.read(o, 3 * 65536));
    out.push(await img.disk.read(size - 33 * 512, 33 * 512));
    return out;
  }

  for (const name of ['big.raw', 'big.qcow2', 'big-c4k.qcow2']) {
    test(name, async (t) => {
      const declared = name.endsWith('.raw') ? 'raw' : 'qcow2';
      const t0 = performance.now();
      const img = await openImage(p(name), { declaredFormat: declared, policy });
      try {
        assert.equal(img.virtualSize, size);
        const got = await firstLook(img);
        const ms = performance.now() - t0;
        t.diagnostic(`${name}: bytesRead=${img.disk.bytesRead} in ${ms.toFixed(1)} ms`);
        assert.ok(img.disk.bytesRead < 2 * 1024 * 1024, `bytesRead ${img.disk.bytesRead}`);
        // Same bytes as the raw file.
        const raw = await openImage(p('big.raw'), { declaredFormat: 'raw', policy });
        try {
          assert.deepEqual(got, await firstLook(raw));
        } finally {
          await raw.close();
        }
        assert.equal(got[0]![510], 0x55);
        assert.equal(Buffer.from(got[1]!.subarray(0, 8)).toString('latin1'), 'EFI PART');
      } finally {
        await img.close();
      }
    });
  }

  test('over policy: the same disks are refused from the header / file size alone', async () => {
    for (const name of ['big.raw', 'big.qcow2']) {
      await assert.rejects(
        openImage(p(name), { declaredFormat: name.endsWith('.raw') ? 'raw' : 'qcow2', policy: { maxVirtualBytes: 8 * GiB } }),
        (e: unknown) => e instanceof ImageRejectedError && e.code === 'virtual_size_over_policy',
      );
    }
  });
});
