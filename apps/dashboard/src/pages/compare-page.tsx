import type { ConsoleCompareDto } from '@bootfarm/contracts';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api } from '../api.js';
import { plainText } from '../console-view.js';
import { duration, Empty, ErrorNote, Loading, StatusBadge } from '../layout.js';
import { usePoll } from '../use-poll.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Two cells' consoles side by side, aligned by boot stage, with the first place they differ. */
export function ComparePage() {
  const [params] = useSearchParams();
  const a = params.get('a') ?? '';
  const b = params.get('b') ?? '';
  if (!UUID.test(a) || !UUID.test(b)) return <ChooseCells a={a} b={b} />;
  return <Comparison a={a} b={b} />;
}

function ChooseCells({ a, b }: { a: string; b: string }) {
  const navigate = useNavigate();
  const [x, setX] = useState(a);
  const [y, setY] = useState(b);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void navigate(`/compare?a=${encodeURIComponent(x.trim())}&b=${encodeURIComponent(y.trim())}`);
  };
  return (
    <section>
      <h1>Compare two consoles</h1>
      <p className="muted">Pick two cells on a run page ("Compare two cells"), or give their ids.</p>
      {(a || b) && <p className="error" role="alert">Both cells are needed, each by its id.</p>}
      <form className="filters" onSubmit={submit} aria-label="cells to compare">
        <label>Cell A <input value={x} onChange={(e) => setX(e.target.value)} size={38} required /></label>
        <label>Cell B <input value={y} onChange={(e) => setY(e.target.value)} size={38} required /></label>
        <button type="submit">Compare</button>
      </form>
    </section>
  );
}

function Comparison({ a, b }: { a: string; b: string }) {
  const { value: c, error, loading } = usePoll(() => api.compare(a, b), [a, b], 0, () => false);
  if (loading) return <Loading />;
  if (!c) return error ? <ErrorNote error={error} what="cell" /> : null;
  const d = c.divergence;
  return (
    <section>
      <h1>Compare consoles</h1>
      <div className="compare-sides">
        <Side label="A" side={c.a} />
        <Side label="B" side={c.b} />
      </div>
      <p><Link to={`/compare?a=${c.b.cellId}&b=${c.a.cellId}`}>Swap A and B</Link></p>
      <h2>Stages</h2>
      <div className="table-scroll">
        <table className="history" data-testid="compare-stages">
          <thead>
            <tr><th scope="col">Stage</th><th scope="col">A</th><th scope="col">B</th><th scope="col">Lines</th></tr>
          </thead>
          <tbody>
            {c.stages.map((s) => (
              <tr key={s.stage} data-testid="compare-stage" data-stage={s.stage} data-same={String(s.same)} className={s.same ? undefined : 'row-alert'}>
                <th scope="row">{s.stage.replaceAll('_', ' ')}{d?.stage === s.stage && <span className="verdict-reason">first difference here</span>}</th>
                <td>{s.a ? `${s.a.lines} lines, ${duration(s.a.durationMs)}` : <span className="muted">not reached</span>}</td>
                <td>{s.b ? `${s.b.lines} lines, ${duration(s.b.durationMs)}` : <span className="muted">not reached</span>}</td>
                <td>{s.same ? <StatusBadge status="same" /> : <span className="badge badge-fail">different</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>First divergence</h2>
      {d ? (
        <>
          <p data-testid="divergence-summary">
            In the <strong>{d.stage.replaceAll('_', ' ')}</strong> stage: A at line {d.aSeq === null ? '— (ended)' : `#${d.aSeq}`}, B at line {d.bSeq === null ? '— (ended)' : `#${d.bSeq}`}.
            Addresses, numbers and timestamps are set aside when comparing.
          </p>
          <div className="compare-sides" data-testid="divergence">
            <Lines label="A" cellId={c.a.cellId} lines={d.a} at={d.aSeq} />
            <Lines label="B" cellId={c.b.cellId} lines={d.b} at={d.bSeq} />
          </div>
        </>
      ) : (
        <Empty>The consoles agree line for line (once addresses, numbers and timestamps are set aside).</Empty>
      )}
    </section>
  );
}

function Side({ label, side }: { label: string; side: ConsoleCompareDto['a'] }) {
  return (
    <div className="compare-side" data-testid={`side-${label.toLowerCase()}`}>
      <h2>{label}: <Link to={`/cells/${side.cellId}`}><code>{side.key}</code></Link></h2>
      <p>{side.outcome ? <StatusBadge status={side.outcome} /> : <span className="muted">no result</span>} · {side.lines} lines · <Link to={`/runs/${side.runId}`}>run</Link></p>
    </div>
  );
}

function Lines({ label, cellId, lines, at }: { label: string; cellId: string; lines: NonNullable<ConsoleCompareDto['divergence']>['a']; at: number | null }) {
  return (
    <div className="compare-side">
      <h3>{label}</h3>
      {lines.length === 0 ? <p className="muted">No lines here: this console ended.</p> : (
        <div className="console compare-console" role="log" aria-label={`console ${label} around the divergence`} tabIndex={0}>
          {lines.map((l) => (
            <div key={l.seq} className={`line${l.seq === at ? ' deciding' : ''}`} data-testid={l.seq === at ? `diverging-${label.toLowerCase()}` : undefined}>
              <Link to={`/cells/${cellId}?line=${l.seq}`} className="offset" tabIndex={-1}>#{l.seq}</Link>
              <span className="text">{plainText(l.text)}</span>
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
