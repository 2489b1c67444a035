import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMbr } from './mbr.parser.js';

function mbr(entries: { boot?: number; type: number; lba: number; n?: number; chs?: number[] }[]): Uint8Array {
  const s = new Uint8Array(512);
  const v = new DataView(s.buffer);
  entries.forEach((e, i) => {
    const o = 446 + 16 * i;
    s[o] = e.boot ?? 0;
    s.set(e.chs ?? [0, 2, 0], o + 1);
    s[o + 4] = e.type;
    v.setUint32(o + 8, e.lba, true);
    v.setUint32(o + 12, e.n ?? 1000, true);
  });
  s[510] = 0x55;
  s[511] = 0xaa;
  return s;
}

const codes = (s: Uint8Array) => parseMbr(s).issues.map((i) => i.code);

test('a protective MBR passes the oslo/Linux rules', () => {
  const r = parseMbr(mbr([{ type: 0xee, lba: 1 }]));
  assert.equal(r.kind, 'protective');
  assert.deepEqual(r.issues, []);
});

test('MBR tricks are flagged, not thrown', () => {
  assert.deepEqual(codes(mbr([{ type: 0xee, lba: 2 }])), ['ee-not-at-lba1']);
  assert.deepEqual(codes(mbr([{ type: 0xee, lba: 1 }, { type: 0xee, lba: 1 }])), ['ee-multiple']);
  assert.deepEqual(codes(mbr([{ type: 0xee, lba: 1, boot: 0x42 }])), ['boot-flag']);
  assert.deepEqual(codes(mbr([{ type: 0xee, lba: 1, chs: [0, 1, 0] }])), ['ee-chs']);
  const hybrid = parseMbr(mbr([{ type: 0xee, lba: 1 }, { type: 0x0c, lba: 2048 }]));
  assert.equal(hybrid.kind, 'hybrid');
  assert.deepEqual(hybrid.issues.map((i) => i.code), ['hybrid']);
});

test('MBR-only, no signature, FAT boot sector and short input are facts', () => {
  assert.equal(parseMbr(mbr([{ type: 0x83, lba: 2048 }])).kind, 'mbr-only');
  assert.equal(parseMbr(new Uint8Array(512)).kind, 'none');
  assert.equal(parseMbr(new Uint8Array(10)).kind, 'none');
  const fat = mbr([]);
  fat[0] = 0xeb;
  fat.set(new TextEncoder().encode('FAT32   '), 82);
  assert.equal(parseMbr(fat).kind, 'fat-boot-sector');
});
