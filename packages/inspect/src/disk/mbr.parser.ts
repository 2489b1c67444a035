import type { Evidence } from '../finding.js';
import { dv, hex, hexNum } from './bytes.util.js';

/** One of the four primary partition entries of an MBR (only non-empty ones are listed). */
export interface MbrEntry {
  /** 0..3. */
  readonly index: number;
  /** Byte offset of the 16-byte entry in the disk (446 + 16 × index). */
  readonly offset: number;
  readonly bootFlag: number;
  /** Partition type byte (0xEE protective GPT, 0xEF EFI system, ...). */
  readonly type: number;
  /** Starting CHS as the three raw bytes, big-endian packed (0x000200 for a protective MBR). */
  readonly chsStart: number;
  readonly startLba: number;
  readonly sectors: number;
}

/** A deviation from the protective-MBR rules (oslo format_inspector / Linux `is_pmbr_valid`). */
export interface MbrIssue {
  readonly code: 'boot-flag' | 'ee-not-at-lba1' | 'ee-multiple' | 'hybrid' | 'ee-chs';
  readonly message: string;
  readonly evidence: readonly Evidence[];
}

/**
 * What sector 0 is:
 * - `protective`: one 0xEE entry and nothing else (issues may still flag details);
 * - `hybrid`: a 0xEE entry plus other entries;
 * - `mbr-only`: a valid MBR without any 0xEE entry (a legacy disk, not a GPT disk);
 * - `fat-boot-sector`: a FAT volume boot record (a "superfloppy", no partition table);
 * - `none`: no 55AA boot signature.
 */
export type MbrKind = 'protective' | 'hybrid' | 'mbr-only' | 'fat-boot-sector' | 'none';

/** Facts about LBA 0. */
export interface MbrFacts {
  readonly kind: MbrKind;
  /** Bytes 510..511 are `55 AA`. */
  readonly bootSignature: boolean;
  readonly entries: readonly MbrEntry[];
  readonly issues: readonly MbrIssue[];
}

/**
 * Parses a protective MBR from the first 512 bytes of a disk. Never throws: anything odd is a
 * fact (`kind`) or an issue.
 */
export function parseMbr(sector0: Uint8Array): MbrFacts {
  const s = new Uint8Array(512);
  s.set(sector0.subarray(0, 512));
  const v = dv(s);
  const bootSignature = s[510] === 0x55 && s[511] === 0xaa;
  if (!bootSignature) return { kind: 'none', bootSignature, entries: [], issues: [] };
  // A FAT boot record also ends in 55AA: oslo excludes it so it is not mistaken for an MBR.
  const fatLike =
    (s[0] === 0xeb || s[0] === 0xe9) &&
    (ascii(s, 54, 5) === 'FAT12' || ascii(s, 54, 5) === 'FAT16' || ascii(s, 82, 5) === 'FAT32');
  const entries: MbrEntry[] = [];
  const issues: MbrIssue[] = [];
  for (let i = 0; i < 4; i++) {
    const o = 446 + 16 * i;
    const type = s[o + 4]!;
    const startLba = v.getUint32(o + 8, true);
    const sectors = v.getUint32(o + 12, true);
    if (type === 0 && startLba === 0 && sectors === 0) continue;
    const e: MbrEntry = {
      index: i,
      offset: o,
      bootFlag: s[o]!,
      type,
      chsStart: (s[o + 1]! << 16) | (s[o + 2]! << 8) | s[o + 3]!,
      startLba,
      sectors,
    };
    entries.push(e);
  }
  if (fatLike) return { kind: 'fat-boot-sector', bootSignature, entries: [], issues: [] };
  for (const e of entries) {
    if (e.bootFlag !== 0x00 && e.bootFlag !== 0x80) {
      issues.push({
        code: 'boot-flag',
        message: `MBR entry ${e.index} has boot flag ${hexNum(e.bootFlag, 2)} (only 0x00 or 0x80 are valid)`,
        evidence: [{ what: 'MBR boot flag', offset: e.offset, bytes: hex(s.subarray(e.offset, e.offset + 1)), value: hexNum(e.bootFlag, 2), expected: '0x00 or 0x80' }],
      });
    }
  }
  const ee = entries.filter((e) => e.type === 0xee);
  if (ee.length === 0) return { kind: 'mbr-only', bootSignature, entries, issues };
  if (ee.length > 1) {
    issues.push({
      code: 'ee-multiple',
      message: `MBR has ${ee.length} protective (0xEE) entries; a protective MBR has exactly one`,
      evidence: ee.map((e) => entryEvidence(s, e)),
    });
  }
  for (const e of ee) {
    if (e.startLba !== 1) {
      issues.push({
        code: 'ee-not-at-lba1',
        message: `protective (0xEE) entry ${e.index} starts at LBA ${e.startLba}, not LBA 1`,
        evidence: [{ what: 'protective MBR starting LBA', offset: e.offset + 8, bytes: hex(s.subarray(e.offset + 8, e.offset + 12)), value: String(e.startLba), expected: '1' }],
      });
    } else if (e.chsStart !== 0x000200) {
      issues.push({
        code: 'ee-chs',
        message: `protective (0xEE) entry ${e.index} has starting CHS ${hexNum(e.chsStart, 6)}, not 0x000200`,
        evidence: [{ what: 'protective MBR starting CHS', offset: e.offset + 1, bytes: hex(s.subarray(e.offset + 1, e.offset + 4)), expected: '000200' }],
      });
    }
  }
  const others = entries.filter((e) => e.type !== 0xee);
  if (others.length > 0) {
    issues.push({
      code: 'hybrid',
      message: `hybrid MBR: besides the 0xEE entry it lists ${others.length} other partition(s)`,
      evidence: others.map((e) => entryEvidence(s, e)),
    });
  }
  return { kind: others.length > 0 ? 'hybrid' : 'protective', bootSignature, entries, issues };
}

function entryEvidence(s: Uint8Array, e: MbrEntry): Evidence {
  return {
    what: `MBR partition entry ${e.index}`,
    offset: e.offset,
    bytes: hex(s.subarray(e.offset, e.offset + 16)),
    value: `type ${hexNum(e.type, 2)}, start LBA ${e.startLba}, ${e.sectors} sectors`,
  };
}

function ascii(s: Uint8Array, off: number, len: number): string {
  return String.fromCharCode(...s.subarray(off, off + len));
}
