/**
 * A cautious qcow2 reader: validates the header (v2/v3 only; no backing file, no external data
 * file, no unknown incompatible features; sane, bounded tables) and exposes the guest view as a
 * {@link ByteSource} that reads only the metadata and clusters a request actually touches.
 * Follows the qcow2 spec in qemu/docs/interop/qcow2.txt; stricter where the spec is permissive.
 */
import { constants as zc, inflateRawSync } from 'node:zlib';
import type { ByteSource } from '../byte-source.js';
import { hexOf, ImageRejectedError, sanitize, type RejectionCode } from './container.errors.js';
import { checkVirtualSize, type ContainerPolicy } from './virtual-size.policy.js';

/** Smallest and largest cluster_bits qemu accepts (512 B .. 2 MiB). */
export const QCOW2_MIN_CLUSTER_BITS = 9;
/** @see QCOW2_MIN_CLUSTER_BITS */
export const QCOW2_MAX_CLUSTER_BITS = 21;
/** Largest active L1 table, as in qemu (QCOW_MAX_L1_SIZE = 32 MiB). */
export const QCOW2_MAX_L1_BYTES = 32 * 1024 * 1024;
/** Largest refcount table, as in qemu (QCOW_MAX_REFTABLE_SIZE = 8 MiB). */
export const QCOW2_MAX_REFTABLE_BYTES = 8 * 1024 * 1024;
/** Most internal snapshots, as in qemu (QCOW_MAX_SNAPSHOTS). */
export const QCOW2_MAX_SNAPSHOTS = 65536;
/** How much of the header cluster the extension walk may read. */
export const QCOW2_MAX_HEADER_AREA = 64 * 1024;

const MAGIC = 0x514649fb;
const V2_HEADER_LENGTH = 72;
const V3_MIN_HEADER_LENGTH = 104;

const INCOMPAT = { dirty: 0, corrupt: 1, external_data_file: 2, compression_type: 3, extended_l2: 4 } as const;
const COMPAT = { lazy_refcounts: 0 } as const;
const AUTOCLEAR = { bitmaps: 0, raw_external_data: 1 } as const;

const EXT_NAMES: Record<number, string> = {
  0xe2792aca: 'backing_file_format',
  0x6803f857: 'feature_name_table',
  0x23852875: 'bitmaps',
  0x0537be77: 'full_disk_encryption',
  0x44415441: 'external_data_file',
};
const EXT_DATA_FILE = 0x44415441;

/** A header extension found in the header cluster. */
export interface Qcow2Extension {
  /** Extension type, e.g. 0x6803f857. */
  readonly type: number;
  /** Known name, or `unknown`. */
  readonly name: string;
  /** File offset of the extension's type field. */
  readonly offset: number;
  readonly length: number;
}

/** The validated qcow2 header. Offsets are file offsets (safe integers). */
export interface Qcow2Header {
  readonly version: 2 | 3;
  readonly clusterBits: number;
  readonly clusterSize: number;
  readonly virtualSize: number;
  readonly l1Size: number;
  readonly l1TableOffset: number;
  readonly refcountTableOffset: number;
  readonly refcountTableClusters: number;
  readonly snapshotCount: number;
  readonly snapshotsOffset: number;
  readonly incompatibleFeatures: bigint;
  readonly compatibleFeatures: bigint;
  readonly autoclearFeatures: bigint;
  readonly refcountOrder: number;
  readonly headerLength: number;
  /** Always `zlib`: anything else is refused. */
  readonly compressionType: 'zlib';
  readonly extensions: readonly Qcow2Extension[];
}

/** What reading the guest view has met so far (per read call, each cluster counted once). */
export interface Qcow2ClusterStats {
  normal: number;
  compressed: number;
  zero: number;
  unallocated: number;
  /** Guest and host offsets of the first compressed cluster met. */
  firstCompressed?: { guestOffset: number; hostOffset: number };
  /** Guest offset of the first cluster met with the v3 "reads as zeros" flag. */
  firstZero?: { guestOffset: number };
}

const reject = (code: RejectionCode, message: string, offset?: number, bytes?: Uint8Array, value?: string): never => {
  throw new ImageRejectedError(code, message, {
    ...(offset !== undefined ? { offset } : {}),
    ...(bytes ? { bytes: hexOf(bytes) } : {}),
    ...(value !== undefined ? { value } : {}),
  });
};

const corrupt = (message: string, offset?: number, bytes?: Uint8Array): never =>
  reject('corrupt_qcow2', `qcow2 is corrupt: ${message}`, offset, bytes);

function featureNames(bits: bigint, table: Record<string, number>): string[] {
  const names: string[] = [];
  for (let b = 0; b < 64; b++) {
    if (!(bits & (1n << BigInt(b)))) continue;
    names.push(Object.keys(table).find((k) => table[k] === b) ?? `bit${b}`);
  }
  return names;
}

/** Feature names set in a header, e.g. `["lazy_refcounts"]`, for facts. */
export function qcow2FeatureNames(h: Qcow2Header): { incompatible: string[]; compatible: string[]; autoclear: string[] } {
  return {
    incompatible: featureNames(h.incompatibleFeatures, INCOMPAT),
    compatible: featureNames(h.compatibleFeatures, COMPAT),
    autoclear: featureNames(h.autoclearFeatures, AUTOCLEAR),
  };
}

const u64 = (v: DataView, o: number): bigint => v.getBigUint64(o);
const isAligned = (offset: number, clusterSize: number) => offset % clusterSize === 0;
const safe = (b: bigint): number | undefined => (b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : undefined);

/**
 * Validates a qcow2 header from `head` (the file's first bytes: at least the header cluster or
 * 64 KiB, whichever is smaller, or the whole file) against safety rules and `policy`.
 * Pure and synchronous; throws {@link ImageRejectedError} with a precise code.
 */
export function parseQcow2Header(head: Uint8Array, fileSize: number, policy: ContainerPolicy): Qcow2Header {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (head.length < 8) reject('truncated', `qcow2 header is truncated (${fileSize} bytes)`, 0);
  if (view.getUint32(0) !== MAGIC) reject('corrupt_qcow2', 'qcow2 magic missing', 0, head.subarray(0, 4));

  const rawVersion = view.getUint32(4);
  if (rawVersion !== 2 && rawVersion !== 3) {
    reject('unsafe_qcow2', `qcow2 version ${rawVersion} is not accepted (only versions 2 and 3)`, 4, head.subarray(4, 8), String(rawVersion));
  }
  const version = rawVersion as 2 | 3;
  const minLength = version === 2 ? V2_HEADER_LENGTH : V3_MIN_HEADER_LENGTH;
  if (fileSize < minLength || head.length < minLength) {
    reject('truncated', `qcow2 header is truncated: the file has ${fileSize} bytes, a v${version} header needs ${minLength}`, 0);
  }

  // Safety first (these decide whether QEMU would open another file).
  const backingFileOffset = u64(view, 8);
  if (backingFileOffset !== 0n) {
    const size = view.getUint32(16);
    const at = safe(backingFileOffset);
    const name = at !== undefined && size > 0 && size <= 1023 && at + size <= head.length ? sanitize(head.subarray(at, at + size)) : undefined;
    reject('backing_file', 'qcow2 images with a backing file are not accepted; flatten it first (qemu-img convert -O qcow2)', 8, head.subarray(8, 16), name);
  }
  const incompatible = version === 3 ? u64(view, 72) : 0n;
  if (incompatible & (1n << 2n)) {
    reject('data_file', 'qcow2 images with an external data file are not accepted', 72, head.subarray(72, 80));
  }
  const headerLength = version === 3 ? view.getUint32(100) : V2_HEADER_LENGTH;
  if (incompatible >> 4n !== 0n) {
    reject('unknown_features', `qcow2 has incompatible features this inspector does not accept (0x${incompatible.toString(16)}; extended L2 and unknown bits are refused)`, 72, head.subarray(72, 80));
  }
  let compressionByte = 0;
  if (version === 3 && headerLength > V3_MIN_HEADER_LENGTH && head.length > V3_MIN_HEADER_LENGTH) compressionByte = view.getUint8(104);
  if (incompatible & (1n << 3n)) {
    if (headerLength <= V3_MIN_HEADER_LENGTH) corrupt('compression type bit set but the header has no compression type field', 72);
    if (compressionByte !== 0) {
      reject('unknown_features', `qcow2 compression type ${compressionByte} is not accepted (zlib only)`, 104, head.subarray(104, 105), String(compressionByte));
    }
  } else if (compressionByte !== 0) {
    corrupt('compression type set without its incompatible-feature bit', 104, head.subarray(104, 105));
  }
  if (incompatible & 0b11n) {
    const which = incompatible & 1n ? 'dirty (not cleanly closed)' : 'corrupt';
    reject('unsafe_qcow2', `qcow2 image is marked ${which}; repair it with qemu-img check -r all first`, 72, head.subarray(72, 80));
  }
  if (view.getUint32(32) !== 0) {
    reject('unsafe_qcow2', 'encrypted qcow2 images are not accepted', 32, head.subarray(32, 36));
  }

  // Structure.
  const clusterBits = view.getUint32(20);
  if (clusterBits < QCOW2_MIN_CLUSTER_BITS || clusterBits > QCOW2_MAX_CLUSTER_BITS) {
    corrupt(`cluster_bits ${clusterBits} is outside 9..21`, 20, head.subarray(20, 24));
  }
  const clusterSize = 2 ** clusterBits;
  if (version === 3 && (headerLength < V3_MIN_HEADER_LENGTH || headerLength % 8 !== 0 || headerLength > clusterSize)) {
    corrupt(`header length ${headerLength} is invalid`, 100, head.subarray(100, 104));
  }
  if (fileSize < headerLength) reject('truncated', `qcow2 header is truncated: ${fileSize} bytes, header length ${headerLength}`, 100);
  const refcountOrder = version === 3 ? view.getUint32(96) : 4;
  if (refcountOrder > 6) corrupt(`refcount order ${refcountOrder} is over 6`, 96, head.subarray(96, 100));

  const virtualSize = checkVirtualSize(u64(view, 24), policy, { offset: 24, bytes: hexOf(head.subarray(24, 32)) });

  // L1: big enough for the disk, no bigger than qemu allows, inside the file, aligned.
  const l1Size = view.getUint32(36);
  if (l1Size * 8 > QCOW2_MAX_L1_BYTES) {
    reject('limits_exceeded', `qcow2 L1 table of ${l1Size} entries is over the limit (${QCOW2_MAX_L1_BYTES / 8})`, 36, head.subarray(36, 40));
  }
  const bytesPerL2 = clusterSize * (clusterSize / 8);
  const l1Needed = Math.ceil(virtualSize / bytesPerL2);
  if (l1Size < l1Needed) corrupt(`L1 table has ${l1Size} entries but the virtual size needs ${l1Needed}`, 36, head.subarray(36, 40));
  const l1TableOffset = safe(u64(view, 40)) ?? corrupt('L1 table offset is out of range', 40, head.subarray(40, 48));
  if (l1Size > 0 && (l1TableOffset === 0 || !isAligned(l1TableOffset, clusterSize) || l1TableOffset + l1Size * 8 > fileSize)) {
    corrupt(`L1 table offset 0x${l1TableOffset.toString(16)} is not a cluster-aligned table inside the file`, 40, head.subarray(40, 48));
  }

  // Refcount table: never read here, but it must be plausible.
  const refcountTableOffset = safe(u64(view, 48)) ?? corrupt('refcount table offset is out of range', 48, head.subarray(48, 56));
  const refcountTableClusters = view.getUint32(56);
  if (refcountTableClusters * clusterSize > QCOW2_MAX_REFTABLE_BYTES) {
    reject('limits_exceeded', `qcow2 refcount table of ${refcountTableClusters} clusters is over the limit`, 56, head.subarray(56, 60));
  }
  if (refcountTableOffset === 0 || !isAligned(refcountTableOffset, clusterSize) || refcountTableOffset + refcountTableClusters * clusterSize > fileSize) {
    corrupt(`refcount table offset 0x${refcountTableOffset.toString(16)} is not a cluster-aligned table inside the file`, 48, head.subarray(48, 56));
  }

  const snapshotCount = view.getUint32(60);
  if (snapshotCount > QCOW2_MAX_SNAPSHOTS) reject('limits_exceeded', `qcow2 has ${snapshotCount} snapshots, over the limit`, 60, head.subarray(60, 64));
  const snapshotsOffset = safe(u64(view, 64)) ?? corrupt('snapshot table offset is out of range', 64, head.subarray(64, 72));
  if (snapshotCount > 0 && (snapshotsOffset === 0 || !isAligned(snapshotsOffset, clusterSize) || snapshotsOffset >= fileSize)) {
    corrupt(`snapshot table offset 0x${snapshotsOffset.toString(16)} is not cluster-aligned inside the file`, 64, head.subarray(64, 72));
  }

  const extensions = walkExtensions(head, headerLength, Math.min(clusterSize, fileSize));
  return {
    version,
    clusterBits,
    clusterSize,
    virtualSize,
    l1Size,
    l1TableOffset,
    refcountTableOffset,
    refcountTableClusters,
    snapshotCount,
    snapshotsOffset,
    incompatibleFeatures: incompatible,
    compatibleFeatures: version === 3 ? u64(view, 80) : 0n,
    autoclearFeatures: version === 3 ? u64(view, 88) : 0n,
    refcountOrder,
    headerLength,
    compressionType: 'zlib',
    extensions,
  };
}

/** Header extensions: type, length, data padded to 8, until type 0 or the end of the header cluster. */
function walkExtensions(head: Uint8Array, start: number, end: number): Qcow2Extension[] {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const out: Qcow2Extension[] = [];
  let off = start;
  while (off + 8 <= end) {
    if (off + 8 > head.length) reject('limits_exceeded', 'qcow2 header extensions extend past the inspected area', off);
    const type = view.getUint32(off);
    if (type === 0) break;
    const length = view.getUint32(off + 4);
    const next = off + 8 + Math.ceil(length / 8) * 8;
    if (next > end) corrupt(`header extension 0x${type.toString(16)} runs past the header cluster`, off, head.subarray(off, off + 8));
    if (type === EXT_DATA_FILE) {
      const name = next <= head.length ? sanitize(head.subarray(off + 8, off + 8 + Math.min(length, 1023))) : undefined;
      reject('data_file', 'qcow2 images with an external data file are not accepted', off, head.subarray(off, off + 8), name);
    }
    out.push({ type, name: EXT_NAMES[type] ?? 'unknown', offset: off, length });
    if (out.length > 256) reject('limits_exceeded', 'qcow2 has too many header extensions', off);
    off = next;
  }
  return out;
}

/** Largest single guest read (a caller asking for more is refused, not allocated). */
export const QCOW2_MAX_GUEST_READ = 64 * 1024 * 1024;
const SLICE_BYTES = 4096;
const L1_CACHE_SLICES = 16;
const L2_CACHE_SLICES = 64;
const COMPRESSED_CACHE = 4;

/** LRU over a Map (insertion order = recency). */
class Lru<K, V> {
  readonly #map = new Map<K, V>();
  constructor(private readonly capacity: number) {}
  get(k: K): V | undefined {
    const v = this.#map.get(k);
    if (v !== undefined) {
      this.#map.delete(k);
      this.#map.set(k, v);
    }
    return v;
  }
  set(k: K, v: V): void {
    this.#map.delete(k);
    this.#map.set(k, v);
    if (this.#map.size > this.capacity) this.#map.delete(this.#map.keys().next().value as K);
  }
}

type Cluster =
  | { kind: 'unallocated' | 'zero' }
  | { kind: 'normal'; hostOffset: number }
  | { kind: 'compressed'; hostOffset: number; compressedSize: number };

/**
 * The guest-visible disk of a validated qcow2 file. Walks L1 → L2 per request (caching 4 KiB
 * slices of both), so a 16 GiB disk costs only the clusters a caller touches. Unallocated and
 * zero clusters read as zeros; compressed clusters are inflated to exactly one cluster.
 */
export class Qcow2ByteSource implements ByteSource {
  /** Virtual disk size. */
  readonly size: number;
  /** Clusters met so far (live). */
  readonly stats: Qcow2ClusterStats = { normal: 0, compressed: 0, zero: 0, unallocated: 0 };
  readonly #l1 = new Lru<number, DataView>(L1_CACHE_SLICES);
  readonly #l2 = new Lru<number, DataView>(L2_CACHE_SLICES);
  readonly #inflated = new Lru<number, Uint8Array>(COMPRESSED_CACHE);
  readonly #cs: number;
  readonly #l2Entries: number;

  /**
   * @param file the container file (every read goes through it, so `bytesRead` is the file's)
   * @param header a header returned by {@link parseQcow2Header} for this file
   */
  constructor(
    private readonly file: ByteSource,
    readonly header: Qcow2Header,
  ) {
    this.size = header.virtualSize;
    this.#cs = header.clusterSize;
    this.#l2Entries = header.clusterSize / 8;
  }

  /** Bytes read from the container file so far (metadata + data). */
  get bytesRead(): number {
    return this.file.bytesRead;
  }

  /**
   * Reads guest bytes; short at the end of the virtual disk.
   * @throws ImageRejectedError `corrupt_qcow2` when a table or cluster it touches is invalid.
   */
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`bad read offset ${offset}`);
    if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`bad read length ${length}`);
    if (length > QCOW2_MAX_GUEST_READ) {
      throw new ImageRejectedError('limits_exceeded', `a single read of ${length} bytes is over the inspection limit`);
    }
    const end = Math.min(this.size, offset + length);
    const out = new Uint8Array(Math.max(0, end - offset));
    const cs = this.#cs;
    let pos = offset;
    while (pos < end) {
      const guestCluster = Math.floor(pos / cs);
      const within = pos - guestCluster * cs;
      const n = Math.min(cs - within, end - pos);
      const dst = pos - offset;
      const c = await this.#lookup(guestCluster);
      this.#count(c, guestCluster * cs);
      if (c.kind === 'normal') {
        out.set(await this.file.read(c.hostOffset + within, n), dst); // short at EOF: the rest stays zero
      } else if (c.kind === 'compressed') {
        out.set((await this.#inflate(c)).subarray(within, within + n), dst);
      }
      pos += n;
    }
    return out;
  }

  #count(c: Cluster, guestOffset: number): void {
    const s = this.stats;
    s[c.kind]++;
    if (c.kind === 'compressed' && !s.firstCompressed) s.firstCompressed = { guestOffset, hostOffset: c.hostOffset };
    if (c.kind === 'zero' && !s.firstZero) s.firstZero = { guestOffset };
  }

  /** Reads one 4 KiB (or smaller) slice of a table, cached; bytes past EOF read as zero. */
  async #slice(cache: Lru<number, DataView>, tableOffset: number, tableBytes: number, entry: number): Promise<{ view: DataView; index: number }> {
    const perSlice = Math.min(SLICE_BYTES, tableBytes) / 8;
    const sliceNo = Math.floor(entry / perSlice);
    const at = tableOffset + sliceNo * perSlice * 8;
    let view = cache.get(at);
    if (!view) {
      const want = Math.min(perSlice * 8, tableBytes - sliceNo * perSlice * 8);
      const buf = new Uint8Array(want);
      buf.set(await this.file.read(at, want));
      view = new DataView(buf.buffer);
      cache.set(at, view);
    }
    return { view, index: (entry - sliceNo * perSlice) * 8 };
  }

  async #lookup(guestCluster: number): Promise<Cluster> {
    const h = this.header;
    const cs = this.#cs;
    const l1Index = Math.floor(guestCluster / this.#l2Entries);
    const l2Index = guestCluster - l1Index * this.#l2Entries;
    if (l1Index >= h.l1Size) corrupt(`L1 index ${l1Index} is past the L1 table`);
    const l1At = h.l1TableOffset + l1Index * 8;
    const l1 = await this.#slice(this.#l1, h.l1TableOffset, h.l1Size * 8, l1Index);
    const l1Hi = l1.view.getUint32(l1.index);
    const l1Lo = l1.view.getUint32(l1.index + 4);
    if ((l1Lo & 0x1ff) !== 0 || (l1Hi & 0x7f000000) !== 0) corrupt('reserved bits set in an L1 entry', l1At, entryBytes(l1Hi, l1Lo));
    const l2Offset = (l1Hi & 0x00ffffff) * 2 ** 32 + l1Lo;
    if (l2Offset === 0) return { kind: 'unallocated' };
    if (!isAligned(l2Offset, cs) || l2Offset >= this.file.size) {
      corrupt(`L2 table offset 0x${l2Offset.toString(16)} is unaligned or past the end of the file`, l1At, entryBytes(l1Hi, l1Lo));
    }
    const l2 = await this.#slice(this.#l2, l2Offset, cs, l2Index);
    const hi = l2.view.getUint32(l2.index);
    const lo = l2.view.getUint32(l2.index + 4);
    const l2At = l2Offset + l2Index * 8;
    if (hi & 0x40000000) return this.#compressed(hi, lo, l2At);
    if ((lo & 0x1fe) !== 0 || (hi & 0x3f000000) !== 0) corrupt('reserved bits set in an L2 entry', l2At, entryBytes(hi, lo));
    const hostOffset = (hi & 0x00ffffff) * 2 ** 32 + ((lo & ~0x1ff) >>> 0);
    if (lo & 1) {
      if (h.version === 2) corrupt('zero-cluster flag in a version 2 image', l2At, entryBytes(hi, lo));
      if (hostOffset !== 0 && !isAligned(hostOffset, cs)) corrupt(`cluster offset 0x${hostOffset.toString(16)} is unaligned`, l2At, entryBytes(hi, lo));
      return { kind: 'zero' };
    }
    if (hostOffset === 0) return { kind: 'unallocated' };
    if (!isAligned(hostOffset, cs) || hostOffset >= this.file.size) {
      corrupt(`data cluster offset 0x${hostOffset.toString(16)} is unaligned or past the end of the file`, l2At, entryBytes(hi, lo));
    }
    return { kind: 'normal', hostOffset };
  }

  #compressed(hi: number, lo: number, l2At: number): Cluster {
    // Bits 0..x-1: host offset; bits x..61: additional 512-byte sectors (x = 62 - (cluster_bits - 8)).
    const entry = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    const x = BigInt(62 - (this.header.clusterBits - 8));
    const hostOffset = Number(entry & ((1n << x) - 1n));
    const sectors = Number((entry >> x) & ((1n << BigInt(this.header.clusterBits - 8)) - 1n));
    if (hostOffset === 0 || hostOffset >= this.file.size) {
      corrupt(`compressed cluster offset 0x${hostOffset.toString(16)} is outside the file`, l2At, entryBytes(hi, lo));
    }
    return { kind: 'compressed', hostOffset, compressedSize: (sectors + 1) * 512 - (hostOffset % 512) };
  }

  async #inflate(c: Extract<Cluster, { kind: 'compressed' }>): Promise<Uint8Array> {
    const cached = this.#inflated.get(c.hostOffset);
    if (cached) return cached;
    const input = await this.file.read(c.hostOffset, c.compressedSize);
    let out: Uint8Array;
    try {
      // Like qemu: the stream must yield exactly one cluster; trailing sector padding is ignored.
      out = inflateRawSync(input, { maxOutputLength: this.#cs, finishFlush: zc.Z_SYNC_FLUSH });
    } catch {
      return corrupt(`compressed cluster at 0x${c.hostOffset.toString(16)} does not inflate to one cluster`, c.hostOffset);
    }
    if (out.length !== this.#cs) corrupt(`compressed cluster at 0x${c.hostOffset.toString(16)} inflates to ${out.length} bytes, not ${this.#cs}`, c.hostOffset);
    this.#inflated.set(c.hostOffset, out);
    return out;
  }
}

function entryBytes(hi: number, lo: number): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint32(0, hi >>> 0);
  v.setUint32(4, lo >>> 0);
  return b;
}
