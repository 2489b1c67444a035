import type { FindingDto, ImageHistoryDto } from '@bootfarm/contracts';
import { Link, useParams } from 'react-router';
import { api, ApiError } from '../api.js';
import { bytes, duration, Empty, ErrorNote, Loading, StatusBadge } from '../layout.js';
import { usePoll } from '../use-poll.js';

/** One image: what static inspection found, with evidence, and its cells' history. */
export function ImagePage() {
  const { imageId = '' } = useParams();
  const { value: image, error, loading } = usePoll(() => api.image(imageId), [imageId], 0, () => false);
  if (loading) return <Loading />;
  if (!image) return error ? <ErrorNote error={error} what="image" /> : null;
  const ins = image.inspection;
  return (
    <section>
      <h1>Image <span data-testid="image-title">{image.name}</span></h1>
      <dl className="facts">
        <dt>Digest</dt><dd><code className="digest">{image.sha256}</code></dd>
        <dt>Format</dt><dd>{image.format}</dd>
        <dt>Size</dt><dd>{bytes(image.sizeBytes)}</dd>
        <dt>Uploaded</dt><dd>{new Date(image.createdAt).toLocaleString()}</dd>
        {ins && (
          <>
            <dt>Virtual size</dt><dd>{bytes(ins.virtualSize)}</dd>
            <dt>Architectures</dt><dd>{ins.architectures.length > 0 ? ins.architectures.join(', ') : 'none declared'}</dd>
            <dt>qemu-img</dt><dd>{ins.qemuImg ? `${ins.qemuImg.format}, ${bytes(ins.qemuImg.virtualSize)}` : 'not checked'}</dd>
          </>
        )}
      </dl>
      <p><Link to={`/?imageName=${encodeURIComponent(image.name)}`}>Runs of this image</Link></p>
      <h2>Inspection findings</h2>
      {ins ? <Findings findings={ins.findings} /> : <Empty>This image was stored without an inspection record.</Empty>}
      <h2>History</h2>
      <History imageId={image.id} />
    </section>
  );
}

const levelOrder = { fail: 0, warn: 1, info: 2, pass: 3 } as const;

function Findings({ findings }: { findings: FindingDto[] }) {
  if (findings.length === 0) return <Empty>No findings.</Empty>;
  const sorted = [...findings].sort((a, b) => levelOrder[a.level] - levelOrder[b.level] || a.id.localeCompare(b.id, undefined, { numeric: true }));
  return (
    <div className="table-scroll">
      <table className="findings" data-testid="findings">
        <thead>
          <tr><th scope="col">Requirement</th><th scope="col">Level</th><th scope="col">Finding</th><th scope="col">Evidence</th></tr>
        </thead>
        <tbody>
          {sorted.map((f, i) => (
            <tr key={`${f.id}-${f.check}-${i}`} data-testid="finding" data-level={f.level}>
              <th scope="row"><code>{f.id}</code><br /><span className="muted">{f.check}</span></th>
              <td><StatusBadge status={f.level} /></td>
              <td>{f.message}</td>
              <td>
                {f.evidence.length === 0 ? <span className="muted">—</span> : (
                  <ul className="evidence">
                    {f.evidence.map((e, j) => (
                      <li key={j}>
                        {e.what}
                        {e.offset !== undefined && <> at byte <code>0x{e.offset.toString(16)}</code></>}
                        {e.value !== undefined && <> = <code>{e.value}</code></>}
                        {e.expected !== undefined && <> (expected <code>{e.expected}</code>)</>}
                        {e.bytes && <> bytes <code className="bytes">{e.bytes}</code></>}
                      </li>
                    ))}
                  </ul>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The image's cells over time (GET /api/images/:id/history); a clear note when the farm has no history yet. */
function History({ imageId }: { imageId: string }) {
  const { value, error, loading } = usePoll(() => api.imageHistory(imageId), [imageId], 0, () => false);
  if (loading) return <Loading />;
  if (error || !value) {
    const missing = error instanceof ApiError && error.status === 404;
    return (
      <p className="error" role="alert" data-testid="history-error">
        {missing ? 'History is not available on this farm yet (the scheduler has no history endpoint).' : `History could not be loaded: ${error?.message ?? 'no answer'}`}
      </p>
    );
  }
  return <HistoryTable history={value} />;
}

function HistoryTable({ history }: { history: ImageHistoryDto }) {
  if (history.cells.length === 0) return <Empty>No boots recorded for this image yet.</Empty>;
  const regressionsOf = (key: string, backend: string) => history.regressions.filter((r) => r.key === key && r.backend === backend);
  return (
    <div data-testid="history">
      <h3>Regressions</h3>
      {history.regressions.length === 0 ? <Empty>No regressions: no cell newly failed where it passed before.</Empty> : (
        <ul className="plain">
          {history.regressions.map((r) => (
            <li key={r.id} data-testid="history-regression" data-state={r.state}>
              <StatusBadge status={r.state} /> on <code>{r.key}</code>
              {r.signature && <> · <Link to={`/signatures/${r.signature.id}`}>{r.signature.title}</Link></>}
              {' · '}opened {new Date(r.openedAt).toLocaleString()} in <Link to={`/runs/${r.openedRunId}`}>this run</Link>
              {r.closedRunId && <>, closed in <Link to={`/runs/${r.closedRunId}`}>this run</Link></>}
              <span className="verdict-reason">re-runs {r.checks.done}/{r.checks.requested}, {r.checks.failed} failed · compared by {r.basis}</span>
            </li>
          ))}
        </ul>
      )}
      <h3>Cells over time</h3>
      <div className="table-scroll">
        <table className="history">
          <thead>
            <tr><th scope="col">Cell</th><th scope="col">Boots</th><th scope="col">Passes</th><th scope="col">Flake rate</th><th scope="col">Regression</th><th scope="col">Results, newest first</th></tr>
          </thead>
          <tbody>
            {history.cells.map((c) => {
              const regs = regressionsOf(c.key, c.backend);
              return (
                <tr key={`${c.key} ${c.backend}`} data-testid="history-cell">
                  <th scope="row"><code>{c.key}</code>{c.lastOutcome && <span className="verdict-reason">last: {c.lastOutcome.replaceAll('_', ' ')}</span>}</th>
                  <td>{c.boots}</td>
                  <td>{c.passes}</td>
                  <td data-testid="flake-rate">{Math.round(c.flakeRate * 100)}% <span className="muted">({c.flakyFailures} of {c.failures} failure{c.failures === 1 ? '' : 's'} did not reproduce)</span></td>
                  <td>{regs.length === 0 ? <span className="muted">—</span> : regs.map((r) => <StatusBadge key={r.id} status={r.state} />)}</td>
                  <td>
                    <span className="pip-line">
                      {c.results.map((r) => {
                        const what = `${r.outcome.replaceAll('_', ' ')}${r.transition && r.transition !== 'still_passing' && r.transition !== 'still_failing' ? ` (${r.transition.replaceAll('_', ' ')})` : ''} · ${new Date(r.at).toLocaleString()} · ${duration(r.durationMs)}${r.signature ? ` · ${r.signature.title}` : ''}`;
                        return (
                          <Link key={r.resultId} to={`/cells/${r.cellId}`} className={`pip pip-${r.outcome} transition-${r.transition ?? 'none'}`} title={what} data-testid="history-result" data-outcome={r.outcome}>
                            <span className="sr-only">{what}</span>
                          </Link>
                        );
                      })}
                    </span>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p className="muted small">A ringed mark is a new failure (red) or a fix (green).</p>
    </div>
  );
}
