import { Backend, BootStage, Outcome } from '@bootfarm/contracts';
import { useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { api, type SearchFilter } from '../api.js';
import { ResultsTable } from '../history-ui.js';
import { Empty, ErrorNote, Loading } from '../layout.js';
import { usePages } from '../use-pages.js';
import { usePoll } from '../use-poll.js';

// The URL keeps what was typed (dates as YYYY-MM-DD); the API gets whole UTC days.
const FIELDS = ['q', 'vendor', 'imageName', 'backend', 'arch', 'firmware', 'hwDescription', 'gic', 'outcome', 'stage', 'failureClass', 'signature', 'from', 'to'] as const;
type Field = (typeof FIELDS)[number];
type Draft = Partial<Record<Field, string>>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

function toFilter(d: Draft): SearchFilter | { invalid: string } {
  if (d.q !== undefined && d.q.length < 3) return { invalid: 'Console text needs at least 3 characters.' };
  if (d.signature !== undefined && !UUID.test(d.signature)) return { invalid: 'A signature is given by its id.' };
  return {
    q: d.q, vendor: d.vendor, imageName: d.imageName, arch: d.arch, firmware: d.firmware, hwDescription: d.hwDescription, gic: d.gic,
    failureClass: d.failureClass, signature: d.signature,
    backend: Backend.safeParse(d.backend).data,
    outcome: Outcome.safeParse(d.outcome).data,
    stage: BootStage.safeParse(d.stage).data,
    from: d.from && DAY.test(d.from) ? `${d.from}T00:00:00.000Z` : undefined,
    to: d.to && DAY.test(d.to) ? `${d.to}T23:59:59.999Z` : undefined,
  };
}

/** Boot results by filter and console text, newest first; every filter lives in the URL. */
export function SearchPage() {
  const [params, setParams] = useSearchParams();
  const draft: Draft = Object.fromEntries(FIELDS.map((f) => [f, params.get(f) ?? undefined]).filter(([, v]) => v));
  const key = JSON.stringify(draft);
  const filter = toFilter(draft);
  const me = usePoll(() => api.me(), [], 0, () => false);
  const list = usePages((cursor) => ('invalid' in filter ? Promise.resolve({ items: [], nextCursor: null }) : api.search(filter, cursor)), [key]);
  const any = Object.keys(draft).length > 0;
  return (
    <section>
      <h1>Search</h1>
      <SearchForm key={key} draft={draft} admin={me.value?.role === 'admin'} onChange={(d) => setParams(Object.fromEntries(Object.entries(d).filter(([, v]) => v)) as Record<string, string>)} />
      {'invalid' in filter && <p className="error" role="alert">{filter.invalid}</p>}
      {list.loading && <Loading />}
      {list.error && <ErrorNote error={list.error} />}
      {!list.loading && !list.error && !('invalid' in filter) && list.items.length === 0 && (
        <Empty>{any ? 'No boot result matches.' : 'No boot results recorded yet.'}</Empty>
      )}
      {list.items.length > 0 && (
        <>
          <p className="muted" data-testid="hit-count" aria-live="polite">{list.items.length}{list.nextCursor ? '+' : ''} result{list.items.length === 1 ? '' : 's'}, newest first</p>
          <ResultsTable items={list.items} testId="hit" caption="Search results, newest first" />
        </>
      )}
      {list.nextCursor && <p><button type="button" onClick={list.loadMore} disabled={list.loadingMore}>{list.loadingMore ? 'Loading…' : 'Load more results'}</button></p>}
    </section>
  );
}

function SearchForm({ draft, admin, onChange }: { draft: Draft; admin: boolean; onChange: (d: Draft) => void }) {
  // Keyed by the URL's filters (see SearchPage): a new URL mounts a fresh form, so the draft never
  // lags behind it and an edit made just after a navigation is not overwritten by a late reset.
  const [d, setD] = useState<Draft>(draft);
  const set = (f: Field) => (e: { target: { value: string } }) => setD((x) => ({ ...x, [f]: e.target.value || undefined }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onChange(Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v?.trim()]).filter(([, v]) => v)));
  };
  const text = (f: Field, label: string, placeholder = '', max = 200) => (
    <label>{label}{' '}<input type="search" value={d[f] ?? ''} onChange={set(f)} placeholder={placeholder} maxLength={max} /></label>
  );
  const choice = (f: Field, label: string, options: readonly string[]) => (
    <label>{label}{' '}
      <select value={d[f] ?? ''} onChange={set(f)}>
        <option value="">any</option>
        {options.map((o) => <option key={o} value={o}>{o.replaceAll('_', ' ')}</option>)}
      </select>
    </label>
  );
  return (
    <form className="filters search-form" role="search" aria-label="search boot results" onSubmit={submit}>
      <label className="grow">Console text{' '}<input type="search" value={d.q ?? ''} onChange={set('q')} placeholder="as typed, e.g. Synchronous Exception" maxLength={200} /></label>
      {admin && text('vendor', 'Vendor')}
      {text('imageName', 'Image name', 'contains…')}
      {choice('backend', 'Backend', Backend.options)}
      {choice('outcome', 'Outcome', Outcome.options)}
      {choice('stage', 'Stage', BootStage.options.filter((s) => s !== 'none'))}
      {text('arch', 'Arch', 'aarch64', 20)}
      {choice('firmware', 'Firmware', ['edk2', 'u-boot'])}
      {choice('hwDescription', 'Hardware description', ['acpi', 'dt'])}
      {choice('gic', 'GIC', ['v2', 'v3'])}
      {text('failureClass', 'Failure class', '', 60)}
      {text('signature', 'Signature id', '', 36)}
      <label>From <input type="date" value={d.from ?? ''} onChange={set('from')} /></label>
      <label>To <input type="date" value={d.to ?? ''} onChange={set('to')} /></label>
      <button type="submit">Search</button>
      {Object.keys(draft).length > 0 && <button type="button" className="link" onClick={() => onChange({})}>Clear</button>}
    </form>
  );
}
