import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { inspectDisk, scanConfig, type DiskInspection } from './index.js';
import { FileSource, fixtureDir } from './disk.testkit.js';

let dir = '';
before(() => {
  dir = fixtureDir('build-fixture-images.sh');
});

async function inspect(name: string): Promise<{ r: DiskInspection; src: FileSource; ms: number }> {
  const src = new FileSource(join(dir, `${name}.raw`));
  const t = performance.now();
  const r = await inspectDisk(src);
  const ms = performance.now() - t;
  src.close();
  return { r, src, ms };
}

/** Every non-info finding as "IMG-n check level", sorted. */
const decisive = (r: DiskInspection) => r.findings.filter((f) => f.level !== 'info').map((f) => `${f.id} ${f.check} ${f.level}`).sort();
const has = (r: DiskInspection, s: string) => r.findings.some((f) => `${f.id} ${f.check} ${f.level}` === s);

const GOOD_A64 = [
  'IMG-1 pmbr pass', 'IMG-1 gpt-primary pass', 'IMG-1 gpt-backup pass', 'IMG-3 esp-found pass', 'IMG-4 esp-fat32 pass',
  'IMG-5 removable-path pass', 'IMG-6 pe-uefi-app pass', 'IMG-8 no-firmware pass',
];

/** Expected decisive findings per fixture (info findings are checked separately). */
const EXPECTED: Record<string, string[]> = {
  aa64: [...GOOD_A64, 'IMG-9 no-fixed-platform pass'],
  arm32: GOOD_A64,
  dual: [...GOOD_A64, 'IMG-6 pe-uefi-app pass'],
  fat16: GOOD_A64.map((s) => (s === 'IMG-4 esp-fat32 pass' ? 'IMG-4 esp-not-fat32 warn' : s)),
  '4kn': GOOD_A64,
  big16g: GOOD_A64,
  x64only: GOOD_A64.filter((s) => !/IMG-[56]/.test(s)).concat('IMG-5 removable-path-not-arm fail', 'IMG-6 pe-none fail'),
  mbronly: GOOD_A64.filter((s) => !/IMG-[13]/.test(s)).concat('IMG-1 mbr-only fail', 'IMG-3 esp-mbr-only fail'),
  grubdtb: [...GOOD_A64, 'IMG-9 fixed-dtb warn', 'IMG-9 fixed-dtb warn', 'IMG-9 acpi-off warn', 'IMG-9 fixed-earlycon warn', 'IMG-9 console-ttyama-only warn', 'IMG-9 console-hvc-only warn'],
  aavmf: GOOD_A64.filter((s) => s !== 'IMG-8 no-firmware pass').concat('IMG-8 firmware-shipped warn'),
  vendoronly: GOOD_A64.filter((s) => !/IMG-[56]/.test(s)).concat('IMG-5 vendor-path-only fail', 'IMG-6 pe-none fail'),
  noesp: ['IMG-1 pmbr pass', 'IMG-1 gpt-primary pass', 'IMG-1 gpt-backup pass', 'IMG-3 esp-missing fail', 'IMG-4 not-checked fail', 'IMG-5 not-checked fail', 'IMG-6 not-checked fail'],
};

for (const [name, expected] of Object.entries(EXPECTED)) {
  test(`fixture ${name}: expected IMG findings`, async () => {
    const { r, ms } = await inspect(name);
    assert.deepEqual(decisive(r), [...expected].sort());
    assert.ok(ms < 1000, `${name} took ${ms} ms`);
    assert.ok(r.bytesRead < 4 * 1024 * 1024, `${name} read ${r.bytesRead} bytes`);
    for (const f of r.findings) {
      assert.match(f.id, /^IMG-(1|3|4|5|6|8|9|10)$/);
      assert.ok(f.message.length > 0 && !f.message.includes('\n'));
      assert.ok(!f.check.startsWith('internal'), f.message);
    }
  });
}

test('aa64 facts: GPT, ESP, boot file, tree, IMG-10', async () => {
  const { r } = await inspect('aa64');
  assert.equal(r.mbr?.kind, 'protective');
  assert.equal(r.gpt?.sectorSize, 512);
  assert.equal(r.gpt?.used, 'primary');
  assert.ok(r.gpt?.primary.valid && r.gpt.backup.valid);
  assert.equal(r.gpt?.partitions.length, 2);
  assert.equal(r.gpt?.partitions[0]?.typeGuid, 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
  assert.equal(r.gpt?.partitions[0]?.firstLba, 2048);
  assert.equal(r.gpt?.partitions[0]?.name, 'ESP');
  assert.equal(r.gpt?.partitions[1]?.typeGuid, '0FC63DAF-8483-4772-8E79-3D69D8477DE4');
  assert.equal(r.espCount, 1);
  assert.equal(r.esp?.partitionNumber, 1);
  assert.equal(r.esp?.filesystem, 'FAT32');
  assert.ok((r.esp?.clusterCount ?? 0) >= 65525);
  assert.equal(r.esp?.label, 'ESP');
  const a64 = r.bootFiles.find((b) => b.arch === 'aarch64');
  assert.equal(a64?.found, true);
  assert.equal(a64?.pe?.machine, 0xaa64);
  assert.equal(a64?.pe?.magic, 0x20b);
  assert.equal(a64?.pe?.subsystem, 10);
  assert.equal(a64?.pe?.signed, false);
  assert.deepEqual(r.architectures, ['aarch64']);
  assert.equal(r.executionState, 'aarch64');
  assert.deepEqual(r.espTree?.entries.map((e) => e.path), ['\\EFI', '\\EFI\\BOOT', '\\EFI\\BOOT\\BOOTAA64.EFI', '\\EFI\\BOOT\\grub.cfg']);
  assert.deepEqual(r.loaderConfigs.map((c) => [c.path, c.hits.length]), [['\\EFI\\BOOT\\grub.cfg', 0]]);
  const img1 = r.findings.find((f) => f.check === 'pmbr');
  assert.deepEqual(img1?.evidence.map((e) => [e.offset, e.bytes]), [[510, '55aa'], [450, 'ee']]);
});

test('arm32 and dual: BOOTARM.EFI is PE32 0x01C2; execution state', async () => {
  const { r } = await inspect('arm32');
  const arm = r.bootFiles.find((b) => b.arch === 'arm');
  assert.equal(arm?.pe?.machine, 0x01c2);
  assert.equal(arm?.pe?.magic, 0x10b);
  assert.equal(r.executionState, 'aarch32');
  assert.ok(has(r, 'IMG-10 execution-state info'));
  const d = (await inspect('dual')).r;
  assert.equal(d.executionState, 'dual');
  assert.deepEqual(d.architectures, ['aarch64', 'arm']);
});

test('4Kn disk: GPT found at 4096-byte sectors, FAT32 with 4096-byte sectors', async () => {
  const { r } = await inspect('4kn');
  assert.equal(r.gpt?.sectorSize, 4096);
  assert.ok(has(r, 'IMG-1 gpt-sector-size info'));
  assert.equal(r.esp?.bpb?.bytesPerSector, 4096);
  assert.equal(r.esp?.offset, 256 * 4096);
});

test('16 GiB sparse disk: bounded reads and time', async () => {
  const { r, ms, src } = await inspect('big16g');
  assert.equal(r.size, 16 * 1024 ** 3);
  assert.equal(r.gpt?.backup.lba, 16 * 1024 ** 3 / 512 - 1);
  assert.ok(r.bytesRead < 256 * 1024, `read ${r.bytesRead} bytes`);
  assert.ok(ms < 500, `took ${ms} ms`);
  assert.ok(src.reads < 200, `${src.reads} reads`);
});

test('x64-only: IMG-5 fails with the architectures found as evidence', async () => {
  const { r } = await inspect('x64only');
  const f = r.findings.find((x) => x.check === 'removable-path-not-arm')!;
  assert.ok(f.evidence.some((e) => e.what === 'architectures found' && e.value === 'x64'));
  assert.deepEqual(r.architectures, ['x64']);
  assert.equal(r.executionState, 'none');
});

test('MBR-only: reported as a fact, the 0xEF partition still inspected', async () => {
  const { r } = await inspect('mbronly');
  assert.equal(r.mbr?.kind, 'mbr-only');
  assert.equal(r.gpt, null);
  assert.equal(r.esp?.source, 'mbr');
  assert.equal(r.esp?.filesystem, 'FAT32');
});

test('grub.cfg with devicetree and acpi=off: each hit is a warn with the line as evidence', async () => {
  const { r } = await inspect('grubdtb');
  const dtb = r.findings.filter((f) => f.check === 'fixed-dtb');
  assert.ok(dtb.some((f) => f.evidence[0]?.value === '\\EFI\\debian\\grub.cfg:4: devicetree /dtb/board.dtb'));
  assert.ok(r.findings.some((f) => f.check === 'acpi-off' && f.evidence[0]?.value?.includes('acpi=off')));
  assert.equal(r.loaderConfigs.length, 3);
});

test('vendor path only and AAVMF: evidence names the files', async () => {
  const v = (await inspect('vendoronly')).r;
  assert.deepEqual(v.vendorBootFiles, ['\\EFI\\debian\\grubaa64.efi']);
  const a = (await inspect('aavmf')).r;
  assert.deepEqual(a.firmwareFiles, ['\\AAVMF_CODE.fd']);
});

test('scanConfig: console rules and comments', () => {
  const hits = (s: string) => scanConfig(s).map((h) => h.check);
  assert.deepEqual(hits('linux /vmlinuz console=ttyAMA0'), ['console-ttyama-only']);
  assert.deepEqual(hits('linux /vmlinuz console=ttyAMA0 console=hvc0'), []);
  assert.deepEqual(hits('options console=hvc0'), ['console-hvc-only']);
  assert.deepEqual(hits('options console=tty0 console=hvc0'), []);
  assert.deepEqual(hits('  # devicetree /x.dtb\n# acpi=off'), []);
  assert.deepEqual(hits('linux /Image earlycon=uart8250,mmio32,0x9000000'), ['fixed-earlycon']);
  assert.deepEqual(hits('linux /Image earlycon'), []);
  assert.deepEqual(hits('devicetree\t/b.dtb'), ['fixed-dtb']);
  const [h] = scanConfig('linux /x dtb=/a.dtb \u001b[31m');
  assert.equal(h?.line, 'linux /x dtb=/a.dtb \\x1b[31m');
});

test('backup GPT missing, or left behind by a resize, is a warn', async () => {
  const { FileSource: FS, PatchedSource } = await import('./disk.testkit.js');
  const src = new FS(join(dir, 'aa64.raw'));
  try {
    const last = (src.size / 512 - 1) * 512;
    const zeroed = new Map<number, number>(Array.from({ length: 8 }, (_, i) => [last + i, 0] as [number, number]));
    const r1 = await inspectDisk(new PatchedSource(src, zeroed));
    assert.ok(has(r1, 'IMG-1 gpt-backup-missing warn'));
    assert.ok(has(r1, 'IMG-1 gpt-primary pass'));
    // "qemu-img resize": the disk grows by 1 MiB of zeros; the backup stays at the old last LBA.
    const grown = { size: src.size + (1 << 20), get bytesRead() { return src.bytesRead; }, read: (o: number, n: number) => src.read(o, n) };
    const r2 = await inspectDisk(grown);
    assert.ok(has(r2, 'IMG-1 gpt-backup-not-at-end warn'), r2.findings.map((f) => f.check).join());
    assert.ok(has(r2, 'IMG-5 removable-path pass'));
  } finally {
    src.close();
  }
});

test('tiny and empty disks give findings, not exceptions', async () => {
  const { MemorySource } = await import('./disk.testkit.js');
  for (const n of [0, 1, 512, 4096, 1 << 20]) {
    const r = await inspectDisk(new MemorySource(new Uint8Array(n)));
    assert.ok(r.findings.some((f) => f.id === 'IMG-1' && f.level === 'fail'), `size ${n}`);
  }
});
