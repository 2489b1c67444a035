import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImageRejectedError } from './container.errors.js';
import { checkDetectedFormat, detectFromBytes, type DetectedFormat } from './format.detector.js';

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
function image(size = 64 * 1024, ...writes: Array<[number, Uint8Array]>): Uint8Array {
  const b = new Uint8Array(size);
  for (const [o, d] of writes) b.set(d, o);
  return b;
}
const mbr: [number, Uint8Array] = [510, Uint8Array.of(0x55, 0xaa)];
const detect = (b: Uint8Array) => detectFromBytes(b, b.subarray(Math.max(0, b.length - 512)), b.length);
const rejects = (code: string, fn: () => unknown) => assert.throws(fn, (e: unknown) => e instanceof ImageRejectedError && e.code === code);

test('each signature is detected at its offset', () => {
  const cases: Array<[DetectedFormat, Uint8Array]> = [
    ['qcow2', image(undefined, [0, Uint8Array.of(0x51, 0x46, 0x49, 0xfb)])],
    ['qed', image(undefined, [0, ascii('QED\0')])],
    ['vmdk', image(undefined, [0, ascii('KDMV')])],
    ['vmdk', image(undefined, [0, ascii('# Disk DescriptorFile\ncreateType="monolithicFlat"\n')])],
    ['vhd', image(undefined, [0, ascii('conectix')])],
    ['vhd', image(undefined, [64 * 1024 - 512, ascii('conectix')])],
    ['vhd', image(undefined, [64 * 1024 - 511, ascii('conectix')])],
    ['vhdx', image(undefined, [0, ascii('vhdxfile')])],
    ['vdi', image(undefined, [0, ascii('<<< Oracle VM VirtualBox Disk Image >>>\n')], [0x40, Uint8Array.of(0x7f, 0x10, 0xda, 0xbe)])],
    ['iso', image(undefined, [0x8001, ascii('CD001')])],
    ['luks', image(undefined, [0, Uint8Array.of(0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe)])],
    ['raw', image(undefined, mbr)],
    ['raw', image(undefined)],
  ];
  for (const [want, bytes] of cases) assert.equal(detect(bytes).format, want, want);
  const vmdk = detect(cases[3]![1]);
  assert.equal(vmdk.matches[0]?.detail, 'monolithicFlat');
});

test('the VHD footer is found in a separate tail read of a large file', () => {
  const head = image(64 * 1024, mbr);
  const tail = image(512, [0, ascii('conectix')]);
  const d = detectFromBytes(head, tail, 10 * 1024 * 1024);
  assert.equal(d.format, 'vhd');
  assert.equal(d.matches[0]?.offset, 10 * 1024 * 1024 - 512);
});

test('disk signatures: MBR 55AA and GPT at 512 or 4096 are raw, not a format', () => {
  assert.deepEqual(detect(image(undefined, mbr, [512, ascii('EFI PART')])).diskSignature, { mbrBootSignature: true, gptHeaderOffset: 512 });
  assert.deepEqual(detect(image(undefined, [4096, ascii('EFI PART')])).diskSignature, { mbrBootSignature: false, gptHeaderOffset: 4096 });
  assert.equal(checkDetectedFormat('raw', detect(image(undefined, mbr))), 'raw');
});

test('rules: polyglots, formats not allowed, declared vs detected', () => {
  const qcow2 = Uint8Array.of(0x51, 0x46, 0x49, 0xfb);
  rejects('multiple_formats', () => checkDetectedFormat('qcow2', detect(image(undefined, [0, qcow2], [0x8001, ascii('CD001')]))));
  rejects('multiple_formats', () => checkDetectedFormat('qcow2', detect(image(undefined, [0, qcow2], [64 * 1024 - 512, ascii('conectix')]))));
  rejects('format_not_allowed', () => checkDetectedFormat('raw', detect(image(undefined, mbr, [0x8001, ascii('CD001')]))));
  rejects('format_not_allowed', () => checkDetectedFormat('qcow2', detect(image(undefined, [0, ascii('QED\0')]))));
  rejects('format_mismatch', () => checkDetectedFormat('raw', detect(image(undefined, [0, qcow2]))));
  rejects('format_mismatch', () => checkDetectedFormat('qcow2', detect(image(undefined, mbr))));
  assert.equal(checkDetectedFormat('qcow2', detect(image(undefined, [0, qcow2]))), 'qcow2');
});

test('tiny inputs never throw in detection', () => {
  for (const n of [0, 1, 4, 7, 100, 511, 512]) assert.equal(detect(new Uint8Array(n)).format, 'raw');
});
