/** How a finding weighs: pass and fail decide a requirement; warn and info inform. */
export type FindingLevel = 'pass' | 'warn' | 'fail' | 'info';

/** A piece of evidence: where in the image, which bytes or which value led to a finding. */
export interface Evidence {
  /** What this is, e.g. "protective MBR partition type", "GPT header CRC32", "PE machine". */
  readonly what: string;
  /** Byte offset in the guest-visible disk (not in the container file), when it has one. */
  readonly offset?: number;
  /** The bytes there, as lowercase hex (short: at most 64 bytes). */
  readonly bytes?: string;
  /** The decoded value, e.g. "0xAA64", "\\EFI\\BOOT\\BOOTAA64.EFI", "FAT32". */
  readonly value?: string;
  /** Expected value, when the finding compares against one. */
  readonly expected?: string;
}

/** A static finding about an image against one requirement (IMG-1..IMG-10). */
export interface Finding {
  /** Requirement id, e.g. "IMG-3". */
  readonly id: `IMG-${number}`;
  /** Short stable code of the check within the requirement, e.g. "esp-found", "gpt-backup-stale". */
  readonly check: string;
  readonly level: FindingLevel;
  /** One human sentence. */
  readonly message: string;
  readonly evidence: readonly Evidence[];
}
