import type { NightlyTrendDto, RegressionDto } from '@bootfarm/contracts';
import { Link, useParams, useSearchParams } from 'react-router';
import { api } from '../api.js';
import { LineChart } from '../charts.js';
import { ResultsTable } from '../history-ui.js';
import { duration, Empty, ErrorNote, Loading, StatusBadge } from '../layout.js';
import { usePoll } from '../use-poll.js';

const percent = (passed: number, total: number) => (total === 0 ? '—' : `${Math.round((passed / total) * 100)}%`);
const STAGE_ORDER = ['firmware', 'boot_manager', 'bootloader', 'os'];

/** The nightly runs over time: pass rate per backend and mean stage durations, then the nights. */
export function NightlyPage() {
  const [params, setParams] = useSearchParams();
  const days = Math.min(366, Math.max(1, Number(params.get('days')) || 30));
  const { value, error, loading } = usePoll(() => api.nightlyTrends(days), [days], 0, () => false);
  return (
    <section>
      <h1>Nightly</h1>
      <label className="filters">
        Period{' '}
        <select value={days} onChange={(e) => setParams(e.target.value === '30' ? {} : { days: e.target.value })}>
          {[7, 14, 30, 90, 366].map((d) => <option key={d} value={d}>last {d} days</option>)}
        </select>
      </label>
      {loading && <Loading />}
      {error && <ErrorNote error={error} />}
      {value && value.nights.length === 0 && <Empty>No nightly runs in the last {days} days. Register an image with <code>PUT /api/images/:id/nightly</code>.</Empty>}
      {value && value.nights.length > 0 && <Trends trends={value} />}
    </section>
  );
}

function Trends({ trends }: { trends: NightlyTrendDto }) {
  const nights = [...trends.nights].reverse(); // oldest first, left to right
  const labels = nights.map((n) => n.date);
  const backends = [...new Set(nights.flatMap((n) => Object.keys(n.passRate)))].sort();
  const stages = [...new Set(nights.flatMap((n) => Object.keys(n.stageMs)))].sort((x, y) => STAGE_ORDER.indexOf(x) - STAGE_ORDER.indexOf(y));
  return (
    <>
      <div className="charts">
        <LineChart title="Pass rate per backend" testId="chart-pass-rate" labels={labels} max={100} format={(v) => `${Math.round(v)}%`}
          series={backends.map((b) => ({ name: b, values: nights.map((n) => { const r = n.passRate[b]; return r && r.total > 0 ? (r.passed / r.total) * 100 : null; }) }))} />
        <LineChart title="Mean time per boot stage" testId="chart-stages" labels={labels} format={(v) => duration(v)}
          series={stages.map((s) => ({ name: s.replaceAll('_', ' '), values: nights.map((n) => n.stageMs[s] ?? null) }))} />
      </div>
      <h2>Nights</h2>
      <div className="table-scroll">
        <table className="history" data-testid="nights">
          <thead>
            <tr><th scope="col">Night</th><th scope="col">Runs</th><th scope="col">Pass rate</th><th scope="col">Regressions</th></tr>
          </thead>
          <tbody>
            {trends.nights.map((n) => (
              <tr key={n.date} data-testid="night-row">
                <th scope="row"><Link to={`/nightly/${n.date}`}>{n.date}</Link></th>
                <td>{n.runs}</td>
                <td>{Object.entries(n.passRate).map(([b, r]) => <span key={b} className="tag">{b} {percent(r.passed, r.total)} ({r.passed}/{r.total})</span>)}</td>
                <td>{n.regressions > 0 ? <span className="badge badge-fail">{n.regressions}</span> : 0}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

/** One night by vendor: what regressed, what was fixed, what is flaky, what still fails. */
export function NightPage() {
  const { date = '' } = useParams();
  const { value: night, error, loading } = usePoll(() => api.night(date), [date], 5000, (n) => !n.complete);
  if (loading) return <Loading />;
  if (!night) return error ? <ErrorNote error={error} what="night" /> : null;
  return (
    <section>
      <p className="crumbs"><Link to="/nightly">← Nightly</Link></p>
      <h1>Night of {night.date} <span data-testid="night-complete">{night.complete ? <StatusBadge status="complete" /> : <StatusBadge status="running" />}</span></h1>
      {!night.complete && <p className="muted">Some runs or their re-runs have not ended yet; this page refreshes.</p>}
      {night.vendors.length === 0 && <Empty>No nightly runs that night.</Empty>}
      {night.vendors.map((v) => (
        <article key={v.vendor} className="night-vendor" data-testid="night-vendor">
          <h2>{v.vendor}</h2>
          <p>
            {v.runs} run{v.runs === 1 ? '' : 's'} · cells: {Object.entries(v.cells).map(([o, n]) => `${n} ${o.replaceAll('_', ' ')}`).join(', ') || 'none'}
            {' · '}<span data-testid="still-failing">{v.stillFailing} still failing</span>
          </p>
          <h3>Regressed</h3>
          <Regressions items={v.regressed} testId="night-regression" none="Nothing regressed." />
          <h3>Fixed</h3>
          {v.fixed.length > 0 ? <ResultsTable items={v.fixed} testId="night-fixed" caption="Fixed that night" /> : <Empty>Nothing was fixed.</Empty>}
          <h3>Flaky</h3>
          <Regressions items={v.flaky} testId="night-flaky" none="No flaky cells." />
        </article>
      ))}
    </section>
  );
}

function Regressions({ items, testId, none }: { items: RegressionDto[]; testId: string; none: string }) {
  if (items.length === 0) return <Empty>{none}</Empty>;
  return (
    <ul className="plain regressions">
      {items.map((r) => (
        <li key={r.id} data-testid={testId}>
          <StatusBadge status={r.state} /> <Link to={`/images/${r.image.id}`}>{r.image.name}</Link> on <code>{r.key}</code>
          {r.signature && <> · <Link to={`/signatures/${r.signature.id}`}>{r.signature.title}</Link></>}
          {' · '}<Link to={`/runs/${r.openedRunId}`}>run</Link>
          <span className="verdict-reason">re-runs {r.checks.done}/{r.checks.requested}, {r.checks.failed} failed · compared by {r.basis}</span>
        </li>
      ))}
    </ul>
  );
}
