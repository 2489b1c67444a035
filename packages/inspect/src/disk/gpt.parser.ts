import type { ByteSource } from '../byte-source.js';
import type { Evidence } from '../finding.js';
import { crc32, dv, formatGuid, hex, hexNum, readAt, u64 } from './bytes.util.js';

/** Partition type GUID of an EFI system partition. */
export const ESP_TYPE_GUID = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
/** Most partition entries we accept in one table (the UEFI minimum is 128). */
export const MAX_GPT_ENTRIES = 1024;
/** Largest partition-entry array we read, in bytes. */
export const MAX_GPT_ARRAY_BYTES = 1 << 20;

const SIGNATURE = 'EFI PART';
const REVISION = 0x00010000;

/** Well-known partition type GUIDs, for readable facts. */
export const PARTITION_TYPE_NAMES: Readonly<Record<string, string>> = {
  [ESP_TYPE_GUID]: 'EFI system partition',
  '0FC63DAF-8483-4772-8E79-3D69D8477DE4': 'Linux filesystem',
  'B921B045-1DF0-41C3-AF44-4C6F280D3FAE': 'Linux root (aarch64)',
  '69DAD710-2CE4-4E3C-B16C-21A1D49ABED3': 'Linux root (arm)',
  '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709': 'Linux root (x86-64)',
  '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F': 'Linux swap',
  'BC13C2FF-59E6-4262-A352-B275FD6F7172': 'Linux extended boot (XBOOTLDR)',
  '21686148-6449-6E6F-744E-656564454649': 'BIOS boot',
  'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7': 'Microsoft basic data',
  'E3C9E316-0B5C-4DB8-817D-F92DF00215AE': 'Microsoft reserved',
};

/** A stable code for each way a GPT header or entry can be wrong. */
export type GptProblemCode =
  | 'read'
  | 'signature'
  | 'revision'
  | 'header_size'
  | 'header_crc'
  | 'my_lba'
  | 'alternate_lba'
  | 'usable_range'
  | 'gpt_entry_size'
  | 'gpt_entry_count'
  | 'entry_array_range'
  | 'entry_array_crc';

/** One reason a header is not valid. */
export interface GptProblem {
  readonly code: GptProblemCode;
  readonly message: string;
  readonly evidence: readonly Evidence[];
}

/** The decoded fields of a GPT header (whether or not it is valid). */
export interface GptHeaderFields {
  readonly revision: number;
  readonly headerSize: number;
  readonly headerCrc: number;
  readonly computedHeaderCrc: number;
  readonly myLba: number;
  readonly alternateLba: number;
  readonly firstUsableLba: number;
  readonly lastUsableLba: number;
  readonly diskGuid: string;
  readonly entryLba: number;
  readonly entryCount: number;
  readonly entrySize: number;
  readonly entryArrayCrc: number;
  /** Only when the array was in range and within the caps. */
  readonly computedEntryArrayCrc?: number;
}

/** The result of checking one header location. */
export interface GptHeaderCheck {
  /** LBA the header was read from. */
  readonly lba: number;
  /** Byte offset of that LBA. */
  readonly offset: number;
  /** `EFI PART` found there. */
  readonly present: boolean;
  readonly valid: boolean;
  readonly fields?: GptHeaderFields;
  readonly problems: readonly GptProblem[];
}

/** An accepted partition entry. */
export interface GptPartition {
  /** 1-based, as `sgdisk` and Linux number them. */
  readonly number: number;
  /** Byte offset of the entry on the disk. */
  readonly entryOffset: number;
  readonly typeGuid: string;
  /** Friendly name of the type when known. */
  readonly typeName?: string;
  readonly uniqueGuid: string;
  readonly firstLba: number;
  readonly lastLba: number;
  readonly attributes: string;
  /** UTF-16 name from the entry (untrusted data: escape before display). */
  readonly name: string;
  readonly isEsp: boolean;
}

/** A used entry that was flagged and ignored. */
export interface GptRejectedEntry {
  readonly number: number;
  readonly reason: 'first-after-last' | 'outside-usable' | 'beyond-disk' | 'overlap';
  readonly message: string;
  readonly evidence: readonly Evidence[];
}

/** Everything learned about the GPT of a disk. */
export interface GptFacts {
  readonly sectorSize: 512 | 4096;
  /** Last LBA of the disk at that sector size. */
  readonly lastLba: number;
  readonly primary: GptHeaderCheck;
  readonly backup: GptHeaderCheck;
  /** Which header the partitions came from; `none` when neither is valid. */
  readonly used: 'primary' | 'backup' | 'none';
  /** The backup header is valid but not at the last LBA (typical after growing the disk). */
  readonly backupNotAtEnd: boolean;
  /** Both headers valid but their entry arrays differ (the backup is stale). */
  readonly backupStale: boolean;
  readonly partitions: readonly GptPartition[];
  readonly rejectedEntries: readonly GptRejectedEntry[];
}

interface HeaderRead {
  check: GptHeaderCheck;
  array?: Uint8Array;
}

/**
 * Finds and validates the GPT of a disk, trying 512-byte then 4096-byte sectors. Returns `null`
 * when neither a primary nor a backup `EFI PART` header exists at either sector size. Never
 * throws for bad content; every read is bounded by the header caps.
 */
export async function readGpt(disk: ByteSource): Promise<GptFacts | null> {
  for (const ss of [512, 4096] as const) {
    const sectors = Math.floor(disk.size / ss);
    if (sectors < 3) continue;
    const lastLba = sectors - 1;
    const primary = await readHeader(disk, ss, 1, lastLba);
    let altLba = lastLba;
    const pf = primary.check.fields;
    if (pf && Number.isSafeInteger(pf.alternateLba) && pf.alternateLba > 1 && pf.alternateLba <= lastLba) altLba = pf.alternateLba;
    let backup = await readHeader(disk, ss, altLba, lastLba);
    if (!backup.check.valid && altLba !== lastLba) {
      const atEnd = await readHeader(disk, ss, lastLba, lastLba);
      if (atEnd.check.present) backup = atEnd;
    }
    if (!primary.check.present && !backup.check.present) continue;
    const chosen = primary.check.valid ? primary : backup.check.valid ? backup : undefined;
    const used = primary.check.valid ? 'primary' : backup.check.valid ? 'backup' : 'none';
    const { partitions, rejected } = chosen?.array && chosen.check.fields
      ? decodeEntries(chosen.array, chosen.check.fields, ss, lastLba)
      : { partitions: [], rejected: [] };
    const backupStale =
      primary.check.valid && backup.check.valid && primary.check.fields!.entryArrayCrc !== backup.check.fields!.entryArrayCrc;
    return {
      sectorSize: ss,
      lastLba,
      primary: primary.check,
      backup: backup.check,
      used,
      backupNotAtEnd: backup.check.valid && backup.check.lba !== lastLba,
      backupStale,
      partitions,
      rejectedEntries: rejected,
    };
  }
  return null;
}

async function readHeader(disk: ByteSource, ss: number, lba: number, lastLba: number): Promise<HeaderRead> {
  const offset = lba * ss;
  const b = await readAt(disk, offset, ss);
  const v = dv(b);
  const problems: GptProblem[] = [];
  const sig = String.fromCharCode(...b.subarray(0, 8));
  if (sig !== SIGNATURE) {
    return {
      check: {
        lba, offset, present: false, valid: false,
        problems: [{ code: 'signature', message: `no "EFI PART" signature at LBA ${lba}`, evidence: [{ what: 'GPT signature', offset, bytes: hex(b.subarray(0, 8)), expected: hex(new TextEncoder().encode(SIGNATURE)) }] }],
      },
    };
  }
  const ev = (what: string, rel: number, len: number, value?: string, expected?: string): Evidence => ({
    what, offset: offset + rel, bytes: hex(b.subarray(rel, rel + len)), ...(value !== undefined ? { value } : {}), ...(expected !== undefined ? { expected } : {}),
  });
  const revision = v.getUint32(8, true);
  const headerSize = v.getUint32(12, true);
  const headerCrc = v.getUint32(16, true);
  let computedHeaderCrc = 0;
  if (revision !== REVISION) problems.push({ code: 'revision', message: `GPT revision ${hexNum(revision, 8)} is not 1.0`, evidence: [ev('GPT revision', 8, 4, hexNum(revision, 8), '0x00010000')] });
  if (headerSize < 92 || headerSize > ss) {
    problems.push({ code: 'header_size', message: `GPT header size ${headerSize} outside [92, ${ss}]`, evidence: [ev('GPT header size', 12, 4, String(headerSize), `92..${ss}`)] });
  } else {
    const copy = b.slice(0, headerSize);
    copy.fill(0, 16, 20);
    computedHeaderCrc = crc32(copy);
    if (computedHeaderCrc !== headerCrc) {
      problems.push({ code: 'header_crc', message: `GPT header CRC32 mismatch at LBA ${lba}`, evidence: [ev('GPT header CRC32', 16, 4, hexNum(headerCrc, 8), hexNum(computedHeaderCrc, 8))] });
    }
  }
  const myLba = u64(v, 24);
  const alternateLba = u64(v, 32);
  const firstUsableLba = u64(v, 40);
  const lastUsableLba = u64(v, 48);
  const entryLba = u64(v, 72);
  const entryCount = v.getUint32(80, true);
  const entrySize = v.getUint32(84, true);
  const entryArrayCrc = v.getUint32(88, true);
  if (myLba !== lba) problems.push({ code: 'my_lba', message: `GPT header at LBA ${lba} says MyLBA ${myLba}`, evidence: [ev('GPT MyLBA', 24, 8, String(myLba), String(lba))] });
  if (alternateLba > lastLba || alternateLba === lba) {
    problems.push({ code: 'alternate_lba', message: `GPT AlternateLBA ${alternateLba} is not another LBA of this disk (last LBA ${lastLba})`, evidence: [ev('GPT AlternateLBA', 32, 8, String(alternateLba), `<= ${lastLba}`)] });
  }
  if (firstUsableLba > lastUsableLba || lastUsableLba > lastLba || firstUsableLba < 2) {
    problems.push({ code: 'usable_range', message: `GPT usable range ${firstUsableLba}..${lastUsableLba} is empty or outside the disk (last LBA ${lastLba})`, evidence: [ev('GPT FirstUsableLBA', 40, 8, String(firstUsableLba)), ev('GPT LastUsableLBA', 48, 8, String(lastUsableLba))] });
  }
  let array: Uint8Array | undefined;
  let computedEntryArrayCrc: number | undefined;
  const sizeOk = entrySize >= 128 && entrySize <= 4096 && entrySize % 8 === 0;
  const countOk = entryCount >= 1 && entryCount <= MAX_GPT_ENTRIES;
  if (!sizeOk) problems.push({ code: 'gpt_entry_size', message: `GPT SizeOfPartitionEntry ${entrySize} rejected (must be 128..4096 and a multiple of 8)`, evidence: [ev('GPT SizeOfPartitionEntry', 84, 4, String(entrySize), '128')] });
  if (!countOk) problems.push({ code: 'gpt_entry_count', message: `GPT NumberOfPartitionEntries ${entryCount} rejected (cap ${MAX_GPT_ENTRIES})`, evidence: [ev('GPT NumberOfPartitionEntries', 80, 4, String(entryCount), `1..${MAX_GPT_ENTRIES}`)] });
  if (sizeOk && countOk) {
    const bytes = entrySize * entryCount;
    const arraySectors = Math.ceil(bytes / ss);
    if (bytes > MAX_GPT_ARRAY_BYTES) {
      problems.push({ code: 'gpt_entry_count', message: `GPT entry array of ${bytes} bytes exceeds the ${MAX_GPT_ARRAY_BYTES}-byte cap`, evidence: [ev('GPT NumberOfPartitionEntries', 80, 4, String(entryCount)), ev('GPT SizeOfPartitionEntry', 84, 4, String(entrySize))] });
    } else if (!Number.isSafeInteger(entryLba) || entryLba < 1 || entryLba + arraySectors - 1 > lastLba || (entryLba <= lba && lba < entryLba + arraySectors)) {
      problems.push({ code: 'entry_array_range', message: `GPT entry array at LBA ${entryLba} (${arraySectors} sectors) lies outside the disk or over its header`, evidence: [ev('GPT PartitionEntryLBA', 72, 8, String(entryLba))] });
    } else {
      array = await readAt(disk, entryLba * ss, bytes);
      computedEntryArrayCrc = crc32(array);
      if (computedEntryArrayCrc !== entryArrayCrc) {
        problems.push({ code: 'entry_array_crc', message: `GPT partition entry array CRC32 mismatch (header at LBA ${lba})`, evidence: [ev('GPT PartitionEntryArrayCRC32', 88, 4, hexNum(entryArrayCrc, 8), hexNum(computedEntryArrayCrc, 8))] });
      }
    }
  }
  const fields: GptHeaderFields = {
    revision, headerSize, headerCrc, computedHeaderCrc, myLba, alternateLba, firstUsableLba, lastUsableLba,
    diskGuid: formatGuid(b.subarray(56, 72)), entryLba, entryCount, entrySize, entryArrayCrc,
    ...(computedEntryArrayCrc !== undefined ? { computedEntryArrayCrc } : {}),
  };
  const valid = problems.length === 0;
  return { check: { lba, offset, present: true, valid, fields, problems }, ...(valid && array ? { array } : {}) };
}

function decodeEntries(array: Uint8Array, h: GptHeaderFields, ss: number, lastLba: number): { partitions: GptPartition[]; rejected: GptRejectedEntry[] } {
  const partitions: GptPartition[] = [];
  const rejected: GptRejectedEntry[] = [];
  const base = h.entryLba * ss;
  for (let i = 0; i < h.entryCount; i++) {
    const o = i * h.entrySize;
    const e = array.subarray(o, o + h.entrySize);
    if (e.subarray(0, 16).every((x) => x === 0)) continue;
    const v = dv(e);
    const number = i + 1;
    const firstLba = u64(v, 32);
    const lastLbaE = u64(v, 40);
    const evidence: Evidence[] = [{ what: `GPT entry ${number} LBAs`, offset: base + o + 32, bytes: hex(e.subarray(32, 48)), value: `${firstLba}..${lastLbaE}` }];
    const reject = (reason: GptRejectedEntry['reason'], message: string) => rejected.push({ number, reason, message, evidence });
    if (firstLba > lastLbaE) { reject('first-after-last', `GPT entry ${number} starts after it ends (${firstLba} > ${lastLbaE})`); continue; }
    if (lastLbaE > lastLba) { reject('beyond-disk', `GPT entry ${number} ends at LBA ${lastLbaE}, beyond the disk's last LBA ${lastLba}`); continue; }
    if (firstLba < h.firstUsableLba || lastLbaE > h.lastUsableLba) { reject('outside-usable', `GPT entry ${number} (${firstLba}..${lastLbaE}) lies outside the usable area ${h.firstUsableLba}..${h.lastUsableLba}`); continue; }
    const clash = partitions.find((p) => firstLba <= p.lastLba && p.firstLba <= lastLbaE);
    if (clash) { reject('overlap', `GPT entry ${number} (${firstLba}..${lastLbaE}) overlaps entry ${clash.number} (${clash.firstLba}..${clash.lastLba})`); continue; }
    const typeGuid = formatGuid(e.subarray(0, 16));
    const typeName = PARTITION_TYPE_NAMES[typeGuid];
    partitions.push({
      number,
      entryOffset: base + o,
      typeGuid,
      ...(typeName ? { typeName } : {}),
      uniqueGuid: formatGuid(e.subarray(16, 32)),
      firstLba,
      lastLba: lastLbaE,
      attributes: `0x${v.getBigUint64(48, true).toString(16).padStart(16, '0')}`,
      name: utf16z(e.subarray(56, Math.min(128, h.entrySize))),
      isEsp: typeGuid === ESP_TYPE_GUID,
    });
  }
  return { partitions, rejected };
}

function utf16z(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i + 1 < b.length; i += 2) {
    const c = b[i]! | (b[i + 1]! << 8);
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}
