// Small inline SVG charts: a few dozen points each, so a chart library would add weight and
// nothing these need.

const PALETTE = ['#175cd3', '#d92d20', '#039855', '#7a5af8', '#dc6803', '#0e9384', '#c11574'];

/** Occurrences per day as bars, oldest first; the label says the total for screen readers. */
export function Sparkline({ values, label }: { values: number[]; label: string }) {
  const max = Math.max(1, ...values);
  const w = values.length * 4;
  return (
    <svg className="sparkline" viewBox={`0 0 ${w} 20`} width={w} height={20} role="img" aria-label={label} data-testid="sparkline">
      <title>{label}</title>
      <line x1={0} y1={19.5} x2={w} y2={19.5} stroke="#d0d5dd" strokeWidth={1} />
      {values.map((v, i) => v > 0 && <rect key={i} x={i * 4} y={20 - (v / max) * 19} width={3} height={(v / max) * 19} fill="#d92d20" />)}
    </svg>
  );
}

export interface Series {
  name: string;
  /** One value per label; null where the series has no point. */
  values: (number | null)[];
}

/** A line chart of a few series over labelled points (nights), with a legend. */
export function LineChart({ labels, series, max, format, title, testId }: { labels: string[]; series: Series[]; max?: number; format: (v: number) => string; title: string; testId?: string }) {
  const W = 600;
  const H = 180;
  const pad = { l: 56, r: 12, t: 10, b: 28 };
  const top = max ?? Math.max(1, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null)));
  const x = (i: number) => pad.l + (labels.length <= 1 ? (W - pad.l - pad.r) / 2 : (i * (W - pad.l - pad.r)) / (labels.length - 1));
  const y = (v: number) => pad.t + (1 - v / top) * (H - pad.t - pad.b);
  const ticks = [0, top / 2, top];
  const every = Math.max(1, Math.ceil(labels.length / 6));
  return (
    <figure className="chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title} preserveAspectRatio="xMidYMid meet">
        {ticks.map((t) => (
          <g key={t}>
            <line x1={pad.l} x2={W - pad.r} y1={y(t)} y2={y(t)} stroke="#e5e7eb" />
            <text x={pad.l - 6} y={y(t) + 4} textAnchor="end" fontSize={11} fill="#6b7280">{format(t)}</text>
          </g>
        ))}
        {labels.map((l, i) => (i % every === 0 || i === labels.length - 1) && (
          <text key={l} x={x(i)} y={H - 8} textAnchor="middle" fontSize={11} fill="#6b7280">{l.slice(5)}</text>
        ))}
        {series.map((s, si) => {
          const colour = PALETTE[si % PALETTE.length]!;
          const pts = s.values.map((v, i) => (v === null ? null : ([x(i), y(v)] as const)));
          // Gaps (nights without that series) break the line.
          const d = pts.map((p, i) => (p ? `${i > 0 && pts[i - 1] ? 'L' : 'M'}${p[0].toFixed(1)},${p[1].toFixed(1)}` : '')).join('');
          return (
            <g key={s.name}>
              <path d={d} fill="none" stroke={colour} strokeWidth={2} />
              {pts.map((p, i) => p && <circle key={i} cx={p[0]} cy={p[1]} r={3} fill={colour}><title>{`${s.name}, ${labels[i]}: ${format(s.values[i]!)}`}</title></circle>)}
            </g>
          );
        })}
      </svg>
      <ul className="legend">
        {series.map((s, si) => <li key={s.name}><span className="dot" style={{ background: PALETTE[si % PALETTE.length] }} aria-hidden="true" /> {s.name}</li>)}
      </ul>
    </figure>
  );
}
