/** One sample of the Prometheus text exposition format. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A metric family: its `# TYPE`, `# HELP` and samples. */
export interface PromFamily {
  name: string;
  type: string;
  help: string;
  samples: PromSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:\\.|[^"\\])*)"(?:,|$)/y;
const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] };

/** Thrown for text that is not valid exposition format. */
export class PromParseError extends Error {
  readonly code = 'PROM_PARSE';
  override readonly name = 'PromParseError';
}

function parseValue(text: string, line: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const v = Number(text);
  if (!/^-?[0-9.]+(e[+-]?[0-9]+)?$/i.test(text) || Number.isNaN(v)) throw new PromParseError(`bad value in: ${line}`);
  return v;
}

/**
 * A strict parser of the text format 0.0.4, enough to check an exposition: every sample belongs
 * to the family declared above it (with the histogram suffixes), label sets are well formed and
 * unique, and every histogram series has cumulative buckets ending in +Inf equal to its count.
 */
export function parsePrometheusText(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  let current: PromFamily | null = null;
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new PromParseError(`bad metric name: ${line}`);
      const fam: PromFamily = families.get(name) ?? { name, type: 'untyped', help: '', samples: [] };
      if (kind === 'TYPE') fam.type = rest;
      else fam.help = rest;
      families.set(name, fam);
      current = fam;
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m || !current) throw new PromParseError(`not a sample line: ${line}`);
    const [, name, labelText = '', valueText] = m as unknown as [string, string, string | undefined, string];
    const allowed = (SUFFIXES[current.type] ?? ['']).map((s) => current!.name + s);
    if (!allowed.includes(name)) throw new PromParseError(`${name} outside its family ${current.name}`);
    const labels: Record<string, string> = {};
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < labelText.length) {
      const l = LABEL.exec(labelText);
      if (!l) throw new PromParseError(`bad labels: ${line}`);
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new PromParseError(`duplicate series: ${line}`);
    seen.add(key);
    current.samples.push({ name, labels, value: parseValue(valueText, line) });
  }
  for (const fam of families.values()) if (fam.type === 'histogram') checkHistogram(fam);
  return families;
}

function checkHistogram(fam: PromFamily): void {
  const series = new Map<string, { buckets: [number, number][]; count?: number }>();
  const keyOf = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).filter(([k]) => k !== 'le').sort());
  for (const s of fam.samples) {
    const entry = series.get(keyOf(s.labels)) ?? { buckets: [] };
    if (s.name.endsWith('_bucket')) entry.buckets.push([s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), s.value]);
    if (s.name.endsWith('_count')) entry.count = s.value;
    series.set(keyOf(s.labels), entry);
  }
  for (const [key, { buckets, count }] of series) {
    const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
    if (sorted.at(-1)?.[0] !== Infinity) throw new PromParseError(`${fam.name}${key}: no +Inf bucket`);
    for (let i = 1; i < sorted.length; i++) if (sorted[i]![1] < sorted[i - 1]![1]) throw new PromParseError(`${fam.name}${key}: buckets not cumulative`);
    if (sorted.at(-1)![1] !== count) throw new PromParseError(`${fam.name}${key}: +Inf bucket differs from count`);
  }
}
