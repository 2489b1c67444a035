import type { ByteSource } from '../byte-source.js';
import type { Evidence } from '../finding.js';
import { DiskInspectionError } from './disk.errors.js';
import { dv, escapeText, hex, readAt } from './bytes.util.js';

/** FAT variant, decided by cluster count (the authoritative rule). */
export type FatType = 'FAT12' | 'FAT16' | 'FAT32';

/** Validated boot-sector (BPB) values of a FAT volume. */
export interface FatBpb {
  readonly type: FatType;
  readonly oemName: string;
  readonly bytesPerSector: number;
  readonly sectorsPerCluster: number;
  readonly reservedSectors: number;
  readonly fatCount: number;
  readonly rootEntryCount: number;
  readonly totalSectors: number;
  /** Sectors per FAT (FATSz16, or FATSz32 when FATSz16 is 0). */
  readonly fatSize: number;
  readonly fatSize16: number;
  readonly mediaByte: number;
  /** Root directory cluster (FAT32 only; 0 otherwise). */
  readonly rootCluster: number;
  readonly firstDataSector: number;
  readonly clusterCount: number;
  readonly clusterBytes: number;
  /** BS_VolLab, trimmed (untrusted text). */
  readonly label: string;
  /** BS_FilSysType, trimmed (informative only). */
  readonly fsTypeField: string;
}

/** A directory entry (its long name when the LFN chain is intact, else the 8.3 name). */
export interface FatDirEntry {
  /** Untrusted: escape before display, never use as a host path. */
  readonly name: string;
  readonly shortName: string;
  readonly isDir: boolean;
  readonly attributes: number;
  readonly firstCluster: number;
  readonly size: number;
  /** Byte offset of the 32-byte short entry in the disk. */
  readonly offset: number;
}

/** One line of a bounded tree listing. */
export interface FatTreeEntry {
  /** `\`-separated path with every component escaped (see `escapeText`). */
  readonly path: string;
  readonly depth: number;
  readonly isDir: boolean;
  readonly size: number;
  readonly entry: FatDirEntry;
}

/** Something the tree walk skipped or could not read. */
export interface FatTreeIssue {
  readonly code: 'fat_depth' | 'fat_entries' | 'fat_dir_cycle' | 'fat_chain_loop' | 'fat_chain_range' | 'fat_chain_bad' | 'fat_chain_short' | 'read_budget';
  readonly path: string;
  readonly message: string;
}

/** A bounded listing of a FAT volume. */
export interface FatTree {
  readonly entries: readonly FatTreeEntry[];
  /** True when a cap stopped the walk early. */
  readonly truncated: boolean;
  readonly issues: readonly FatTreeIssue[];
}

/** Default caps for walks over a FAT volume. */
export const FAT_LIMITS = {
  /** Deepest directory level listed (root = 0). */
  maxDepth: 16,
  /** Most entries listed in one tree walk. */
  maxEntries: 4096,
  /** Most 32-byte slots scanned in one tree walk (bounds the bytes read on empty-slot padding). */
  maxSlots: 262_144,
  /** Most slots in one directory (the FAT limit). */
  maxDirSlots: 65_536,
} as const;

const FAT_BLOCK = 4096;

/**
 * A read-only FAT12/16/32 volume inside a byte range of a disk. Every cluster-chain walk is bounded by
 * the cluster count and checks for loops, free/reserved clusters, clusters past the end and the
 * bad-cluster marker; each of those throws a typed `DiskInspectionError`.
 */
export class FatVolume {
  private readonly fatCache = new Map<number, Uint8Array>();

  private constructor(
    private readonly disk: ByteSource,
    /** Byte offset of the volume in the disk. */
    readonly offset: number,
    /** Bytes available to the volume (the partition size). */
    readonly length: number,
    /** Validated BPB. */
    readonly bpb: FatBpb,
    /** Byte evidence of the boot sector fields. */
    readonly bootSector: Uint8Array,
  ) {}

  /**
   * Validates the boot sector at `offset` and opens the volume. Throws `fat_boot_sector` (no 55AA, not FAT)
   * or `fat_bpb` (a field out of range, or a region outside the `length` bytes of the partition).
   */
  static async open(disk: ByteSource, offset: number, length: number): Promise<FatVolume> {
    const s = await readAt(disk, offset, 512);
    const bpb = parseBpb(s, offset, length);
    return new FatVolume(disk, offset, length, bpb, s);
  }

  /** Entries of the root directory. */
  async readRoot(): Promise<FatDirEntry[]> {
    return (await this.readDirAt(0)).entries;
  }

  /** Entries of a subdirectory (throws `fat_not_file` style errors only for chain problems). */
  async readDir(dir: FatDirEntry): Promise<FatDirEntry[]> {
    return (await this.readDirAt(dir.firstCluster)).entries;
  }

  /** The volume label from the root directory, if any. */
  async rootLabel(): Promise<string | undefined> {
    return (await this.readDirAt(0)).label;
  }

  /**
   * Case-insensitive lookup of a `\` or `/` separated path (e.g. `\EFI\BOOT\BOOTAA64.EFI`).
   * Returns `null` when a component is missing; throws a typed error for a broken chain.
   */
  async lookup(path: string): Promise<FatDirEntry | null> {
    const parts = path.split(/[\\/]+/).filter((p) => p.length > 0);
    if (parts.length > FAT_LIMITS.maxDepth + 1) return null;
    let cluster = 0;
    let found: FatDirEntry | null = null;
    for (let i = 0; i < parts.length; i++) {
      const want = parts[i]!.toUpperCase();
      const { entries } = await this.readDirAt(cluster);
      found = entries.find((e) => e.name.toUpperCase() === want || e.shortName.toUpperCase() === want) ?? null;
      if (!found) return null;
      if (i < parts.length - 1) {
        if (!found.isDir) return null;
        cluster = found.firstCluster;
      }
    }
    return found;
  }

  /** Disk offset of a file's first cluster and the bytes that are contiguous from there (one cluster). */
  firstClusterExtent(file: FatDirEntry): { diskOffset: number; contiguousBytes: number } | undefined {
    const c = file.firstCluster;
    if (c < 2 || c > this.bpb.clusterCount + 1) return undefined;
    return { diskOffset: this.clusterOffset(c), contiguousBytes: this.bpb.clusterBytes };
  }

  /** Reads up to `maxBytes` of a file (the whole file when it is smaller). */
  async readFile(file: FatDirEntry, maxBytes: number): Promise<Uint8Array> {
    if (file.isDir) throw new DiskInspectionError('fat_not_file', `${escapeText(file.name)} is a directory`);
    const want = Math.max(0, Math.min(file.size, maxBytes));
    if (want === 0) return new Uint8Array(0);
    const need = Math.ceil(want / this.bpb.clusterBytes);
    const chain = await this.chain(file.firstCluster, need, escapeText(file.name));
    if (chain.length < need) {
      throw new DiskInspectionError('fat_chain_short', `cluster chain of ${escapeText(file.name)} ends after ${chain.length} of ${need} clusters`, [
        { what: 'FAT directory entry', offset: file.offset, value: `size ${file.size}, first cluster ${file.firstCluster}` },
      ]);
    }
    const out = new Uint8Array(need * this.bpb.clusterBytes);
    await this.readClusters(chain, out);
    return out.subarray(0, want);
  }

  /** Lists the tree breadth-first, within `maxDepth`, `maxEntries` and the slot cap; never throws for content. */
  async listTree(opts: { maxDepth?: number; maxEntries?: number } = {}): Promise<FatTree> {
    const maxDepth = opts.maxDepth ?? FAT_LIMITS.maxDepth;
    const maxEntries = opts.maxEntries ?? FAT_LIMITS.maxEntries;
    const entries: FatTreeEntry[] = [];
    const issues: FatTreeIssue[] = [];
    let truncated = false;
    let slots = 0;
    const rootKey = this.bpb.type === 'FAT32' ? this.bpb.rootCluster : 0;
    const visited = new Set<number>([rootKey]);
    const queue: { cluster: number; path: string; depth: number }[] = [{ cluster: 0, path: '', depth: 0 }];
    outer: for (let qi = 0; qi < queue.length; qi++) {
      const dir = queue[qi]!;
      let list: FatDirEntry[];
      try {
        const r = await this.readDirAt(dir.cluster, FAT_LIMITS.maxSlots - slots);
        slots += r.slots;
        list = r.entries;
      } catch (e) {
        if (e instanceof DiskInspectionError && isTreeCode(e.code)) {
          issues.push({ code: e.code, path: dir.path || '\\', message: e.message });
          if (e.code === 'read_budget') { truncated = true; break; }
          continue;
        }
        throw e;
      }
      for (const e of list) {
        if (entries.length >= maxEntries) {
          truncated = true;
          issues.push({ code: 'fat_entries', path: dir.path || '\\', message: `listing stopped at ${maxEntries} entries` });
          break outer;
        }
        const path = `${dir.path}\\${escapeText(e.name)}`;
        const depth = dir.depth + 1;
        entries.push({ path, depth, isDir: e.isDir, size: e.size, entry: e });
        if (!e.isDir) continue;
        const key = e.firstCluster === 0 ? rootKey : e.firstCluster;
        if (visited.has(key)) {
          issues.push({ code: 'fat_dir_cycle', path, message: `directory ${path} points at cluster ${e.firstCluster}, already listed (a directory cycle)` });
          continue;
        }
        if (depth >= maxDepth) {
          truncated = true;
          issues.push({ code: 'fat_depth', path, message: `directory ${path} is deeper than the ${maxDepth}-level cap; not listed` });
          continue;
        }
        visited.add(key);
        queue.push({ cluster: e.firstCluster, path, depth });
      }
      if (slots >= FAT_LIMITS.maxSlots) {
        truncated = true;
        issues.push({ code: 'fat_entries', path: dir.path || '\\', message: `listing stopped after ${FAT_LIMITS.maxSlots} directory slots` });
        break;
      }
    }
    return { entries, truncated, issues };
  }

  /** Reads a directory: `cluster` 0 means the root. */
  private async readDirAt(cluster: number, slotBudget: number = FAT_LIMITS.maxDirSlots): Promise<{ entries: FatDirEntry[]; label?: string; slots: number }> {
    const { bpb } = this;
    const maxSlots = Math.max(0, Math.min(FAT_LIMITS.maxDirSlots, slotBudget));
    let data: Uint8Array;
    let offsets: (i: number) => number;
    if (cluster === 0 && bpb.type !== 'FAT32') {
      const start = this.offset + bpb.reservedSectors * bpb.bytesPerSector + bpb.fatCount * bpb.fatSize * bpb.bytesPerSector;
      const n = Math.min(bpb.rootEntryCount, maxSlots);
      data = await readAt(this.disk, start, n * 32);
      offsets = (i) => start + i * 32;
    } else {
      const first = cluster === 0 ? bpb.rootCluster : cluster;
      const maxClusters = Math.max(1, Math.ceil((maxSlots * 32) / bpb.clusterBytes));
      const chain = await this.chain(first, maxClusters, `directory at cluster ${first}`);
      data = new Uint8Array(chain.length * bpb.clusterBytes);
      await this.readClusters(chain, data);
      const per = bpb.clusterBytes / 32;
      offsets = (i) => this.clusterOffset(chain[Math.floor(i / per)]!) + (i % per) * 32;
      if (data.length > maxSlots * 32) data = data.subarray(0, maxSlots * 32);
    }
    return parseDirectory(data, offsets, cluster === 0, bpb.type === 'FAT32');
  }

  private clusterOffset(c: number): number {
    return this.offset + (this.bpb.firstDataSector + (c - 2) * this.bpb.sectorsPerCluster) * this.bpb.bytesPerSector;
  }

  private async readClusters(chain: readonly number[], out: Uint8Array): Promise<void> {
    const cb = this.bpb.clusterBytes;
    for (let i = 0; i < chain.length; ) {
      let j = i + 1;
      while (j < chain.length && chain[j] === chain[j - 1]! + 1 && (j - i) * cb < 1 << 20) j++;
      out.set(await readAt(this.disk, this.clusterOffset(chain[i]!), (j - i) * cb), i * cb);
      i = j;
    }
  }

  /**
   * Follows a chain from `start` for at most `max` clusters (and never more than the cluster count);
   * a file's caller checks that the chain was long enough.
   */
  private async chain(start: number, max: number, what: string): Promise<number[]> {
    const { bpb } = this;
    const lastCluster = bpb.clusterCount + 1;
    const bad = bpb.type === 'FAT12' ? 0xff7 : bpb.type === 'FAT16' ? 0xfff7 : 0x0ffffff7;
    const limit = Math.min(max, bpb.clusterCount);
    const out: number[] = [];
    const seen = new Set<number>();
    let c = start;
    let from = -1;
    for (;;) {
      if (c < 2 || c > lastCluster) {
        if (c >= bad + 1) break; // end of chain
        if (c === bad) throw new DiskInspectionError('fat_chain_bad', `${what}: chain runs into the bad-cluster marker after cluster ${from}`, this.fatEvidence(from));
        throw new DiskInspectionError('fat_chain_range', `${what}: chain ${from < 0 ? 'starts at' : `goes from cluster ${from} to`} cluster ${c}, outside 2..${lastCluster}`, this.fatEvidence(from));
      }
      if (seen.has(c)) throw new DiskInspectionError('fat_chain_loop', `${what}: circular chain (cluster ${from} points back to cluster ${c})`, this.fatEvidence(from));
      seen.add(c);
      out.push(c);
      if (out.length >= limit) break;
      from = c;
      c = await this.fatEntry(c);
    }
    return out;
  }

  private fatEvidence(cluster: number): Evidence[] {
    if (cluster < 0) return [];
    const { bytesPerSector, reservedSectors, type } = this.bpb;
    const rel = type === 'FAT12' ? Math.floor((cluster * 3) / 2) : type === 'FAT16' ? cluster * 2 : cluster * 4;
    return [{ what: `FAT entry of cluster ${cluster}`, offset: this.offset + reservedSectors * bytesPerSector + rel }];
  }

  private async fatEntry(c: number): Promise<number> {
    const { type } = this.bpb;
    if (type === 'FAT32') return (await this.fatU16(c * 4) | ((await this.fatU16(c * 4 + 2)) << 16)) & 0x0fffffff;
    if (type === 'FAT16') return this.fatU16(c * 2);
    const o = Math.floor((c * 3) / 2);
    const v = await this.fatU16(o);
    return c & 1 ? v >>> 4 : v & 0xfff;
  }

  private async fatU16(rel: number): Promise<number> {
    return (await this.fatByte(rel)) | ((await this.fatByte(rel + 1)) << 8);
  }

  private async fatByte(rel: number): Promise<number> {
    const block = Math.floor(rel / FAT_BLOCK);
    let b = this.fatCache.get(block);
    if (!b) {
      if (this.fatCache.size >= 256) this.fatCache.clear();
      const fatStart = this.offset + this.bpb.reservedSectors * this.bpb.bytesPerSector;
      const fatBytes = this.bpb.fatSize * this.bpb.bytesPerSector;
      const len = Math.min(FAT_BLOCK, fatBytes - block * FAT_BLOCK);
      b = await readAt(this.disk, fatStart + block * FAT_BLOCK, Math.max(0, len));
      this.fatCache.set(block, b);
    }
    return b[rel % FAT_BLOCK] ?? 0;
  }
}

function isTreeCode(c: string): c is FatTreeIssue['code'] {
  return c === 'fat_chain_loop' || c === 'fat_chain_range' || c === 'fat_chain_bad' || c === 'fat_chain_short' || c === 'read_budget';
}

/**
 * Validates a FAT boot sector. `offset` is where it sits on the disk (for evidence), `length` the bytes the
 * partition holds. Throws `fat_boot_sector` or `fat_bpb`.
 */
export function parseBpb(s: Uint8Array, offset: number, length: number): FatBpb {
  if (s.length < 512) throw new DiskInspectionError('fat_boot_sector', 'boot sector truncated');
  const v = dv(s);
  const ev = (what: string, rel: number, len: number, value?: string, expected?: string): Evidence => ({
    what, offset: offset + rel, bytes: hex(s.subarray(rel, rel + len)), ...(value !== undefined ? { value } : {}), ...(expected !== undefined ? { expected } : {}),
  });
  if (s[510] !== 0x55 || s[511] !== 0xaa) {
    throw new DiskInspectionError('fat_boot_sector', 'no 55AA signature in the volume boot sector: not a FAT filesystem', [ev('boot sector signature', 510, 2, undefined, '55aa')]);
  }
  const bad = (msg: string, e: Evidence) => new DiskInspectionError('fat_bpb', `invalid FAT BPB: ${msg}`, [e]);
  const bytesPerSector = v.getUint16(11, true);
  if (![512, 1024, 2048, 4096].includes(bytesPerSector)) throw bad(`bytes per sector ${bytesPerSector}`, ev('BPB_BytsPerSec', 11, 2, String(bytesPerSector), '512, 1024, 2048 or 4096'));
  const sectorsPerCluster = s[13]!;
  if (sectorsPerCluster === 0 || sectorsPerCluster > 128 || (sectorsPerCluster & (sectorsPerCluster - 1)) !== 0) {
    throw bad(`sectors per cluster ${sectorsPerCluster}`, ev('BPB_SecPerClus', 13, 1, String(sectorsPerCluster), 'a power of two, 1..128'));
  }
  const reservedSectors = v.getUint16(14, true);
  if (reservedSectors < 1) throw bad('0 reserved sectors', ev('BPB_RsvdSecCnt', 14, 2, '0', '>= 1'));
  const fatCount = s[16]!;
  if (fatCount < 1) throw bad('0 FATs', ev('BPB_NumFATs', 16, 1, '0', '>= 1'));
  const rootEntryCount = v.getUint16(17, true);
  const tot16 = v.getUint16(19, true);
  const tot32 = v.getUint32(32, true);
  const totalSectors = tot16 !== 0 ? tot16 : tot32;
  const fatSize16 = v.getUint16(22, true);
  const fatSize32 = v.getUint32(36, true);
  const fatSize = fatSize16 !== 0 ? fatSize16 : fatSize32;
  if (fatSize === 0) throw bad('FAT size 0', ev('BPB_FATSz16/BPB_FATSz32', 22, 2, '0', '> 0'));
  if (totalSectors === 0) throw bad('0 total sectors', ev('BPB_TotSec16/32', 19, 2, '0', '> 0'));
  if (totalSectors * bytesPerSector > length) {
    throw bad(`volume of ${totalSectors} sectors × ${bytesPerSector} bytes is larger than its partition (${length} bytes)`, ev('BPB_TotSec', tot16 !== 0 ? 19 : 32, tot16 !== 0 ? 2 : 4, String(totalSectors), `<= ${Math.floor(length / bytesPerSector)}`));
  }
  const rootDirSectors = Math.ceil((rootEntryCount * 32) / bytesPerSector);
  const firstDataSector = reservedSectors + fatCount * fatSize + rootDirSectors;
  if (firstDataSector >= totalSectors) {
    throw bad(`reserved sectors, FATs and root directory (${firstDataSector} sectors) reach past the end of the volume (${totalSectors} sectors)`, ev('BPB_RsvdSecCnt', 14, 2, String(reservedSectors)));
  }
  const clusterCount = Math.floor((totalSectors - firstDataSector) / sectorsPerCluster);
  if (clusterCount < 1) throw bad('no data clusters', ev('BPB_TotSec', 32, 4, String(totalSectors)));
  const type: FatType = clusterCount < 4085 ? 'FAT12' : clusterCount < 65525 ? 'FAT16' : 'FAT32';
  if (type !== 'FAT32' && (rootEntryCount === 0 || fatSize16 === 0)) {
    throw bad(`${clusterCount} clusters make it ${type}, but the BPB has the FAT32 layout (root entries ${rootEntryCount}, FATSz16 ${fatSize16})`, ev('BPB_RootEntCnt', 17, 2, String(rootEntryCount)));
  }
  if (type === 'FAT32' && rootEntryCount !== 0) {
    throw bad(`${clusterCount} clusters make it FAT32, but the root entry count is ${rootEntryCount}`, ev('BPB_RootEntCnt', 17, 2, String(rootEntryCount), '0'));
  }
  const entryBits = type === 'FAT12' ? 12 : type === 'FAT16' ? 16 : 32;
  if (fatSize * bytesPerSector * 8 < (clusterCount + 2) * entryBits) {
    throw bad(`a FAT of ${fatSize} sectors cannot hold ${clusterCount + 2} entries`, ev('BPB_FATSz', fatSize16 !== 0 ? 22 : 36, fatSize16 !== 0 ? 2 : 4, String(fatSize)));
  }
  let rootCluster = 0;
  if (type === 'FAT32') {
    rootCluster = v.getUint32(44, true);
    if (rootCluster < 2 || rootCluster > clusterCount + 1) throw bad(`root cluster ${rootCluster} outside 2..${clusterCount + 1}`, ev('BPB_RootClus', 44, 4, String(rootCluster)));
  }
  const text = (o: number, n: number) => latin1(s.subarray(o, o + n)).replace(/[\s\0]+$/, '');
  const ext = type === 'FAT32' ? 64 : 36;
  const hasExt = s[ext + 2] === 0x29;
  return {
    type,
    oemName: text(3, 8),
    bytesPerSector,
    sectorsPerCluster,
    reservedSectors,
    fatCount,
    rootEntryCount,
    totalSectors,
    fatSize,
    fatSize16,
    mediaByte: s[21]!,
    rootCluster,
    firstDataSector,
    clusterCount,
    clusterBytes: bytesPerSector * sectorsPerCluster,
    label: hasExt ? text(ext + 7, 11) : '',
    fsTypeField: hasExt ? text(ext + 18, 8) : '',
  };
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return s;
}

const LFN_OFFSETS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

/** Parses 32-byte directory slots; `offsetOf(i)` gives the disk offset of slot `i`. */
export function parseDirectory(data: Uint8Array, offsetOf: (i: number) => number, isRoot: boolean, fat32: boolean): { entries: FatDirEntry[]; label?: string; slots: number } {
  const entries: FatDirEntry[] = [];
  let label: string | undefined;
  let lfn: (string | undefined)[] | null = null;
  let lfnExpect = 0;
  let lfnSum = 0;
  const n = Math.floor(data.length / 32);
  let i = 0;
  for (; i < n; i++) {
    const e = data.subarray(i * 32, i * 32 + 32);
    const b0 = e[0]!;
    if (b0 === 0x00) { i++; break; }
    if (b0 === 0xe5) { lfn = null; continue; }
    const attr = e[11]!;
    if ((attr & 0x3f) === 0x0f) {
      const ord = b0 & 0x1f;
      if (b0 & 0x40) {
        lfn = ord >= 1 && ord <= 20 ? new Array<string | undefined>(ord) : null;
        lfnExpect = ord;
        lfnSum = e[13]!;
      } else if (!lfn || ord !== lfnExpect - 1 || e[13] !== lfnSum) {
        lfn = null;
        continue;
      } else {
        lfnExpect = ord;
      }
      if (lfn && ord >= 1) {
        let part = '';
        for (const o of LFN_OFFSETS) part += String.fromCharCode(e[o]! | (e[o + 1]! << 8));
        lfn[ord - 1] = part;
      }
      continue;
    }
    const short = e.subarray(0, 11);
    if (attr & 0x08 && !(attr & 0x10)) {
      if (isRoot && label === undefined) label = latin1(short).replace(/\s+$/, '');
      lfn = null;
      continue;
    }
    const base = latin1(short.subarray(0, 8)).replace(/ +$/, '');
    if (base === '.' || base === '..') { lfn = null; continue; }
    let sum = 0;
    for (let k = 0; k < 11; k++) sum = (((sum & 1) << 7) + (sum >> 1) + short[k]!) & 0xff;
    let name: string | undefined;
    if (lfn && lfnExpect === 1 && sum === lfnSum && lfn.every((p) => p !== undefined)) {
      const full = lfn.join('');
      const z = full.indexOf('\0');
      const cut = z >= 0 ? full.slice(0, z) : full.replace(/\uffff+$/, '');
      if (cut.length >= 1 && cut.length <= 255) name = cut;
    }
    lfn = null;
    const fixedBase = (short[0] === 0x05 ? '\u00e5' + base.slice(1) : base);
    const extPart = latin1(short.subarray(8, 11)).replace(/ +$/, '');
    const shortName = extPart ? `${fixedBase}.${extPart}` : fixedBase;
    const nt = e[12]!;
    const displayShort = (nt & 0x08 ? fixedBase.toLowerCase() : fixedBase) + (extPart ? '.' + (nt & 0x10 ? extPart.toLowerCase() : extPart) : '');
    const v = dv(e);
    entries.push({
      name: name ?? displayShort,
      shortName,
      isDir: (attr & 0x10) !== 0,
      attributes: attr,
      firstCluster: ((fat32 ? v.getUint16(20, true) << 16 : 0) | v.getUint16(26, true)) >>> 0,
      size: v.getUint32(28, true),
      offset: offsetOf(i),
    });
  }
  return { entries, ...(label !== undefined ? { label } : {}), slots: i };
}
