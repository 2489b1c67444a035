/**
 * The farm client's commands: login, submit (--wait), runs, show, logs (--follow), rerun,
 * report, workers. Output for people on stdout; progress on stderr; exit codes as `check`.
 */
import { isTerminalCell, type CellDto, type ComplianceProfile, type CreateRunRequest, type ImageFormat, type MatrixSpecInput, type RunDto } from '@bootfarm/contracts';
import { createParser } from 'eventsource-parser';
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Progress } from '../check/progress.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { imageFormat } from '../image-format.js';
import { FarmClient } from './client.js';
import { resolveLogin, saveLogin } from './config.js';

export interface FarmOptions {
  server?: string;
  token?: string;
}

const client = (o: FarmOptions) => new FarmClient(resolveLogin(o));
const out = (line = '') => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

export async function login(o: { server: string; token: string }): Promise<ExitCode> {
  const me = await new FarmClient({ server: o.server.replace(/\/+$/, ''), token: o.token }).me();
  const path = saveLogin({ server: o.server.replace(/\/+$/, ''), token: o.token });
  out(`logged in to ${o.server} as ${me.vendor.name} (${me.role}); saved in ${path}`);
  return ExitCode.Ok;
}

export interface SubmitOptions extends FarmOptions {
  format?: ImageFormat;
  name?: string;
  matrix: MatrixSpecInput;
  timeoutSec: number;
  wait: boolean;
  profile: ComplianceProfile;
  junit?: string;
  html?: string;
  json?: string;
}

export async function submit(images: string[], o: SubmitOptions): Promise<ExitCode> {
  if (images.length === 0) throw new CliError('give at least one image');
  if (o.name !== undefined && images.length > 1) throw new CliError('--name names one image; give it only with a single image');
  const farm = client(o);
  const imageIds: string[] = [];
  for (const image of images) {
    const format = imageFormat(image, o.format);
    const live = Boolean(process.stderr.isTTY);
    let lastShown = -1;
    const uploaded = await farm.upload(image, o.name ?? basename(image).replace(/[^\w.+@ -]/g, '_'), format, (sent, total) => {
      const pct = Math.floor((sent / total) * 100);
      if (pct === lastShown || (!live && pct % 25 !== 0)) return;
      lastShown = pct;
      process.stderr.write(live ? `\r\x1b[2Kuploading ${basename(image)} ${pct}% of ${(total / 2 ** 20).toFixed(1)} MiB` : `uploading ${basename(image)} ${pct}%\n`);
    });
    if (live) process.stderr.write('\n');
    err(`image ${uploaded.id} (sha256 ${uploaded.sha256.slice(0, 12)}…)`);
    imageIds.push(uploaded.id);
  }
  return startRun(farm, { imageIds, matrix: o.matrix, timeoutSec: o.timeoutSec }, o);
}

export async function rerun(runId: string, o: Omit<SubmitOptions, 'format' | 'name' | 'matrix'>): Promise<ExitCode> {
  const farm = client(o);
  const old = await farm.run(runId);
  // The same images on the same platforms: the cells that could run, in the same order.
  const first = old.images[0]?.id;
  const profiles = old.cells.filter((c) => c.imageId === first && c.status !== 'not_applicable').map((c) => c.profile);
  if (profiles.length === 0) throw new CliError(`run ${runId} has no cell that could run`);
  return startRun(farm, { imageIds: old.images.map((i) => i.id), profiles, timeoutSec: o.timeoutSec }, o);
}

async function startRun(farm: FarmClient, body: CreateRunRequest, o: Omit<SubmitOptions, 'format' | 'name' | 'matrix'>): Promise<ExitCode> {
  const run = await farm.createRun(body);
  out(run.id);
  if (!o.wait) return ExitCode.Ok;
  const progress = new Progress(process.stderr);
  const label = cellLabel(run);
  for (const c of run.cells) progress.add(label(c), c.status === 'not_applicable' ? 'not_applicable' : 'queued', c.reason ?? '');
  progress.start();
  let current = run;
  try {
    while (!isDone(current)) {
      await new Promise((r) => setTimeout(r, 1000));
      current = await farm.run(run.id);
      for (const c of current.cells) showCell(progress, label(c), c);
    }
  } finally {
    progress.stop();
  }
  await writeRunReports(farm, current, o);
  return runExitCode(current, o.profile);
}

/** A cell's name in progress and listings: its key, prefixed by its image's name when the run has several. */
function cellLabel(run: RunDto): (c: CellDto) => string {
  const names = new Map(run.images.map((i) => [i.id, i.name]));
  return (c) => (run.images.length > 1 ? `${names.get(c.imageId) ?? c.imageId}/${c.key}` : c.key);
}

function isDone(run: RunDto): boolean {
  return !['queued', 'running'].includes(run.status) && run.images.every((i) => i.compliance !== null);
}

function showCell(progress: Progress, label: string, c: CellDto): void {
  if (c.status === 'not_applicable') return;
  if (c.status === 'queued') progress.update(label, 'queued', c.waitingFor ? `waiting for a ${c.waitingFor} worker` : '');
  else if (c.status === 'running') progress.update(label, 'booting', c.attempts > 1 ? `attempt ${c.attempts}` : '');
  else progress.update(label, 'done', `${c.status}${c.result?.failureClass ? ` (${c.result.failureClass})` : ''} at ${c.result?.stage ?? 'none'}`, c.status === 'passed');
}

/** Writes the reports asked for; with several images, one file each, named `<file stem>-<image name><ext>`. */
async function writeRunReports(farm: FarmClient, run: RunDto, o: { profile: ComplianceProfile; junit?: string; html?: string; json?: string }): Promise<void> {
  for (const image of run.images) {
    const file = (f: string) => (run.images.length > 1 ? f.replace(/(\.[^./]*)?$/, (ext) => `-${image.name.replace(/[^\w.+@-]+/g, '_')}${ext}`) : f);
    const opts = { profile: o.profile, imageId: image.id };
    if (o.junit) writeFileSync(file(o.junit), await farm.report(run.id, 'junit', opts));
    if (o.html) writeFileSync(file(o.html), await farm.report(run.id, 'html', opts));
    if (o.json) writeFileSync(file(o.json), await farm.report(run.id, 'json', opts));
  }
}

/** As `check`: 2 when the farm failed a cell, 1 when a boot failed or an image's verdict under the profile is fail, else 0. */
function runExitCode(run: RunDto, profile: ComplianceProfile): ExitCode {
  const verdicts = run.images.map((i) => i.compliance?.[profile]?.verdict ?? 'none');
  err(`run ${run.id}: ${run.status}; ${profile} ${run.images.map((i, n) => (run.images.length > 1 ? `${i.name} ${verdicts[n]}` : verdicts[n])).join(', ')}`);
  if (run.status === 'error' || run.status === 'canceled' || verdicts.includes('none')) return ExitCode.NoResult;
  return run.status === 'failed' || verdicts.includes('fail') ? ExitCode.Failed : ExitCode.Ok;
}

export async function runs(o: FarmOptions & { limit: number }): Promise<ExitCode> {
  const page = await client(o).runs(o.limit);
  for (const r of page.items) out(`${r.id}  ${r.status.padEnd(8)} ${r.trigger.padEnd(7)} ${r.createdAt}  ${r.images.map((i) => i.name).join(', ')}`);
  if (page.items.length === 0) out('no runs yet');
  return ExitCode.Ok;
}

export async function show(runId: string, o: FarmOptions): Promise<ExitCode> {
  const run = await client(o).run(runId);
  const images = run.images.map((i) => `${i.name} ${i.sha256.slice(0, 12)}…`).join(', ');
  out(`run ${run.id}: ${run.status} (${run.trigger}), ${run.images.length > 1 ? 'images' : 'image'} ${images}, created ${run.createdAt}`);
  const label = cellLabel(run);
  for (const c of run.cells) {
    const detail = c.status === 'not_applicable' ? c.reason : c.result ? `${c.result.failureClass ?? ''} at ${c.result.stage}: ${c.result.reason}` : c.waitingFor ? `waiting for a ${c.waitingFor} worker` : '';
    out(`  ${c.id}  ${c.status.padEnd(20)} ${label(c)}  ${detail ?? ''}`);
  }
  for (const image of run.images) {
    if (!image.compliance) continue;
    if (run.images.length > 1) out(`  ${image.name}:`);
    for (const [p, s] of Object.entries(image.compliance)) out(`  ${p.padEnd(11)} ${s.verdict}${s.failing.length ? `: ${s.failing.join(', ')}` : ''}`);
  }
  return ExitCode.Ok;
}

export async function logs(cellId: string, o: FarmOptions & { follow: boolean }): Promise<ExitCode> {
  const res = await client(o).console(cellId, o.follow);
  if (!o.follow) {
    const body = (await res.json()) as { lines: { offsetMs: number; text: string }[] };
    for (const l of body.lines) out(`[${(l.offsetMs / 1000).toFixed(3).padStart(9)}] ${l.text}`);
    return ExitCode.Ok;
  }
  let ended = false;
  const parser = createParser({
    onEvent: (e) => {
      const data = JSON.parse(e.data) as { offsetMs?: number; text?: string; status?: string; attempt?: number };
      // Console lines are the stream's unnamed (message) events.
      if (e.event === undefined || e.event === 'message') out(`[${((data.offsetMs ?? 0) / 1000).toFixed(3).padStart(9)}] ${data.text ?? ''}`);
      else if (e.event === 'attempt') err(`-- attempt ${data.attempt}`);
      else if (e.event === 'end') {
        err(`-- cell ${data.status}`);
        ended = true;
      }
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    if (ended) break;
  }
  return ExitCode.Ok;
}

export async function report(runId: string, o: FarmOptions & { profile: ComplianceProfile; junit?: string; html?: string; json?: string }): Promise<ExitCode> {
  if (!o.junit && !o.html && !o.json) throw new CliError('say which report: --junit FILE, --html FILE and/or --json FILE');
  const farm = client(o);
  await writeRunReports(farm, await farm.run(runId), o);
  return ExitCode.Ok;
}

export async function workers(o: FarmOptions): Promise<ExitCode> {
  const list = await client(o).workers();
  for (const w of list) out(`${w.id.padEnd(28)} ${w.state.padEnd(8)} ${w.health.padEnd(11)} ${w.capabilities.join(',')}${w.healthReason ? `  (${w.healthReason})` : ''}`);
  if (list.length === 0) out('no workers have registered');
  return ExitCode.Ok;
}

