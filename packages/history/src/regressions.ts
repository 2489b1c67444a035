import type { RegressionState } from '@bootfarm/contracts';
import type { Verdict } from './verdicts.js';

/** What a regression's state is decided from. */
export interface RegressionProgress {
  state: RegressionState;
  checksRequested: number;
  checksDone: number;
  checksFailed: number;
}

/** A regression after an event, and whether that event closed it or confirmed it. */
export interface RegressionStep extends RegressionProgress {
  closed: boolean;
  /** True on the step that made it `confirmed` (the moment to tell the vendor). */
  confirmed: boolean;
  /** True on the step that called it a flake (the image × cell's flaky-failure count goes up). */
  flaky: boolean;
}

/** True while later results still change the regression. */
export function isOpen(state: RegressionState): boolean {
  return state === 'checking' || state === 'confirmed';
}

/** A new failure after a pass: re-runs are asked for; with none configured it is confirmed at once. */
export function openRegression(checksRequested: number): RegressionStep {
  const state: RegressionState = checksRequested > 0 ? 'checking' : 'confirmed';
  return { state, checksRequested, checksDone: 0, checksFailed: 0, closed: false, confirmed: state === 'confirmed', flaky: false };
}

/**
 * A re-run's verdict (null: the farm failed it, which says nothing): one pass makes the failure a
 * flake; once every re-run has ended with at least one failure and no pass, it is confirmed.
 */
export function afterRecheck(r: RegressionProgress, verdict: Verdict | null): RegressionStep {
  const done = r.checksDone + 1;
  const failed = r.checksFailed + (verdict === 'fail' ? 1 : 0);
  const base = { checksRequested: r.checksRequested, checksDone: done, checksFailed: failed };
  if (r.state !== 'checking') return { ...r, ...base, closed: false, confirmed: false, flaky: false };
  if (verdict === 'pass') return { ...base, state: 'flaky', closed: true, confirmed: false, flaky: true };
  if (done >= r.checksRequested && failed > 0) return { ...base, state: 'confirmed', closed: false, confirmed: true, flaky: false };
  return { ...r, ...base, closed: false, confirmed: false, flaky: false };
}

/**
 * A later regular run's verdict on the same image and cell. Confirmed: a pass fixes it. Still
 * checking (re-runs pending or all lost to the farm): a pass makes it a flake, a failure confirms it.
 */
export function afterLaterRun(r: RegressionProgress, verdict: Verdict | null): RegressionStep {
  const same = { ...r, closed: false, confirmed: false, flaky: false };
  if (verdict === null) return same;
  if (r.state === 'confirmed') return verdict === 'pass' ? { ...r, state: 'fixed', closed: true, confirmed: false, flaky: false } : same;
  if (r.state === 'checking') {
    return verdict === 'pass'
      ? { ...r, state: 'flaky', closed: true, confirmed: false, flaky: true }
      : { ...r, state: 'confirmed', closed: false, confirmed: true, flaky: false };
  }
  return same;
}
