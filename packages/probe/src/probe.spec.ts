import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import type { PlatformProbeDto, ProbeBootDto, VmProfile } from '@bootfarm/contracts';
import { QemuLauncher } from '@bootfarm/emulator';

import {
  PROBE_PREFIX,
  ProbeCacheCorruptError,
  ensureProbeImage,
  parseProbeLines,
  probeFactsFromRecords,
  probePlatform,
  probeTimeToEpochMs,
  readProbeRecords,
  type ProbeFacts,
  type ProbeImage,
} from './index.js';

const run = promisify(execFile);

// This file runs as packages/probe/dist/probe.spec.js.
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SAMPLES_DIR = path.join(REPO_ROOT, 'fixtures', 'console');

const DTB_GUID = 'b1b621d5-f19c-41a5-830b-d9152c69aae0';
const ACPI20_GUID = '8868e871-e4f1-11d3-bc22-0080c73c8881';
const SMBIOS3_GUID = 'f2fd1544-9794-4a2c-992e-e5bbcf20e394';

/** A `.tlog` sample as console lines, without the `[   0.616] ` timestamps. */
function readSample(name: string): string[] {
  return readFileSync(path.join(SAMPLES_DIR, name), 'utf8')
    .split('\n')
    .map((line) => line.replace(/^\[\s*\d+\.\d+\] /, ''));
}

async function sha256(file: string): Promise<string> {
  return createHash('sha256').update(await fs.readFile(file)).digest('hex');
}

describe('parseProbeLines', () => {
  it('reads the FDT boot sample (edk2, -M virt,acpi=off)', () => {
    const facts = parseProbeLines(readSample('probe-aa64-aavmf-fdt.tlog'));
    assert.equal(facts.banner, 'vmspec-probe/1 arch=aarch64');
    assert.equal(facts.arch, 'aarch64');
    assert.equal(facts.uefiRevision, '2.70');
    assert.equal(facts.uefiRevisionRaw, '0x0000000000020046');
    assert.equal(facts.firmwareVendor, 'EDK II');
    assert.equal(facts.firmwareRevision, '0x0000000000010000');
    assert.equal(facts.currentEl, 1);
    assert.equal(facts.timerFrequencyHz, 62_500_000);
    assert.equal(facts.configTableCount, 9);
    assert.equal(facts.configTableGuids.length, 9);
    assert.ok(facts.configTableGuids.includes(DTB_GUID));
    assert.ok(facts.configTableGuids.includes(SMBIOS3_GUID));
    assert.equal(facts.fdtPresent, true);
    assert.equal(facts.acpi20Present, false);
    assert.equal(facts.acpi10Present, false);
    assert.equal(facts.smbios3Present, true);
    assert.equal(facts.smbiosPresent, false);
    assert.equal(facts.fdtMagicOk, true);
    assert.equal(facts.fdtTotalSize, 1_052_672);
    assert.equal(facts.fdtVersion, 17);
    assert.equal(facts.fdtRootCompatible, 'linux,dummy-virt');
    assert.equal(facts.getTime, 'EFI_SUCCESS');
    assert.equal(facts.getTimeValue, '2026-11-25T04:03:05');
    assert.equal(facts.done, true);
    assert.equal(facts.resetFailed, false);
    assert.deepEqual(facts.raw['action'], ['ResetSystem(EfiResetShutdown)']);
    assert.deepEqual(facts.raw['cfgtable.guid'], facts.configTableGuids);
  });

  it('reads the ACPI boot sample (edk2, -M virt)', () => {
    const facts = parseProbeLines(readSample('probe-aa64-aavmf-acpi.tlog'));
    assert.equal(facts.uefiRevision, '2.70');
    assert.equal(facts.firmwareVendor, 'EDK II');
    assert.equal(facts.acpi20Present, true);
    assert.equal(facts.fdtPresent, false);
    assert.equal(facts.fdtRootCompatible, undefined);
    assert.equal(facts.acpiRsdpRevision, 2);
    assert.ok(facts.configTableGuids.includes(ACPI20_GUID));
    assert.ok(!facts.configTableGuids.includes(DTB_GUID));
    assert.equal(facts.done, true);
  });

  it('reads every probe sample to the end, U-Boot and 32-bit ones included', () => {
    const names = readdirSync(SAMPLES_DIR).filter((n) => n.startsWith('probe-') && n.endsWith('.tlog'));
    assert.ok(names.length >= 2);
    for (const name of names) {
      const facts = parseProbeLines(readSample(name));
      assert.equal(facts.done, true, name);
      assert.match(facts.banner ?? '', /^vmspec-probe\/1 arch=(aarch64|arm)$/, name);
      assert.ok(facts.fdtPresent !== undefined && facts.acpi20Present !== undefined, name);
    }
    assert.equal(parseProbeLines(readSample('probe-aa64-uboot-bootdelay0.tlog')).uefiRevision, '2.100');
  });

  it('finds the prefix after firmware junk and on untrimmed lines', () => {
    const facts = parseProbeLines([
      '\x1b[2J\x1b[01;01H\x1b[=3hVMSPEC-PROBE fw.vendor=EDK II\r',
      'BdsDxe: starting Boot0001 VMSPEC-PROBE fdt=present\r\n',
      `[   0.616] ${PROBE_PREFIX} result=done`,
    ]);
    assert.equal(facts.firmwareVendor, 'EDK II');
    assert.equal(facts.fdtPresent, true);
    assert.equal(facts.done, true);
  });

  it('reads the 32-bit ARM boot samples (AAVMF32 and U-Boot)', () => {
    for (const name of ['probe-arm32-aavmf32.tlog', 'probe-arm32-uboot-bootdelay0.tlog']) {
      const facts = parseProbeLines(readSample(name));
      assert.equal(facts.arch, 'arm', name);
      assert.equal(facts.cpsrMode, 0x13, name);
      assert.equal(facts.currentEl, undefined, name);
      assert.equal(facts.fdtPresent, true, name);
      assert.equal(facts.acpi20Present, false, name);
      assert.equal(facts.done, true, name);
    }
  });

  it('reads two facts that lost the line break between them', () => {
    const facts = parseProbeLines(['VMSPEC-PROBE fdt=presentVMSPEC-PROBE acpi20=absent']);
    // The first value is polluted only up to the second prefix, not beyond.
    assert.equal(facts.raw['fdt']?.[0], 'present');
    assert.equal(facts.acpi20Present, false);
  });

  it('ignores lines without the prefix, keys without "=", and bad keys', () => {
    const facts = parseProbeLines([
      'fdt=present',
      'VMSPEC-PROBEfdt=present',
      'VMSPEC-PROBE fdt',
      'VMSPEC-PROBE =present',
      'VMSPEC-PROBE bad key=x',
      'VMSPEC-PROBE ',
      'VMSPEC-PROBE',
      '',
    ]);
    assert.deepEqual(facts.raw, {});
    assert.equal(facts.fdtPresent, undefined);
    assert.deepEqual(facts.configTableGuids, []);
    assert.equal(facts.done, false);
  });

  it('keeps empty and unexpected values without guessing', () => {
    const facts = parseProbeLines([
      'VMSPEC-PROBE fw.vendor=',
      'VMSPEC-PROBE fdt=maybe',
      'VMSPEC-PROBE fdt.totalsize=-1',
      'VMSPEC-PROBE cfgtable.count=99999999999999999999',
      'VMSPEC-PROBE result=reset-failed',
    ]);
    assert.equal(facts.firmwareVendor, '');
    assert.equal(facts.fdtPresent, undefined);
    assert.equal(facts.raw['fdt']?.[0], 'maybe');
    assert.equal(facts.fdtTotalSize, undefined);
    assert.equal(facts.configTableCount, undefined);
    assert.equal(facts.done, false);
    assert.equal(facts.resetFailed, true);
  });

  it('survives very long lines and caps the stored value', () => {
    const long = 'x'.repeat(2_000_000);
    const facts = parseProbeLines([long, `VMSPEC-PROBE fw.vendor=${long}`, `${long}VMSPEC-PROBE fdt=absent${' '.repeat(100_000)}`]);
    assert.ok((facts.firmwareVendor?.length ?? 0) <= 4096);
    assert.equal(facts.fdtPresent, false);
  });

  it('does not let a "__proto__" key reach the prototype', () => {
    const facts = parseProbeLines(['VMSPEC-PROBE __proto__=polluted', 'VMSPEC-PROBE constructor=x']);
    assert.deepEqual(Object.getOwnPropertyDescriptor(facts.raw, '__proto__')?.value, ['polluted']);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal(Object.getPrototypeOf(facts.raw), Object.prototype);
  });

  it('never throws on random input (seeded fuzz)', () => {
    let seed = 0x2545f491;
    const next = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    const alphabet = ['VMSPEC-PROBE ', '=', ' ', '\r', '\n', '\x1b[', '.', 'fdt', 'result', 'done', '\u0000', '\uffff', 'a', '9'];
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      let line = '';
      const parts = next() % 24;
      for (let j = 0; j < parts; j++) line += alphabet[next() % alphabet.length];
      lines.push(line);
    }
    const facts = parseProbeLines(lines);
    for (const key of Object.keys(facts.raw)) assert.match(key, /^[A-Za-z0-9_.-]+$/);
    // Callers written in JavaScript may pass anything.
    assert.doesNotThrow(() => parseProbeLines([null, undefined, 42, {}] as unknown as string[]));
  });
});

describe('ensureProbeImage', () => {
  let tmp: string;
  let image: ProbeImage;

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'probe-spec-'));
    image = await ensureProbeImage({ cacheDir: path.join(tmp, 'cache-a') });
  });

  after(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('builds a PE32+ AArch64 UEFI application', async () => {
    const pe = await fs.readFile(image.efiPath);
    assert.equal(pe.toString('latin1', 0, 2), 'MZ');
    const peOffset = pe.readUInt32LE(0x3c);
    assert.ok(peOffset + 24 + 70 <= pe.length, 'PE header inside the file');
    assert.equal(pe.toString('latin1', peOffset, peOffset + 4), 'PE\0\0');
    assert.equal(pe.readUInt16LE(peOffset + 4), 0xaa64, 'COFF Machine = ARM64');
    assert.equal(pe.readUInt16LE(peOffset + 24), 0x20b, 'OptionalHeader Magic = PE32+');
    assert.equal(pe.readUInt16LE(peOffset + 24 + 68), 10, 'Subsystem = EFI application');
  });

  it('builds a GPT disk whose ESP holds \\EFI\\BOOT\\BOOTAA64.EFI', async () => {
    const disk = await fs.readFile(image.imagePath);
    assert.equal(disk.length, 64 * 1024 * 1024);
    assert.equal(disk[450], 0xee, 'protective MBR partition type');
    assert.equal(disk.readUInt16BE(510), 0x55aa, 'MBR signature');
    assert.equal(disk.toString('latin1', 512, 520), 'EFI PART');
    const entriesLba = Number(disk.readBigUInt64LE(512 + 72));
    const entry = disk.subarray(entriesLba * 512, entriesLba * 512 + 128);
    assert.deepEqual(
      [...entry.subarray(0, 16)],
      [0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b],
      'ESP type GUID',
    );
    const firstLba = Number(entry.readBigUInt64LE(32));
    assert.equal(firstLba, 2048);
    // FAT32 boot sector of the ESP.
    assert.equal(disk.readUInt16BE(firstLba * 512 + 510), 0x55aa);
    assert.equal(disk.toString('latin1', firstLba * 512 + 82, firstLba * 512 + 90), 'FAT32   ');

    const fat = `${image.imagePath}@@${firstLba * 512}`;
    const { stdout } = await run('mdir', ['-b', '-i', fat, '::/EFI/BOOT'], { env: { ...process.env, TZ: 'UTC' } });
    assert.match(stdout, /BOOTAA64\.EFI/i);
    const extracted = path.join(tmp, 'BOOTAA64.EFI');
    await run('mcopy', ['-n', '-i', fat, '::/EFI/BOOT/BOOTAA64.EFI', extracted]);
    assert.deepEqual(await fs.readFile(extracted), await fs.readFile(image.efiPath));
  });

  it('reports the sha256 of the image and makes the outputs read-only', async () => {
    assert.equal(image.format, 'raw');
    assert.equal(image.sha256, await sha256(image.imagePath));
    for (const file of [image.imagePath, image.efiPath]) {
      assert.equal((await fs.stat(file)).mode & 0o777, 0o444, file);
    }
    assert.equal((await fs.stat(path.dirname(image.imagePath))).mode & 0o777, 0o755);
  });

  it('is reproducible: a build into another cache directory gives the same bytes', async () => {
    const other = await ensureProbeImage({ cacheDir: path.join(tmp, 'cache-b') });
    assert.notEqual(other.imagePath, image.imagePath);
    assert.equal(other.sha256, image.sha256);
    assert.equal(await sha256(other.efiPath), await sha256(image.efiPath));
  });

  it('returns the cached build on the next call without rebuilding', async () => {
    const before = await fs.stat(image.imagePath);
    const again = await ensureProbeImage({ cacheDir: path.join(tmp, 'cache-a') });
    assert.deepEqual(again, image);
    const afterStat = await fs.stat(image.imagePath);
    assert.equal(afterStat.ino, before.ino);
    assert.equal(afterStat.mtimeMs, before.mtimeMs);
    assert.deepEqual(
      (await fs.readdir(path.join(tmp, 'cache-a'))).filter((n) => n.startsWith('.')),
      [],
      'no temporary build directories left behind',
    );
  });

  it('handles two concurrent first calls', async () => {
    const cacheDir = path.join(tmp, 'cache-c');
    const [a, b] = await Promise.all([ensureProbeImage({ cacheDir }), ensureProbeImage({ cacheDir })]);
    assert.deepEqual(a, b);
    assert.equal(a.sha256, image.sha256);
    const entries = await fs.readdir(cacheDir);
    assert.deepEqual(entries, [path.basename(path.dirname(a.imagePath))]);
  });

  it('refuses a damaged cache entry instead of returning it', async () => {
    // A copy of a good entry with its manifest gone, as an interrupted manual cleanup would leave it.
    const cacheDir = path.join(tmp, 'cache-d');
    const entry = path.basename(path.dirname(image.imagePath));
    await fs.cp(path.dirname(image.imagePath), path.join(cacheDir, entry), { recursive: true });
    await fs.rm(path.join(cacheDir, entry, 'manifest.json'));
    await assert.rejects(ensureProbeImage({ cacheDir }), (err: unknown) => {
      assert.ok(err instanceof ProbeCacheCorruptError);
      assert.equal(err.code, 'PROBE_CACHE_CORRUPT');
      return true;
    });
  });

  it('builds a PE32 32-bit ARM UEFI application with COFF Machine 0x01C2, and no MOV32T relocations', async () => {
    const arm = await ensureProbeImage({ cacheDir: path.join(tmp, 'cache-a'), arch: 'arm' });
    assert.equal(arm.arch, 'arm');
    assert.equal(path.dirname(arm.imagePath), path.dirname(image.imagePath), 'one build, one cache entry');
    const pe = await fs.readFile(arm.efiPath);
    const peOffset = pe.readUInt32LE(0x3c);
    assert.equal(pe.toString('latin1', peOffset, peOffset + 4), 'PE\0\0');
    assert.equal(pe.readUInt16LE(peOffset + 4), 0x01c2, 'COFF Machine = ARM Thumb mixed (edk2 refuses 0x01C4)');
    assert.equal(pe.readUInt16LE(peOffset + 24), 0x10b, 'OptionalHeader Magic = PE32');
    assert.equal(pe.readUInt32LE(peOffset + 24 + 64), 0, 'PE checksum 0 (patching Machine needs no fix-up)');
    assert.equal(pe.readUInt16LE(peOffset + 24 + 68), 10, 'Subsystem = EFI application');
    // Base relocations: U-Boot 2023.01 rejects IMAGE_REL_BASED_ARM_MOV32T (type 7).
    const dataDirs = peOffset + 24 + 96;
    const relocRva = pe.readUInt32LE(dataDirs + 5 * 8);
    const relocSize = pe.readUInt32LE(dataDirs + 5 * 8 + 4);
    const sections = peOffset + 24 + pe.readUInt16LE(peOffset + 20);
    let relocOff = -1;
    for (let i = 0; i < pe.readUInt16LE(peOffset + 6); i++) {
      const sh = sections + i * 40;
      const va = pe.readUInt32LE(sh + 12);
      if (relocRva >= va && relocRva < va + pe.readUInt32LE(sh + 16)) relocOff = pe.readUInt32LE(sh + 20) + relocRva - va;
    }
    assert.ok(relocSize > 0 && relocOff > 0, 'has base relocations');
    const types = new Set<number>();
    for (let b = relocOff; b < relocOff + relocSize; ) {
      const blockSize = pe.readUInt32LE(b + 4);
      for (let e = b + 8; e < b + blockSize; e += 2) types.add(pe.readUInt16LE(e) >> 12);
      b += blockSize;
    }
    assert.ok(!types.has(7), `relocation types ${[...types].join(',')}`);
    assert.ok(types.has(3), 'HIGHLOW relocations');

    const disk = await fs.readFile(arm.imagePath);
    assert.equal(disk.toString('latin1', 512, 520), 'EFI PART');
    const fat = `${arm.imagePath}@@${2048 * 512}`;
    const { stdout } = await run('mdir', ['-b', '-i', fat, '::/EFI/BOOT'], { env: { ...process.env, TZ: 'UTC' } });
    assert.match(stdout, /BOOTARM\.EFI/i);
    assert.doesNotMatch(stdout, /BOOTAA64/i);
    const extracted = path.join(tmp, 'BOOTARM.EFI');
    await run('mcopy', ['-n', '-i', fat, '::/EFI/BOOT/BOOTARM.EFI', extracted]);
    assert.deepEqual(await fs.readFile(extracted), pe);
    assert.equal(arm.sha256, await sha256(arm.imagePath));
    const other = await ensureProbeImage({ cacheDir: path.join(tmp, 'cache-b'), arch: 'arm' });
    assert.equal(other.sha256, arm.sha256, 'reproducible');
    await assert.rejects(ensureProbeImage({ cacheDir: path.join(tmp, 'cache-a'), arch: 'x86_64' as 'arm' }), TypeError);
  });

  it('defaults to <repo root>/.cache/probe/<sha256 of the sources>/', async () => {
    const built = await ensureProbeImage();
    const rel = path.relative(path.join(REPO_ROOT, '.cache', 'probe'), built.imagePath);
    assert.match(rel, /^[0-9a-f]{64}\/probe-aa64\.img$/);
    assert.equal(built.sha256, image.sha256);
  });
});

describe('FDT, ACPI and SMBIOS readers (src/c built for the host)', () => {
  let tmp: string;

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'probe-fdt-'));
  });

  after(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('stays inside totalsize on truncated and corrupted device trees', async (t) => {
    const cDir = path.join(REPO_ROOT, 'packages', 'probe', 'src', 'c');
    const harness = path.join(tmp, 'fdt-fuzz');
    // -fsanitize-trap needs no runtime library: undefined behaviour becomes SIGILL.
    // prettier-ignore
    await run('clang', [
      '-std=c11', '-O1', '-g', '-Wall', '-Wextra', '-Werror',
      '-fsanitize=undefined', '-fsanitize-trap=undefined',
      path.join(cDir, 'fdt.c'), path.join(cDir, 'test', 'fdt-fuzz.c'), '-o', harness,
    ]);
    // The device tree QEMU's virt machine generates, as edk2 passes it on with acpi=off.
    const dtb = path.join(tmp, 'virt.dtb');
    // prettier-ignore
    await run('qemu-system-aarch64', [
      '-M', `virt,acpi=off,dumpdtb=${dtb}`, '-cpu', 'cortex-a72', '-m', '512',
      '-nodefaults', '-no-user-config', '-nic', 'none', '-display', 'none',
    ]);
    // A crash (read past totalsize hits a PROT_NONE page) rejects with the signal.
    const { stdout } = await run(harness, [dtb, '200000', '0x5eed']);
    t.diagnostic(stdout.trim().split('\n').join(' '));
    assert.match(stdout, /^pristine=linux,dummy-virt$/m);
    assert.match(stdout, /^violations=0$/m);
    const cases = Number(/^cases=(\d+)$/m.exec(stdout)?.[1]);
    assert.ok(cases > 200_000, `ran ${cases} cases`);
    // The full walk of the pristine tree (QEMU 7.2 virt, default GICv2, 1 vCPU, 512 MiB).
    for (const line of [
      'scan.ok=1', 'scan.nodes=56', 'scan.cpus=1', 'scan.memory.count=1', 'scan.memory.bytes=536870912',
      'scan.gic.version=2', 'scan.gic.compatible=arm,cortex-a15-gic', 'scan.timer.virt_ppi=11',
      'scan.psci.compatible=arm,psci-1.0 arm,psci-0.2 arm,psci', 'scan.psci.method=hvc',
      'scan.uart.count=1', 'scan.uart.compatible=arm,pl011 arm,primecell', 'scan.stdout_path=/pl011@9000000',
      'scan.rtc.compatible=arm,pl031 arm,primecell', 'scan.virtio_mmio.count=32', 'scan.pcie=1', 'scan.xen=0',
    ]) {
      assert.ok(stdout.split('\n').includes(line), line);
    }
  });

  it('reads hand-made ACPI and SMBIOS tables, and never reads past a stated length', async (t) => {
    const cDir = path.join(REPO_ROOT, 'packages', 'probe', 'src', 'c');
    const harness = path.join(tmp, 'tables-fuzz');
    // prettier-ignore
    await run('clang', [
      '-std=c11', '-O1', '-g', '-Wall', '-Wextra', '-Werror',
      '-fsanitize=undefined', '-fsanitize-trap=undefined',
      path.join(cDir, 'acpi.c'), path.join(cDir, 'smbios.c'), path.join(cDir, 'test', 'tables-fuzz.c'), '-o', harness,
    ]);
    // Each table ends at a PROT_NONE page: an overread kills the harness and rejects here.
    const { stdout } = await run(harness, ['200000', '0x5eed']);
    t.diagnostic(stdout.trim().split('\n').join(' '));
    assert.match(stdout, /^acpi\.pristine=ok$/m);
    assert.match(stdout, /^failures=0$/m);
    assert.ok(Number(/^acpi\.cases=(\d+)$/m.exec(stdout)?.[1]) > 200_000);
    assert.ok(Number(/^smbios\.cases=(\d+)$/m.exec(stdout)?.[1]) > 200_000);
  });
});

// ---- real platforms, through probePlatform and the emulator's QemuLauncher -------------------

const base: VmProfile = { arch: 'aarch64', firmware: 'edk2', hwDescription: 'acpi', gic: 'v3', disk: 'virtio-pci', cpus: 1, memoryMiB: 512, accel: 'tcg' };
const FIVE_MINUTES_MS = 5 * 60_000;

function factsOf(boot: ProbeBootDto): ProbeFacts {
  return probeFactsFromRecords(readProbeRecords(boot.lines));
}

/** What every probe boot must show, whatever the platform. */
function assertRanToTheEnd(p: PlatformProbeDto, profile: VmProfile): [ProbeFacts, ProbeFacts] {
  assert.deepEqual(p.profile, profile);
  assert.equal(p.boots.length, 2);
  const facts = p.boots.map((b, i) => {
    assert.equal(b.boot, i + 1);
    assert.equal(b.outcome, 'passed', b.reason);
    assert.match(b.reason, /VMSPEC-PROBE result=done/);
    // The probe powers the VM off (ResetSystem) right after its verdict.
    assert.deepEqual(b.exit, { code: 0, signal: null });
    assert.match(b.commandLine, profile.arch === 'arm' ? /^\/usr\/bin\/qemu-system-arm / : /^\/usr\/bin\/qemu-system-aarch64 /);
    assert.ok(Date.parse(b.hostStartedAt) <= Date.parse(b.hostFinishedAt));
    assert.ok(b.lines.length > 50 && b.lines.every((l) => l.text.includes(PROBE_PREFIX)));
    const f = factsOf(b);
    assert.equal(f.banner, `vmspec-probe/2 arch=${profile.arch}`);
    assert.equal(f.protocolVersion, 2);
    assert.equal(f.done, true);
    assert.equal(f.resetFailed, false);
    assert.deepEqual(f.raw['action'], ['ResetSystem(EfiResetShutdown)']);
    assert.equal(f.configTableCount, f.configTableGuids.length);
    if (profile.arch === 'arm') assert.equal(f.cpsrMode, 0x13);
    else assert.equal(f.currentEl, 1);
    assert.equal(f.timerFrequencyHz, 62_500_000);
    assert.ok(f.cntvct1 !== undefined && f.cntvct2 !== undefined && f.cntvct2 - f.cntvct1 >= 62_500_000, 'CNTVCT advanced >= 1 s');
    // FW-6: the RTC advanced across the 2 s stall and agrees with the host's UTC.
    assert.equal(f.getTime, 'EFI_SUCCESS');
    assert.equal(f.getTime2, 'EFI_SUCCESS');
    assert.equal(f.stallUs, 2_000_000);
    const t1 = probeTimeToEpochMs(f.getTimeValue)!;
    const t2 = probeTimeToEpochMs(f.getTime2Value)!;
    assert.ok(t2 - t1 >= 1000, `GetTime advanced ${t2 - t1} ms`);
    assert.ok(t1 >= Date.parse(b.hostStartedAt) - FIVE_MINUTES_MS && t2 <= Date.parse(b.hostFinishedAt) + FIVE_MINUTES_MS, `${f.getTimeValue} vs host ${b.hostStartedAt}`);
    assert.equal(f.getMemoryMap, 'EFI_SUCCESS');
    assert.ok(f.memRamBytes! > 400 * 2 ** 20 && f.memRamBytes! <= profile.memoryMiB * 2 ** 20, `RAM ${f.memRamBytes}`);
    // Variables work within a boot everywhere.
    assert.equal(f.varSetVariable, 'EFI_SUCCESS');
    assert.match(f.varWritten ?? '', /^[0-9a-f]{16}$/);
    assert.equal(f.varReadback, 'EFI_SUCCESS');
    assert.equal(f.varReadbackMatch, true);
    return f;
  });
  assert.ok(Date.parse(p.boots[0]!.hostFinishedAt) <= Date.parse(p.boots[1]!.hostStartedAt), 'boots run one after the other');
  return facts as [ProbeFacts, ProbeFacts];
}

/** The facts each platform gave, for the test log. */
function logFacts(t: { diagnostic(message: string): void }, p: PlatformProbeDto): void {
  for (const b of p.boots) {
    const ms = Date.parse(b.hostFinishedAt) - Date.parse(b.hostStartedAt);
    const keep = b.lines.filter((l) => !/cfgtable\.guid=/.test(l.text)).map((l) => l.text.slice(PROBE_PREFIX.length + 1));
    t.diagnostic(`boot ${b.boot} (${ms} ms): ${keep.join(' | ')}`);
  }
}

describe('probePlatform: the probe booted twice on real platforms (QEMU TCG)', { concurrency: 2 }, () => {
  let tmp: string;
  const launcher = new QemuLauncher();

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'probe-platform-'));
    // Build (or find) the default cache once, before the boots run concurrently.
    await ensureProbeImage();
  });

  after(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('edk2 AArch64, ACPI, GICv3: ACPI only, HW-reduced FADT with PSCI over HVC, GICv3 MADT, GTDT GSIV 27, SPCR PL011, persistent variable', async (t) => {
    const profile = { ...base };
    const workDir = path.join(tmp, 'edk2-acpi');
    const p = await probePlatform({ launcher, profile, workDir });
    logFacts(t, p);
    await assert.rejects(fs.stat(workDir), { code: 'ENOENT' }, 'workDir removed');
    assert.equal(p.varsShared, true);
    const [f1, f2] = assertRanToTheEnd(p, profile);
    for (const f of [f1, f2]) {
      assert.equal(f.firmwareVendor, 'EDK II');
      assert.equal(f.uefiRevision, '2.70');
      assert.equal(f.acpi20Present, true);
      assert.equal(f.fdtPresent, false, 'edk2 exposes ACPI or a DT, never both');
      assert.equal(f.acpiRsdpRevision, 2);
      assert.equal(f.acpiRsdpChecksumOk, true);
      assert.equal(f.acpiXsdtPresent, true);
      for (const sig of ['FACP', 'APIC', 'GTDT', 'SPCR', 'MCFG']) assert.ok(f.acpiTables?.includes(sig), `${sig} in ${f.acpiTables}`);
      // The DSDT is never an XSDT entry: the FADT points at it.
      assert.ok(!f.acpiTables?.includes('DSDT'));
      assert.equal(f.acpiDsdtPresent, true);
      assert.equal(f.acpiDsdtArmh0011, true);
      assert.equal(f.acpiHwReduced, true);
      assert.equal(f.acpiPsci, true);
      assert.equal(f.acpiPsciHvc, true);
      assert.equal(f.acpiGicdVersion, 3);
      assert.equal(f.acpiMadtGicc, 1);
      assert.ok((f.acpiMadtGicr ?? 0) >= 1);
      assert.equal(f.acpiGtdtVirtGsiv, 27);
      assert.equal(f.acpiSpcrInterfaceType, 3);
      assert.equal(f.acpiSpcrBase, '0x0000000009000000');
      assert.equal(f.smbios3AnchorOk, true);
      assert.match(f.smbios3Version ?? '', /^3\.\d+$/);
      assert.ok((f.smbiosStructures ?? 0) > 0);
      assert.equal(f.setTime, 'EFI_SUCCESS');
      assert.equal(f.queryVariableInfo, 'EFI_SUCCESS');
    }
    // FW-7: boot 2 read what boot 1 wrote, through the shared store, and wrote a new token.
    assert.equal(f1.varPrevious, 'absent');
    assert.equal(f2.varPrevious, f1.varWritten);
    assert.notEqual(f2.varWritten, f1.varWritten);
  });

  it('edk2 AArch64, DT (acpi=off), GICv2, 2 vCPUs: FDT only, GICv2, virtual timer PPI 11, PSCI over HVC, PL011 okay', async (t) => {
    const profile: VmProfile = { ...base, hwDescription: 'dt', gic: 'v2', cpus: 2 };
    const p = await probePlatform({ launcher, profile, workDir: path.join(tmp, 'edk2-dt') });
    logFacts(t, p);
    assert.equal(p.varsShared, true);
    const [f1, f2] = assertRanToTheEnd(p, profile);
    for (const f of [f1, f2]) {
      assert.equal(f.fdtPresent, true);
      assert.equal(f.acpi20Present, false);
      assert.equal(f.fdtWalk, 'ok');
      assert.equal(f.fdtRootCompatible, 'linux,dummy-virt');
      assert.equal(f.fdtCpus, 2);
      assert.equal(f.fdtMemoryCount, 1);
      assert.equal(f.fdtMemoryBytes, 512 * 2 ** 20);
      assert.equal(f.fdtGicVersion, 'v2');
      assert.equal(f.fdtGicCompatible, 'arm,cortex-a15-gic');
      assert.equal(f.fdtTimerCompatible, 'arm,armv8-timer');
      // DT interrupts name PPIs: 11 is INTID 27, the virtual timer.
      assert.equal(f.fdtTimerVirtPpi, 11);
      assert.ok(f.fdtPsciCompatible?.includes('arm,psci-0.2'));
      assert.equal(f.fdtPsciMethod, 'hvc');
      assert.equal(f.fdtUartCount, 1);
      assert.equal(f.fdtUartCompatible, 'arm,pl011');
      assert.equal(f.fdtUartStatus, 'okay');
      assert.equal(f.fdtStdoutPath, '/pl011@9000000');
      // edk2 keeps the PL031 for its own RTC service and hides it from the OS.
      assert.equal(f.fdtRtcCompatible, 'arm,pl031');
      assert.equal(f.fdtRtcStatus, 'disabled');
      assert.equal(f.fdtVirtioMmioCount, 32);
      assert.equal(f.fdtPcie, true);
      assert.equal(f.fdtXen, false);
    }
    assert.equal(f2.varPrevious, f1.varWritten);
  });

  it('U-Boot AArch64 (DT, GICv3): FDT, RT properties, runs to the end; no vars store, so nothing persists', async (t) => {
    const profile: VmProfile = { ...base, firmware: 'u-boot', hwDescription: 'dt' };
    const p = await probePlatform({ launcher, profile, workDir: path.join(tmp, 'u-boot') });
    logFacts(t, p);
    assert.equal(p.varsShared, false);
    assert.ok(p.boots.every((b) => b.commandLine.includes('-bios /usr/lib/u-boot/qemu_arm64/u-boot.bin') && !b.commandLine.includes('if=pflash')));
    const [f1, f2] = assertRanToTheEnd(p, profile);
    for (const f of [f1, f2]) {
      assert.equal(f.firmwareVendor, 'Das U-Boot');
      assert.equal(f.fdtPresent, true);
      assert.equal(f.acpi20Present, false);
      assert.equal(f.fdtGicVersion, 'v3');
      assert.equal(f.fdtTimerVirtPpi, 11);
      assert.equal(f.fdtPsciMethod, 'hvc');
      // U-Boot hands the PL031 to the OS.
      assert.equal(f.fdtRtcStatus, 'okay');
      assert.equal(f.rtpropPresent, true);
      assert.ok(f.rtpropSupported !== undefined && (f.rtpropSupported & 0x3fff) !== 0x3fff, 'U-Boot advertises a subset of the runtime services');
      assert.equal(f.getNextHighMonotonicCount, 'EFI_UNSUPPORTED');
      assert.equal(f.getWakeupTime, 'EFI_UNSUPPORTED');
    }
    // Each boot starts from a fresh overlay: U-Boot's variable file on the ESP is gone.
    assert.equal(f1.varPrevious, 'absent');
    assert.equal(f2.varPrevious, 'absent');
  });

  it('edk2 32-bit ARM (AAVMF32, DT, GICv2): runs in SVC mode, FDT only, persistent variable', async (t) => {
    const profile: VmProfile = { ...base, arch: 'arm', hwDescription: 'dt', gic: 'v2' };
    const p = await probePlatform({ launcher, profile, workDir: path.join(tmp, 'edk2-arm') });
    logFacts(t, p);
    assert.equal(p.varsShared, true);
    const [f1, f2] = assertRanToTheEnd(p, profile);
    for (const f of [f1, f2]) {
      assert.equal(f.uefiRevisionRaw, '0x00020046', 'UINTN-wide (8 digits) on ARM');
      assert.equal(f.fdtPresent, true);
      assert.equal(f.acpi20Present, false);
      assert.equal(f.fdtGicVersion, 'v2');
      assert.equal(f.fdtTimerCompatible, 'arm,armv7-timer');
      assert.equal(f.fdtTimerVirtPpi, 11);
      assert.equal(f.fdtMemoryBytes, 512 * 2 ** 20);
      assert.equal(f.fdtUartStatus, 'okay');
    }
    assert.equal(f1.varPrevious, 'absent');
    assert.equal(f2.varPrevious, f1.varWritten);
  });

  it('refuses a relative or non-empty workDir, and cleans up when the launcher refuses the profile', async () => {
    await assert.rejects(probePlatform({ launcher, profile: base, workDir: 'relative/dir' }), TypeError);
    const busy = path.join(tmp, 'busy');
    await fs.mkdir(busy);
    await fs.writeFile(path.join(busy, 'keep'), 'x');
    await assert.rejects(probePlatform({ launcher, profile: base, workDir: busy }), /not an empty directory/);
    assert.equal(await fs.readFile(path.join(busy, 'keep'), 'utf8'), 'x', 'an existing directory is left alone');
    const refused = path.join(tmp, 'refused');
    await assert.rejects(probePlatform({ launcher, profile: { ...base, firmware: 'u-boot', hwDescription: 'acpi' }, workDir: refused }), {
      name: 'ProfileNotSupportedError',
    });
    await assert.rejects(fs.stat(refused), { code: 'ENOENT' });
  });

  it('leaves the cached image unmodified (boots go through an overlay)', async () => {
    for (const arch of ['aarch64', 'arm'] as const) {
      const image = await ensureProbeImage({ arch });
      assert.equal(await sha256(image.imagePath), image.sha256, arch);
    }
  });
});
