import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConsoleCapture, truncationMarkerPrefix } from './console.capture.js';
import { readSampleRaw, readSampleTimed } from './testing.helpers.js';

describe('ConsoleCapture', () => {
  it('numbers lines consecutively with non-decreasing offsets from the injected clock', () => {
    let now = 0;
    const c = new ConsoleCapture({ now: () => now });
    const lines = [];
    now = 5.7;
    lines.push(...c.write(Buffer.from('a\nb')));
    now = 3; // a clock going backwards must not make offsets go backwards
    lines.push(...c.write(Buffer.from('\nc\n')));
    now = 12.2;
    lines.push(...c.flush('eof'));
    assert.deepEqual(lines, [
      { seq: 0, offsetMs: 5, text: 'a', end: 'newline' },
      { seq: 1, offsetMs: 5, text: 'b', end: 'newline' },
      { seq: 2, offsetMs: 5, text: 'c', end: 'newline' },
    ]);
    assert.equal(c.lineCount, 3);
  });

  it('stores raw bytes up to the cap, then only counts them, and keeps splitting lines', () => {
    const c = new ConsoleCapture({ now: () => 0, maxRawBytes: 10 });
    c.write(Buffer.from('12345\n'));
    assert.equal(c.truncated, false);
    const lines = c.write(Buffer.from('67890\nabc\n'));
    assert.deepEqual(lines.map((l) => l.text), ['67890', 'abc']);
    assert.equal(c.totalBytes, 16);
    assert.equal(c.truncated, true);
    assert.equal(c.raw().toString(), '12345\n6789');
    c.write(Buffer.alloc(1 << 20));
    assert.equal(c.raw().length, 10);
    assert.equal(c.totalBytes, 16 + (1 << 20));
  });

  it('copies chunks (callers may reuse their buffers)', () => {
    const c = new ConsoleCapture({ now: () => 0 });
    const b = Buffer.from('abc\n');
    c.write(b);
    b.fill(0);
    assert.equal(c.raw().toString(), 'abc\n');
  });

  it('replays a real sample with its timing: offsets follow the transcript', async () => {
    const timed = await readSampleTimed('probe-aa64-aavmf-acpi');
    let now = 0;
    const c = new ConsoleCapture({ now: () => now });
    const out = [];
    for (const l of timed) {
      now = l.seconds * 1000;
      out.push(...c.write(Buffer.from(`${l.text}\r\n`)));
    }
    assert.equal(out.length, timed.length);
    assert.equal(out.at(-2)!.text, 'VMSPEC-PROBE result=done');
    assert.equal(out.at(-2)!.offsetMs, 1022);
    for (let i = 1; i < out.length; i++) assert.ok(out[i]!.offsetMs >= out[i - 1]!.offsetMs);
    assert.equal(c.raw().length, c.totalBytes);
    assert.ok(Buffer.compare(c.raw(), Buffer.from(timed.map((l) => `${l.text}\r\n`).join(''))) === 0);
    assert.ok((await readSampleRaw('probe-aa64-aavmf-acpi')).length > 0);
  });
});

describe('ConsoleCapture.forStorage', () => {
  it('stores lines up to the byte cap, then one explicit truncation marker, then nothing', () => {
    const c = new ConsoleCapture({ now: () => 0, maxRawBytes: 100 });
    const stored = [];
    let analysed = 0;
    for (let i = 0; i < 50; i++) {
      for (const line of c.write(Buffer.from(`line ${i} padding\n`))) {
        analysed++;
        const s = c.forStorage(line);
        if (s) stored.push(s);
      }
    }
    assert.equal(analysed, 50, 'every line is still produced for the analyzer');
    assert.ok(c.truncated);
    const last = stored.at(-1)!;
    assert.ok(last.text.startsWith(truncationMarkerPrefix), last.text);
    assert.equal(stored.filter((l) => l.text.startsWith(truncationMarkerPrefix)).length, 1);
    assert.ok(stored.length < 10, `stored ${stored.length} lines for 100 bytes`);
    assert.deepEqual(stored.map((l) => l.seq), stored.map((_, i) => i), 'stored seqs stay consecutive');
  });
});
