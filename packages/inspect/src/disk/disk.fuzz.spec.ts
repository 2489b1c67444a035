import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FatVolume, inspectDisk } from './index.js';
import { FileSource, PatchedSource, fixtureDir } from './disk.testkit.js';

let dir = '';
before(() => {
  dir = fixtureDir('build-fixture-images.sh');
});

/** Small deterministic PRNG (mulberry32), so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('seeded mutation fuzz: inspectDisk always returns findings, never throws or hangs', async (t) => {
  const src = new FileSource(join(dir, 'grubdtb.raw'));
  try {
    const good = await inspectDisk(src);
    const esp = good.esp!;
    const vol = await FatVolume.open(src, esp.offset, esp.length);
    const bpb = vol.bpb;
    const boot = (await vol.lookup('\\EFI\\BOOT\\BOOTAA64.EFI'))!;
    const efiDir = (await vol.lookup('\\EFI'))!;
    const bootDir = (await vol.lookup('\\EFI\\BOOT'))!;
    const cluster = (c: number) => esp.offset + (bpb.firstDataSector + (c - 2) * bpb.sectorsPerCluster) * bpb.bytesPerSector;
    const last = good.gpt!.lastLba * 512;
    const regions: [string, number, number][] = [
      ['mbr', 440, 72],
      ['gpt-header', 512, 92],
      ['gpt-entries', 1024, 256],
      ['gpt-backup', last, 92],
      ['bpb', esp.offset, 90],
      ['fat', esp.offset + bpb.reservedSectors * bpb.bytesPerSector, 128],
      ['root-dir', cluster(bpb.rootCluster), 256],
      ['efi-dir', cluster(efiDir.firstCluster), 256],
      ['boot-dir', cluster(bootDir.firstCluster), 512],
      ['pe', cluster(boot.firstCluster), 512],
      ['dir-entry', boot.offset, 32],
    ];
    // FUZZ_ITERATIONS turns this bounded run into a long one (see bench/README.md).
    const iterations = Number(process.env.FUZZ_ITERATIONS ?? 300);
    const t0 = performance.now();
    let worst = 0;
    const seen = new Map<string, number>();
    for (let i = 0; i < iterations; i++) {
      const rand = rng(0xb007 + i);
      const patches = new Map<number, number>();
      const nRegions = 1 + Math.floor(rand() * 2);
      for (let k = 0; k < nRegions; k++) {
        const [, off, len] = regions[Math.floor(rand() * regions.length)]!;
        const flips = 1 + Math.floor(rand() * 8);
        for (let j = 0; j < flips; j++) {
          const o = off + Math.floor(rand() * len);
          const choice = rand();
          patches.set(o, choice < 0.3 ? 0 : choice < 0.5 ? 0xff : Math.floor(rand() * 256));
        }
      }
      const t1 = performance.now();
      const r = await inspectDisk(new PatchedSource(src, patches));
      const ms = performance.now() - t1;
      worst = Math.max(worst, ms);
      assert.ok(ms < 1000, `seed ${0xb007 + i} took ${ms} ms`);
      assert.ok(r.findings.length > 0, `seed ${0xb007 + i}: no findings`);
      for (const f of r.findings) {
        assert.ok(!f.evidence.some((e) => e.value?.startsWith('internal_error')), `seed ${0xb007 + i}: untyped error ${f.message}`);
        if (f.level === 'fail') seen.set(`${f.id} ${f.check}`, (seen.get(`${f.id} ${f.check}`) ?? 0) + 1);
      }
      JSON.stringify(r); // facts stay serialisable
    }
    const total = performance.now() - t0;
    assert.ok(total < 30_000, `fuzz took ${total} ms`);
    t.diagnostic(`${iterations} mutations in ${total.toFixed(0)} ms (worst ${worst.toFixed(1)} ms); fail checks reached: ${[...seen].map(([k, n]) => `${k}×${n}`).join(', ')}`);
    assert.ok(seen.size >= 3, `mutations reached only ${[...seen.keys()].join(', ')}`);
  } finally {
    src.close();
  }
});
