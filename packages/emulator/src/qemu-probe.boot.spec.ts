/**
 * Boots Bootfarm's probe image (built by packages/probe) to its verdict under QEMU TCG + edk2.
 * The emulator does not depend on the probe package: the spec loads its compiled output by
 * path at run time, and fails (never skips) when it is missing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, chmod, open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { QemuLauncher } from './qemu.launcher.js';
import { defaultProfile, type VmProfile } from './vm.profile.js';
import { stageRank } from './boot-stage.detector.js';
import type { BootReport, ConsoleLine } from './boot.types.js';
import { pidsWithCmdline, removeDir, scratchDir } from './testing.helpers.js';

interface ProbeImage {
  imagePath: string;
  sha256: string;
  format: 'raw';
}

/** Loads packages/probe's compiled entry point (build it with `npx tsc -b packages/probe`). */
async function loadProbe(): Promise<{ ensureProbeImage: () => Promise<ProbeImage> }> {
  const specifier = '../../probe/dist/index.js'; // a variable: no compile-time dependency
  try {
    return (await import(specifier)) as { ensureProbeImage: () => Promise<ProbeImage> };
  } catch (e) {
    throw new Error(`packages/probe is not built (run: npx tsc -b packages/probe): ${(e as Error).message}`);
  }
}

let dir: string;
let probe: ProbeImage;
const launcher = new QemuLauncher();
const sha256 = async (f: string): Promise<string> => createHash('sha256').update(await readFile(f)).digest('hex');

before(async () => {
  dir = await scratchDir('bootfarm-emulator-probe-');
  probe = await (await loadProbe()).ensureProbeImage();
});

after(async () => {
  await removeDir(dir);
});

async function bootProbe(profile: VmProfile, imagePath = probe.imagePath): Promise<{ r: BootReport; lines: ConsoleLine[] }> {
  const lines: ConsoleLine[] = [];
  const workDir = path.join(dir, `work-${profile.hwDescription}-${lines.length}-${Date.now()}`);
  const r = await launcher.boot({
    image: { path: imagePath, format: 'raw' },
    profile,
    workDir,
    timeoutMs: 60_000,
    silenceTimeoutMs: 30_000,
    successMarkers: [/VMSPEC-PROBE result=done/],
    onLine: (l) => lines.push(l),
  });
  assert.deepEqual(await pidsWithCmdline(workDir), []);
  await assert.rejects(stat(workDir), { code: 'ENOENT' });
  return { r, lines };
}

function assertProbePassed(r: BootReport, lines: ConsoleLine[]): void {
  assert.equal(r.outcome, 'passed', r.reason);
  assert.equal(r.failureClass, null);
  assert.equal(r.marker?.text, 'VMSPEC-PROBE result=done');
  assert.equal(lines[r.marker!.seq]?.text, 'VMSPEC-PROBE result=done');
  assert.ok(stageRank(r.stage) >= stageRank('bootloader'), `stage ${r.stage}`);
  assert.ok(lines.some((l) => l.text.includes('UEFI firmware')), 'firmware banner');
  for (let i = 1; i < lines.length; i++) {
    assert.equal(lines[i]!.seq, i);
    assert.ok(lines[i]!.offsetMs >= lines[i - 1]!.offsetMs, 'offsets never go backwards');
  }
  // The probe powers the VM off itself (ResetSystem): QEMU exits 0 on its own, within the grace.
  assert.deepEqual({ code: r.exit.code, signal: r.exit.signal, by: r.exit.by }, { code: 0, signal: null, by: 'self' });
  assert.equal(r.lineCount, lines.length);
  assert.deepEqual(r.warnings, []);
}

describe('probe boot under QEMU TCG + edk2', () => {
  it('passes on ACPI (the default profile)', async (t) => {
    const { r, lines } = await bootProbe(defaultProfile);
    assertProbePassed(r, lines);
    assert.ok(lines.some((l) => l.text === 'VMSPEC-PROBE acpi20=present'), 'ACPI tables handed to the OS');
    t.diagnostic(`probe ACPI: marker at ${r.marker!.offsetMs} ms, QEMU exit at ${r.exit.offsetMs} ms, boot call ${r.durationMs} ms`);
  });

  it('passes on a device tree (acpi=off)', async (t) => {
    const { r, lines } = await bootProbe({ ...defaultProfile, hwDescription: 'dt' });
    assertProbePassed(r, lines);
    assert.ok(lines.some((l) => l.text === 'VMSPEC-PROBE fdt=present'), 'FDT handed to the OS');
    assert.ok(!lines.some((l) => l.text === 'VMSPEC-PROBE acpi20=present'), 'no ACPI with acpi=off');
    t.diagnostic(`probe DT: marker at ${r.marker!.offsetMs} ms, QEMU exit at ${r.exit.offsetMs} ms, boot call ${r.durationMs} ms`);
  });

  it('passes on virtio-mmio with GICv2', async () => {
    const { r, lines } = await bootProbe({ ...defaultProfile, disk: 'virtio-mmio', gic: 'v2' });
    assertProbePassed(r, lines);
  });

  it('boots an image with a corrupt primary GPT header without letting edk2 repair the image itself', async () => {
    // edk2 rewrites a corrupt GPT header on a writable disk: that write must land in the overlay.
    const image = path.join(dir, 'gpt-primary-crc.img');
    await copyFile(probe.imagePath, image);
    const fh = await open(image, 'r+');
    try {
      const crc = Buffer.alloc(4);
      await fh.read(crc, 0, 4, 512 + 16); // primary GPT header (LBA 1), HeaderCRC32 at offset 16
      crc[0] = crc[0]! ^ 0xff;
      await fh.write(crc, 0, 4, 512 + 16);
    } finally {
      await fh.close();
    }
    await chmod(image, 0o400);
    const before = { sha: await sha256(image), mode: (await stat(image)).mode };
    const { r, lines } = await bootProbe(defaultProfile, image);
    assertProbePassed(r, lines);
    assert.equal(await sha256(image), before.sha, 'image bytes unchanged');
    assert.equal((await stat(image)).mode, before.mode, 'image mode unchanged');
  });

  it('leaves the cached probe image untouched', async () => {
    assert.equal(await sha256(probe.imagePath), probe.sha256);
  });
});
