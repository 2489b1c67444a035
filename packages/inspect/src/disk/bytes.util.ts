import type { ByteSource } from '../byte-source.js';
import { DiskInspectionError } from './disk.errors.js';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, reflected, as used by GPT and zlib) of `data`. */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Reads exactly `length` bytes at `offset`, zero-filling anything past the end of the source,
 * so parsers never index outside their buffer. Offsets must be safe non-negative integers.
 */
export async function readAt(src: ByteSource, offset: number, length: number): Promise<Uint8Array> {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`bad read ${offset}+${length}`);
  }
  if (length === 0) return new Uint8Array(0);
  const avail = Math.max(0, Math.min(length, src.size - offset));
  const got = avail > 0 ? await src.read(offset, avail) : new Uint8Array(0);
  if (got.length === length) return got;
  const out = new Uint8Array(length);
  out.set(got.subarray(0, Math.min(got.length, length)));
  return out;
}

/**
 * Wraps a source with a cap on the bytes requested through it, so one inspection can never
 * read more than `budget` bytes however the structures point.
 */
export class BudgetedSource implements ByteSource {
  private requested = 0;
  constructor(
    private readonly inner: ByteSource,
    private readonly budget: number,
  ) {}
  get size(): number {
    return this.inner.size;
  }
  get bytesRead(): number {
    return this.inner.bytesRead;
  }
  /** Bytes requested through this wrapper so far. */
  get bytesRequested(): number {
    return this.requested;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    this.requested += length;
    if (this.requested > this.budget) {
      throw new DiskInspectionError('read_budget', `inspection read budget of ${this.budget} bytes exhausted`);
    }
    return this.inner.read(offset, length);
  }
}

/** Little-endian view helpers over a byte array (bounds are the caller's duty). */
export function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Reads a u64 LE as a number; values above 2^53 become `Infinity` so range checks fail safely. */
export function u64(v: DataView, off: number): number {
  const x = v.getBigUint64(off, true);
  return x > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(x);
}

/** Lowercase hex of at most 64 bytes (evidence stays short). */
export function hex(b: Uint8Array, max = 64): string {
  let s = '';
  const n = Math.min(b.length, max);
  for (let i = 0; i < n; i++) s += b[i]!.toString(16).padStart(2, '0');
  return s;
}

/** `0x`-prefixed uppercase hex of a number, padded to `width` digits. */
export function hexNum(n: number, width = 0): string {
  return `0x${n.toString(16).toUpperCase().padStart(width, '0')}`;
}

/** Formats a 16-byte on-disk (mixed-endian) GUID as the canonical uppercase string. */
export function formatGuid(b: Uint8Array): string {
  const h = (i: number) => b[i]!.toString(16).padStart(2, '0');
  const s =
    h(3) + h(2) + h(1) + h(0) + '-' + h(5) + h(4) + '-' + h(7) + h(6) + '-' + h(8) + h(9) + '-' +
    h(10) + h(11) + h(12) + h(13) + h(14) + h(15);
  return s.toUpperCase();
}

/**
 * Makes a name or line taken from the image safe to show: control characters, backslash,
 * slash, DEL, C1 controls, lone surrogates and format characters become `\xNN` / `\u{N}`.
 * The result is for reports only; guest names are never used as host paths.
 */
export function escapeText(s: string, maxLen = 300, keepSlashes = false): string {
  let out = '';
  let count = 0;
  for (const ch of s) {
    if (count++ >= maxLen) {
      out += '…';
      break;
    }
    const cp = ch.codePointAt(0)!;
    if (cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp < 0xa0) || (!keepSlashes && (ch === '\\' || ch === '/'))) {
      out += `\\x${cp.toString(16).padStart(2, '0')}`;
    } else if ((cp >= 0xd800 && cp <= 0xdfff) || cp === 0xfeff || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) {
      out += `\\u{${cp.toString(16)}}`;
    } else {
      out += ch;
    }
  }
  return out;
}

/** Escapes a line of text from the image for evidence: like {@link escapeText} but keeps `/` and `\`. */
export function escapeLine(s: string, maxLen = 200): string {
  return escapeText(s, maxLen, true);
}
