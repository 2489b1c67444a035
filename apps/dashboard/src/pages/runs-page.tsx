import { RunStatus, RunTrigger, type RunListDto, type RunSummaryDto } from '@bootfarm/contracts';
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, type RunFilter } from '../api.js';
import { Empty, ErrorNote, Loading, StatusBadge } from '../layout.js';
import { usePoll } from '../use-poll.js';

const live = (page: RunListDto) => page.items.some((r) => r.status === 'queued' || r.status === 'running');

/** Runs, newest first, filtered by status, trigger and image name (kept in the URL); refreshes while any is going. */
export function RunsPage() {
  const [params, setParams] = useSearchParams();
  const filter: RunFilter = {
    status: RunStatus.safeParse(params.get('status')).data,
    trigger: RunTrigger.safeParse(params.get('trigger')).data,
    imageName: params.get('imageName') ?? undefined,
  };
  const key = JSON.stringify(filter);
  const first = usePoll(() => api.runs(filter), [key], 2000, live);
  // Further pages, loaded on request (keyset cursors); dropped when the filter changes.
  const [more, setMore] = useState<{ items: RunSummaryDto[]; nextCursor: string | null; error?: Error } | null>(null);
  useEffect(() => setMore(null), [key]);
  const nextCursor = more ? more.nextCursor : (first.value?.nextCursor ?? null);
  const loadMore = () => {
    if (!nextCursor) return;
    api.runs(filter, nextCursor).then(
      (page) => setMore((m) => ({ items: [...(m?.items ?? []), ...page.items], nextCursor: page.nextCursor })),
      (error: Error) => setMore((m) => ({ items: m?.items ?? [], nextCursor, error })),
    );
  };
  const items = [...(first.value?.items ?? []), ...(more?.items ?? []).filter((r) => !first.value?.items.some((f) => f.id === r.id))];
  const filtered = Boolean(filter.status || filter.trigger || filter.imageName);
  return (
    <section>
      <h1>Runs</h1>
      <Filters filter={filter} onChange={(f) => setParams(Object.fromEntries(Object.entries(f).filter(([, v]) => v)) as Record<string, string>)} />
      {first.loading && <Loading />}
      {first.error && <ErrorNote error={first.error} />}
      {first.value && items.length === 0 && (
        filtered
          ? <Empty>No run matches these filters.</Empty>
          : <Empty>No runs yet. <Link to="/submit">Submit an image</Link> to start one.</Empty>
      )}
      {items.length > 0 && (
        <div className="table-scroll">
          <table className="runs" data-testid="runs">
            <thead>
              <tr><th scope="col">Status</th><th scope="col">Images</th><th scope="col">Trigger</th><th scope="col" className="wide-only">Digest</th><th scope="col">Created</th><th scope="col" className="wide-only">Finished</th></tr>
            </thead>
            <tbody>
              {items.map((run) => (
                <tr key={run.id} data-testid="run-row">
                  <td><StatusBadge status={run.status} /></td>
                  <td><Link to={`/runs/${run.id}`}>{run.images.map((i) => i.name).join(', ')}</Link></td>
                  <td>{run.trigger}</td>
                  <td className="wide-only">{run.images.map((i) => <code key={i.id} title={i.sha256}>{i.sha256.slice(0, 12)} </code>)}</td>
                  <td>{new Date(run.createdAt).toLocaleString()}</td>
                  <td className="wide-only">{run.finishedAt ? new Date(run.finishedAt).toLocaleString() : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {more?.error && <ErrorNote error={more.error} />}
      {nextCursor && <p><button type="button" onClick={loadMore}>Load more runs</button></p>}
    </section>
  );
}

function Filters({ filter, onChange }: { filter: RunFilter; onChange: (f: RunFilter) => void }) {
  const [name, setName] = useState(filter.imageName ?? '');
  useEffect(() => setName(filter.imageName ?? ''), [filter.imageName]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onChange({ ...filter, imageName: name.trim() || undefined });
  };
  return (
    <form className="filters" role="search" aria-label="filter runs" onSubmit={submit}>
      <label>
        Status{' '}
        <select value={filter.status ?? ''} onChange={(e) => onChange({ ...filter, status: RunStatus.safeParse(e.target.value).data })}>
          <option value="">any</option>
          {RunStatus.options.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
      </label>
      <label>
        Trigger{' '}
        <select value={filter.trigger ?? ''} onChange={(e) => onChange({ ...filter, trigger: RunTrigger.safeParse(e.target.value).data })}>
          <option value="">any</option>
          {RunTrigger.options.map((t) => <option key={t} value={t}>{t}</option>)}
        </select>
      </label>
      <label>
        Image name{' '}
        <input type="search" value={name} onChange={(e) => setName(e.target.value)} placeholder="contains…" maxLength={200} />
      </label>
      <button type="submit">Filter</button>
      {(filter.status || filter.trigger || filter.imageName) && <button type="button" className="link" onClick={() => onChange({})}>Clear</button>}
    </form>
  );
}
