import type { Evidence } from '../finding.js';

/** Stable codes for what went wrong while reading a disk's structures. */
export type DiskErrorCode =
  | 'read_budget'
  | 'disk_too_small'
  | 'gpt_entry_size'
  | 'gpt_entry_count'
  | 'fat_boot_sector'
  | 'fat_bpb'
  | 'fat_chain_loop'
  | 'fat_chain_range'
  | 'fat_chain_bad'
  | 'fat_chain_short'
  | 'fat_depth'
  | 'fat_entries'
  | 'fat_dir_cycle'
  | 'fat_not_found'
  | 'fat_not_file'
  | 'pe_truncated'
  | 'pe_signature'
  | 'pe_lfanew'
  | 'pe_sections'
  | 'pe_optional_header';

/**
 * A disk structure cannot be read any further. Thrown only where nothing sensible can continue;
 * `inspectDisk` turns every one of these into a finding, so callers normally never see it.
 */
export class DiskInspectionError extends Error {
  override readonly name = 'DiskInspectionError';
  constructor(
    readonly code: DiskErrorCode,
    message: string,
    readonly evidence: readonly Evidence[] = [],
  ) {
    super(message);
  }
}

/** True for a {@link DiskInspectionError}, optionally with the given code. */
export function isDiskInspectionError(e: unknown, code?: DiskErrorCode): e is DiskInspectionError {
  return e instanceof DiskInspectionError && (code === undefined || e.code === code);
}
