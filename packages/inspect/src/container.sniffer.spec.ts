import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDeclaredFormat, ImageRejectedError } from './container.sniffer.js';

function mbrDisk(): Uint8Array {
  const b = new Uint8Array(4096);
  b[450] = 0xee;
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

function qcow2Header(mutate?: (v: DataView) => void): Uint8Array {
  const b = new Uint8Array(4096);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0x514649fb);
  v.setUint32(4, 3);
  v.setUint32(100, 104); // header length
  mutate?.(v);
  return b;
}

const rejects = (code: string, fn: () => unknown) =>
  assert.throws(fn, (e: unknown) => e instanceof ImageRejectedError && e.code === code);

test('accepts a raw GPT disk and a plain qcow2 v3', () => {
  assert.equal(checkDeclaredFormat('raw', mbrDisk(), 64 << 20), 'raw');
  assert.equal(checkDeclaredFormat('qcow2', qcow2Header(), 1 << 20), 'qcow2');
});

test('rejects empty and non-disk content', () => {
  rejects('empty', () => checkDeclaredFormat('raw', new Uint8Array(0), 0));
  rejects('not_a_disk', () => checkDeclaredFormat('raw', new TextEncoder().encode('hello, this is a text file\n'), 27));
  rejects('not_a_disk', () => checkDeclaredFormat('raw', new Uint8Array(4096), 4096));
});

test('the declared format must match the content (CVE-2024-40767 shape)', () => {
  rejects('format_mismatch', () => checkDeclaredFormat('raw', qcow2Header(), 1 << 20));
  rejects('format_mismatch', () => checkDeclaredFormat('qcow2', mbrDisk(), 1 << 20));
});

test('rejects qcow2 features that let QEMU read host files', () => {
  rejects('unsafe_qcow2', () => checkDeclaredFormat('qcow2', qcow2Header((v) => v.setBigUint64(8, 512n)), 1 << 20));
  rejects('unsafe_qcow2', () => checkDeclaredFormat('qcow2', qcow2Header((v) => v.setBigUint64(72, 4n)), 1 << 20));
  rejects('unsafe_qcow2', () => checkDeclaredFormat('qcow2', qcow2Header((v) => v.setBigUint64(72, 1n << 10n)), 1 << 20));
  rejects('unsafe_qcow2', () => checkDeclaredFormat('qcow2', qcow2Header((v) => v.setUint32(4, 1)), 1 << 20));
  rejects('truncated', () => checkDeclaredFormat('qcow2', qcow2Header().slice(0, 50), 50));
});

test('a raw disk must be whole sectors', () => {
  rejects('truncated', () => checkDeclaredFormat('raw', mbrDisk(), 4097));
});
