import { ComplianceProfile, MATRIX_AXES, type CellDto, type RunDto, type RunImageDto, type VmProfile } from '@bootfarm/contracts';
import { useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { download } from '../api.js';
import { api } from '../api.js';
import { duration, Empty, ErrorNote, Loading, StatusBadge } from '../layout.js';
import { usePoll } from '../use-poll.js';

const running = (run: RunDto) => run.status === 'queued' || run.status === 'running';

/** One run: its images × cells as a grid, each image's verdict per profile and its reports. */
export function RunPage() {
  const { runId = '' } = useParams();
  const { value: run, error, loading } = usePoll(() => api.run(runId), [runId], 1000, running);
  if (loading) return <Loading />;
  if (!run) return error ? <ErrorNote error={error} what="run" /> : null;
  const counts = countBy(run.cells.map((c) => c.status));
  return (
    <section>
      <h1>
        Run of <span data-testid="image-name">{run.images.map((i) => i.name).join(', ')}</span> <StatusBadge status={run.status} />
      </h1>
      {error && <ErrorNote error={error} />}
      <p className="muted">
        {run.trigger === 'nightly' ? 'Nightly run' : 'Submitted'} {new Date(run.createdAt).toLocaleString()}
        {run.finishedAt && <> · finished {new Date(run.finishedAt).toLocaleString()}</>}
        {' · '}{run.cells.length} cells: {Object.entries(counts).map(([s, n]) => `${n} ${s.replaceAll('_', ' ')}`).join(', ')}
      </p>
      <MatrixGrid run={run} />
      {!running(run) && (
        <>
          <h2>Where it fails</h2>
          {run.images.map((image) => <Differential key={image.id} run={run} image={image} />)}
        </>
      )}
      <ComparePicker run={run} />
      <h2>Compliance</h2>
      {running(run) && <p className="muted">The verdicts and reports are written once every cell has ended.</p>}
      {!running(run) && run.images.map((image) => <ComplianceSummary key={image.id} run={run} image={image} />)}
    </section>
  );
}

const countBy = (xs: string[]) => xs.reduce<Record<string, number>>((acc, x) => ({ ...acc, [x]: (acc[x] ?? 0) + 1 }), {});

/** The axes whose values differ between the run's cells: the grid's column labels show only those. */
function varyingAxes(cells: CellDto[]): (keyof VmProfile)[] {
  return MATRIX_AXES.filter((axis) => new Set(cells.map((c) => String(c.profile[axis]))).size > 1);
}

const axisLabel = (axis: keyof VmProfile, value: unknown) =>
  axis === 'cpus' ? `${String(value)} cpu` : axis === 'memoryMiB' ? `${String(value)} MiB` : axis === 'gic' ? `GIC${String(value)}` : String(value);

/** Images (rows) × cells (columns), coloured by outcome; each cell links to its page. */
function MatrixGrid({ run }: { run: RunDto }) {
  const keys = [...new Set(run.cells.map((c) => c.key))];
  const byKey = new Map(run.cells.map((c) => [`${c.imageId} ${c.key}`, c]));
  const axes = varyingAxes(run.cells);
  const profileOf = new Map(run.cells.map((c) => [c.key, c.profile]));
  return (
    <div className="grid-scroll" tabIndex={-1}>
      <table className="matrix" data-testid="matrix">
        <caption className="sr-only">Cells of the run: images by platform</caption>
        <thead>
          <tr>
            <th scope="col">Image</th>
            {keys.map((k) => {
              const p = profileOf.get(k)!;
              return (
                <th scope="col" key={k} title={k}>
                  {axes.length > 0 ? axes.map((a) => <span key={a} className="axis">{axisLabel(a, p[a])}</span>) : <code>{k}</code>}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {run.images.map((image) => (
            <tr key={image.id}>
              <th scope="row"><Link to={`/images/${image.id}`}>{image.name}</Link></th>
              {keys.map((k) => {
                const cell = byKey.get(`${image.id} ${k}`);
                return <td key={k}>{cell ? <GridCell cell={cell} /> : '—'}</td>;
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function GridCell({ cell }: { cell: CellDto }) {
  const r = cell.result;
  return (
    <Link to={`/cells/${cell.id}`} className={`gcell gcell-${cell.status}`} data-testid="grid-cell" data-status={cell.status} aria-label={`${cell.key}: ${cell.status.replaceAll('_', ' ')}`}>
      <span className="gcell-status">{cell.status === 'not_applicable' ? 'not applicable' : cell.status.replaceAll('_', ' ')}</span>
      {cell.reason && <span className="gcell-note" data-testid="cell-reason">{cell.reason}</span>}
      {cell.waitingFor && <span className="gcell-note">waiting for a {cell.waitingFor} worker</span>}
      {r && <span className="gcell-note">{r.stage.replaceAll('_', ' ')} · {duration(r.durationMs)}</span>}
    </Link>
  );
}

export const profileNames: Record<ComplianceProfile, string> = { 'vmspec-1.0': 'VM spec v1.0', 'vmspec-2.0': 'VM spec v2.0', bbr: 'BBR-aligned' };

/** An image's verdict per profile in the run, and its reports (JSON, JUnit, HTML). */
function ComplianceSummary({ run, image }: { run: RunDto; image: RunImageDto }) {
  const base = `/api/runs/${encodeURIComponent(run.id)}/compliance`;
  const q = `image=${encodeURIComponent(image.id)}`;
  const stem = `bootfarm-${run.id}-${image.name.replace(/[^\w.+@-]+/g, '_')}`;
  return (
    <article className="compliance" data-testid="compliance">
      {run.images.length > 1 && <h3>{image.name}</h3>}
      {image.compliance ? (
        <table>
          <thead>
            <tr><th scope="col">Profile</th><th scope="col">Verdict</th><th scope="col">Failing requirements</th></tr>
          </thead>
          <tbody>
            {ComplianceProfile.options.map((p) => {
              const s = image.compliance![p];
              return (
                <tr key={p} data-testid={`verdict-${p}`}>
                  <th scope="row">{profileNames[p]}</th>
                  <td><StatusBadge status={s.verdict} /></td>
                  <td>{s.failing.length > 0 ? s.failing.join(', ') : '—'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : (
        <p className="muted">No verdicts for this image in this run.</p>
      )}
      <p>
        Reports{run.images.length > 1 ? ` of ${image.name}` : ''}: <ReportLink path={`${base}/html?${q}`} file={`${stem}.html`}>HTML</ReportLink>
        {' · '}<ReportLink path={`${base}?${q}`} file={`${stem}.json`}>JSON</ReportLink>
        {' · '}<ReportLink path={`${base}/junit?${q}`} file={`${stem}-vmspec-2.0.junit.xml`}>JUnit (v2.0)</ReportLink>
      </p>
    </article>
  );
}

/** A report download: the API needs the token, so a plain link cannot fetch it. */
function ReportLink({ path, file, children }: { path: string; file: string; children: string }) {
  return (
    <button type="button" className="link" onClick={() => void download(path, file).catch((e: Error) => alert(e.message))}>
      {children}
    </button>
  );
}

/** One image's cells in this run read in plain words ("fails on every platform with ACPI"), grouped by outcome. */
function Differential({ run, image }: { run: RunDto; image: RunImageDto }) {
  const { value: d, error, loading } = usePoll(() => api.differential(run.id, image.id), [run.id, image.id, run.status], 0, () => false);
  if (loading) return <Loading />;
  if (!d) return error ? <p className="error" role="alert">The differential could not be loaded: {error.message}</p> : null;
  return (
    <article className="differential" data-testid="differential">
      <p>{run.images.length > 1 && <><strong>{image.name}</strong>: </>}<span className="statement" data-testid="differential-statement">{d.statement}</span></p>
      {d.groups.length > 0 && (
        <ul className="plain">
          {d.groups.map((g, i) => (
            <li key={i} data-testid="differential-group">
              <StatusBadge status={g.outcome} /> {g.cells.length} cell{g.cells.length === 1 ? '' : 's'}
              {g.failureClass && <> · {g.failureClass}</>}
              {g.signature && <> · <code>{g.signature}</code></>}
              :{' '}
              {g.cells.map((c) => <Link key={c.cellId} to={`/cells/${c.cellId}`} className="tag" title={c.workerHost ? `booted on ${c.workerHost}` : undefined}><code>{c.key}</code></Link>)}
            </li>
          ))}
        </ul>
      )}
    </article>
  );
}

/** Two of the run's cells (with a result) to compare side by side; `?compare=<cell>` preselects one. */
function ComparePicker({ run }: { run: RunDto }) {
  const [params] = useSearchParams();
  const booted = run.cells.filter((c) => c.result);
  const label = (c: CellDto) => `${run.images.length > 1 ? `${run.images.find((i) => i.id === c.imageId)?.name ?? ''} ` : ''}${c.key} (${c.status.replaceAll('_', ' ')})`;
  const pre = booted.find((c) => c.id === params.get('compare'));
  const firstFail = booted.find((c) => c.status !== 'passed');
  const initialA = pre ?? firstFail ?? booted[0];
  const initialB = booted.find((c) => c.id !== initialA?.id && c.status !== initialA?.status) ?? booted.find((c) => c.id !== initialA?.id);
  const [a, setA] = useState(initialA?.id ?? '');
  const [b, setB] = useState(initialB?.id ?? '');
  return (
    <section aria-labelledby="compare-heading" id="compare">
      <h2 id="compare-heading">Compare two cells</h2>
      {booted.length < 2 ? <Empty>Two cells with a result are needed to compare consoles.</Empty> : (
        <div className="compare-pick" data-testid="compare-pick">
          <label>A <select value={a} onChange={(e) => setA(e.target.value)}>{booted.map((c) => <option key={c.id} value={c.id}>{label(c)}</option>)}</select></label>
          <label>B <select value={b} onChange={(e) => setB(e.target.value)}>{booted.map((c) => <option key={c.id} value={c.id}>{label(c)}</option>)}</select></label>
          {a && b && a !== b ? <Link to={`/compare?a=${a}&b=${b}`} data-testid="compare-link">Compare consoles</Link> : <span className="muted">Choose two different cells.</span>}
        </div>
      )}
    </section>
  );
}
