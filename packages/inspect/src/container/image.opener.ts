/**
 * The container layer's front door: open an uploaded image by path, detect its format by
 * content, apply the safety and size policy, and hand back the guest-visible disk.
 */
import type { ByteSource } from '../byte-source.js';
import { hexOf, ImageRejectedError } from './container.errors.js';
import { FileByteSource } from './file.source.js';
import { checkDetectedFormat, DETECT_HEAD_BYTES, detectFromBytes, type AllowedFormat, type DiskSignature, type FormatDetection } from './format.detector.js';
import { parseQcow2Header, Qcow2ByteSource, qcow2FeatureNames, QCOW2_MAX_HEADER_AREA, type Qcow2ClusterStats, type Qcow2Extension } from './qcow2.reader.js';
import { assertValidPolicy, checkVirtualSize, type ContainerPolicy } from './virtual-size.policy.js';

/** A fact about the container with where it came from. `offset` is a file offset. */
export interface ContainerEvidence {
  /** What this is, e.g. "qcow2 magic", "qcow2 virtual size". */
  readonly what: string;
  readonly offset: number;
  /** The bytes there, lowercase hex (short). */
  readonly bytes?: string;
  /** The decoded value. */
  readonly value?: string;
}

/** qcow2-specific facts. */
export interface Qcow2Facts {
  readonly version: 2 | 3;
  readonly clusterBits: number;
  readonly clusterSize: number;
  readonly headerLength: number;
  readonly refcountOrder: number;
  readonly l1Size: number;
  readonly l1TableOffset: number;
  readonly refcountTableOffset: number;
  readonly snapshotCount: number;
  readonly compressionType: 'zlib';
  /** Feature names set in the header, e.g. `{ compatible: ["lazy_refcounts"] }`. */
  readonly features: { readonly incompatible: readonly string[]; readonly compatible: readonly string[]; readonly autoclear: readonly string[] };
  readonly extensions: readonly Qcow2Extension[];
  /** Cluster kinds met by guest reads so far (a snapshot taken when `facts` is read). */
  readonly clustersSeen: Readonly<Qcow2ClusterStats>;
}

/** What the container layer knows about an accepted image. */
export interface ContainerFacts {
  readonly format: AllowedFormat;
  readonly fileSize: number;
  readonly virtualSize: number;
  /** Partitioned-disk signatures in the file's first sectors (for raw, the guest's own). */
  readonly diskSignature: DiskSignature;
  readonly qcow2?: Qcow2Facts;
  readonly evidence: readonly ContainerEvidence[];
}

/** An accepted image, open for inspection. Call `close()` when done. */
export interface OpenedImage {
  readonly format: AllowedFormat;
  readonly fileSize: number;
  readonly virtualSize: number;
  /** The guest view: the bytes a VM would see on this disk. */
  readonly disk: ByteSource;
  /** Container facts; read again after inspecting to get up-to-date cluster counts. */
  readonly facts: ContainerFacts;
  /** Closes the image file; idempotent. */
  close(): Promise<void>;
}

/** Options for {@link openImage}. */
export interface OpenImageOptions {
  /** The format the uploader declared; it must equal what the content is. */
  readonly declaredFormat: AllowedFormat;
  readonly policy: ContainerPolicy;
  /** Resource caps; the defaults suit inspection (reads of at most 64 MiB each). */
  readonly limits?: {
    /** Total bytes the inspection may read from the file; past it reads fail with `limits_exceeded`. */
    readonly maxBytesRead?: number;
  };
}

/**
 * Opens `path` read-only and returns its guest view, or throws {@link ImageRejectedError}.
 * Opens only `path` (never a backing, data or extent file). Rejections, in order: `empty`;
 * `multiple_formats`, `format_not_allowed`, `format_mismatch` (content vs declared); then for
 * raw `truncated` (not whole sectors), `virtual_size_over_policy`, `not_a_disk` (no MBR/GPT);
 * for qcow2 the header checks of {@link parseQcow2Header}.
 * @throws TypeError for bad options; filesystem errors (ENOENT, EACCES) pass through unchanged.
 */
export async function openImage(path: string, opts: OpenImageOptions): Promise<OpenedImage> {
  assertValidPolicy(opts.policy);
  if (opts.declaredFormat !== 'raw' && opts.declaredFormat !== 'qcow2') throw new TypeError(`declaredFormat must be raw or qcow2`);
  const file = await FileByteSource.open(path, opts.limits?.maxBytesRead !== undefined ? { maxTotalBytesRead: opts.limits.maxBytesRead } : {});
  try {
    if (file.size === 0) throw new ImageRejectedError('empty', 'the image file is empty');
    const head = await file.read(0, Math.min(file.size, Math.max(DETECT_HEAD_BYTES, QCOW2_MAX_HEADER_AREA)));
    const tail = file.size > head.length ? await file.read(file.size - 512, 512) : head.subarray(Math.max(0, head.length - 512));
    const detection = detectFromBytes(head, tail, file.size);
    const format = checkDetectedFormat(opts.declaredFormat, detection);
    return format === 'raw' ? openRaw(file, head, detection, opts.policy) : openQcow2(file, head, detection, opts.policy);
  } catch (e) {
    await file.close();
    throw e;
  }
}

function openRaw(file: FileByteSource, head: Uint8Array, detection: FormatDetection, policy: ContainerPolicy): OpenedImage {
  const size = file.size;
  // What the bytes are comes first (a text file is "not a disk", not "truncated").
  const sig = detection.diskSignature;
  if (!sig.mbrBootSignature && sig.gptHeaderOffset === undefined) {
    throw new ImageRejectedError('not_a_disk', 'not a disk image: no MBR boot signature (55 AA at byte 510) and no GPT header', {
      offset: 510,
      bytes: hexOf(head.subarray(510, 512)),
    });
  }
  if (size % 512 !== 0) {
    throw new ImageRejectedError('truncated', `a raw disk is a whole number of 512-byte sectors; this file has ${size} bytes`, { value: String(size) });
  }
  checkVirtualSize(size, policy);
  const evidence: ContainerEvidence[] = [{ what: 'raw file size', offset: 0, value: String(size) }];
  if (sig.mbrBootSignature) evidence.push({ what: 'MBR boot signature', offset: 510, bytes: '55aa' });
  if (sig.gptHeaderOffset !== undefined) evidence.push({ what: 'GPT header signature', offset: sig.gptHeaderOffset, value: 'EFI PART' });
  const facts: ContainerFacts = { format: 'raw', fileSize: size, virtualSize: size, diskSignature: sig, evidence };
  return { format: 'raw', fileSize: size, virtualSize: size, disk: file, facts, close: () => file.close() };
}

function openQcow2(file: FileByteSource, head: Uint8Array, detection: FormatDetection, policy: ContainerPolicy): OpenedImage {
  const h = parseQcow2Header(head, file.size, policy);
  const disk = new Qcow2ByteSource(file, h);
  const hex = (from: number, to: number) => hexOf(head.subarray(from, to));
  const evidence: ContainerEvidence[] = [
    { what: 'qcow2 magic', offset: 0, bytes: hex(0, 4) },
    { what: 'qcow2 version', offset: 4, bytes: hex(4, 8), value: String(h.version) },
    { what: 'qcow2 cluster bits', offset: 20, bytes: hex(20, 24), value: String(h.clusterBits) },
    { what: 'qcow2 virtual size', offset: 24, bytes: hex(24, 32), value: String(h.virtualSize) },
    { what: 'qcow2 backing file offset', offset: 8, bytes: hex(8, 16), value: 'none' },
  ];
  if (h.version === 3) evidence.push({ what: 'qcow2 incompatible features', offset: 72, bytes: hex(72, 80), value: `0x${h.incompatibleFeatures.toString(16)}` });
  const features = qcow2FeatureNames(h);
  const qcow2 = (): Qcow2Facts => ({
    version: h.version,
    clusterBits: h.clusterBits,
    clusterSize: h.clusterSize,
    headerLength: h.headerLength,
    refcountOrder: h.refcountOrder,
    l1Size: h.l1Size,
    l1TableOffset: h.l1TableOffset,
    refcountTableOffset: h.refcountTableOffset,
    snapshotCount: h.snapshotCount,
    compressionType: h.compressionType,
    features,
    extensions: h.extensions,
    clustersSeen: structuredClone(disk.stats),
  });
  return {
    format: 'qcow2',
    fileSize: file.size,
    virtualSize: h.virtualSize,
    disk,
    get facts(): ContainerFacts {
      return { format: 'qcow2', fileSize: file.size, virtualSize: h.virtualSize, diskSignature: detection.diskSignature, qcow2: qcow2(), evidence };
    },
    close: () => file.close(),
  };
}
