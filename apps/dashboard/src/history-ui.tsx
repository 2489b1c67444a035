import type { AxisCountDto, HistoryResultDto, SearchHitDto } from '@bootfarm/contracts';
import { Link } from 'react-router';
import { plainText } from './console-view.js';
import { duration, StatusBadge } from './layout.js';

/** A date and time, short. */
export const when = (iso: string) => new Date(iso).toLocaleString();

/** Values of one axis with their counts, as tags. */
export function AxisCounts({ values }: { values: AxisCountDto[] }) {
  if (values.length === 0) return <span className="muted">—</span>;
  return <>{values.map((v) => <span key={v.value} className="tag"><code>{v.value}</code> × {v.count}</span>)}</>;
}

/** Boot results (occurrences, search hits): each links to its cell, run, image and signature. */
export function ResultsTable({ items, testId, caption }: { items: (HistoryResultDto | SearchHitDto)[]; testId: string; caption: string }) {
  return (
    <div className="table-scroll">
      <table className="history results">
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">When</th><th scope="col">Outcome</th><th scope="col">Image</th><th scope="col">Cell</th>
            <th scope="col" className="wide-only">Stage</th><th scope="col">Signature</th>
          </tr>
        </thead>
        <tbody>
          {items.map((r) => {
            const line = 'line' in r ? r.line : null;
            return (
              <tr key={r.resultId} data-testid={testId}>
                <td>{when(r.at)}<br /><Link to={`/runs/${r.runId}`} className="muted">run</Link></td>
                <td><StatusBadge status={r.outcome} />{r.failureClass && <span className="verdict-reason">{r.failureClass}</span>}</td>
                <td><Link to={`/images/${r.image.id}`}>{r.image.name}</Link></td>
                <td>
                  <Link to={`/cells/${r.cellId}${line ? `?line=${line.seq}` : ''}`}><code>{r.key}</code></Link>
                  <span className="verdict-reason">{r.backend} · {duration(r.durationMs)}{r.transition ? ` · ${r.transition.replaceAll('_', ' ')}` : ''}</span>
                  {line && (
                    <Link to={`/cells/${r.cellId}?line=${line.seq}`} className="hit-line" data-testid="hit-line" aria-label={`line ${line.seq} of the console: ${plainText(line.text)}`}>
                      <span className="muted">#{line.seq} {(line.offsetMs / 1000).toFixed(3)} s</span> <code>{plainText(line.text)}</code>
                    </Link>
                  )}
                </td>
                <td className="wide-only">{r.stage.replaceAll('_', ' ')}</td>
                <td>{r.signature ? <Link to={`/signatures/${r.signature.id}`}>{r.signature.title}</Link> : <span className="muted">—</span>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
