/**
 * `bootfarm check IMAGE`: the farm's check on this machine, with no server. Intake (out-of-process
 * inspection and the qemu-img cross-check), then the matrix's cells this host can run booted in
 * parallel through the same cell runner as the worker (image boot, platform probe, verdicts), then
 * the run's verdicts per requirement and profile.
 */
import { runCell, type CellRun } from '@bootfarm/cell-runner';
import { evaluateRun, renderHtmlReport, renderJsonReport, renderJUnitReport } from '@bootfarm/compliance';
import { InspectionDto, type ComplianceProfile, type ImageFormat, type MatrixSpecInput, type RunCompliance } from '@bootfarm/contracts';
import { probeHostCapabilities, QemuLauncher, XenLauncher, type BootBackend } from '@bootfarm/emulator';
import { assertReachableByOthers, ImageRejectedError, inspectIsolated } from '@bootfarm/inspect';
import { expandMatrix, MatrixTooLargeError, type ExpandedCell } from '@bootfarm/matrix';
import { createHash, randomUUID } from 'node:crypto';
import { chmodSync, copyFileSync, createReadStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { CliError, ExitCode } from '../exit-codes.js';
import { imageFormat } from '../image-format.js';
import { Progress } from './progress.js';
import { renderVerdictTable } from './verdict-table.js';

export interface CheckOptions {
  format?: ImageFormat;
  matrix: MatrixSpecInput;
  /** The profile whose verdict decides the exit code. */
  profile: ComplianceProfile;
  json: boolean;
  junit?: string;
  html?: string;
  keepLogs?: string;
  timeoutSec: number;
  jobs: number;
}

interface CellOutcome {
  cell: ExpandedCell & { applicable: true };
  run: CellRun;
  attempts: number;
}

/** Infrastructure errors are retried once, as the farm retries them (bounded). */
const MAX_ATTEMPTS = 2;

/** Thrown from a boot's end to run the cell again. */
class RetryBoot extends Error {}

export async function check(imageArg: string, opts: CheckOptions): Promise<ExitCode> {
  const image = resolve(imageArg);
  const format = imageFormat(image, opts.format);
  let size: number;
  try {
    const st = statSync(image);
    if (!st.isFile()) throw new CliError(`${imageArg} is not a regular file`);
    size = st.size;
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot read ${imageArg}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const scratch = mkdtempSync(join(tmpdir(), 'bootfarm-check-'));
  chmodSync(scratch, 0o711); // the unprivileged inspector must reach a copy of the image below it
  try {
    log(`bootfarm check: ${basename(image)} (${format}, ${(size / 2 ** 20).toFixed(1)} MiB)`);
    const [sha256, inspection] = await Promise.all([hashFile(image), inspect(image, format, scratch)]);
    if ('rejected' in inspection) {
      log(`intake: the image is refused: ${inspection.rejected.code}: ${inspection.rejected.message}`);
      return ExitCode.Failed;
    }
    const failedFindings = inspection.findings.filter((f) => f.level === 'fail');
    log(`intake: accepted; architectures ${inspection.architectures.join(', ') || 'none'}; ${failedFindings.length} failed finding(s)${failedFindings.length ? `: ${failedFindings.map((f) => f.id).join(', ')}` : ''}`);

    const host = await probeHostCapabilities();
    let cells: ExpandedCell[];
    try {
      cells = expandMatrix(opts.matrix, { host });
    } catch (err) {
      if (err instanceof MatrixTooLargeError) throw new CliError(`--matrix: ${err.message}`);
      throw err;
    }
    const runnable = cells.filter((c): c is ExpandedCell & { applicable: true } => c.applicable);
    const progress = new Progress(process.stderr);
    for (const c of cells) progress.add(c.key, c.applicable ? 'queued' : 'not_applicable', c.applicable ? '' : c.reason);
    if (runnable.length === 0) {
      log('no cell of this matrix can run on this host: nothing was booted');
      return ExitCode.NoResult;
    }
    progress.start();
    const outcomes = await runAll(runnable, Math.max(1, opts.jobs), (cell) => runOne(cell, { image, format, inspection, scratch, opts, progress }));
    progress.stop();

    const report = evaluateRun({
      runId: `local-${randomUUID()}`,
      image: { id: sha256, name: basename(image), sha256, format },
      generatedAt: new Date().toISOString(),
      cells: outcomes.flatMap((o) => (o.run.compliance ? [o.run.compliance] : [])),
    });
    writeReports(report, opts);
    if (opts.json) process.stdout.write(renderJsonReport(report));
    else process.stdout.write(`\n${renderVerdictTable(report, { color: Boolean(process.stdout.isTTY) })}`);
    return exitCode(outcomes, report, opts.profile, log);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** 2 when a cell ended in an infrastructure error or has no verdicts; 1 when a boot or the profile failed; 0 otherwise. */
function exitCode(outcomes: CellOutcome[], report: RunCompliance, profile: ComplianceProfile, log: (l: string) => void): ExitCode {
  const infra = outcomes.filter((o) => o.run.report.outcome === 'infrastructure_error' || o.run.report.outcome === 'canceled' || !o.run.compliance);
  if (infra.length) {
    for (const o of infra) log(`${o.cell.key}: no result (${o.run.report.reason}${o.run.complianceError ? `; ${o.run.complianceError.split('\n')[0]}` : ''})`);
    return ExitCode.NoResult;
  }
  const bootFailures = outcomes.filter((o) => o.run.report.outcome !== 'passed');
  const verdict = report.summary[profile]?.verdict;
  log(`result: ${outcomes.length - bootFailures.length}/${outcomes.length} cells booted; ${profile} ${verdict}`);
  return bootFailures.length || verdict === 'fail' ? ExitCode.Failed : ExitCode.Ok;
}

async function runOne(
  cell: ExpandedCell & { applicable: true },
  ctx: { image: string; format: ImageFormat; inspection: InspectionDto; scratch: string; opts: CheckOptions; progress: Progress },
): Promise<CellOutcome> {
  const launcher = launcherFor(cell);
  const lines: string[] = [];
  let run: CellRun | null = null;
  let attempts = 0;
  while (attempts < MAX_ATTEMPTS) {
    const last = attempts + 1 === MAX_ATTEMPTS;
    attempts++;
    lines.length = 0;
    ctx.progress.update(cell.key, 'booting', attempts > 1 ? `retry ${attempts - 1}` : '');
    run = await runCell(
      { launcher },
      {
        cellId: cell.key,
        cellKey: cell.key,
        profile: cell.profile,
        image: { path: ctx.image, format: ctx.format, inspection: ctx.inspection },
        bootWorkDir: join(ctx.scratch, `${safeName(cell.key)}-${attempts}`, 'boot'),
        probeWorkDir: join(ctx.scratch, `${safeName(cell.key)}-${attempts}`, 'probe'),
        timeoutMs: ctx.opts.timeoutSec * 1000,
        onLine: (l) => {
          if (ctx.opts.keepLogs) lines.push(`[${(l.offsetMs / 1000).toFixed(3).padStart(9)}] ${l.text}`);
        },
        onBootEnd: (report) => {
          // An infrastructure error is retried before anything else is spent on the cell.
          if (report.outcome === 'infrastructure_error' && !last) throw new RetryBoot();
          ctx.progress.update(cell.key, 'probing', '');
        },
      },
    ).catch((err: unknown) => {
      if (err instanceof RetryBoot) return null;
      throw err;
    });
    if (run) break;
  }
  const r = run!.report;
  const verdicts = run!.compliance ? ` · ${Object.entries(run!.compliance.summary).map(([p, s]) => `${p} ${s.verdict}`).join(' ')}` : '';
  ctx.progress.update(cell.key, 'done', `${r.outcome}${r.failureClass ? ` (${r.failureClass})` : ''} at ${r.stage}${verdicts}`, r.outcome === 'passed');
  if (ctx.opts.keepLogs) {
    mkdirSync(ctx.opts.keepLogs, { recursive: true });
    writeFileSync(join(ctx.opts.keepLogs, `${safeName(cell.key)}.log`), `${lines.join('\n')}\n`);
    writeFileSync(join(ctx.opts.keepLogs, `${safeName(cell.key)}.result.json`), `${JSON.stringify({ ...r, platform: run!.platform, platformError: run!.platformError }, null, 2)}\n`);
  }
  return { cell, run: run!, attempts };
}

function launcherFor(cell: ExpandedCell): BootBackend {
  if (cell.backend === 'xen') return new XenLauncher();
  return new QemuLauncher({ backend: cell.backend });
}

/** Runs `fn` over `items`, at most `limit` at once, keeping the input order in the result. */
async function runAll<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  });
  await Promise.all(lanes);
  return results;
}

type InspectResult = InspectionDto | { rejected: { code: string; message: string } };

/**
 * The intake's inspection. As root the parser runs as nobody, so an image below a directory others
 * cannot search is first copied into a scratch directory they can.
 */
async function inspect(image: string, format: ImageFormat, scratch: string): Promise<InspectResult> {
  let path = image;
  try {
    assertReachableByOthers(image);
  } catch {
    const dir = join(scratch, 'intake');
    mkdirSync(dir, { mode: 0o711 });
    path = join(dir, 'image');
    copyFileSync(image, path);
    chmodSync(path, 0o444);
  }
  try {
    assertReachableByOthers(path);
  } catch (err) {
    throw new CliError(`the unprivileged inspector cannot read the image: ${(err as Error).message}; set TMPDIR to a directory others can search`);
  }
  try {
    // Validated as the farm's stored form: it crossed a process boundary.
    return InspectionDto.parse(await inspectIsolated(path, format, { maxVirtualBytes: 64 * 1024 ** 3, addressSpaceBytes: 2 * 1024 ** 3, timeoutMs: 30_000 }));
  } catch (err) {
    if (err instanceof ImageRejectedError) return { rejected: { code: err.code, message: err.message } };
    throw err;
  }
}


function hashFile(path: string): Promise<string> {
  return new Promise((done, fail) => {
    const hash = createHash('sha256');
    createReadStream(path).on('error', fail).on('data', (c) => hash.update(c)).on('end', () => done(hash.digest('hex')));
  });
}

function writeReports(report: RunCompliance, opts: CheckOptions): void {
  if (opts.junit) writeFileSync(opts.junit, renderJUnitReport(report, { profile: opts.profile }));
  if (opts.html) writeFileSync(opts.html, renderHtmlReport(report));
}

function safeName(key: string): string {
  return key.replaceAll('/', '_');
}

