/**
 * Last line of defence before QEMU opens a vendor image: a qcow2 image must not point QEMU at
 * any other host file (a backing file or an external data file). Intake inspection should
 * already have refused such images; this check runs on every boot anyway, because this is the
 * place where QEMU actually opens the file. Raw images are plain bytes to QEMU and need no check.
 */
import { open } from 'node:fs/promises';
import type { ImageFormat } from './boot.types.js';

const QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"
/** Bytes of the qcow2 header this guard reads (version 3 fields up to header_length). */
export const qcow2HeaderBytes = 104;
/** qcow2 incompatible feature bit 2: the guest data lives in an external data file. */
const INCOMPAT_EXTERNAL_DATA_FILE = 1n << 2n;

/** Problems that make a qcow2 header unsafe to hand to QEMU (empty when it is fine). Pure. */
export function qcow2HeaderProblems(header: Uint8Array): string[] {
  const b = Buffer.from(header.buffer, header.byteOffset, header.byteLength);
  if (b.length < 72) return ['the qcow2 header is truncated'];
  if (b.readUInt32BE(0) !== QCOW2_MAGIC) return ['the file is not qcow2 (bad magic)'];
  const problems: string[] = [];
  const version = b.readUInt32BE(4);
  if (version !== 2 && version !== 3) problems.push(`unsupported qcow2 version ${version}`);
  if (b.readBigUInt64BE(8) !== 0n || b.readUInt32BE(16) !== 0) problems.push('the qcow2 image names a backing file');
  if (version === 3) {
    if (b.length < 80) problems.push('the qcow2 v3 header is truncated');
    else if ((b.readBigUInt64BE(72) & INCOMPAT_EXTERNAL_DATA_FILE) !== 0n) problems.push('the qcow2 image uses an external data file');
  }
  return problems;
}

/** Reads the image's header and returns why QEMU must not open it (empty when it may). */
export async function imageHeaderProblems(path: string, format: ImageFormat): Promise<string[]> {
  if (format !== 'qcow2') return [];
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(qcow2HeaderBytes);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return qcow2HeaderProblems(buf.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}
