/**
 * Typed rejections of an uploaded image at the container level (format, qcow2 header and tables,
 * size policy). Every refusal the container layer makes is an {@link ImageRejectedError}.
 */

/**
 * Stable reason codes, shown to the vendor and stored with the run.
 * WARNING: persisted and matched by clients; never rename a code, only add new ones.
 */
export const RejectionCode = {
  Empty: 'empty',
  Truncated: 'truncated',
  NotADisk: 'not_a_disk',
  FormatMismatch: 'format_mismatch',
  MultipleFormats: 'multiple_formats',
  FormatNotAllowed: 'format_not_allowed',
  BackingFile: 'backing_file',
  DataFile: 'data_file',
  UnknownFeatures: 'unknown_features',
  UnsafeQcow2: 'unsafe_qcow2',
  CorruptQcow2: 'corrupt_qcow2',
  VirtualSizeOverPolicy: 'virtual_size_over_policy',
  LimitsExceeded: 'limits_exceeded',
  /** The inspector process failed on the image (a crash is reported, never its stack). */
  InspectionFailed: 'inspection_failed',
  /** `qemu-img info -f FMT` disagreed with the inspector (format, virtual size, backing file). */
  QemuImgDisagrees: 'qemu_img_disagrees',
} as const;

/** One of the {@link RejectionCode} values. */
export type RejectionCode = (typeof RejectionCode)[keyof typeof RejectionCode];

/**
 * Where in the container file the problem is. `offset` is a byte offset in the uploaded file
 * (not in the guest disk); `bytes` is short lowercase hex; `value` is a decoded, sanitised value.
 * Never carries bytes from any file other than the image itself.
 */
export interface RejectionEvidence {
  readonly offset?: number;
  readonly bytes?: string;
  readonly value?: string;
}

/**
 * Why an upload is refused. `code` is stable; `message` is one line a vendor can act on.
 * Thrown for every hostile or malformed input, so callers can map it to a permanent failure
 * (never retried) and anything else to an infrastructure error.
 */
export class ImageRejectedError extends Error {
  override readonly name = 'ImageRejectedError';
  constructor(
    readonly code: RejectionCode,
    message: string,
    readonly evidence?: RejectionEvidence,
  ) {
    super(message);
  }
}

/** True when `e` is an {@link ImageRejectedError} (optionally with the given code). */
export function isImageRejected(e: unknown, code?: RejectionCode): e is ImageRejectedError {
  return e instanceof ImageRejectedError && (code === undefined || e.code === code);
}

/** Lowercase hex of at most `max` bytes, for evidence. */
export function hexOf(bytes: Uint8Array, max = 32): string {
  return Buffer.from(bytes.subarray(0, max)).toString('hex');
}

/**
 * A hostile string made safe for a message or evidence: printable ASCII only (others become
 * `\xNN`), cut at `max` characters.
 */
export function sanitize(text: Uint8Array | string, max = 128): string {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let out = '';
  for (const b of bytes) {
    if (out.length >= max) return `${out}…`;
    out += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}
