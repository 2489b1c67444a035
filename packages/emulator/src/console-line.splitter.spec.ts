import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConsoleLineSplitter, type SplitLine } from './console-line.splitter.js';
import { sanitizeConsoleText } from './console-text.sanitizer.js';
import { readSampleRaw, readSampleTimed, sampleNames } from './testing.helpers.js';

function feed(splitter: ConsoleLineSplitter, data: Uint8Array, chunkSize: number): SplitLine[] {
  const out: SplitLine[] = [];
  for (let i = 0; i < data.length; i += chunkSize) out.push(...splitter.push(data.subarray(i, i + chunkSize)));
  return out;
}

function splitAll(data: Uint8Array, chunkSize: number, maxLineBytes?: number): SplitLine[] {
  const s = new ConsoleLineSplitter(maxLineBytes === undefined ? {} : { maxLineBytes });
  return [...feed(s, data, chunkSize), ...s.flush('eof')];
}

const texts = (lines: SplitLine[]): string[] => lines.map((l) => l.text);

describe('ConsoleLineSplitter', () => {
  it('splits on \\n and strips \\r, whatever the chunk boundaries', () => {
    const data = Buffer.from('first\r\nsecond\n\nthird\r\nlast without newline');
    const want = ['first', 'second', '', 'third', 'last without newline'];
    for (const size of [1, 2, 3, 5, 7, 1000]) assert.deepEqual(texts(splitAll(data, size)), want, `chunk size ${size}`);
  });

  it('handles CRLF split across chunks', () => {
    const s = new ConsoleLineSplitter();
    assert.deepEqual(s.push(Buffer.from('abc\r')), []);
    assert.deepEqual(texts(s.push(Buffer.from('\ndef\r'))), ['abc']);
    assert.deepEqual(texts(s.push(Buffer.from('\n'))), ['def']);
    assert.equal(s.pendingBytes, 0);
  });

  it('records why each line ended', () => {
    const s = new ConsoleLineSplitter({ maxLineBytes: 4 });
    const lines = [...s.push(Buffer.from('abcdefg\nxy')), ...s.flush('idle')];
    assert.deepEqual(lines.map((l) => [l.text, l.end]), [['abcd', 'length_cap'], ['efg', 'newline'], ['xy', 'idle']]);
    assert.deepEqual(s.flush('eof'), [], 'nothing pending after a flush');
  });

  it('caps a 1 MiB line into bounded continuation records, losing nothing', () => {
    const big = Buffer.alloc(1024 * 1024, 'x'.charCodeAt(0));
    const data = Buffer.concat([big, Buffer.from('\nnext\n')]);
    for (const size of [1, 4096, 65536, data.length]) {
      const lines = splitAll(data, size);
      assert.equal(lines.length, 256 + 1, `chunk size ${size}`);
      assert.ok(lines.slice(0, 255).every((l) => l.end === 'length_cap' && l.text.length === 4096));
      assert.equal(lines[255]!.end, 'newline');
      assert.equal(lines.slice(0, 256).reduce((n, l) => n + l.rawBytes, 0), big.length);
      assert.equal(lines[256]!.text, 'next');
    }
  });

  it('does not cut a multi-byte UTF-8 character at the cap', () => {
    // 3 ASCII bytes + "é" (2 bytes): the cap of 4 falls inside the character.
    const lines = splitAll(Buffer.from('abcé\n'), 1, 4);
    assert.deepEqual(lines.map((l) => [l.text, l.end]), [['abc', 'length_cap'], ['é', 'newline']]);
    const euro = Buffer.from('€'.repeat(1000) + '\n'); // 3 bytes each
    const parts = splitAll(euro, 7, 64);
    assert.equal(parts.map((l) => l.text).join(''), '€'.repeat(1000));
    assert.ok(parts.every((l) => !l.text.includes('\ufffd')));
  });

  it('survives binary junk: bounded records, no control characters, nothing lost', () => {
    let seed = 42;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 16;
    const junk = Buffer.alloc(256 * 1024);
    for (let i = 0; i < junk.length; i++) junk[i] = rand() & 0xff;
    for (const size of [1, 13, 4096]) {
      const lines = splitAll(junk, size, 512);
      const newlines = junk.reduce((n, b) => n + (b === 0x0a ? 1 : 0), 0);
      assert.equal(lines.filter((l) => l.end === 'newline').length, newlines);
      assert.equal(lines.reduce((n, l) => n + l.rawBytes, 0) + newlines, junk.length);
      for (const l of lines) {
        assert.ok(l.rawBytes <= 512);
        assert.doesNotMatch(l.text, /[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
      }
    }
  });

  it('replays every real console sample identically at any chunk size', async () => {
    const names = await sampleNames();
    assert.ok(names.length >= 30, `expected the console fixtures, found ${names.length}`);
    for (const name of names) {
      const raw = await readSampleRaw(name);
      const whole = splitAll(raw, raw.length);
      assert.equal(whole.filter((l) => l.end === 'newline').length, raw.reduce((n, b) => n + (b === 0x0a ? 1 : 0), 0), name);
      for (const size of [1, 3, 64]) assert.deepEqual(splitAll(raw, size), whole, `${name} in ${size}-byte chunks`);
      for (const l of whole) assert.doesNotMatch(l.text, /[\x1b\r\x00]/, `${name}: control characters left in ${JSON.stringify(l.text)}`);
    }
  });

  it('matches the timed transcripts line for line where they split identically', async () => {
    // The .tlog files were cut by a capture tool that also split on pauses, so compare only
    // the samples whose line counts agree.
    let compared = 0;
    for (const name of await sampleNames()) {
      const raw = await readSampleRaw(name);
      const ours = texts(splitAll(raw, 17));
      const timed = (await readSampleTimed(name)).map((l) => sanitizeConsoleText(l.text));
      if (ours.length !== timed.length) continue;
      assert.deepEqual(ours, timed, name);
      compared++;
    }
    assert.ok(compared >= 15, `only ${compared} samples compared`);
  });

  it('strips edk2 screen control from the real firmware output', async () => {
    const lines = texts(splitAll(await readSampleRaw('neg-x64-only-aavmf'), 5));
    assert.equal(lines[0], 'UEFI firmware (version  built at 13:10:49 on Nov  5 2024)');
    assert.equal(lines[1], 'BdsDxe: failed to load Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x1,0x0): Not Found');
    assert.ok(lines.includes('UEFI Interactive Shell v2.2'));
    assert.equal(lines.at(-1), 'Shell> ');
  });
});
