/**
 * First-look format check of an uploaded image, from its first sector(s) only. It decides
 * whether the bytes can be a disk of the declared format before anything else (qemu-img, QEMU)
 * touches them. The full static inspection (GPT, FAT, PE, qcow2 tables) builds on this.
 */

/** How many leading bytes the sniffer needs. */
export const SNIFF_BYTES = 4096;

const QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"
const QCOW2_INCOMPAT_DATA_FILE = 1n << 2n;
const QCOW2_KNOWN_INCOMPAT = 0b1_1111n; // dirty, corrupt, external data file, compression type, extended L2

/** Why an upload is refused; `code` is stable and shown to the vendor with `message`. */
export class ImageRejectedError extends Error {
  override readonly name = 'ImageRejectedError';
  constructor(
    readonly code: 'empty' | 'not_a_disk' | 'format_mismatch' | 'unsafe_qcow2' | 'truncated',
    message: string,
  ) {
    super(message);
  }
}

/** What the leading bytes say the file is. */
export type SniffedFormat = 'qcow2' | 'raw';

/**
 * Checks the declared format against the content and returns it, or throws ImageRejectedError.
 * Rules: a qcow2 header is qcow2 (never "raw": CVE-2024-40767); raw must carry an MBR boot
 * signature (a GPT disk has a protective MBR); qcow2 must be v2/v3 without a backing file, an
 * external data file, or unknown incompatible features (each can make QEMU read host files).
 */
export function checkDeclaredFormat(declared: 'raw' | 'qcow2', head: Uint8Array, totalBytes: number): SniffedFormat {
  if (totalBytes === 0) throw new ImageRejectedError('empty', 'the upload is empty');
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const isQcow2 = head.byteLength >= 4 && view.getUint32(0) === QCOW2_MAGIC;
  const detected: SniffedFormat | null = isQcow2 ? 'qcow2' : hasBootSignature(head) ? 'raw' : null;
  if (detected === null) {
    throw new ImageRejectedError('not_a_disk', 'not a disk image: no qcow2 header and no MBR/GPT boot signature (55 AA at byte 510)');
  }
  if (detected !== declared) {
    throw new ImageRejectedError('format_mismatch', `declared format ${declared} but the content is ${detected}`);
  }
  if (detected === 'qcow2') checkQcow2Header(view);
  else if (totalBytes % 512 !== 0) throw new ImageRejectedError('truncated', `a raw disk is a whole number of 512-byte sectors; got ${totalBytes} bytes`);
  return detected;
}

function hasBootSignature(head: Uint8Array): boolean {
  return head.byteLength >= 512 && head[510] === 0x55 && head[511] === 0xaa;
}

function checkQcow2Header(view: DataView): void {
  if (view.byteLength < 104) throw new ImageRejectedError('truncated', 'qcow2 header is truncated');
  const version = view.getUint32(4);
  if (version !== 2 && version !== 3) throw new ImageRejectedError('unsafe_qcow2', `qcow2 version ${version} is not accepted (2 or 3 only)`);
  if (view.getBigUint64(8) !== 0n) throw new ImageRejectedError('unsafe_qcow2', 'qcow2 images with a backing file are not accepted');
  if (version === 3) {
    const incompatible = view.getBigUint64(72);
    if (incompatible & QCOW2_INCOMPAT_DATA_FILE) throw new ImageRejectedError('unsafe_qcow2', 'qcow2 images with an external data file are not accepted');
    if (incompatible & ~QCOW2_KNOWN_INCOMPAT) throw new ImageRejectedError('unsafe_qcow2', `qcow2 has unknown incompatible features 0x${incompatible.toString(16)}`);
    if (incompatible & 0b11n) throw new ImageRejectedError('unsafe_qcow2', 'qcow2 image is marked dirty or corrupt');
  }
}
