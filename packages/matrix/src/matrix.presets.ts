/**
 * Named matrices. A preset gives axes (the rest take the default profile's single value) and,
 * optionally, fixed include/exclude entries; a spec naming a preset may override any axis and
 * add its own include/exclude entries (the preset's stay).
 *
 * Sizes below are with `host: null` (host-independent checks only).
 */
import type { MatrixAxes, PartialProfile, PresetName } from './matrix.schema.js';

/** One named matrix. */
export interface MatrixPreset {
  /** One line on what the preset is for. */
  readonly description: string;
  readonly axes: Readonly<MatrixAxes>;
  /** Fixed extra cells (completed from the default profile). Overriding axes does not change them. */
  readonly include: readonly PartialProfile[];
  readonly exclude: readonly PartialProfile[];
}

const preset = (p: MatrixPreset): MatrixPreset => Object.freeze({ ...p, axes: Object.freeze({ ...p.axes }), include: Object.freeze([...p.include]), exclude: Object.freeze([...p.exclude]) });

/** The built-in presets. */
export const matrixPresets: Readonly<Record<PresetName, MatrixPreset>> = Object.freeze({
  /**
   * 1 cell: the default reference cell, aarch64 / edk2 / acpi / GICv3 / virtio-pci / 1 vCPU /
   * 512 MiB / TCG. A smoke test.
   */
  quick: preset({
    description: 'the default reference cell: aarch64 edk2 acpi gicv3 virtio-pci 1 cpu 512M tcg',
    axes: {},
    include: [],
    exclude: [],
  }),
  /**
   * 6 cells, all applicable: the platforms the compliance catalogue distinguishes, on TCG with
   * 2 vCPUs and 512 MiB. edk2 × {acpi, dt} × {GICv2, GICv3} (4), plus U-Boot DT GICv3, plus
   * AArch32 edk2 DT GICv2 (the include entries).
   */
  'vm-spec-platforms': preset({
    description: 'the compliance platforms on TCG, 2 vCPUs: edk2 × {acpi, dt} × {gicv2, gicv3}, u-boot dt gicv3, arm edk2 dt gicv2',
    axes: { firmware: ['edk2'], hwDescription: ['acpi', 'dt'], gic: ['v2', 'v3'], cpus: [2] },
    include: [
      { firmware: 'u-boot', hwDescription: 'dt', gic: 'v3', cpus: 2 },
      { arch: 'arm', firmware: 'edk2', hwDescription: 'dt', gic: 'v2', cpus: 2 },
    ],
    exclude: [],
  }),
  /**
   * 192 cells (100 applicable, 92 not): arch × firmware × hwDescription × gic × disk
   * {virtio-pci, virtio-mmio} × cpus {1, 4, 9} × memory {512, 3072} MiB on TCG. The impossible
   * combinations stay in the matrix, marked not applicable with the validator's reason: U-Boot
   * with ACPI, AArch32 edk2 with ACPI, GICv2 with 9 vCPUs.
   */
  'vm-spec-full': preset({
    description: 'every VM-spec axis on TCG: arch × firmware × hwDescription × gic × disk {virtio-pci, virtio-mmio} × cpus {1, 4, 9} × memory {512, 3072}',
    axes: {
      arch: ['aarch64', 'arm'],
      firmware: ['edk2', 'u-boot'],
      hwDescription: ['acpi', 'dt'],
      gic: ['v2', 'v3'],
      disk: ['virtio-pci', 'virtio-mmio'],
      cpus: [1, 4, 9],
      memoryMiB: [512, 3072],
      accel: ['tcg'],
    },
    include: [],
    exclude: [],
  }),
  /**
   * 8 cells, all applicable (host-independently): Xen domUs, aarch64 with xen-pv disks and a
   * device tree (Debian's Xen has no ACPI), firmware {edk2 (ArmVirtXen), u-boot (xenguest)} ×
   * {GICv2, GICv3} × {1, 4} vCPUs, 512 MiB. With a host, cells need an aarch64 Xen dom0.
   */
  xen: preset({
    description: 'Xen domUs: aarch64 xen-pv dt, firmware {edk2, u-boot} × {gicv2, gicv3} × cpus {1, 4}, 512M',
    axes: { firmware: ['edk2', 'u-boot'], hwDescription: ['dt'], gic: ['v2', 'v3'], disk: ['xen-pv'], cpus: [1, 4], accel: ['xen'] },
    include: [],
    exclude: [],
  }),
});
