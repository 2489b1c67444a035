import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import {
  PROBE_PREFIX,
  ProbeCacheCorruptError,
  ensureProbeImage,
  parseProbeLines,
  type ProbeImage,
} from './index.js';

const run = promisify(execFile);

// This file runs as packages/probe/dist/probe.spec.js.
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SAMPLES_DIR = path.join(REPO_ROOT, 'fixtures', 'console');
const AAVMF_CODE = '/usr/share/AAVMF/AAVMF_CODE.fd';
const AAVMF_VARS = '/usr/share/AAVMF/AAVMF_VARS.fd';
const BOOT_TIMEOUT_MS = 60_000;

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

describe('FDT reader (src/c/fdt.c built for the host)', () => {
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
  });
});

interface BootResult {
  output: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  ms: number;
}

/** Boots the image under QEMU + edk2 through a qcow2 overlay, with fresh variables. */
async function bootProbe(image: ProbeImage, machine: string, workDir: string): Promise<BootResult> {
  const dir = await fs.mkdtemp(path.join(workDir, 'boot-'));
  const vars = path.join(dir, 'AAVMF_VARS.fd');
  const overlay = path.join(dir, 'overlay.qcow2');
  await fs.copyFile(AAVMF_VARS, vars);
  await fs.chmod(vars, 0o644);
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image.imagePath, '-F', 'raw', overlay]);

  // prettier-ignore
  const args = [
    '-M', machine, '-cpu', 'cortex-a72', '-m', '512',
    '-nodefaults', '-no-user-config', '-nic', 'none', '-display', 'none', '-no-reboot',
    // Without this, edk2 waits 5 s for a boot-menu key press on every boot with fresh variables.
    '-boot', 'menu=on,splash-time=0',
    '-serial', 'stdio',
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${AAVMF_CODE}`,
    '-drive', `if=pflash,format=raw,unit=1,file=${vars}`,
    '-drive', `if=none,id=hd0,format=qcow2,file=${overlay}`,
    '-device', 'virtio-blk-pci,drive=hd0',
  ];
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const qemu = spawn('qemu-system-aarch64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      qemu.kill('SIGKILL');
    }, BOOT_TIMEOUT_MS);
    qemu.stdout.on('data', (c: Buffer) => chunks.push(c));
    qemu.stderr.on('data', (c: Buffer) => chunks.push(c));
    qemu.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    qemu.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ output: Buffer.concat(chunks).toString('latin1'), code, signal, timedOut, ms: performance.now() - start });
    });
  });
}

describe('booting the probe under QEMU (TCG) + edk2 (AAVMF)', () => {
  let tmp: string;
  let image: ProbeImage;

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'probe-boot-'));
    // The default cache: what the farm itself boots.
    image = await ensureProbeImage();
  });

  after(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('reports an FDT and shuts down by itself with -M virt,acpi=off', async (t) => {
    const boot = await bootProbe(image, 'virt,acpi=off', tmp);
    t.diagnostic(`acpi=off: QEMU start -> exit ${boot.ms.toFixed(0)} ms`);
    assert.equal(boot.timedOut, false, boot.output);
    assert.equal(boot.signal, null);
    assert.equal(boot.code, 0, boot.output);
    assert.match(boot.output, /^VMSPEC-PROBE result=done\r$/m);
    assert.match(boot.output, /^VMSPEC-PROBE fdt=present\r$/m);
    assert.match(boot.output, /^VMSPEC-PROBE fdt\.root\.compatible=linux,dummy-virt\r$/m);
    assert.match(boot.output, /^VMSPEC-PROBE action=ResetSystem\(EfiResetShutdown\)\r$/m);

    const facts = parseProbeLines(boot.output.split('\n'));
    assert.equal(facts.banner, 'vmspec-probe/1 arch=aarch64');
    assert.equal(facts.firmwareVendor, 'EDK II');
    assert.equal(facts.acpi20Present, false);
    assert.equal(facts.fdtMagicOk, true);
    assert.equal(facts.configTableCount, facts.configTableGuids.length);
    assert.ok(facts.configTableGuids.includes(DTB_GUID));
    assert.equal(facts.getTime, 'EFI_SUCCESS');
    assert.match(facts.getTimeValue ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
    assert.equal(facts.resetFailed, false);
  });

  it('reports ACPI 2.0 and no FDT with the default -M virt', async (t) => {
    const boot = await bootProbe(image, 'virt', tmp);
    t.diagnostic(`acpi=on: QEMU start -> exit ${boot.ms.toFixed(0)} ms`);
    assert.equal(boot.timedOut, false, boot.output);
    assert.equal(boot.code, 0, boot.output);
    assert.match(boot.output, /^VMSPEC-PROBE result=done\r$/m);
    assert.match(boot.output, /^VMSPEC-PROBE acpi20=present\r$/m);
    // edk2 since 2017 exposes ACPI or an FDT, never both.
    assert.match(boot.output, /^VMSPEC-PROBE fdt=absent\r$/m);
    const facts = parseProbeLines(boot.output.split('\n'));
    assert.equal(facts.acpiRsdpRevision, 2);
    assert.ok(facts.configTableGuids.includes(ACPI20_GUID));
  });

  it('leaves the cached image unmodified (boots go through an overlay)', async () => {
    assert.equal(await sha256(image.imagePath), image.sha256);
  });
});
