import { z } from 'zod';

// WARNING: these values are persisted in PostgreSQL and Redis and shown to users:
// add new ones, never rename.

/** How a cell's boot ended. Only `infrastructure_error` is the farm's fault (and retried). */
export const Outcome = z.enum(['passed', 'failed', 'timeout', 'canceled', 'infrastructure_error']);
export type Outcome = z.infer<typeof Outcome>;

/** The boot stages the console analyzer recognises, in the order a boot reaches them. */
export const BootStage = z.enum(['none', 'firmware', 'boot_manager', 'bootloader', 'os']);
export type BootStage = z.infer<typeof BootStage>;

/**
 * A cell waits, runs, then ends with an outcome; or it is `not_applicable` from the start (the
 * matrix asked for a platform that cannot exist, e.g. GICv2 with 9 vCPUs) and carries the reason.
 */
export const CellStatus = z.enum(['queued', 'running', ...Outcome.options, 'not_applicable']);
export type CellStatus = z.infer<typeof CellStatus>;

/** A run's status summarises its cells once every one of them is terminal. */
export const RunStatus = z.enum(['queued', 'running', 'passed', 'failed', 'error', 'canceled']);
export type RunStatus = z.infer<typeof RunStatus>;

/** Container formats the farm accepts. QEMU is always told which one; it never guesses. */
export const ImageFormat = z.enum(['raw', 'qcow2']);
export type ImageFormat = z.infer<typeof ImageFormat>;

/** What started a run. */
/** recheck: a re-run history asked for, to tell a regression from a flake. */
export const RunTrigger = z.enum(['vendor', 'nightly', 'recheck']);
export type RunTrigger = z.infer<typeof RunTrigger>;

/** Statuses after which a cell never changes again. */
export const terminalCellStatuses: readonly CellStatus[] = [...Outcome.options, 'not_applicable'];

/** True when no further work will change the cell. */
export function isTerminalCell(status: CellStatus): boolean {
  return terminalCellStatuses.includes(status);
}

/**
 * A run's status from its cells' (not-applicable cells aside): running until every cell is terminal, then `error` if the
 * farm failed any of them, `failed` if a guest failed or timed out, `canceled`, else `passed`.
 */
export function summariseRun(all: readonly CellStatus[]): RunStatus {
  // Not-applicable cells never run: they neither hold a run open nor decide its status.
  const cells = all.filter((c) => c !== 'not_applicable');
  if (cells.length === 0) return 'queued';
  if (!cells.every(isTerminalCell)) return cells.every((c) => c === 'queued') ? 'queued' : 'running';
  if (cells.includes('infrastructure_error')) return 'error';
  if (cells.includes('failed') || cells.includes('timeout')) return 'failed';
  if (cells.includes('canceled')) return 'canceled';
  return 'passed';
}
