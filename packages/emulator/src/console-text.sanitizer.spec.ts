import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sanitizeConsoleBytes, sanitizeConsoleText } from './console-text.sanitizer.js';

describe('sanitizeConsoleText', () => {
  const cases: Array<[string, string, string]> = [
    ['edk2 clear + home + mode', '\x1b[2J\x1b[01;01H\x1b[=3h\x1b[2J\x1b[01;01HBdsDxe: loading', 'BdsDxe: loading'],
    ['colours', '\x1b[1m\x1b[33m\x1b[40mMapping table\x1b[0m\x1b[37m\x1b[40m', 'Mapping table'],
    ['U-Boot cursor save/query/restore', '\x1b7\x1b[r\x1b[999;999H\x1b[6n\x1b8** Unable', '** Unable'],
    ['OSC title with BEL', 'a\x1b]0;evil title\x07b', 'ab'],
    ['OSC title with ST', 'a\x1b]2;t\x1b\\b', 'ab'],
    ['DCS string', 'a\x1bPq#0;2;0;0;0\x1b\\b', 'ab'],
    ['charset designation', 'a\x1b(Bb', 'ab'],
    ['CSI cut at end of line', 'text\x1b[12', 'text'],
    ['lone ESC at end', 'text\x1b', 'text'],
    ['carriage returns and backspaces', 'abc\r\x08\x08d\r', 'abcd'],
    ['NUL and BEL and DEL', 'a\x00b\x07c\x7f', 'abc'],
    ['C1 controls (8-bit CSI)', 'a\u009b31mb', 'a31mb'],
    ['bidi override', 'file\u202Egnp.exe', 'filegnp.exe'],
    ['tabs survive', 'a\tb', 'a\tb'],
    ['unicode survives', 'ünïcødé ✓', 'ünïcødé ✓'],
  ];
  for (const [name, input, want] of cases) {
    it(name, () => assert.equal(sanitizeConsoleText(input), want));
  }

  it('replaces invalid UTF-8 rather than failing', () => {
    assert.equal(sanitizeConsoleBytes(Buffer.from([0x61, 0xff, 0xfe, 0x62])), 'a\ufffd\ufffdb');
    assert.equal(sanitizeConsoleBytes(Buffer.from([0x61, 0x9b, 0x62])), 'a\ufffdb');
  });

  it('is linear on long hostile input', () => {
    const evil = '\x1b['.repeat(50_000) + '\x1b]'.repeat(50_000);
    const t = performance.now();
    sanitizeConsoleText(evil);
    assert.ok(performance.now() - t < 2000);
  });
});
