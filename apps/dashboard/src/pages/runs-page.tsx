import type { RunListDto } from '@bootfarm/contracts';
import { Link } from 'react-router';
import { api } from '../api.js';
import { ErrorNote, Loading, StatusBadge } from '../layout.js';
import { usePoll } from '../use-poll.js';

const live = (page: RunListDto) => page.items.some((r) => r.status === 'queued' || r.status === 'running');

/** All runs, newest first; refreshes while any of them is still going. */
export function RunsPage() {
  const { value, error, loading } = usePoll(() => api.runs(), [], 2000, live);
  return (
    <section>
      <h1>Runs</h1>
      {loading && <Loading />}
      {error && <ErrorNote error={error} />}
      {value && value.items.length === 0 && (
        <p className="muted">No runs yet. Upload an image with <code>POST /api/images</code> and create a run with <code>POST /api/runs</code>.</p>
      )}
      {value && value.items.length > 0 && (
        <table className="runs">
          <thead>
            <tr><th>Status</th><th>Image</th><th>Digest</th><th>Created</th><th>Finished</th></tr>
          </thead>
          <tbody>
            {value.items.map((run) => (
              <tr key={run.id}>
                <td><StatusBadge status={run.status} /></td>
                <td><Link to={`/runs/${run.id}`}>{run.image.name}</Link></td>
                <td><code title={run.image.sha256}>{run.image.sha256.slice(0, 12)}</code></td>
                <td>{new Date(run.createdAt).toLocaleString()}</td>
                <td>{run.finishedAt ? new Date(run.finishedAt).toLocaleString() : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
