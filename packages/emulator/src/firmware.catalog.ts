/**
 * Which firmware files and which QEMU binary boot a given (arch, firmware) pair. Pure data and
 * lookups: every path is injectable, nothing is read here (the capability probe and the
 * launcher check and hash the files).
 */
import type { Arch, Firmware } from './vm.profile.js';

/**
 * Firmware loaded as two pflash banks: the read-only code, and a per-boot copy of the vars
 * template (edk2 / AAVMF).
 */
export interface PflashFirmwareFiles {
  readonly kind: 'pflash';
  /** Read-only code (pflash unit 0). */
  readonly code: string;
  /** Vars template, copied fresh for every boot (pflash unit 1). */
  readonly varsTemplate: string;
}

/** Firmware loaded with `-bios` (U-Boot): one read-only file, no vars store. */
export interface BiosFirmwareFiles {
  readonly kind: 'bios';
  readonly bios: string;
}

/** The firmware files of one (arch, firmware) pair. */
export type FirmwareFiles = PflashFirmwareFiles | BiosFirmwareFiles;

/** Key of a catalogue entry, e.g. `aarch64/edk2`. */
export type FirmwareKey = `${Arch}/${Firmware}`;

/** Every (arch, firmware) pair the farm knows, in a stable order. */
export const firmwareKeys: readonly FirmwareKey[] = Object.freeze(['aarch64/edk2', 'aarch64/u-boot', 'arm/edk2', 'arm/u-boot']);

/** Firmware files for every (arch, firmware) pair. */
export type FirmwareCatalog = Readonly<Record<FirmwareKey, FirmwareFiles>>;

/**
 * Debian 12's packages: qemu-efi-aarch64 (AAVMF), qemu-efi-arm (AAVMF32), u-boot-qemu
 * (qemu_arm64, qemu_arm). AAVMF reports an empty firmware version: the file hash identifies it.
 */
export const defaultFirmwareCatalog: FirmwareCatalog = Object.freeze({
  'aarch64/edk2': Object.freeze({ kind: 'pflash', code: '/usr/share/AAVMF/AAVMF_CODE.fd', varsTemplate: '/usr/share/AAVMF/AAVMF_VARS.fd' }),
  'aarch64/u-boot': Object.freeze({ kind: 'bios', bios: '/usr/lib/u-boot/qemu_arm64/u-boot.bin' }),
  'arm/edk2': Object.freeze({ kind: 'pflash', code: '/usr/share/AAVMF/AAVMF32_CODE.fd', varsTemplate: '/usr/share/AAVMF/AAVMF32_VARS.fd' }),
  'arm/u-boot': Object.freeze({ kind: 'bios', bios: '/usr/lib/u-boot/qemu_arm/u-boot.bin' }),
} satisfies Record<FirmwareKey, FirmwareFiles>);

/** Debian package that ships each entry of {@link defaultFirmwareCatalog} (for human messages). */
export const firmwarePackages: Readonly<Record<FirmwareKey, string>> = Object.freeze({
  'aarch64/edk2': 'qemu-efi-aarch64',
  'aarch64/u-boot': 'u-boot-qemu',
  'arm/edk2': 'qemu-efi-arm',
  'arm/u-boot': 'u-boot-qemu',
});

/** A catalogue with some entries replaced (e.g. a locally built edk2, or test fixtures). */
export function firmwareCatalog(overrides: Partial<Record<FirmwareKey, FirmwareFiles>> = {}): FirmwareCatalog {
  return Object.freeze({ ...defaultFirmwareCatalog, ...overrides });
}

/** The catalogue key of an (arch, firmware) pair. */
export function firmwareKey(arch: Arch, firmware: Firmware): FirmwareKey {
  return `${arch}/${firmware}`;
}

/** The firmware files for (arch, firmware), or undefined for a pair the catalogue does not know. */
export function firmwareFor(catalog: FirmwareCatalog, arch: Arch, firmware: Firmware): FirmwareFiles | undefined {
  return (catalog as Partial<Record<string, FirmwareFiles>>)[firmwareKey(arch, firmware)];
}

/** The files of an entry, with their role, in a stable order. */
export function firmwareFileList(files: FirmwareFiles): Array<{ role: 'code' | 'vars-template' | 'bios'; path: string }> {
  return files.kind === 'pflash'
    ? [
        { role: 'code', path: files.code },
        { role: 'vars-template', path: files.varsTemplate },
      ]
    : [{ role: 'bios', path: files.bios }];
}

/** QEMU system emulators per guest arch. */
export interface QemuSystemBinaries {
  readonly aarch64: string;
  readonly arm: string;
}

/** Debian's qemu-system-arm package ships both. */
export const defaultQemuSystemBinaries: QemuSystemBinaries = Object.freeze({
  aarch64: '/usr/bin/qemu-system-aarch64',
  arm: '/usr/bin/qemu-system-arm',
});
