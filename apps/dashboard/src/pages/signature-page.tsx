import { Link, useParams } from 'react-router';
import { api } from '../api.js';
import { Sparkline } from '../charts.js';
import { AxisCounts, ResultsTable, when } from '../history-ui.js';
import { Empty, ErrorNote, Loading } from '../layout.js';
import { usePages } from '../use-pages.js';
import { usePoll } from '../use-poll.js';

/** One signature: its aliases, what it affected and where it happened (newest first). */
export function SignaturePage() {
  const { signatureId = '' } = useParams();
  const { value: sig, error, loading } = usePoll(() => api.signature(signatureId), [signatureId], 0, () => false);
  if (loading) return <Loading />;
  if (!sig) return error ? <ErrorNote error={error} what="signature" /> : null;
  const a = sig.affected;
  return (
    <section>
      <p className="crumbs"><Link to="/failures">← Failures</Link></p>
      <h1 data-testid="signature-heading">{sig.title}</h1>
      <dl className="facts">
        <dt>Kind</dt><dd>{sig.kind === 'infrastructure' ? "infrastructure (the farm's fault)" : 'image or platform'}</dd>
        <dt>Failure class</dt><dd>{sig.failureClass}</dd>
        <dt>Stopped at</dt><dd>{sig.stage.replaceAll('_', ' ')}</dd>
        <dt>Occurrences</dt><dd data-testid="signature-count">{sig.occurrences} <Sparkline values={sig.daily} label={`${sig.daily.reduce((x, y) => x + y, 0)} in the last 30 days`} /></dd>
        <dt>First seen</dt><dd>{when(sig.firstSeenAt)}</dd>
        <dt>Last seen</dt><dd>{when(sig.lastSeenAt)}</dd>
        {sig.aliases.length > 0 && <><dt>Also seen as</dt><dd><ul className="plain" data-testid="aliases">{sig.aliases.map((t) => <li key={t}><code>{t}</code></li>)}</ul></dd></>}
      </dl>
      <h2>Affected</h2>
      <dl className="facts" data-testid="affected">
        <dt>Images</dt>
        <dd>{a.images.length === 0 ? <span className="muted">—</span> : a.images.map((i) => <span key={i.id} className="tag"><Link to={`/images/${i.id}`}>{i.name}</Link> × {i.count}</span>)}</dd>
        <dt>Vendors</dt><dd><AxisCounts values={a.vendors} /></dd>
        <dt>Backends</dt><dd><AxisCounts values={a.backends} /></dd>
        <dt>Hardware description</dt><dd data-testid="affected-hw"><AxisCounts values={a.hwDescription} /></dd>
        <dt>GIC</dt><dd><AxisCounts values={a.gic} /></dd>
        <dt>Firmware</dt><dd><AxisCounts values={a.firmware} /></dd>
        <dt>Cells</dt><dd><AxisCounts values={a.keys} /></dd>
      </dl>
      <p><Link to={`/search?signature=${sig.id}`}>Search within this signature</Link></p>
      <h2>Occurrences</h2>
      <Occurrences signatureId={sig.id} />
    </section>
  );
}

function Occurrences({ signatureId }: { signatureId: string }) {
  const list = usePages((cursor) => api.occurrences(signatureId, cursor), [signatureId]);
  if (list.loading) return <Loading />;
  return (
    <>
      {list.error && <ErrorNote error={list.error} />}
      {!list.error && list.items.length === 0 && <Empty>No occurrences you can see.</Empty>}
      {list.items.length > 0 && <ResultsTable items={list.items} testId="occurrence" caption="Occurrences, newest first" />}
      {list.nextCursor && <p><button type="button" onClick={list.loadMore} disabled={list.loadingMore}>{list.loadingMore ? 'Loading…' : 'Load more occurrences'}</button></p>}
    </>
  );
}
