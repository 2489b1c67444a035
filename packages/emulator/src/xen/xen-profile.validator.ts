/**
 * Which VM profiles the Xen backend can run on a given host. Pure: the host's capabilities
 * (from the worker's probe or configuration) come in as an argument.
 */
import type { VmProfile } from '../vm.profile.js';

/** What the Xen host (hypervisor build, toolstack, firmware files) can do. */
export interface XenHostCapabilities {
  /**
   * The hypervisor supports guest ACPI (`acpi = 1`). False for Debian's Xen 4.17 arm64, which
   * is built without ACPI (and hangs silently on an ACPI-only platform).
   */
  readonly acpi: boolean;
  /** An ArmVirtXen `XEN_EFI.fd` is configured (firmware `edk2`). */
  readonly edk2Firmware: boolean;
  /** A U-Boot xenguest build is configured (firmware `u-boot`). */
  readonly ubootFirmware: boolean;
  /** Xen >= 4.17 with a standalone virtio-mmio block backend in dom0 (`specification=virtio`). */
  readonly virtioMmioDisks: boolean;
}

/** Debian 12's Xen 4.17 arm64 with a self-built ArmVirtXen: no ACPI, no U-Boot xenguest, PV disks only. */
export const debianXenCapabilities: XenHostCapabilities = Object.freeze({
  acpi: false,
  edk2Firmware: true,
  ubootFirmware: false,
  virtioMmioDisks: false,
});

/** The sentence a profile asking for ACPI gets on a Xen without ACPI support. */
export const xenNoAcpiReason =
  "hwDescription acpi: Xen on this host has no ACPI support (Debian's Xen 4.17 arm64 is built without ACPI; with an ACPI-only platform it hangs silently)";

/** Why the Xen backend cannot run `profile` on a host with `caps` (empty when it can). */
export function xenUnsupportedReasons(profile: VmProfile, caps: XenHostCapabilities): string[] {
  const problems: string[] = [];
  if (profile.accel !== 'xen') problems.push(`accel ${profile.accel} (only xen)`);
  if (profile.arch === 'arm') {
    problems.push('arch arm: 32-bit domUs need AArch32-capable host CPUs and a 32-bit guest firmware (ArmVirtXen is AArch64-only; libxl refuses acpi for 32-bit guests)');
  } else if (profile.arch !== 'aarch64') {
    problems.push(`arch ${String(profile.arch)} (only aarch64)`);
  }
  if (profile.firmware === 'edk2') {
    if (!caps.edk2Firmware) problems.push('firmware edk2: no ArmVirtXen XEN_EFI.fd is configured on this host');
  } else if (profile.firmware === 'u-boot') {
    if (!caps.ubootFirmware) problems.push('firmware u-boot: no U-Boot xenguest build is configured on this host');
  } else {
    problems.push(`firmware ${String(profile.firmware)} (only edk2 or u-boot)`);
  }
  if (profile.disk === 'virtio-mmio') {
    if (!caps.virtioMmioDisks) problems.push('disk virtio-mmio: needs Xen >= 4.17 with a standalone virtio backend in dom0 (specification=virtio), not configured on this host');
    else if (profile.firmware === 'edk2') problems.push('disk virtio-mmio: ArmVirtXen has only a Xen PV block driver (XenPvBlkDxe) and cannot boot from virtio');
  } else if (profile.disk !== 'xen-pv') {
    problems.push(`disk ${profile.disk} (Xen offers xen-pv, or virtio-mmio on Xen >= 4.17; no virtual PCI)`);
  }
  if (profile.hwDescription === 'acpi') {
    if (!caps.acpi) problems.push(xenNoAcpiReason);
    else if (profile.firmware !== 'edk2') problems.push('hwDescription acpi: only ArmVirtXen (edk2) passes ACPI tables to the guest');
  } else if (profile.hwDescription !== 'dt') {
    problems.push(`hwDescription ${String(profile.hwDescription)}`);
  }
  if (profile.gic !== 'v2' && profile.gic !== 'v3') problems.push(`gic ${String(profile.gic)}`);
  const maxCpus = profile.gic === 'v2' ? 8 : 128;
  if (!Number.isInteger(profile.cpus) || profile.cpus < 1 || profile.cpus > maxCpus) problems.push(`cpus ${profile.cpus} (1..${maxCpus} with GIC ${profile.gic})`);
  if (!Number.isInteger(profile.memoryMiB) || profile.memoryMiB < 64 || profile.memoryMiB > 65536) problems.push(`memoryMiB ${profile.memoryMiB} (64..65536)`);
  return problems;
}
