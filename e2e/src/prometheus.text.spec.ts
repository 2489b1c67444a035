// The strict exposition parser used by ops.spec: it must refuse what a scraper would choke on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePrometheusText, PromParseError } from './prometheus.text.js';

const hist = (bucketA: number, inf: number, count: number) =>
  `# HELP h d\n# TYPE h histogram\nh_bucket{c="x",le="1"} ${bucketA}\nh_bucket{c="x",le="+Inf"} ${inf}\nh_sum{c="x"} 2.5\nh_count{c="x"} ${count}\n`;

test('parses families, labels with escapes, and labelled histograms', () => {
  const fams = parsePrometheusText(`# HELP g a gauge\n# TYPE g gauge\ng{q="a\\"b",s="w"} 3\ng{q="c",s="w"} 0\n\n${hist(1, 2, 2)}`);
  assert.deepEqual(fams.get('g')!.samples.map((s) => [s.labels.q, s.value]), [['a"b', 3], ['c', 0]]);
  assert.deepEqual(fams.get('h')!.samples.map((s) => s.name), ['h_bucket', 'h_bucket', 'h_sum', 'h_count']);
});

test('refuses duplicates, strays, bad values and inconsistent histograms', () => {
  for (const bad of [
    '# TYPE g gauge\ng 1\ng 2\n',
    '# TYPE g gauge\nother 1\n',
    '# TYPE g gauge\ng one\n',
    '# TYPE g gauge\ng{a=b} 1\n',
    hist(3, 2, 2),
    hist(1, 2, 3),
  ]) assert.throws(() => parsePrometheusText(bad), PromParseError, bad);
});
