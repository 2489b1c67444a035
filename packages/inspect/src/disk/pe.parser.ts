import type { Evidence } from '../finding.js';
import { DiskInspectionError } from './disk.errors.js';
import { dv, escapeText, hex, hexNum } from './bytes.util.js';

/** Most sections accepted (pefile's MAX_SECTIONS). */
export const MAX_PE_SECTIONS = 0x800;

/** COFF machine values we name. */
export const PE_MACHINES: Readonly<Record<number, string>> = {
  0xaa64: 'arm64',
  0x01c2: 'arm-thumb-mixed',
  0x01c4: 'armnt',
  0x01c0: 'arm',
  0x8664: 'x64',
  0x014c: 'i386',
  0x0200: 'ia64',
  0x5064: 'riscv64',
  0x5032: 'riscv32',
  0x6264: 'loongarch64',
  0xebc: 'ebc',
};

/** PE optional-header subsystems we name. */
export const PE_SUBSYSTEMS: Readonly<Record<number, string>> = {
  10: 'efi-application',
  11: 'efi-boot-service-driver',
  12: 'efi-runtime-driver',
  13: 'efi-rom',
  1: 'native',
  2: 'windows-gui',
  3: 'windows-cui',
};

/** One section header. */
export interface PeSection {
  /** Escaped 8-byte name. */
  readonly name: string;
  readonly virtualSize: number;
  readonly virtualAddress: number;
  readonly sizeOfRawData: number;
  readonly pointerToRawData: number;
}

/** Facts from a PE/COFF header. */
export interface PeFacts {
  readonly peOffset: number;
  readonly machine: number;
  readonly machineName: string;
  readonly numberOfSections: number;
  readonly sizeOfOptionalHeader: number;
  readonly characteristics: number;
  /** 0x10B (PE32) or 0x20B (PE32+). */
  readonly magic: number;
  readonly subsystem: number;
  readonly subsystemName: string;
  readonly addressOfEntryPoint: number;
  readonly sections: readonly PeSection[];
  /** The Authenticode (security) data directory is non-empty. */
  readonly signed: boolean;
  /** Structural oddities that did not stop parsing (sections or certificates past EOF, ...). */
  readonly problems: readonly string[];
}

/**
 * Parses the headers of a PE/COFF image. `head` is the first bytes of the file (at least the headers and
 * section table), `fileSize` the file's full size. Throws `DiskInspectionError` with `pe_truncated`,
 * `pe_signature`, `pe_lfanew`, `pe_sections` or `pe_optional_header`. `where.diskOffset` (the disk offset of
 * the file's first byte, valid for its first `contiguousBytes`) only decorates evidence.
 */
export function parsePe(head: Uint8Array, fileSize: number, where: { diskOffset?: number; contiguousBytes?: number } = {}): PeFacts {
  const { diskOffset, contiguousBytes = 0 } = where;
  const at = (o: number) => (diskOffset !== undefined && o < contiguousBytes ? { offset: diskOffset + o } : {});
  const ev = (what: string, o: number, len: number, value?: string, expected?: string): Evidence => ({
    what, ...at(o), bytes: hex(head.subarray(o, o + len)), ...(value !== undefined ? { value } : {}), ...(expected !== undefined ? { expected } : {}),
  });
  const size = Math.min(head.length, fileSize);
  if (size < 64) throw new DiskInspectionError('pe_truncated', `truncated PE: ${fileSize} bytes, no room for the DOS header`, []);
  const v = dv(head);
  if (head[0] !== 0x4d || head[1] !== 0x5a) throw new DiskInspectionError('pe_signature', 'not a PE image: no "MZ" at offset 0', [ev('DOS signature', 0, 2, undefined, '4d5a')]);
  const lfanew = v.getUint32(0x3c, true);
  if (lfanew < 4) throw new DiskInspectionError('pe_lfanew', `e_lfanew ${lfanew} points into the MZ signature`, [ev('e_lfanew', 0x3c, 4, hexNum(lfanew))]);
  if (lfanew + 24 > fileSize) throw new DiskInspectionError('pe_truncated', `truncated PE: e_lfanew ${hexNum(lfanew)} is past the end of the ${fileSize}-byte file`, [ev('e_lfanew', 0x3c, 4, hexNum(lfanew), `< ${fileSize - 24}`)]);
  if (lfanew + 24 > size) throw new DiskInspectionError('pe_lfanew', `e_lfanew ${hexNum(lfanew)} is beyond the ${size} bytes inspected`, [ev('e_lfanew', 0x3c, 4, hexNum(lfanew))]);
  if (head[lfanew] !== 0x50 || head[lfanew + 1] !== 0x45 || head[lfanew + 2] !== 0 || head[lfanew + 3] !== 0) {
    throw new DiskInspectionError('pe_signature', 'not a PE image: no "PE\\0\\0" at e_lfanew', [ev('PE signature', lfanew, 4, undefined, '50450000')]);
  }
  const coff = lfanew + 4;
  const machine = v.getUint16(coff, true);
  const numberOfSections = v.getUint16(coff + 2, true);
  const sizeOfOptionalHeader = v.getUint16(coff + 16, true);
  const characteristics = v.getUint16(coff + 18, true);
  if (numberOfSections > MAX_PE_SECTIONS) {
    throw new DiskInspectionError('pe_sections', `PE declares ${numberOfSections} sections (cap ${MAX_PE_SECTIONS})`, [ev('COFF NumberOfSections', coff + 2, 2, String(numberOfSections), `<= ${MAX_PE_SECTIONS}`)]);
  }
  const opt = coff + 20;
  if (sizeOfOptionalHeader < 2) throw new DiskInspectionError('pe_optional_header', `SizeOfOptionalHeader ${sizeOfOptionalHeader} leaves no optional header`, [ev('COFF SizeOfOptionalHeader', coff + 16, 2, String(sizeOfOptionalHeader))]);
  if (opt + 2 > size) throw new DiskInspectionError('pe_truncated', 'truncated PE: optional header past the end', [ev('COFF SizeOfOptionalHeader', coff + 16, 2, String(sizeOfOptionalHeader))]);
  const magic = v.getUint16(opt, true);
  if (magic !== 0x10b && magic !== 0x20b) throw new DiskInspectionError('pe_optional_header', `optional header magic ${hexNum(magic, 4)} is neither PE32 nor PE32+`, [ev('OptionalHeader Magic', opt, 2, hexNum(magic, 4), '0x010B or 0x020B')]);
  const minOpt = magic === 0x20b ? 112 : 96; // through NumberOfRvaAndSizes
  if (sizeOfOptionalHeader < minOpt) throw new DiskInspectionError('pe_optional_header', `SizeOfOptionalHeader ${sizeOfOptionalHeader} too small for ${magic === 0x20b ? 'PE32+' : 'PE32'} (${minOpt})`, [ev('COFF SizeOfOptionalHeader', coff + 16, 2, String(sizeOfOptionalHeader), `>= ${minOpt}`)]);
  if (opt + minOpt > size) throw new DiskInspectionError('pe_truncated', 'truncated PE: optional header past the end', [ev('OptionalHeader Magic', opt, 2)]);
  const subsystem = v.getUint16(opt + 68, true);
  const addressOfEntryPoint = v.getUint32(opt + 16, true);
  const problems: string[] = [];
  const nDirs = v.getUint32(opt + minOpt - 4, true);
  let signed = false;
  const secDir = opt + minOpt + 4 * 8;
  if (nDirs > 4 && secDir + 8 <= opt + sizeOfOptionalHeader && secDir + 8 <= size) {
    const certOff = v.getUint32(secDir, true);
    const certSize = v.getUint32(secDir + 4, true);
    signed = certOff !== 0 && certSize !== 0;
    if (signed && certOff + certSize > fileSize) problems.push(`certificate table ${hexNum(certOff)}+${hexNum(certSize)} runs past the end of the file`);
  }
  const table = opt + sizeOfOptionalHeader;
  if (table + numberOfSections * 40 > fileSize) {
    throw new DiskInspectionError('pe_truncated', `truncated PE: ${numberOfSections} section headers do not fit in the file`, [ev('COFF NumberOfSections', coff + 2, 2, String(numberOfSections))]);
  }
  if (table + numberOfSections * 40 > size) {
    throw new DiskInspectionError('pe_sections', `section table beyond the ${size} bytes inspected`, [ev('COFF NumberOfSections', coff + 2, 2, String(numberOfSections))]);
  }
  const sections: PeSection[] = [];
  for (let i = 0; i < numberOfSections; i++) {
    const o = table + i * 40;
    let name = '';
    for (let k = 0; k < 8 && head[o + k] !== 0; k++) name += String.fromCharCode(head[o + k]!);
    const s: PeSection = {
      name: escapeText(name),
      virtualSize: v.getUint32(o + 8, true),
      virtualAddress: v.getUint32(o + 12, true),
      sizeOfRawData: v.getUint32(o + 16, true),
      pointerToRawData: v.getUint32(o + 20, true),
    };
    if (s.sizeOfRawData !== 0 && s.pointerToRawData + s.sizeOfRawData > fileSize && problems.length < 32) {
      problems.push(`section ${s.name || i} raw data ${hexNum(s.pointerToRawData)}+${hexNum(s.sizeOfRawData)} runs past the end of the ${fileSize}-byte file`);
    }
    sections.push(s);
  }
  return {
    peOffset: lfanew,
    machine,
    machineName: PE_MACHINES[machine] ?? 'unknown',
    numberOfSections,
    sizeOfOptionalHeader,
    characteristics,
    magic,
    subsystem,
    subsystemName: PE_SUBSYSTEMS[subsystem] ?? 'unknown',
    addressOfEntryPoint,
    sections,
    signed,
    problems,
  };
}
