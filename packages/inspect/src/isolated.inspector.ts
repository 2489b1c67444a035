/**
 * Static inspection of an untrusted file, out of process: the parser of hostile bytes runs in its
 * own Node process under prlimit (address space, CPU seconds, no core, few files) and a wall
 * clock — as `nobody` with no new privileges when the caller is root — then
 * `qemu-img info -f FMT -U` (under the same limits) must agree with it about format and virtual
 * size and find neither a backing file nor an external data file. The scheduler's intake and the
 * local `bootfarm check` both inspect through here.
 */
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageRejectedError } from './container/index.js';
import type { Finding } from './finding.js';

/** What an isolated inspection found (the intake's stored form). */
export interface IsolatedInspection {
  readonly virtualSize: number;
  readonly architectures: string[];
  readonly findings: Finding[];
  /** What `qemu-img info` said about the same file. */
  readonly qemuImg: { readonly format: string; readonly virtualSize: number };
}

export interface IsolationLimits {
  /** Largest virtual disk accepted. */
  readonly maxVirtualBytes: number;
  /** Address-space limit of the inspector and of qemu-img. */
  readonly addressSpaceBytes: number;
  /** Wall and CPU time of each of the two processes. */
  readonly timeoutMs: number;
}

type InspectorOutput =
  | { ok: true; report: { format: string; virtualSize: number; architectures: string[]; findings: Finding[] } }
  | { ok: false; rejected: { code: string; message: string } };

/** uid/gid of `nobody`, which runs the parsers when the caller is root. */
const UNPRIVILEGED_ID = 65534;

const inspectorCli = fileURLToPath(new URL('./cli/inspect-image.js', import.meta.url));

/** Inspects `path` declared as `format`; a refusal is an {@link ImageRejectedError} with its code. */
export async function inspectIsolated(path: string, format: 'raw' | 'qcow2', limits: IsolationLimits): Promise<IsolatedInspection> {
  const out = await runLimited(process.execPath, ['--max-old-space-size=256', inspectorCli, '--format', format, '--max-virtual-bytes', String(limits.maxVirtualBytes), path], 'the image inspector', limits);
  let parsed: InspectorOutput;
  try {
    parsed = JSON.parse(out) as InspectorOutput;
  } catch {
    throw new ImageRejectedError('inspection_failed', 'the image could not be inspected');
  }
  if (!parsed.ok) throw new ImageRejectedError(parsed.rejected.code as ImageRejectedError['code'], parsed.rejected.message);
  const qemuImg = await qemuImgInfo(path, format, limits);
  if (qemuImg.virtualSize !== parsed.report.virtualSize) {
    throw new ImageRejectedError('qemu_img_disagrees', `qemu-img reports a virtual size of ${qemuImg.virtualSize} bytes, the inspector ${parsed.report.virtualSize}`);
  }
  return { virtualSize: parsed.report.virtualSize, architectures: parsed.report.architectures, findings: parsed.report.findings, qemuImg };
}

/**
 * When the caller is root the parser runs as nobody: every directory above `file` must be
 * searchable by others. Throws a sentence saying which one is not (call it at start-up).
 */
export function assertReachableByOthers(file: string): void {
  if (process.getuid?.() !== 0) return;
  for (let d = dirname(file); ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) {
      throw new Error(`${d} is not searchable by other users (chmod o+x), so the unprivileged image inspector cannot read files below it`);
    }
    if (d === dirname(d)) return;
  }
}

async function qemuImgInfo(path: string, format: 'raw' | 'qcow2', limits: IsolationLimits): Promise<{ format: string; virtualSize: number }> {
  const out = await runLimited('qemu-img', ['info', '-f', format, '--output=json', '-U', path], 'qemu-img info', limits);
  const info = JSON.parse(out) as { format?: string; 'virtual-size'?: number; 'backing-filename'?: string; 'format-specific'?: { data?: { 'data-file'?: string } } };
  if (info.format !== format) throw new ImageRejectedError('qemu_img_disagrees', `qemu-img sees format ${info.format}, declared ${format}`);
  if (info['backing-filename'] || info['format-specific']?.data?.['data-file']) {
    throw new ImageRejectedError('backing_file', 'qemu-img found a backing or external data file');
  }
  return { format: info.format, virtualSize: info['virtual-size'] ?? -1 };
}

/** Runs a command under prlimit with a wall-clock timeout; a limit hit is a typed rejection. */
function runLimited(cmd: string, args: string[], what: string, limits: IsolationLimits): Promise<string> {
  const prlimit = [`--as=${limits.addressSpaceBytes}`, `--cpu=${Math.ceil(limits.timeoutMs / 1000)}`, '--core=0', '--nofile=64'];
  const unprivileged = process.getuid?.() === 0 ? ['setpriv', `--reuid=${UNPRIVILEGED_ID}`, `--regid=${UNPRIVILEGED_ID}`, '--clear-groups', '--no-new-privs', '--'] : [];
  const [exe, ...prefix] = [...unprivileged, 'prlimit', ...prlimit, '--'];
  return new Promise((resolve, reject) => {
    execFile(
      exe!,
      [...prefix, cmd, ...args],
      { timeout: limits.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', LANG: 'C' } },
      (err, stdout) => {
        if (!err) return resolve(stdout);
        const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null };
        if (e.killed || e.signal) reject(new ImageRejectedError('limits_exceeded', `${what} exceeded its time or memory limits`));
        else if (stdout.trim()) resolve(stdout); // the CLI exits non-zero on rejection but still prints its verdict
        else reject(new ImageRejectedError('inspection_failed', `${what} could not read the image`));
      },
    );
  });
}
