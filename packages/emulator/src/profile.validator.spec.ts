import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backendForProfile, explainProfile } from './profile.validator.js';
import type { HostCapabilities, ToolProbe } from './capability.probe.js';
import { defaultFirmwareCatalog, firmwareFileList, firmwareKeys } from './firmware.catalog.js';
import { defaultProfile, type VmProfile } from './vm.profile.js';
import type { BackendId } from './boot.types.js';

const tool = (path: string, present = true): ToolProbe => ({ path, present, version: present ? 'x 1.0' : null, error: present ? null : 'ENOENT' });

/** A host description built from plain data: everything installed, x86_64, no usable KVM, no Xen. */
function host(over: Partial<HostCapabilities> = {}, missing: readonly string[] = []): HostCapabilities {
  return {
    schema: 1,
    probedAt: '2026-11-25T00:00:00.000Z',
    hostArch: 'x86_64',
    cpuCount: 2,
    memoryMiB: 7900,
    qemu: { aarch64: tool('/usr/bin/qemu-system-aarch64'), arm: tool('/usr/bin/qemu-system-arm'), img: tool('/usr/bin/qemu-img') },
    containment: { setpriv: tool('/usr/bin/setpriv'), prlimit: tool('/usr/bin/prlimit') },
    firmware: firmwareKeys.flatMap((key) =>
      firmwareFileList(defaultFirmwareCatalog[key]).map((f) => {
        const present = !missing.some((m) => f.path.endsWith(`/${m}`));
        return { key, role: f.role, path: f.path, present, sizeBytes: present ? 1 : null, sha256: present ? '0'.repeat(64) : null, error: present ? null : 'ENOENT' };
      }),
    ),
    kvm: { path: '/dev/kvm', present: true, usable: false, detail: '/dev/kvm is not usable by this user (EACCES)' },
    xen: { xl: tool('/usr/sbin/xl', false), usable: false, info: null, detail: 'xl is not installed (/usr/sbin/xl)' },
    ...over,
  };
}

const arm64Kvm = host({ hostArch: 'aarch64', kvm: { path: '/dev/kvm', present: true, usable: true, detail: 'ok' } });
const P = (over: Partial<VmProfile>): VmProfile => ({ ...defaultProfile, ...over });

interface Row {
  name: string;
  profile: VmProfile;
  host: HostCapabilities | null;
  backend?: BackendId;
  runnable: boolean;
  /** Sentences that must be among the reasons. */
  reasons?: string[];
}

const table: Row[] = [
  { name: 'default profile, TCG, x86_64 host', profile: defaultProfile, host: host(), runnable: true, reasons: [] },
  { name: 'default profile, no host info', profile: defaultProfile, host: null, runnable: true },
  { name: 'GICv2 with 8 vCPUs', profile: P({ gic: 'v2', cpus: 8 }), host: host(), runnable: true },
  { name: 'GICv2 with 9 vCPUs', profile: P({ gic: 'v2', cpus: 9 }), host: null, runnable: false, reasons: ['GICv2 limits a VM to 8 vCPUs (asked for 9); use gic v3'] },
  { name: 'GICv3 with 64 vCPUs', profile: P({ cpus: 64 }), host: null, runnable: true },
  { name: 'GICv3 with 65 vCPUs', profile: P({ cpus: 65 }), host: null, runnable: false, reasons: ['the farm runs at most 64 vCPUs per VM (asked for 65)'] },
  { name: 'zero vCPUs', profile: P({ cpus: 0 }), host: null, runnable: false, reasons: ['cpus must be a whole number of at least 1 (got 0)'] },
  { name: 'fractional vCPUs', profile: P({ cpus: 1.5 }), host: null, runnable: false },
  { name: 'too little memory', profile: P({ memoryMiB: 64 }), host: null, runnable: false, reasons: ['memoryMiB must be a whole number from 128 to 65536 (got 64)'] },
  { name: 'more memory than the host', profile: P({ memoryMiB: 16384 }), host: host(), runnable: false, reasons: ['the VM needs 16384 MiB of RAM but the host has only 7900 MiB'] },
  { name: '32-bit ARM with 4 GiB', profile: P({ arch: 'arm', hwDescription: 'dt', memoryMiB: 4096 }), host: null, runnable: false },
  { name: 'KVM on an x86_64 host', profile: P({ accel: 'kvm' }), host: host(), runnable: false, reasons: ['host is x86_64: no KVM for aarch64 guests', '/dev/kvm is not usable by this user'] },
  { name: 'KVM without /dev/kvm', profile: P({ accel: 'kvm' }), host: host({ hostArch: 'aarch64', kvm: { path: '/dev/kvm', present: false, usable: false, detail: '' } }), runnable: false, reasons: ['/dev/kvm does not exist: KVM is not available on this host'] },
  { name: 'KVM on an arm64 host with /dev/kvm', profile: P({ accel: 'kvm' }), host: arm64Kvm, runnable: true },
  { name: 'KVM for a 32-bit guest on arm64', profile: P({ accel: 'kvm', arch: 'arm', hwDescription: 'dt' }), host: arm64Kvm, runnable: false },
  { name: 'KVM profile on the TCG backend', profile: P({ accel: 'kvm' }), host: arm64Kvm, backend: 'qemu-tcg', runnable: false, reasons: ['accel kvm needs the qemu-kvm backend, not qemu-tcg'] },
  { name: 'AArch32 without AAVMF32', profile: P({ arch: 'arm', hwDescription: 'dt' }), host: host({}, ['AAVMF32_CODE.fd']), runnable: false, reasons: ['AArch32 needs a 32-bit UEFI build (AAVMF32_CODE.fd not installed; Debian package qemu-efi-arm)'] },
  { name: 'AArch32 with ACPI', profile: P({ arch: 'arm' }), host: host(), runnable: false, reasons: ['32-bit edk2 (AAVMF32) has no ACPI: hwDescription acpi is not available for arm guests'] },
  { name: 'AArch32 U-Boot', profile: P({ arch: 'arm', firmware: 'u-boot', hwDescription: 'dt' }), host: host(), runnable: true },
  { name: 'U-Boot with ACPI', profile: P({ firmware: 'u-boot' }), host: null, runnable: false, reasons: ['U-Boot has no ACPI: hwDescription acpi is not available with u-boot'] },
  { name: 'U-Boot not installed', profile: P({ firmware: 'u-boot', hwDescription: 'dt' }), host: host({}, ['u-boot.bin']), runnable: false, reasons: ['aarch64/u-boot firmware is not installed (/usr/lib/u-boot/qemu_arm64/u-boot.bin; Debian package u-boot-qemu)'] },
  { name: 'virtio-mmio is information only', profile: P({ disk: 'virtio-mmio' }), host: host(), runnable: true, reasons: ['virtio-mmio is not hotpluggable (devices are fixed at boot)'] },
  { name: 'xen-pv disk on QEMU', profile: P({ disk: 'xen-pv' }), host: host(), runnable: false, reasons: ['xen-pv disks need the xen backend'] },
  { name: 'Xen profile on a host without xl', profile: P({ accel: 'xen', disk: 'xen-pv', hwDescription: 'dt' }), host: host(), runnable: false, reasons: ['host is x86_64: the xen backend needs an aarch64 Xen dom0', 'xl is not installed (/usr/sbin/xl): this host is not a Xen dom0'] },
  { name: 'Xen with ACPI and virtio', profile: P({ accel: 'xen' }), host: null, runnable: false, reasons: ["Debian's Xen 4.17 is built without ACPI: use hwDescription dt", 'virtio-pci disks are not available under Xen: use xen-pv'] },
  { name: 'qemu-system-arm missing', profile: P({ arch: 'arm', hwDescription: 'dt' }), host: host({ qemu: { aarch64: tool('/usr/bin/qemu-system-aarch64'), arm: tool('/usr/bin/qemu-system-arm', false), img: tool('/usr/bin/qemu-img') } }), runnable: false, reasons: ['qemu-system-arm is not installed (/usr/bin/qemu-system-arm; Debian package qemu-system-arm)'] },
  { name: 'no prlimit', profile: defaultProfile, host: host({ containment: { setpriv: tool('/usr/bin/setpriv'), prlimit: tool('/usr/bin/prlimit', false) } }), runnable: false, reasons: ['prlimit is not installed (/usr/bin/prlimit; Debian package util-linux): QEMU never runs uncontained'] },
  { name: 'restricted user networking', profile: P({ network: 'user-restricted' }), host: host(), runnable: true },
  { name: 'unknown network mode', profile: P({ network: 'bridge' as 'none' }), host: null, runnable: false, reasons: ['network bridge is not one of none, user-restricted'] },
];

describe('explainProfile', () => {
  for (const row of table) {
    it(row.name, () => {
      const v = explainProfile(row.profile, row.host, row.backend ? { backend: row.backend } : {});
      assert.equal(v.runnable, row.runnable, v.reasons.join(' | '));
      for (const r of row.reasons ?? []) assert.ok(v.reasons.includes(r), `missing "${r}" in: ${v.reasons.join(' | ')}`);
      if (row.reasons?.length === 0) assert.deepEqual(v.reasons, []);
      // Errors come before information; runnable means no errors.
      const firstInfo = v.problems.findIndex((p) => p.severity === 'info');
      if (firstInfo >= 0) assert.ok(v.problems.slice(firstInfo).every((p) => p.severity === 'info'));
      assert.equal(v.runnable, !v.problems.some((p) => p.severity === 'error'));
      assert.deepEqual(v.reasons, v.problems.map((p) => p.message));
      assert.equal(JSON.parse(JSON.stringify(v)).runnable, v.runnable, 'serialisable');
    });
  }

  it('judges for the backend the accel implies unless told otherwise', () => {
    assert.equal(backendForProfile({ accel: 'tcg' }), 'qemu-tcg');
    assert.equal(backendForProfile({ accel: 'kvm' }), 'qemu-kvm');
    assert.equal(backendForProfile({ accel: 'xen' }), 'xen');
    assert.equal(explainProfile(P({ accel: 'kvm' }), null).backend, 'qemu-kvm');
  });
});
