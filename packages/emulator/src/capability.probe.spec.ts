/** Probes this very host (Debian 12 x86_64 CI: QEMU, AAVMF/AAVMF32 and U-Boot installed; no KVM for ARM, no Xen). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { backendsAvailable, normalizeHostArch, parseXlInfo, probeHostCapabilities, representativeProfile } from './capability.probe.js';
import { FileHasher, sha256File } from './file.hasher.js';
import { firmwareCatalog } from './firmware.catalog.js';
import { removeDir, scratchDir } from './testing.helpers.js';

describe('probeHostCapabilities on this host', () => {
  it('finds QEMU, qemu-img, the firmware files (hashed) and the containment tools; JSON round-trips', async (t) => {
    const caps = await probeHostCapabilities();
    t.diagnostic(`host ${caps.hostArch}, ${caps.cpuCount} cpus, ${caps.memoryMiB} MiB; ${caps.qemu.aarch64.version}; kvm: ${caps.kvm.detail}; xen: ${caps.xen.detail}`);
    assert.deepEqual(JSON.parse(JSON.stringify(caps)), caps);
    assert.equal(caps.hostArch, normalizeHostArch(os.arch()));
    for (const q of [caps.qemu.aarch64, caps.qemu.arm]) assert.match(q.version ?? '', /^QEMU emulator version \d+\.\d+/);
    assert.match(caps.qemu.img.version ?? '', /^qemu-img version \d+\.\d+/);
    assert.match(caps.containment.setpriv.version ?? '', /util-linux/);
    assert.match(caps.containment.prlimit.version ?? '', /util-linux/);
    assert.equal(caps.firmware.length, 6, 'two pflash pairs and two U-Boot builds');
    for (const f of caps.firmware) {
      assert.equal(f.present, true, f.path);
      assert.match(f.sha256 ?? '', /^[0-9a-f]{64}$/);
    }
    const uboot = caps.firmware.find((f) => f.key === 'arm/u-boot')!;
    assert.equal(uboot.sha256, await sha256File(uboot.path));
    assert.equal(caps.xen.usable, false);
  });

  it('serves the TCG queues on x86_64 and explains why not KVM or Xen', { skip: normalizeHostArch(os.arch()) !== 'x86_64' && 'x86_64 host facts' }, async () => {
    const caps = await probeHostCapabilities();
    assert.equal(caps.hostArch, 'x86_64');
    const b = backendsAvailable(caps);
    assert.deepEqual(b.available, ['qemu-tcg:aarch64', 'qemu-tcg:arm']);
    const why = Object.fromEntries(b.unavailable.map((u) => [u.capability, u.reasons]));
    assert.ok(why['qemu-kvm:aarch64']!.includes('host is x86_64: no KVM for aarch64 guests'), why['qemu-kvm:aarch64']!.join(' | '));
    assert.ok(why['qemu-kvm:arm']!.includes('host is x86_64: no KVM for arm guests'));
    assert.ok(why['xen:aarch64']!.some((r) => /xl is not installed|not a Xen dom0/.test(r)));
    assert.deepEqual(JSON.parse(JSON.stringify(b)), b);
  });

  it('reports missing tools, firmware and devices without failing', async () => {
    const dir = await scratchDir();
    try {
      const nowhere = path.join(dir, 'none');
      const caps = await probeHostCapabilities({
        qemuSystem: { arm: path.join(nowhere, 'qemu-system-arm') },
        prlimit: path.join(nowhere, 'prlimit'),
        kvmDevice: path.join(nowhere, 'kvm'),
        xl: path.join(nowhere, 'xl'),
        firmware: firmwareCatalog({ 'arm/edk2': { kind: 'pflash', code: path.join(nowhere, 'AAVMF32_CODE.fd'), varsTemplate: '/usr/share/AAVMF/AAVMF32_VARS.fd' } }),
        hasher: new FileHasher(),
        hostArch: 'aarch64',
      });
      assert.equal(caps.hostArch, 'aarch64');
      assert.deepEqual({ present: caps.qemu.arm.present, version: caps.qemu.arm.version }, { present: false, version: null });
      assert.equal(caps.kvm.present, false);
      assert.equal(caps.xen.xl.present, false);
      const b = backendsAvailable(caps);
      const why = Object.fromEntries(b.unavailable.map((u) => [u.capability, u.reasons.join(' | ')]));
      assert.match(why['qemu-tcg:arm'] ?? '', /qemu-system-arm is not installed/);
      assert.match(why['qemu-tcg:arm'] ?? '', /AArch32 needs a 32-bit UEFI build \(AAVMF32_CODE\.fd not installed/);
      assert.match(why['qemu-tcg:aarch64'] ?? '', /prlimit is not installed/);
      assert.match(why['qemu-kvm:aarch64'] ?? '', /kvm does not exist/);
      assert.deepEqual(b.available, []);
    } finally {
      await removeDir(dir);
    }
  });
});

describe('capability helpers', () => {
  it('normalises arch names', () => {
    assert.deepEqual(['x64', 'x86_64', 'arm64', 'aarch64', 'armv7l', 'arm', 'riscv64'].map(normalizeHostArch), ['x86_64', 'x86_64', 'aarch64', 'aarch64', 'arm', 'arm', 'riscv64']);
  });

  it('parses xl info', () => {
    const info = parseXlInfo('host                   : dom0\nxen_version            : 4.17.3\nnr_cpus                : 4\n__proto__ : x\n');
    assert.equal(info['xen_version'], '4.17.3');
    assert.equal(info['nr_cpus'], '4');
    assert.equal(Object.getPrototypeOf(info), Object.prototype);
  });

  it('judges each queue by a representative profile', () => {
    assert.deepEqual(representativeProfile('qemu-tcg:arm'), { arch: 'arm', firmware: 'edk2', hwDescription: 'dt', gic: 'v3', disk: 'virtio-pci', cpus: 1, memoryMiB: 512, accel: 'tcg' });
    assert.equal(representativeProfile('xen:aarch64').disk, 'xen-pv');
    assert.equal(representativeProfile('qemu-kvm:aarch64').accel, 'kvm');
  });
});
