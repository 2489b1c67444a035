import { z } from 'zod';

/**
 * A matrix cell's virtual machine, per the ARM VM System Specification's axes.
 * The emulator core turns it into an exact backend command line.
 */
export const VmProfile = z.object({
  arch: z.enum(['aarch64', 'arm']),
  firmware: z.enum(['edk2', 'u-boot']),
  hwDescription: z.enum(['acpi', 'dt']),
  gic: z.enum(['v2', 'v3']),
  disk: z.enum(['virtio-pci', 'virtio-mmio', 'xen-pv']),
  cpus: z.number().int().min(1).max(64),
  memoryMiB: z.number().int().min(128).max(65536),
  accel: z.enum(['tcg', 'kvm', 'xen']),
});
export type VmProfile = z.infer<typeof VmProfile>;

/** The backend a cell needs; workers consume only the queues of backends they can run. */
export const Backend = z.enum(['qemu-tcg', 'qemu-kvm', 'xen']);
export type Backend = z.infer<typeof Backend>;

/** Stable, human-readable key of a profile: one cell per key per run. */
export function profileKey(p: VmProfile): string {
  return `${p.arch}/${p.firmware}/${p.hwDescription}/gic${p.gic}/${p.disk}/${p.cpus}cpu/${p.memoryMiB}M/${p.accel}`;
}

/** The backend that runs a profile. */
export function backendFor(p: VmProfile): Backend {
  return p.accel === 'xen' ? 'xen' : p.accel === 'kvm' ? 'qemu-kvm' : 'qemu-tcg';
}

/** The profile a run gets when it names no matrix: the VM spec's reference AArch64 virt machine. */
export const defaultProfile: VmProfile = {
  arch: 'aarch64',
  firmware: 'edk2',
  hwDescription: 'acpi',
  gic: 'v3',
  disk: 'virtio-pci',
  cpus: 1,
  memoryMiB: 512,
  accel: 'tcg',
};
