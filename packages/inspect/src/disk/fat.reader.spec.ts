import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBpb, parseDirectory } from './fat.reader.js';
import { isDiskInspectionError } from './disk.errors.js';

function bpb(p: Partial<{ bps: number; spc: number; rsvd: number; fats: number; root: number; tot: number; fat16: number; fat32: number }> = {}): Uint8Array {
  const s = new Uint8Array(512);
  const v = new DataView(s.buffer);
  v.setUint16(11, p.bps ?? 512, true);
  s[13] = p.spc ?? 1;
  v.setUint16(14, p.rsvd ?? 32, true);
  s[16] = p.fats ?? 2;
  v.setUint16(17, p.root ?? 0, true);
  v.setUint32(32, p.tot ?? 131072, true);
  v.setUint16(22, p.fat16 ?? 0, true);
  v.setUint32(36, p.fat32 ?? 1016, true);
  v.setUint32(44, 2, true);
  s[510] = 0x55;
  s[511] = 0xaa;
  return s;
}

const bad = (s: Uint8Array, len = 64 << 20) => assert.throws(() => parseBpb(s, 0, len), (e) => isDiskInspectionError(e, 'fat_bpb'));

test('FAT type comes from the cluster count', () => {
  assert.equal(parseBpb(bpb(), 0, 64 << 20).type, 'FAT32');
  const f16 = parseBpb(bpb({ tot: 65536, root: 512, fat16: 256, fat32: 0, spc: 1 }), 0, 64 << 20);
  assert.equal(f16.type, 'FAT16');
  const f12 = parseBpb(bpb({ tot: 4000, root: 224, fat16: 12, fat32: 0, rsvd: 1 }), 0, 64 << 20);
  assert.equal(f12.type, 'FAT12');
});

test('BPB nonsense is a typed fat_bpb error', () => {
  bad(bpb({ bps: 0 }));
  bad(bpb({ bps: 513 }));
  bad(bpb({ spc: 0 }));
  bad(bpb({ spc: 3 }));
  bad(bpb({ rsvd: 0 }));
  bad(bpb({ fats: 0 }));
  bad(bpb({ fat32: 0 }));
  bad(bpb({ fat32: 10 })); // too small for the clusters
  bad(bpb({ rsvd: 0xffff, tot: 0x8000 }));
  bad(bpb(), 1 << 20); // larger than the partition
  const noSig = bpb();
  noSig[510] = 0;
  assert.throws(() => parseBpb(noSig, 0, 64 << 20), (e) => isDiskInspectionError(e, 'fat_boot_sector'));
});

test('directory parsing: LFN with a wrong checksum falls back to the 8.3 name', () => {
  const d = new Uint8Array(32 * 3);
  const short = new TextEncoder().encode('HELLO   TXT');
  let sum = 0;
  for (const c of short) sum = (((sum & 1) << 7) + (sum >> 1) + c) & 0xff;
  const lfn = (checksum: number) => {
    const e = new Uint8Array(32);
    e[0] = 0x41;
    e[11] = 0x0f;
    e[13] = checksum;
    const name = 'hello.txt';
    const pos = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];
    pos.forEach((p, i) => { const c = i < name.length ? name.charCodeAt(i) : i === name.length ? 0 : 0xffff; e[p] = c & 0xff; e[p + 1] = c >> 8; });
    return e;
  };
  d.set(lfn(sum), 0);
  d.set(short, 32);
  d[32 + 11] = 0x20;
  assert.equal(parseDirectory(d, (i) => i * 32, false, true).entries[0]?.name, 'hello.txt');
  d.set(lfn(sum ^ 1), 0);
  assert.equal(parseDirectory(d, (i) => i * 32, false, true).entries[0]?.name, 'HELLO.TXT');
});
