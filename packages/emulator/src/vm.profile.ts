/**
 * VM profiles: one matrix cell's virtual machine, along the ARM VM System Specification's axes.
 *
 * The unions are deliberately as wide as the farm's matrix (they match `@bootfarm/contracts`
 * structurally, without importing it); each backend says which profiles it can run.
 */

/** CPU architecture of the guest. */
export const Arch = { Aarch64: 'aarch64', Arm: 'arm' } as const;
/** CPU architecture of the guest. */
export type Arch = (typeof Arch)[keyof typeof Arch];

/** Firmware the VM boots. */
export const Firmware = { Edk2: 'edk2', UBoot: 'u-boot' } as const;
/** Firmware the VM boots. */
export type Firmware = (typeof Firmware)[keyof typeof Firmware];

/** How the platform is described to the OS: ACPI tables or a flattened device tree (never both with edk2). */
export const HwDescription = { Acpi: 'acpi', Dt: 'dt' } as const;
/** How the platform is described to the OS. */
export type HwDescription = (typeof HwDescription)[keyof typeof HwDescription];

/** Interrupt controller version. */
export const Gic = { V2: 'v2', V3: 'v3' } as const;
/** Interrupt controller version. */
export type Gic = (typeof Gic)[keyof typeof Gic];

/** Transport of the boot disk. */
export const DiskTransport = { VirtioPci: 'virtio-pci', VirtioMmio: 'virtio-mmio', XenPv: 'xen-pv' } as const;
/** Transport of the boot disk. */
export type DiskTransport = (typeof DiskTransport)[keyof typeof DiskTransport];

/** Execution engine: software emulation, hardware virtualization, or a Xen guest. */
export const Accel = { Tcg: 'tcg', Kvm: 'kvm', Xen: 'xen' } as const;
/** Execution engine. */
export type Accel = (typeof Accel)[keyof typeof Accel];

/**
 * Guest networking: none (the default), or QEMU user networking with `restrict=on` (the guest
 * gets DHCP and can talk to nothing outside the VM; no port forwards).
 */
export const NetworkMode = { None: 'none', UserRestricted: 'user-restricted' } as const;
/** Guest networking. */
export type NetworkMode = (typeof NetworkMode)[keyof typeof NetworkMode];

/** One matrix cell's virtual machine. */
export interface VmProfile {
  readonly arch: Arch;
  readonly firmware: Firmware;
  readonly hwDescription: HwDescription;
  readonly gic: Gic;
  readonly disk: DiskTransport;
  /** Number of vCPUs. */
  readonly cpus: number;
  /** Guest RAM in MiB. */
  readonly memoryMiB: number;
  readonly accel: Accel;
  /** Guest networking; absent means `none`. */
  readonly network?: NetworkMode;
}

/** The VM spec's reference AArch64 `virt` machine: edk2, ACPI, GICv3, virtio-pci, 1 vCPU, 512 MiB, TCG. */
export const defaultProfile: VmProfile = Object.freeze({
  arch: 'aarch64',
  firmware: 'edk2',
  hwDescription: 'acpi',
  gic: 'v3',
  disk: 'virtio-pci',
  cpus: 1,
  memoryMiB: 512,
  accel: 'tcg',
});

/**
 * Stable, human-readable key of a profile, e.g. `aarch64/edk2/acpi/gicv3/virtio-pci/1cpu/512M/tcg`
 * (`/net-user-restricted` is appended only when the profile has a network).
 */
export function profileKey(p: VmProfile): string {
  const net = p.network && p.network !== 'none' ? `/net-${p.network}` : '';
  return `${p.arch}/${p.firmware}/${p.hwDescription}/gic${p.gic}/${p.disk}/${p.cpus}cpu/${p.memoryMiB}M/${p.accel}${net}`;
}
