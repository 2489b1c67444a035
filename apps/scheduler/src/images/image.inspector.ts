import { ImageRejectedError } from '@bootfarm/inspect';
import type { ImageFormat, InspectionDto } from '@bootfarm/contracts';
import { Inject, Injectable } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCHEDULER_CONFIG, type SchedulerConfig } from '../config.js';

/** The inspector's verdict as its process prints it (see @bootfarm/inspect's CLI). */
type InspectorOutput =
  | { ok: true; report: { format: string; virtualSize: number; architectures: string[]; findings: InspectionDto['findings'] } }
  | { ok: false; rejected: { code: string; message: string } };

/** uid/gid of `nobody`, which runs the parsers when the scheduler is root. */
const UNPRIVILEGED_ID = 65534;

/** The CLI is resolved from the package, not from a path guess. */
const inspectorCli = fileURLToPath(import.meta.resolve('@bootfarm/inspect/cli'));

/**
 * Static inspection of a quarantined upload, out of process. The parser of hostile bytes runs in
 * its own Node process under prlimit (address space, CPU seconds, no core, few files) and a wall
 * clock; then `qemu-img info -f FMT -U` (under the same limits) must agree with it about format
 * and virtual size and find neither a backing file nor an external data file.
 */
@Injectable()
export class ImageInspector {
  constructor(@Inject(SCHEDULER_CONFIG) private readonly config: SchedulerConfig) {
    if (process.getuid?.() === 0) assertReachableByOthers(join(config.IMAGE_STORE_DIR, 'quarantine'));
  }

  async inspect(path: string, declared: ImageFormat): Promise<InspectionDto> {
    const out = await this.run(process.execPath, ['--max-old-space-size=256', inspectorCli, '--format', declared, '--max-virtual-bytes', String(this.config.INSPECT_MAX_VIRTUAL_BYTES), path], 'the image inspector');
    let parsed: InspectorOutput;
    try {
      parsed = JSON.parse(out) as InspectorOutput;
    } catch {
      throw new ImageRejectedError('inspection_failed', 'the image could not be inspected');
    }
    if (!parsed.ok) throw new ImageRejectedError(parsed.rejected.code as ImageRejectedError['code'], parsed.rejected.message);
    const qemuImg = await this.qemuImgInfo(path, declared);
    if (qemuImg.virtualSize !== parsed.report.virtualSize) {
      throw new ImageRejectedError('qemu_img_disagrees', `qemu-img reports a virtual size of ${qemuImg.virtualSize} bytes, the inspector ${parsed.report.virtualSize}`);
    }
    return { virtualSize: parsed.report.virtualSize, architectures: parsed.report.architectures, findings: parsed.report.findings, qemuImg };
  }

  private async qemuImgInfo(path: string, format: ImageFormat): Promise<{ format: string; virtualSize: number }> {
    const out = await this.run('qemu-img', ['info', '-f', format, '--output=json', '-U', path], 'qemu-img info');
    const info = JSON.parse(out) as { format?: string; 'virtual-size'?: number; 'backing-filename'?: string; 'format-specific'?: { data?: { 'data-file'?: string } } };
    if (info.format !== format) throw new ImageRejectedError('qemu_img_disagrees', `qemu-img sees format ${info.format}, declared ${format}`);
    if (info['backing-filename'] || info['format-specific']?.data?.['data-file']) {
      throw new ImageRejectedError('backing_file', 'qemu-img found a backing or external data file');
    }
    return { format: info.format, virtualSize: info['virtual-size'] ?? -1 };
  }

  /**
   * Runs a command under prlimit with a wall-clock timeout; a limit hit is a typed rejection.
   * A scheduler running as root hands the parser to an unprivileged user (nobody), with no new
   * privileges: hostile bytes are never parsed as root.
   */
  private run(cmd: string, args: string[], what: string): Promise<string> {
    const limits = [`--as=${this.config.INSPECT_ADDRESS_SPACE_BYTES}`, `--cpu=${Math.ceil(this.config.INSPECT_TIMEOUT_MS / 1000)}`, '--core=0', '--nofile=64'];
    const unprivileged = process.getuid?.() === 0 ? ['setpriv', `--reuid=${UNPRIVILEGED_ID}`, `--regid=${UNPRIVILEGED_ID}`, '--clear-groups', '--no-new-privs', '--'] : [];
    const [exe, ...prefix] = [...unprivileged, 'prlimit', ...limits, '--'];
    return new Promise((resolve, reject) => {
      execFile(
        exe!,
        [...prefix, cmd, ...args],
        { timeout: this.config.INSPECT_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', LANG: 'C' } },
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
}

/** Fails at start-up, not at the first upload, when the unprivileged inspector could not reach the quarantine. */
function assertReachableByOthers(dir: string): void {
  for (let d = dirname(dir); ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) {
      throw new Error(`IMAGE_STORE_DIR: ${d} is not searchable by other users (chmod o+x), so the unprivileged image inspector cannot read uploads`);
    }
    if (d === dirname(d)) return;
  }
}
