/**
 * Console signatures of known boot failures, checked line by line. Pure data + one matcher.
 *
 * A *definitive* signature ends the boot at once (the firmware has given up: waiting longer
 * only burns a slot). A non-definitive one is a hint: it is remembered and names the failure
 * class if the boot later ends without a marker, because the firmware may still try another
 * boot option (edk2 with several disks; U-Boot goes on to other boot targets).
 */
import type { FailureClass } from './boot.types.js';

/** One known failure, as seen on the console. */
export interface FailureSignature {
  /** Stable id (persisted with results: never rename). */
  readonly id: string;
  readonly failureClass: FailureClass;
  /** True when the boot cannot recover from here. */
  readonly definitive: boolean;
  readonly pattern: RegExp;
  /** One human sentence used as the failure reason. */
  readonly description: string;
}

/** Every known signature, most specific first. */
export const failureSignatures: readonly FailureSignature[] = [
  {
    id: 'edk2.shell_fallback',
    failureClass: 'no_boot_device',
    definitive: true,
    pattern: /BdsDxe: (?:loading|starting) Boot[0-9A-Fa-f]{4} "EFI Internal Shell"/,
    description: 'edk2 found no bootable image on the disk and fell back to its UEFI shell',
  },
  {
    id: 'edk2.uefi_shell',
    failureClass: 'no_boot_device',
    definitive: true,
    pattern: /^UEFI Interactive Shell v\d/,
    description: 'edk2 found no bootable image on the disk and started its UEFI shell',
  },
  {
    id: 'linux.panic',
    failureClass: 'kernel_panic',
    definitive: true,
    pattern: /Kernel panic - not syncing/,
    description: 'the Linux kernel panicked',
  },
  {
    id: 'uboot.prompt',
    failureClass: 'no_boot_device',
    definitive: true,
    pattern: /^=> ?$/,
    description: 'U-Boot found nothing to boot and stopped at its command prompt',
  },
  {
    id: 'edk2.load_failed',
    failureClass: 'no_boot_device',
    definitive: false,
    pattern: /BdsDxe: failed to load Boot[0-9A-Fa-f]{4}/,
    description: 'edk2 could not load the boot option from the disk (no valid EFI/BOOT/BOOTAA64.EFI)',
  },
  {
    id: 'uboot.efi_bootmgr_failed',
    failureClass: 'no_boot_device',
    definitive: false,
    pattern: /^EFI boot manager: Cannot load any image/,
    description: "U-Boot's EFI boot manager could not load any image",
  },
];

/** The first signature matching a sanitized console line, or null. */
export function matchFailureSignature(
  text: string,
  signatures: readonly FailureSignature[] = failureSignatures,
): FailureSignature | null {
  for (const s of signatures) if (s.pattern.test(text)) return s;
  return null;
}
