/** Runs one short-lived `xl` command with a time limit, an abort signal and capped output. */
import { spawn } from 'node:child_process';
import { killProcessGroup } from '../process-group.js';

/** How one xl command ended. */
export interface XlRunResult {
  readonly argv: readonly string[];
  /** Exit status, or null (killed, or never started). */
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the binary could not be executed at all (e.g. ENOENT). */
  readonly spawnError: NodeJS.ErrnoException | null;
  readonly timedOut: boolean;
  readonly aborted: boolean;
  readonly durationMs: number;
}

/** Options of {@link runXl}. */
export interface XlRunOptions {
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Output kept per stream (default 64 KiB). */
  readonly maxOutputChars?: number;
}

/** How long to wait for the pipes to close after the process exited (a daemonized child may hold them). */
const DRAIN_MS = 500;

/**
 * Runs `xl args...` in its own process group; on timeout or abort the whole group gets
 * SIGKILL. Never rejects. (`xl create` daemonizes a per-domain helper with `setsid`: that one
 * is not in the group and not waited for.)
 */
export function runXl(xl: string, args: readonly string[], options: XlRunOptions): Promise<XlRunResult> {
  const started = Date.now();
  const cap = options.maxOutputChars ?? 64 * 1024;
  const argv = [xl, ...args];
  return new Promise<XlRunResult>((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let aborted = false;
    let done = false;
    let exit: { code: number | null; signal: string | null } | null = null;
    let drainTimer: NodeJS.Timeout | null = null;
    const child = spawn(xl, [...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...options.env },
      ...(options.cwd ? { cwd: options.cwd } : {}),
      detached: true,
    });
    const killGroup = (): void => killProcessGroup(child);
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      killGroup();
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (spawnError: NodeJS.ErrnoException | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (drainTimer) clearTimeout(drainTimer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({
        argv,
        code: exit?.code ?? null,
        signal: exit?.signal ?? null,
        stdout,
        stderr,
        spawnError,
        timedOut,
        aborted,
        durationMs: Date.now() - started,
      });
    };
    child.stdout.on('data', (d: Buffer) => {
      if (stdout.length < cap) stdout += d.toString('utf8').slice(0, cap - stdout.length);
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < cap) stderr += d.toString('utf8').slice(0, cap - stderr.length);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (child.pid === undefined) finish(e);
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      drainTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(null);
      }, DRAIN_MS);
    });
    child.on('close', () => {
      if (child.pid !== undefined && exit !== null) finish(null);
    });
  });
}

/** One line describing how an xl command failed, for reasons and warnings. */
export function describeXlFailure(r: XlRunResult): string {
  const cmd = r.argv.slice(1).join(' ');
  if (r.spawnError) return `could not execute ${r.argv[0]} (${r.spawnError.code ?? r.spawnError.message})`;
  const why = r.timedOut ? 'timed out' : r.aborted ? 'aborted' : r.signal ? `killed by ${r.signal}` : `exit status ${r.code}`;
  const out = `${r.stderr}\n${r.stdout}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !/^Parsing config from /.test(l))
    .join(' | ')
    .slice(0, 500);
  return `xl ${cmd} failed (${why})${out ? `: ${out}` : ''}`;
}
