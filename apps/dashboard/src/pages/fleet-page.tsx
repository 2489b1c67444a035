import type { FleetQueuesDto, WorkerDto } from '@bootfarm/contracts';
import { api } from '../api.js';
import { duration, Empty, ErrorNote, Loading, StatusBadge } from '../layout.js';
import { usePoll } from '../use-poll.js';

/** The workers, what they can boot and how healthy they are; the queues and who waits for what. */
export function FleetPage() {
  const workers = usePoll(() => api.workers(), [], 5000, () => true);
  const queues = usePoll(() => api.queues(), [], 5000, () => true);
  return (
    <section>
      <h1>Fleet</h1>
      <h2>Capabilities</h2>
      {queues.loading ? <Loading /> : queues.value ? <Capabilities q={queues.value} /> : queues.error && <ErrorNote error={queues.error} />}
      <h2>Workers</h2>
      {workers.loading ? <Loading /> : workers.value ? <Workers workers={workers.value} /> : workers.error && <ErrorNote error={workers.error} />}
      <h2>Queues</h2>
      {queues.value && <Queues q={queues.value} />}
    </section>
  );
}

function Capabilities({ q }: { q: FleetQueuesDto }) {
  const unserved = q.capabilities.filter((c) => c.unserved);
  return (
    <>
      {unserved.length > 0 && (
        <p className="error" role="status" data-testid="unserved">
          Cells are waiting with no capable worker online: {unserved.map((c) => `${c.capability} (${c.queuedCells})`).join(', ')}.
        </p>
      )}
      <div className="table-scroll">
        <table className="runs" data-testid="capabilities">
          <thead><tr><th scope="col">Capability</th><th scope="col">Serving workers</th><th scope="col">Queued cells</th></tr></thead>
          <tbody>
            {q.capabilities.map((c) => (
              <tr key={c.capability} data-testid="capability" data-capability={c.capability} className={c.unserved ? 'row-alert' : undefined}>
                <th scope="row"><code>{c.capability}</code></th>
                <td>{c.servingWorkers}</td>
                <td>{c.queuedCells}{c.unserved ? ' — waiting for a capable worker' : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function Workers({ workers }: { workers: WorkerDto[] }) {
  if (workers.length === 0) return <Empty>No worker has registered yet. Start one with <code>node apps/worker/dist/main.js</code>.</Empty>;
  return (
    <div className="table-scroll">
      <table className="runs" data-testid="workers">
        <thead>
          <tr><th scope="col">Host</th><th scope="col">State</th><th scope="col">Health</th><th scope="col">Capabilities</th><th scope="col">Slots</th><th scope="col">Last heartbeat</th></tr>
        </thead>
        <tbody>
          {workers.map((w) => (
            <tr key={w.id} data-testid="worker">
              <th scope="row">{w.host}<br /><code className="muted small-id" title={w.id}>{w.id}</code></th>
              <td><StatusBadge status={w.state} /></td>
              <td><StatusBadge status={w.health} />{w.healthReason && <span className="verdict-reason">{w.healthReason}</span>}</td>
              <td>{w.capabilities.length > 0 ? w.capabilities.map((c) => <code key={c} className="tag">{c}</code>) : <span className="muted">none</span>}</td>
              <td>{w.concurrency}</td>
              <td title={w.lastHeartbeatAt}>{duration(Math.max(0, Date.now() - Date.parse(w.lastHeartbeatAt)))} ago</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Queues({ q }: { q: FleetQueuesDto }) {
  if (!q.redis) return <p className="error" role="alert">Redis did not answer: queue depths are unknown.</p>;
  const shown = q.queues.filter((x) => x.capability !== null || x.waiting + x.active + x.delayed + x.failed > 0);
  return (
    <div className="table-scroll">
      <table className="runs" data-testid="queues">
        <thead>
          <tr><th scope="col">Queue</th><th scope="col">Waiting</th><th scope="col">Active</th><th scope="col">Delayed</th><th scope="col">Failed</th><th scope="col">Oldest waiting</th></tr>
        </thead>
        <tbody>
          {shown.map((x) => (
            <tr key={x.queue} data-testid="queue">
              <th scope="row"><code>{x.queue}</code></th>
              <td>{x.waiting}</td>
              <td>{x.active}</td>
              <td>{x.delayed}</td>
              <td>{x.failed}</td>
              <td>{x.oldestWaitingAgeMs === null ? '—' : duration(x.oldestWaitingAgeMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
