/**
 * Can this backend run this profile on this host, and if not, why — in sentences a vendor can
 * read. Pure: the host is described by {@link HostCapabilities} (see capability.probe), never
 * looked at here.
 */
import type { BackendId } from './boot.types.js';
import type { HostCapabilities } from './capability.probe.js';
import { firmwareKey, firmwarePackages, type FirmwareKey } from './firmware.catalog.js';
import type { VmProfile } from './vm.profile.js';

/** One finding about a profile: `error` makes it not runnable, `info` is worth knowing only. */
export interface ProfileProblem {
  /** Stable machine-readable code, e.g. `gic.v2_cpu_limit`, `kvm.host_arch`. */
  readonly code: string;
  readonly severity: 'error' | 'info';
  /** One human sentence. */
  readonly message: string;
}

/** The validator's answer for one profile on one backend and host. */
export interface ProfileVerdict {
  readonly runnable: boolean;
  /** Every finding as a human sentence: errors first, then information. */
  readonly reasons: string[];
  /** The same findings, typed. */
  readonly problems: ProfileProblem[];
  /** The backend the profile was judged for. */
  readonly backend: BackendId;
}

/** Options of {@link explainProfile}. */
export interface ExplainProfileOptions {
  /** Judge for this backend (default: the one the profile's accel implies, {@link backendForProfile}). */
  readonly backend?: BackendId;
}

/** The backend a profile's accel implies (as `@bootfarm/contracts` routes cells). */
export function backendForProfile(p: Pick<VmProfile, 'accel'>): BackendId {
  return p.accel === 'xen' ? 'xen' : p.accel === 'kvm' ? 'qemu-kvm' : 'qemu-tcg';
}

/** vCPU limits. GICv2 has 8 CPU interfaces; the farm's contract caps every VM at 64. */
export const profileLimits = Object.freeze({
  gicV2MaxCpus: 8,
  maxCpus: 64,
  minMemoryMiB: 128,
  maxMemoryMiB: 65536,
  /** 32-bit ARM guests: 32-bit firmware, no highmem. */
  armMaxMemoryMiB: 3072,
});

const ARCHES = ['aarch64', 'arm'];
const FIRMWARES = ['edk2', 'u-boot'];
const HW = ['acpi', 'dt'];
const GICS = ['v2', 'v3'];
const DISKS = ['virtio-pci', 'virtio-mmio', 'xen-pv'];
const ACCELS = ['tcg', 'kvm', 'xen'];
const NETWORKS = ['none', 'user-restricted'];

const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

/**
 * Explains whether `backend` can run `profile` on the host `host` describes. With `host`
 * null, only what does not depend on the host is checked (the launcher then reports missing
 * files when it boots).
 */
export function explainProfile(profile: VmProfile, host: HostCapabilities | null, options: ExplainProfileOptions = {}): ProfileVerdict {
  const backend = options.backend ?? backendForProfile(profile);
  const problems: ProfileProblem[] = [];
  const error = (code: string, message: string): void => void problems.push({ code, severity: 'error', message });
  const info = (code: string, message: string): void => void problems.push({ code, severity: 'info', message });
  const p = profile;

  // ---- the profile on its own ----
  const known = (field: string, value: unknown, allowed: readonly string[]): boolean => {
    if (allowed.includes(value as string)) return true;
    error(`profile.${field}`, `${field} ${String(value)} is not one of ${allowed.join(', ')}`);
    return false;
  };
  known('arch', p.arch, ARCHES);
  known('firmware', p.firmware, FIRMWARES);
  known('hwDescription', p.hwDescription, HW);
  known('gic', p.gic, GICS);
  known('disk', p.disk, DISKS);
  known('accel', p.accel, ACCELS);
  if (p.network !== undefined) known('network', p.network, NETWORKS);

  if (!Number.isInteger(p.cpus) || p.cpus < 1) error('cpus.invalid', `cpus must be a whole number of at least 1 (got ${String(p.cpus)})`);
  else if (p.gic === 'v2' && p.cpus > profileLimits.gicV2MaxCpus) error('gic.v2_cpu_limit', `GICv2 limits a VM to ${profileLimits.gicV2MaxCpus} vCPUs (asked for ${p.cpus}); use gic v3`);
  else if (p.cpus > profileLimits.maxCpus) error('cpus.limit', `the farm runs at most ${profileLimits.maxCpus} vCPUs per VM (asked for ${p.cpus})`);

  if (!Number.isInteger(p.memoryMiB) || p.memoryMiB < profileLimits.minMemoryMiB || p.memoryMiB > profileLimits.maxMemoryMiB) {
    error('memory.bounds', `memoryMiB must be a whole number from ${profileLimits.minMemoryMiB} to ${profileLimits.maxMemoryMiB} (got ${String(p.memoryMiB)})`);
  } else if (p.arch === 'arm' && p.memoryMiB > profileLimits.armMaxMemoryMiB) {
    error('memory.arm_limit', `32-bit ARM guests run with at most ${profileLimits.armMaxMemoryMiB} MiB of RAM (32-bit firmware, no highmem; asked for ${p.memoryMiB})`);
  }

  if (p.firmware === 'u-boot' && p.hwDescription === 'acpi') error('uboot.no_acpi', 'U-Boot has no ACPI: hwDescription acpi is not available with u-boot');
  if (p.arch === 'arm' && p.firmware === 'edk2' && p.hwDescription === 'acpi') {
    error('arm.no_acpi', '32-bit edk2 (AAVMF32) has no ACPI: hwDescription acpi is not available for arm guests');
  }
  if (p.disk === 'virtio-mmio') info('virtio_mmio.no_hotplug', 'virtio-mmio is not hotpluggable (devices are fixed at boot)');

  // ---- profile vs backend ----
  const accelBackend = backendForProfile(p);
  if (ACCELS.includes(p.accel) && accelBackend !== backend) error('backend.accel', `accel ${p.accel} needs the ${accelBackend} backend, not ${backend}`);
  if (backend === 'xen') {
    if (p.arch !== 'aarch64') error('xen.arch', 'the xen backend runs aarch64 guests only');
    if (p.disk !== 'xen-pv' && DISKS.includes(p.disk)) error('xen.disk', `${p.disk} disks are not available under Xen: use xen-pv`);
    if (p.hwDescription === 'acpi') error('xen.no_acpi', "Debian's Xen 4.17 is built without ACPI: use hwDescription dt");
    if (p.network === 'user-restricted') error('network.backend', 'user-restricted networking is only available on the QEMU backends');
  } else {
    if (p.disk === 'xen-pv') error('disk.xen_pv', 'xen-pv disks need the xen backend');
  }

  // ---- the host ----
  if (host) {
    if (backend === 'xen') hostXen(host, error);
    else hostQemu(p, backend, host, error, info);
    if (Number.isInteger(p.memoryMiB) && host.memoryMiB > 0 && p.memoryMiB > host.memoryMiB) {
      error('host.memory', `the VM needs ${p.memoryMiB} MiB of RAM but the host has only ${host.memoryMiB} MiB`);
    }
  }

  const ordered = [...problems.filter((x) => x.severity === 'error'), ...problems.filter((x) => x.severity === 'info')];
  return {
    runnable: !ordered.some((x) => x.severity === 'error'),
    reasons: ordered.map((x) => x.message),
    problems: ordered,
    backend,
  };
}

type Report = (code: string, message: string) => void;

function hostQemu(p: VmProfile, backend: BackendId, host: HostCapabilities, error: Report, info: Report): void {
  const arch = p.arch === 'arm' ? 'arm' : p.arch === 'aarch64' ? 'aarch64' : null;
  if (arch) {
    const qemu = host.qemu[arch];
    if (!qemu.present) error('host.qemu_missing', `${basename(qemu.path)} is not installed (${qemu.path}; Debian package qemu-system-arm)`);
  }
  if (!host.qemu.img.present) error('host.qemu_img_missing', `qemu-img is not installed (${host.qemu.img.path}): every boot needs it for its throwaway overlay`);
  for (const tool of [host.containment.setpriv, host.containment.prlimit]) {
    if (!tool.present) error('host.containment_missing', `${basename(tool.path)} is not installed (${tool.path}; Debian package util-linux): QEMU never runs uncontained`);
  }
  if (arch && FIRMWARES.includes(p.firmware)) firmwareFiles(firmwareKey(arch, p.firmware), host, error);

  if (backend === 'qemu-kvm') {
    if (p.arch === 'aarch64' && host.hostArch !== 'aarch64') error('kvm.host_arch', `host is ${host.hostArch}: no KVM for aarch64 guests`);
    if (p.arch === 'arm') {
      if (host.hostArch === 'aarch64') {
        error('kvm.arm_on_aarch64', 'KVM for 32-bit ARM guests on an aarch64 host (-cpu host,aarch64=off, needs AArch32 EL1 in the host CPU) is not supported by this backend');
      } else if (host.hostArch !== 'arm') {
        error('kvm.host_arch', `host is ${host.hostArch}: no KVM for arm guests`);
      }
    }
    if (!host.kvm.present) error('kvm.missing', `${host.kvm.path} does not exist: KVM is not available on this host`);
    else if (!host.kvm.usable) error('kvm.unusable', `${host.kvm.path} is not usable by this user`);
    info('kvm.gic', `with KVM the guest's GIC ${p.gic} must be one the host's GIC can provide`);
  }
}

function firmwareFiles(key: FirmwareKey, host: HostCapabilities, error: Report): void {
  const files = host.firmware.filter((f) => f.key === key);
  const missing = files.filter((f) => !f.present);
  if (missing.length === 0) return;
  const names = missing.map((f) => basename(f.path)).join(', ');
  const pkg = firmwarePackages[key];
  if (key === 'arm/edk2') {
    error('firmware.missing', `AArch32 needs a 32-bit UEFI build (${names} not installed; Debian package ${pkg})`);
  } else {
    error('firmware.missing', `${key} firmware is not installed (${missing.map((f) => f.path).join(', ')}; Debian package ${pkg})`);
  }
}

function hostXen(host: HostCapabilities, error: Report): void {
  if (host.hostArch !== 'aarch64') error('xen.host_arch', `host is ${host.hostArch}: the xen backend needs an aarch64 Xen dom0`);
  if (!host.xen.xl.present) error('xen.xl_missing', `xl is not installed (${host.xen.xl.path}): this host is not a Xen dom0`);
  else if (!host.xen.usable) error('xen.unusable', host.xen.detail);
}
