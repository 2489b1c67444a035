/**
 * Boots Bootfarm's probe image (built by packages/probe) to its verdict on every runnable QEMU
 * profile: aarch64 × {edk2, u-boot} × {acpi, dt} × {GICv2, GICv3} × {virtio-pci, virtio-mmio},
 * and 32-bit ARM × {edk2, u-boot}. Boots run two at a time (the machine has 2 cores).
 * The emulator does not depend on the probe package: the spec loads its compiled output by
 * path at run time, and fails (never skips) when it is missing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, chmod, open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { QemuLauncher } from './qemu.launcher.js';
import { defaultProfile, profileKey, type VmProfile } from './vm.profile.js';
import { stageRank } from './boot-stage.detector.js';
import type { BootReport, ConsoleLine } from './boot.types.js';
import { QmpClient } from './qmp.client.js';
import { explainProfile } from './profile.validator.js';
import { pidsWithCmdline, procLimits, procStatus, removeDir, scratchDir, waitFor } from './testing.helpers.js';

interface ProbeImage {
  arch?: 'aarch64' | 'arm';
  imagePath: string;
  sha256: string;
  format: 'raw';
}

type EnsureProbeImage = (opts?: { arch?: 'aarch64' | 'arm' }) => Promise<ProbeImage>;

/** Loads packages/probe's compiled entry point (build it with `npx tsc -b packages/probe`). */
async function loadProbe(): Promise<{ ensureProbeImage: EnsureProbeImage }> {
  const specifier = '../../probe/dist/index.js'; // a variable: no compile-time dependency
  try {
    return (await import(specifier)) as { ensureProbeImage: EnsureProbeImage };
  } catch (e) {
    throw new Error(`packages/probe is not built (run: npx tsc -b packages/probe): ${(e as Error).message}`);
  }
}

let dir: string;
let probe: ProbeImage;
let probeArm: ProbeImage;
let n = 0;
const launcher = new QemuLauncher();
const sha256 = async (f: string): Promise<string> => createHash('sha256').update(await readFile(f)).digest('hex');

before(async () => {
  dir = await scratchDir('bootfarm-emulator-probe-');
  const { ensureProbeImage } = await loadProbe();
  probe = await ensureProbeImage();
  probeArm = await ensureProbeImage({ arch: 'arm' });
  assert.notEqual(probeArm.imagePath, probe.imagePath, 'packages/probe builds a separate 32-bit ARM image');
});

after(async () => {
  await removeDir(dir);
});

interface Booted {
  r: BootReport;
  lines: ConsoleLine[];
  texts: Set<string>;
}

async function bootProbe(profile: VmProfile, opts: { imagePath?: string; onStart?: (pid: number, workDir: string) => void } = {}): Promise<Booted> {
  const lines: ConsoleLine[] = [];
  const workDir = path.join(dir, `work-${++n}`);
  const imagePath = opts.imagePath ?? (profile.arch === 'arm' ? probeArm.imagePath : probe.imagePath);
  const r = await launcher.boot({
    image: { path: imagePath, format: 'raw' },
    profile,
    workDir,
    timeoutMs: 60_000,
    silenceTimeoutMs: 30_000,
    successMarkers: [/VMSPEC-PROBE result=done/],
    onLine: (l) => lines.push(l),
    ...(opts.onStart ? { onStart: ({ pid }: { pid: number }) => opts.onStart!(pid, workDir) } : {}),
  });
  assert.deepEqual(await pidsWithCmdline(workDir), []);
  await assert.rejects(stat(workDir), { code: 'ENOENT' });
  return { r, lines, texts: new Set(lines.map((l) => l.text)) };
}

function assertProbePassed({ r, lines }: Booted, profile: VmProfile): void {
  assert.equal(r.outcome, 'passed', r.reason);
  assert.equal(r.failureClass, null);
  assert.equal(r.marker?.text, 'VMSPEC-PROBE result=done');
  assert.equal(lines[r.marker!.seq]?.text, 'VMSPEC-PROBE result=done');
  assert.ok(stageRank(r.stage) >= stageRank('bootloader'), `stage ${r.stage}`);
  const banner = profile.firmware === 'edk2' ? /^UEFI firmware \(version/ : /^U-Boot 2023\.01/;
  assert.ok(lines.some((l) => banner.test(l.text)), `firmware banner ${banner}`);
  for (let i = 1; i < lines.length; i++) {
    assert.equal(lines[i]!.seq, i);
    assert.ok(lines[i]!.offsetMs >= lines[i - 1]!.offsetMs, 'offsets never go backwards');
  }
  // The probe powers the VM off itself (ResetSystem): QEMU exits 0 on its own, within the grace.
  assert.deepEqual({ code: r.exit.code, signal: r.exit.signal, by: r.exit.by }, { code: 0, signal: null, by: 'self' });
  assert.equal(r.lineCount, lines.length);
  assert.deepEqual(r.warnings, []);
  assert.equal(r.backend, 'qemu-tcg');
}

/** The command line says what the profile asked for. */
function assertCommand(r: BootReport, p: VmProfile): void {
  const argv = r.command.argv;
  const machine = argv[argv.indexOf('-M') + 1]!;
  assert.ok(machine.split(',').includes(`gic-version=${p.gic === 'v2' ? 2 : 3}`), machine);
  assert.equal(machine.split(',').includes('acpi=off'), p.hwDescription === 'dt', machine);
  assert.equal(argv[0], p.arch === 'arm' ? '/usr/bin/qemu-system-arm' : '/usr/bin/qemu-system-aarch64');
  assert.equal(argv[argv.indexOf('-cpu') + 1], p.arch === 'arm' ? 'cortex-a15' : 'cortex-a72');
  assert.ok(argv.includes(`${p.disk === 'virtio-mmio' ? 'virtio-blk-device' : 'virtio-blk-pci'},drive=disk0`));
  assert.ok(argv.join(' ').includes('-nic none'), 'no NIC');
  if (p.firmware === 'u-boot') {
    assert.equal(argv[argv.indexOf('-bios') + 1], `/usr/lib/u-boot/${p.arch === 'arm' ? 'qemu_arm' : 'qemu_arm64'}/u-boot.bin`);
    assert.ok(!argv.some((a) => a.startsWith('if=pflash')), 'U-Boot: no pflash, no vars store');
    assert.ok(!r.command.reproduce.includes('vars.fd'));
    assert.equal(r.firmware.varsTemplateSha256, null);
  } else {
    assert.ok(argv.some((a) => a.startsWith('if=pflash') && a.includes(p.arch === 'arm' ? 'AAVMF32_CODE.fd' : 'AAVMF_CODE.fd')));
    assert.match(r.firmware.varsTemplateSha256 ?? '', /^[0-9a-f]{64}$/);
  }
  assert.match(r.firmware.codeSha256 ?? '', /^[0-9a-f]{64}$/);
}

/** What the probe reports must follow from the profile. */
function assertFacts({ texts }: Booted, p: VmProfile): void {
  const has = (fact: string): boolean => texts.has(`VMSPEC-PROBE ${fact}`);
  assert.ok(has(`banner=vmspec-probe/2 arch=${p.arch}`), `banner arch=${p.arch}`);
  if (p.firmware === 'u-boot') {
    assert.ok(has('fw.vendor=Das U-Boot'));
    assert.ok(has('fdt=present') && has('acpi20=absent'), 'U-Boot hands over a device tree and no ACPI');
  } else {
    assert.ok(has('fw.vendor=EDK II'));
    if (p.hwDescription === 'dt') assert.ok(has('fdt=present') && has('acpi20=absent'), 'edk2 + acpi=off: FDT only');
    else assert.ok(has('fdt=absent') && has('acpi20=present'), 'edk2 + ACPI: ACPI only');
  }
  if (p.arch === 'arm') assert.ok(has('cpu.cpsr_mode=0x00000013'), 'AArch32 probe runs in SVC mode');
  else assert.ok(has('cpu.current_el=1'));
}

const aarch64Matrix: VmProfile[] = [];
for (const firmware of ['edk2', 'u-boot'] as const) {
  for (const hwDescription of ['acpi', 'dt'] as const) {
    for (const gic of ['v2', 'v3'] as const) {
      for (const disk of ['virtio-pci', 'virtio-mmio'] as const) aarch64Matrix.push({ ...defaultProfile, firmware, hwDescription, gic, disk });
    }
  }
}
const armMatrix: VmProfile[] = [
  { ...defaultProfile, arch: 'arm', firmware: 'edk2', hwDescription: 'dt', gic: 'v2', disk: 'virtio-pci' },
  { ...defaultProfile, arch: 'arm', firmware: 'u-boot', hwDescription: 'dt', gic: 'v3', disk: 'virtio-mmio' },
];

describe('probe boot on every QEMU profile (2 at a time)', { concurrency: 2 }, () => {
  for (const profile of [...aarch64Matrix, ...armMatrix]) {
    const key = profileKey(profile);
    const verdict = explainProfile(profile, null);
    if (!verdict.runnable) {
      it(`explains why ${key} cannot run`, async () => {
        assert.equal(profile.firmware, 'u-boot');
        assert.equal(profile.hwDescription, 'acpi');
        assert.ok(verdict.reasons.includes('U-Boot has no ACPI: hwDescription acpi is not available with u-boot'), verdict.reasons.join('; '));
        assert.deepEqual(launcher.unsupportedReasons(profile), ['U-Boot has no ACPI: hwDescription acpi is not available with u-boot']);
        await assert.rejects(bootProbe(profile), { name: 'ProfileNotSupportedError' });
      });
      continue;
    }
    it(`reaches the probe verdict on ${key}`, async (t) => {
      const booted = await bootProbe(profile);
      assertProbePassed(booted, profile);
      assertCommand(booted.r, profile);
      assertFacts(booted, profile);
      const { r } = booted;
      const line = `${key}: ${r.marker!.offsetMs} / ${r.exit.offsetMs} / ${r.durationMs}`;
      t.diagnostic(line);
    });
  }
});

describe('probe boot: containment and image safety', () => {
  it('runs QEMU contained (seccomp, no_new_privs, rlimits) and without any network device', async () => {
    const profile: VmProfile = { ...defaultProfile, firmware: 'u-boot', hwDescription: 'dt' }; // U-Boot waits 2 s: time to look
    let checks: Promise<void> | undefined;
    const booted = await bootProbe(profile, {
      onStart: (pid, workDir) => {
        checks = (async () => {
          assert.ok(await waitFor(async () => (await procStatus(pid))?.Name === 'qemu-system-aar', 5000, 10), 'QEMU started');
          assert.ok(await waitFor(async () => (await procStatus(pid))?.Seccomp === '2', 5000, 10), 'seccomp filter mode 2');
          const status = (await procStatus(pid))!;
          assert.equal(status.NoNewPrivs, '1');
          const limits = (await procLimits(pid)) ?? '';
          assert.match(limits, /Max core file size\s+0\s+0/);
          assert.match(limits, new RegExp(`Max address space\\s+${(512 + 2048 + 256) * 1024 * 1024}\\s`));
          assert.match(limits, /Max open files\s+1024\s+1024/);
          const socket = path.join(workDir, 'qmp.sock');
          assert.ok(await waitFor(async () => (await stat(socket).catch(() => null))?.isSocket() === true, 5000, 10), 'QMP socket');
          const qmp = await QmpClient.connect(socket, 3000);
          try {
            const buses = (await qmp.execute('query-pci')) as Array<{ devices: Array<{ class_info: { class: number } }> }>;
            const classes = buses.flatMap((b) => b.devices.map((d) => d.class_info.class));
            assert.ok(classes.includes(0x0100), `the virtio-blk disk is on PCI (${classes.map((c) => c.toString(16)).join(',')})`);
            assert.ok(!classes.some((c) => c >> 8 === 0x02), 'no network controller (class 0x02xx)');
          } finally {
            qmp.close();
          }
        })();
        checks.catch(() => undefined); // awaited below; do not let it surface as unhandled meanwhile
      },
    });
    await checks;
    assertProbePassed(booted, profile);
    assert.ok(booted.r.command.argv.join(' ').includes('-nic none'));
    assert.equal(booted.r.containment.network, 'none');
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
    const booted = await bootProbe(defaultProfile, { imagePath: image });
    assertProbePassed(booted, defaultProfile);
    assert.equal(await sha256(image), before.sha, 'image bytes unchanged');
    assert.equal((await stat(image)).mode, before.mode, 'image mode unchanged');
  });

  it('leaves the cached probe images untouched', async () => {
    assert.equal(await sha256(probe.imagePath), probe.sha256);
    assert.equal(await sha256(probeArm.imagePath), probeArm.sha256);
  });
});
