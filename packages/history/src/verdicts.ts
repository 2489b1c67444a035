import type { Outcome, Transition } from '@bootfarm/contracts';

/** What a boot says about the image on its cell: it passed, it failed, or nothing (the farm failed, or it was canceled). */
export type Verdict = 'pass' | 'fail';

/** A boot's verdict; null for outcomes that say nothing about the image (infrastructure errors, cancels). */
export function verdictOf(outcome: Outcome | string): Verdict | null {
  if (outcome === 'passed') return 'pass';
  if (outcome === 'failed' || outcome === 'timeout') return 'fail';
  return null;
}

/**
 * How a result compares with the previous verdict of the same image on the same cell
 * (`previous` undefined: the cell has no earlier verdict).
 */
export function transitionOf(previous: Verdict | undefined, current: Verdict | null): Transition {
  if (current === null) return 'no_verdict';
  if (previous === undefined) return 'first';
  if (previous === 'pass') return current === 'pass' ? 'still_passing' : 'new_failure';
  return current === 'pass' ? 'fixed' : 'still_failing';
}
