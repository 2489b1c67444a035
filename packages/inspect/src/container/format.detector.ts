/**
 * Format detection by content, never by the declared format (CVE-2024-40767). Every detector
 * runs on the same leading bytes (and the last sector, for the VHD footer); the rules follow
 * OpenStack's format_inspector: no specific match is raw, more than one specific match is
 * refused, and only raw and qcow2 are allowed.
 */
import type { ByteSource } from '../byte-source.js';
import { hexOf, ImageRejectedError, sanitize } from './container.errors.js';

/** Formats the detector recognises. Only `raw` and `qcow2` are ever accepted. */
export type DetectedFormat = 'raw' | 'qcow2' | 'qed' | 'vmdk' | 'vhd' | 'vhdx' | 'vdi' | 'iso' | 'luks';

/** The formats Bootfarm accepts. */
export type AllowedFormat = 'raw' | 'qcow2';

/** Leading bytes read for detection: covers the ISO 9660 volume descriptor at 0x8001. */
export const DETECT_HEAD_BYTES = 64 * 1024;

/** One specific format whose signature was found, with where. */
export interface FormatMatch {
  readonly format: Exclude<DetectedFormat, 'raw'>;
  /** Offset of the signature in the file. */
  readonly offset: number;
  /** The signature bytes, lowercase hex. */
  readonly bytes: string;
  /** A sanitised detail, e.g. a VMDK createType. */
  readonly detail?: string;
}

/** Signs of a raw partitioned disk (not a format of its own: raw is the fallback). */
export interface DiskSignature {
  /** 55 AA at byte 510. */
  readonly mbrBootSignature: boolean;
  /** Byte offset of an "EFI PART" header (512 or 4096), if any. */
  readonly gptHeaderOffset?: 512 | 4096;
}

/** Result of {@link detectFormat}. */
export interface FormatDetection {
  /** The single specific match, or `raw` when there is none. */
  readonly format: DetectedFormat;
  /** Every specific match (more than one means a polyglot). */
  readonly matches: readonly FormatMatch[];
  readonly diskSignature: DiskSignature;
}

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

function at(buf: Uint8Array, offset: number, sig: Uint8Array): boolean {
  if (offset < 0 || offset + sig.length > buf.length) return false;
  for (let i = 0; i < sig.length; i++) if (buf[offset + i] !== sig[i]) return false;
  return true;
}

const SIG = {
  qcow2: Uint8Array.of(0x51, 0x46, 0x49, 0xfb),
  qed: Uint8Array.of(0x51, 0x45, 0x44, 0x00),
  vmdkSparse: ascii('KDMV'),
  vmdkCowd: ascii('COWD'),
  vmdkText: ascii('# Disk DescriptorFile'),
  vhd: ascii('conectix'),
  vhdx: ascii('vhdxfile'),
  vdi: Uint8Array.of(0x7f, 0x10, 0xda, 0xbe), // 0xbeda107f little-endian at 0x40
  iso: ascii('CD001'),
  luks: Uint8Array.of(0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe),
  gpt: ascii('EFI PART'),
} as const;

/**
 * Runs every detector on `head` (the file's first bytes, at least {@link DETECT_HEAD_BYTES} or
 * the whole file) and `tail` (the file's last 512 bytes, or fewer for a tiny file). Pure.
 */
export function detectFromBytes(head: Uint8Array, tail: Uint8Array, fileSize: number): FormatDetection {
  const matches: FormatMatch[] = [];
  // `fileOffset` is where the signature sits in the file; `buf`/`bufOffset` where we saw it.
  const hit = (format: FormatMatch['format'], fileOffset: number, sig: Uint8Array, buf = head, bufOffset = fileOffset, detail?: string) =>
    matches.push({ format, offset: fileOffset, bytes: hexOf(buf.subarray(bufOffset, bufOffset + sig.length)), ...(detail ? { detail } : {}) });

  if (at(head, 0, SIG.qcow2)) hit('qcow2', 0, SIG.qcow2);
  if (at(head, 0, SIG.qed)) hit('qed', 0, SIG.qed);
  if (at(head, 0, SIG.vmdkSparse)) hit('vmdk', 0, SIG.vmdkSparse, head, 0, 'sparse');
  else if (at(head, 0, SIG.vmdkCowd)) hit('vmdk', 0, SIG.vmdkCowd, head, 0, 'COWD');
  else {
    const lead = leadingSpace(head);
    if (at(head, lead, SIG.vmdkText)) hit('vmdk', lead, SIG.vmdkText, head, lead, vmdkCreateType(head));
  }
  if (at(head, 0, SIG.vhd)) hit('vhd', 0, SIG.vhd);
  else {
    // Fixed VHDs carry only the footer, in the last 512 (old tools: 511) bytes.
    for (const back of [512, 511]) {
      const off = tail.length - back;
      if (off >= 0 && at(tail, off, SIG.vhd)) {
        hit('vhd', fileSize - back, SIG.vhd, tail, off);
        break;
      }
    }
  }
  if (at(head, 0, SIG.vhdx)) hit('vhdx', 0, SIG.vhdx);
  if (at(head, 0x40, SIG.vdi)) hit('vdi', 0x40, SIG.vdi);
  if (at(head, 0x8001, SIG.iso)) hit('iso', 0x8001, SIG.iso);
  if (at(head, 0, SIG.luks)) hit('luks', 0, SIG.luks);

  const gptHeaderOffset = at(head, 512, SIG.gpt) ? 512 : at(head, 4096, SIG.gpt) ? 4096 : undefined;
  const diskSignature: DiskSignature = {
    mbrBootSignature: head.length >= 512 && head[510] === 0x55 && head[511] === 0xaa,
    ...(gptHeaderOffset !== undefined ? { gptHeaderOffset } : {}),
  };
  return { format: matches.length === 1 ? matches[0]!.format : 'raw', matches, diskSignature };
}

function leadingSpace(head: Uint8Array): number {
  let i = 0;
  while (i < 64 && i < head.length && (head[i] === 0x20 || head[i] === 0x09 || head[i] === 0x0a || head[i] === 0x0d)) i++;
  return i;
}

/** The createType of a VMDK text descriptor (sanitised), from the first 4 KiB only. */
function vmdkCreateType(head: Uint8Array): string | undefined {
  const text = Buffer.from(head.subarray(0, 4096)).toString('latin1');
  const m = /^\s*createType\s*=\s*"?([A-Za-z0-9_]{1,40})"?\s*$/m.exec(text);
  return m?.[1] ? sanitize(m[1], 40) : undefined;
}

/**
 * Reads the leading {@link DETECT_HEAD_BYTES} and the last 512 bytes of `file` and detects its
 * format. Reads at most 64 KiB + 512 bytes.
 */
export async function detectFormat(file: ByteSource): Promise<FormatDetection> {
  const head = await file.read(0, Math.min(file.size, DETECT_HEAD_BYTES));
  const tail = file.size > head.length ? await file.read(Math.max(0, file.size - 512), 512) : head.subarray(Math.max(0, head.length - 512));
  return detectFromBytes(head, tail, file.size);
}

/**
 * Applies the acceptance rules to a detection: a polyglot is `multiple_formats`; a recognised
 * but unsupported format is `format_not_allowed`; a format other than the declared one is
 * `format_mismatch`. Returns the (allowed, matching) format.
 */
export function checkDetectedFormat(declared: AllowedFormat, detection: FormatDetection): AllowedFormat {
  const { matches } = detection;
  if (matches.length > 1) {
    const names = matches.map((m) => `${m.format}@${m.offset}`).join(', ');
    throw new ImageRejectedError('multiple_formats', `the image matches more than one format (${names}); polyglot images are not accepted`, {
      offset: matches[1]!.offset,
      bytes: matches[1]!.bytes,
      value: matches.map((m) => m.format).join('+'),
    });
  }
  const m = matches[0];
  if (m && m.format !== 'qcow2') {
    const detail = m.detail ? ` (${m.detail})` : '';
    throw new ImageRejectedError('format_not_allowed', `the image is ${m.format.toUpperCase()}${detail}; only raw and qcow2 are accepted`, {
      offset: m.offset,
      bytes: m.bytes,
      value: m.format,
    });
  }
  const detected: AllowedFormat = m ? 'qcow2' : 'raw';
  if (detected !== declared) {
    throw new ImageRejectedError('format_mismatch', `declared format ${declared} but the content is ${detected}`, {
      ...(m ? { offset: m.offset, bytes: m.bytes } : {}),
      value: detected,
    });
  }
  return detected;
}
