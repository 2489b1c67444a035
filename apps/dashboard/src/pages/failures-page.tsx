import { SignatureKind } from '@bootfarm/contracts';
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, type SignatureFilter } from '../api.js';
import { Sparkline } from '../charts.js';
import { when } from '../history-ui.js';
import { Empty, ErrorNote, Loading, StatusBadge } from '../layout.js';
import { usePages } from '../use-pages.js';

/** Failure signatures, most recently seen first, filtered by kind, failure class and title (kept in the URL). */
export function FailuresPage() {
  const [params, setParams] = useSearchParams();
  const filter: SignatureFilter = {
    kind: SignatureKind.safeParse(params.get('kind')).data,
    failureClass: params.get('failureClass') ?? undefined,
    q: params.get('q') ?? undefined,
  };
  const key = JSON.stringify(filter);
  const list = usePages((cursor) => api.signatures(filter, cursor), [key]);
  const filtered = Boolean(filter.kind || filter.failureClass || filter.q);
  return (
    <section>
      <h1>Failures</h1>
      <p className="muted">The same failure grouped across images and platforms. <Link to="/search">Search the consoles</Link> for anything else.</p>
      <Filters filter={filter} onChange={(f) => setParams(Object.fromEntries(Object.entries(f).filter(([, v]) => v)) as Record<string, string>)} />
      {list.loading && <Loading />}
      {list.error && <ErrorNote error={list.error} />}
      {!list.loading && !list.error && list.items.length === 0 && (
        filtered ? <Empty>No signature matches these filters.</Empty> : <Empty>No failures recorded yet.</Empty>
      )}
      {list.items.length > 0 && (
        <div className="table-scroll">
          <table className="history" data-testid="signatures">
            <thead>
              <tr>
                <th scope="col">Signature</th><th scope="col">Count</th><th scope="col">Last 30 days</th>
                <th scope="col">Seen</th><th scope="col" className="wide-only">Backends</th><th scope="col" className="wide-only">Images</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((s) => (
                <tr key={s.id} data-testid="signature-row" data-id={s.id}>
                  <th scope="row">
                    <Link to={`/signatures/${s.id}`} data-testid="signature-title">{s.title}</Link>
                    <span className="verdict-reason">{s.kind === 'infrastructure' ? <StatusBadge status="infrastructure_error" /> : null} {s.failureClass} · stopped at {s.stage.replaceAll('_', ' ')}</span>
                  </th>
                  <td data-testid="signature-count">{s.occurrences}</td>
                  <td><Sparkline values={s.daily} label={`${s.daily.reduce((a, b) => a + b, 0)} in the last 30 days`} /></td>
                  <td>first {when(s.firstSeenAt)}<br />last {when(s.lastSeenAt)}</td>
                  <td className="wide-only">{s.backends.map((b) => <span key={b} className="tag">{b}</span>)}</td>
                  <td className="wide-only">{s.images}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.nextCursor && <p><button type="button" onClick={list.loadMore} disabled={list.loadingMore}>{list.loadingMore ? 'Loading…' : 'Load more signatures'}</button></p>}
    </section>
  );
}

function Filters({ filter, onChange }: { filter: SignatureFilter; onChange: (f: SignatureFilter) => void }) {
  const [q, setQ] = useState(filter.q ?? '');
  const [failureClass, setFailureClass] = useState(filter.failureClass ?? '');
  useEffect(() => setQ(filter.q ?? ''), [filter.q]);
  useEffect(() => setFailureClass(filter.failureClass ?? ''), [filter.failureClass]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onChange({ ...filter, q: q.trim() || undefined, failureClass: failureClass.trim() || undefined });
  };
  return (
    <form className="filters" role="search" aria-label="filter signatures" onSubmit={submit}>
      <label>
        Kind{' '}
        <select value={filter.kind ?? ''} onChange={(e) => onChange({ ...filter, kind: SignatureKind.safeParse(e.target.value).data })}>
          <option value="">any</option>
          <option value="product">image or platform</option>
          <option value="infrastructure">infrastructure</option>
        </select>
      </label>
      <label>
        Failure class{' '}
        <input type="search" value={failureClass} onChange={(e) => setFailureClass(e.target.value)} placeholder="e.g. kernel_panic" maxLength={60} />
      </label>
      <label>
        Title{' '}
        <input type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="contains…" maxLength={200} />
      </label>
      <button type="submit">Filter</button>
      {(filter.kind || filter.failureClass || filter.q) && <button type="button" className="link" onClick={() => onChange({})}>Clear</button>}
    </form>
  );
}
