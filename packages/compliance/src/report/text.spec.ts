import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cleanText, compareRequirementIds, escapeHtml, escapeXml, escapeXmlText, evidenceLine, oneLine } from './text.js';

describe('cleanText', () => {
  const cases: Array<[string, string, string]> = [
    ['C0 controls except tab/LF/CR', 'a\x00b\x01c\x08d\x0be\x0cf\x0eg\x1fh\ti\nj\rk', 'abcdefgh\ti\nj\rk'],
    ['DEL and C1', 'a\x7fb\x85c\x9bd', 'abcd'],
    ['CSI and OSC sequences whole', '\x1b[1;31mred\x1b[0m \x1b]0;t\x07x \x1b]2;t\x1b\\y \x1b[?25l', 'red x y '],
    ['lone high and low surrogates', 'a\ud800b\udc00c', 'abc'],
    ['astral pairs kept', '😀 𝔘', '😀 𝔘'],
    ['noncharacters FFFE/FFFF', 'a\ufffeb\uffffc\ufffdd', 'abc\ufffdd'],
    ['bidi overrides and isolates', 'a\u202ab\u202ec\u2066d\u2069e', 'abcde'],
    ['ordinary Unicode', 'ünïcødé – ≥ ✓ 漢字', 'ünïcødé – ≥ ✓ 漢字'],
  ];
  for (const [name, input, want] of cases) it(name, () => assert.equal(cleanText(input), want));

  it('is linear on long hostile input', () => {
    const evil = '\x1b['.repeat(50_000) + '\x1b]'.repeat(50_000) + '\ud800'.repeat(50_000);
    const t = performance.now();
    cleanText(evil);
    assert.ok(performance.now() - t < 2000);
  });
});

describe('escaping', () => {
  it('XML attributes keep line breaks and tabs as references', () => {
    assert.equal(escapeXml(`<a b="c" d='e'>&\t\n\r\x00`), '&lt;a b=&quot;c&quot; d=&apos;e&apos;&gt;&amp;&#9;&#10;&#13;');
  });
  it('XML text keeps line breaks literally and never contains "]]>"', () => {
    assert.equal(escapeXmlText('x]]>\ny'), 'x]]&gt;\ny');
  });
  it('HTML', () => {
    assert.equal(escapeHtml(`<img src=x onerror="a('b')">&`), '&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;');
  });
  it('oneLine marks embedded line breaks', () => {
    assert.equal(oneLine('a\r\nb\nc\rd'), 'a⏎b⏎c⏎d');
  });
});

describe('evidenceLine', () => {
  it('puts every field of an item on one line', () => {
    assert.equal(
      evidenceLine({ source: 'image', what: 'ESP type', value: 'v', expected: 'e', offset: 2816, bytes: '28 73' }),
      'image: ESP type | value=v | expected=e | offset 2816 (0xb00) | bytes 28 73',
    );
    assert.equal(evidenceLine({ source: 'probe', what: 'rtc', probeBoot: 2, seq: 7, offsetMs: 812.5, line: 'VMSPEC-PROBE x\ny' }), 'probe: rtc | boot 2 seq 7 @812.5ms: VMSPEC-PROBE x⏎y');
    assert.equal(evidenceLine({ source: 'run', what: 'cell verdict', cellKey: 'k', value: 'pass' }), 'run: cell verdict | cell k | value=pass');
  });
});

describe('compareRequirementIds', () => {
  it('orders by group then number', () => {
    assert.deepEqual(['OS-1', 'HW-10', 'IMG-10', 'FW-2', 'IMG-2', 'HW-9'].sort(compareRequirementIds), ['IMG-2', 'IMG-10', 'FW-2', 'HW-9', 'HW-10', 'OS-1']);
  });
});
