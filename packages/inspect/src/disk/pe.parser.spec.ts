import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePe } from './pe.parser.js';
import { isDiskInspectionError, type DiskErrorCode } from './disk.errors.js';

/** A minimal PE32+ (arm64, EFI application) with `n` sections and optionally a security directory. */
function pe(opts: { machine?: number; magic?: number; sections?: number; signed?: boolean; size?: number } = {}): Uint8Array {
  const magic = opts.magic ?? 0x20b;
  const optSize = magic === 0x20b ? 240 : 224;
  const n = opts.sections ?? 1;
  const b = new Uint8Array(opts.size ?? 0x400);
  const v = new DataView(b.buffer);
  b[0] = 0x4d; b[1] = 0x5a;
  v.setUint32(0x3c, 0x80, true);
  b.set([0x50, 0x45, 0, 0], 0x80);
  v.setUint16(0x84, opts.machine ?? 0xaa64, true);
  v.setUint16(0x86, n, true);
  v.setUint16(0x94, optSize, true);
  const opt = 0x98;
  v.setUint16(opt, magic, true);
  v.setUint16(opt + 68, 10, true);
  const dirs = opt + (magic === 0x20b ? 112 : 96);
  v.setUint32(dirs - 4, 16, true);
  if (opts.signed) { v.setUint32(dirs + 32, 0x300, true); v.setUint32(dirs + 36, 0x10, true); }
  const sec = opt + optSize;
  if (sec + 40 * Math.min(n, 4) <= b.length) {
    for (let i = 0; i < Math.min(n, 4); i++) { b.set([0x2e, 0x74], sec + 40 * i); v.setUint32(sec + 40 * i + 16, 0x100, true); v.setUint32(sec + 40 * i + 20, 0x200, true); }
  }
  return b;
}

const rejects = (code: DiskErrorCode, fn: () => unknown) => assert.throws(fn, (e) => isDiskInspectionError(e, code));

test('reads machine, magic, subsystem, sections and signature', () => {
  const r = parsePe(pe({ signed: true }), 0x400);
  assert.equal(r.machine, 0xaa64);
  assert.equal(r.machineName, 'arm64');
  assert.equal(r.magic, 0x20b);
  assert.equal(r.subsystem, 10);
  assert.equal(r.sections.length, 1);
  assert.equal(r.signed, true);
  assert.deepEqual(r.problems, []);
  const arm = parsePe(pe({ machine: 0x1c2, magic: 0x10b }), 0x400);
  assert.equal(arm.magic, 0x10b);
  assert.equal(arm.signed, false);
});

test('typed errors for truncation, bad signatures and hostile counts', () => {
  rejects('pe_truncated', () => parsePe(new Uint8Array(10), 10));
  rejects('pe_signature', () => parsePe(new Uint8Array(256), 256));
  const lfanew = pe();
  new DataView(lfanew.buffer).setUint32(0x3c, 0xfffffff0, true); // "negative"
  rejects('pe_truncated', () => parsePe(lfanew, 0x400));
  new DataView(lfanew.buffer).setUint32(0x3c, 2, true);
  rejects('pe_lfanew', () => parsePe(lfanew, 0x400));
  rejects('pe_sections', () => parsePe(pe({ sections: 0xffff }), 0x400));
  rejects('pe_truncated', () => parsePe(pe({ sections: 0x700 }), 0x400));
  rejects('pe_optional_header', () => parsePe(pe({ magic: 0x107 }), 0x400));
  rejects('pe_truncated', () => parsePe(pe().subarray(0, 0x90), 0x90));
});

test('sections and certificates past EOF are problems, not crashes', () => {
  const b = pe({ signed: true, size: 0x300 });
  const v = new DataView(b.buffer);
  v.setUint32(0x98 + 240 + 16, 0xffffffff, true);
  const r = parsePe(b, 0x300);
  assert.equal(r.problems.length, 2);
});
