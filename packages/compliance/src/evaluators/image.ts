/**
 * IMG-1..IMG-10: the intake's static findings turned into verdicts (a finding's `fail` is an unmet
 * requirement, `warn` a partial one, `pass` met, `info` informs), plus IMG-7 from the boot.
 */
import type { FindingDto, RequirementResult, VerdictEvidence } from '@bootfarm/contracts';
import type { RequirementId } from '../catalogue.js';
import { OBS, archName, findingsFor, type CellContext } from '../context.js';
import { bootEv, met, na, nt, partial, result, unmet, type Judgement } from '../judge.js';

const NOT_INSPECTED = 'the image was not inspected at intake (no static findings)';

/** Evidence of findings: one line naming the finding, then its own evidence (offsets, bytes, values). */
export function findingEvidence(fs: readonly FindingDto[]): VerdictEvidence[] {
  return fs.flatMap((f) => [
    { source: 'image' as const, what: `${f.id} ${f.check} (${f.level})`, value: f.message },
    ...f.evidence.map((e): VerdictEvidence => ({
      source: 'image', what: e.what,
      ...(e.value !== undefined ? { value: e.value } : {}),
      ...(e.expected !== undefined ? { expected: e.expected } : {}),
      ...(e.offset !== undefined ? { offset: e.offset } : {}),
      ...(e.bytes !== undefined ? { bytes: e.bytes } : {}),
    })),
  ]);
}

/** A judgement from findings: fail > warn > pass > info. */
export function judgeFindings(fs: readonly FindingDto[]): { judgement: Judgement; deciding: FindingDto[] } {
  const by = (l: FindingDto['level']) => fs.filter((f) => f.level === l);
  const msg = (xs: FindingDto[]) => xs.map((f) => f.message).join('; ');
  const fails = by('fail');
  if (fails.length) return { judgement: unmet(msg(fails)), deciding: fails };
  const warns = by('warn');
  if (warns.length) return { judgement: partial(msg(warns)), deciding: warns };
  const passes = by('pass');
  if (passes.length) return { judgement: met(msg(passes)), deciding: [...passes, ...by('info')] };
  const infos = by('info');
  const notChecked = infos.filter((f) => f.check === 'not-checked');
  if (notChecked.length) return { judgement: nt(msg(notChecked)), deciding: notChecked };
  if (infos.length) return { judgement: met(`informative: ${msg(infos)}`), deciding: infos };
  return { judgement: nt('intake produced no finding for this requirement'), deciding: [] };
}

function fromFindings(ctx: CellContext, id: RequirementId): RequirementResult {
  if (!ctx.findings) return result(id, nt(NOT_INSPECTED), []);
  const { judgement, deciding } = judgeFindings(findingsFor(ctx, id));
  return result(id, judgement, findingEvidence(deciding));
}

export const evalImg1 = (ctx: CellContext): RequirementResult => fromFindings(ctx, 'IMG-1');

/** IMG-2: any container is fine; only a file that cannot be opened as a disk is reported. */
export function evalImg2(ctx: CellContext): RequirementResult {
  const insp = ctx.input.image.inspection;
  if (!insp) return result('IMG-2', nt(NOT_INSPECTED), []);
  const own = findingsFor(ctx, 'IMG-2');
  if (own.length) return fromFindings(ctx, 'IMG-2');
  const ev: VerdictEvidence[] = [{ source: 'image', what: 'guest-visible disk size', value: String(insp.virtualSize) }];
  if (insp.qemuImg) ev.push({ source: 'image', what: 'container format (qemu-img info)', value: `${insp.qemuImg.format}, virtual size ${insp.qemuImg.virtualSize}` });
  const broken = findingsFor(ctx, 'IMG-1').find((f) => f.check === 'inspection-error');
  if (broken) return result('IMG-2', unmet(`the file could not be read as a disk: ${broken.message}`), [...ev, ...findingEvidence([broken])]);
  const fmt = insp.qemuImg ? `${insp.qemuImg.format} container` : 'container';
  return result('IMG-2', met(`${fmt} opened as a ${insp.virtualSize}-byte guest-visible disk; the IMG checks ran on that view`), ev);
}

export const evalImg3 = (ctx: CellContext): RequirementResult => fromFindings(ctx, 'IMG-3');
export const evalImg4 = (ctx: CellContext): RequirementResult => fromFindings(ctx, 'IMG-4');
export const evalImg5 = (ctx: CellContext): RequirementResult => fromFindings(ctx, 'IMG-5');
export const evalImg6 = (ctx: CellContext): RequirementResult => fromFindings(ctx, 'IMG-6');

/** IMG-7 is dynamic: the cell boots the image from a fresh variable store. */
export function evalImg7(ctx: CellContext): RequirementResult {
  if (ctx.cannotBoot) return result('IMG-7', na(ctx.cannotBoot), []);
  const b = ctx.input.boot;
  if (!b) return result('IMG-7', nt('the image was not booted in this cell'), []);
  const ev: VerdictEvidence[] = [bootEv('image boot outcome', `${b.outcome} at stage ${b.stage}`, b.marker ?? b.decidingLine)];
  if (b.outcome === 'passed') {
    return result('IMG-7', met(`booted from an empty variable store to its success marker${b.marker ? '' : ' (no marker line recorded)'}`), ev);
  }
  if (b.outcome === 'failed' || b.outcome === 'timeout') {
    return result('IMG-7', unmet(`from an empty variable store the boot ${b.outcome === 'timeout' ? 'timed out' : 'failed'}: ${b.reason}`), ev);
  }
  return result('IMG-7', nt(`the boot did not run to a verdict (${b.outcome}: ${b.reason})`), ev);
}

export const evalImg8 = (ctx: CellContext): RequirementResult => fromFindings(ctx, 'IMG-8');
export const evalImg9 = (ctx: CellContext): RequirementResult => fromFindings(ctx, 'IMG-9');

/**
 * IMG-10 per cell: the declared execution state (and a name/machine mismatch), and whether this
 * cell's architecture is one the image declares. The run checks every declared state was booted.
 */
export function evalImg10(ctx: CellContext): RequirementResult {
  const insp = ctx.input.image.inspection;
  if (!insp) return result('IMG-10', nt(NOT_INSPECTED), []);
  const fs = findingsFor(ctx, 'IMG-10');
  const archs = insp.architectures.filter((a) => a === 'aarch64' || a === 'arm');
  const ev: VerdictEvidence[] = [{ source: 'image', what: OBS.declaredArchitectures, value: archs.join(',') || 'none' }, ...findingEvidence(fs)];
  const mismatch = fs.filter((f) => f.level === 'warn' || f.level === 'fail');
  if (mismatch.length) return result('IMG-10', partial(mismatch.map((f) => f.message).join('; ')), ev);
  if (archs.length === 0) return result('IMG-10', unmet('the image declares no ARM execution state (no BOOTAA64.EFI or BOOTARM.EFI)'), ev);
  const cell = ctx.input.profile.arch;
  if (!archs.includes(cell)) return result('IMG-10', na(`the image declares ${archs.map(archName).join(' and ')}; this cell is ${archName(cell)}`), ev);
  return result('IMG-10', met(`the image declares ${archs.map(archName).join(' and ')}; this ${archName(cell)} cell exercises it`), ev);
}
