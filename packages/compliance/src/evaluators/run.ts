/**
 * Run-level verdicts: requirements that need several cells (both GIC versions, ACPI-only and
 * DT-only boots, an AArch32 cell, several disk transports, each declared execution state), and
 * the worst-cell rule for everything else. Inputs are the stored cell results only, so cells'
 * observations travel as evidence labelled with {@link OBS}; run evidence names its `cellKey`.
 */
import type { CellCompliance, ComplianceProfile, RequirementResult, VerdictEvidence, VerdictStatus } from '@bootfarm/contracts';
import { PROFILES, type RequirementId } from '../catalogue.js';
import { OBS, archName } from '../context.js';
import { STATUS_RANK, met, na, nt, partial, perProfile, result, unmet, type Judgement } from '../judge.js';
import { DRIVER_NAME, DRIVER_SETS, type Driver } from './guest.js';

function req(c: CellCompliance, id: RequirementId): RequirementResult | undefined {
  return c.requirements.find((r) => r.id === id);
}
function status(c: CellCompliance, id: RequirementId, p: ComplianceProfile): VerdictStatus | undefined {
  return req(c, id)?.verdicts[p]?.status;
}
function reason(c: CellCompliance, id: RequirementId, p: ComplianceProfile): string {
  return req(c, id)?.verdicts[p]?.reason ?? '';
}
/** Values of a cell's evidence labelled `what` for a requirement. */
function observed(c: CellCompliance, id: RequirementId, what: string): string[] {
  return (req(c, id)?.evidence ?? []).filter((e) => e.what === what && e.value !== undefined).map((e) => e.value!);
}
/** A cell's evidence for a requirement, tagged with the cell. */
function tagged(c: CellCompliance, id: RequirementId, only?: (e: VerdictEvidence) => boolean): VerdictEvidence[] {
  return (req(c, id)?.evidence ?? []).filter(only ?? (() => true)).map((e) => ({ ...e, cellKey: c.cellKey }));
}
const keys = (cs: readonly CellCompliance[]): string => cs.map((c) => c.cellKey).join(', ');

/** A stored status back to a judgement (a warn is "met partly", which keeps it a warn at any level). */
function judgementOf(s: VerdictStatus, why: string): Judgement {
  switch (s) {
    case 'pass':
      return met(why);
    case 'fail':
      return unmet(why);
    case 'warn':
      return partial(why);
    case 'not_applicable':
      return na(why);
    case 'not_tested':
      return nt(why);
  }
}

/** "3 cells: 2 pass, 1 fail". */
function tally(cells: readonly CellCompliance[], id: RequirementId, p: ComplianceProfile): string {
  const n = new Map<string, number>();
  for (const c of cells) {
    const s = status(c, id, p);
    if (s) n.set(s, (n.get(s) ?? 0) + 1);
  }
  const order: VerdictStatus[] = ['fail', 'warn', 'pass', 'not_tested', 'not_applicable'];
  return `${cells.length} cells: ${order.filter((s) => n.has(s)).map((s) => `${n.get(s)} ${s}`).join(', ')}`;
}

/** The worst cell under one profile: fail > warn > pass > not_tested > not_applicable. */
function worst(id: RequirementId, cells: readonly CellCompliance[], p: ComplianceProfile): { judgement: Judgement; cell: CellCompliance | null } {
  let best: CellCompliance | null = null;
  let rank = -1;
  for (const c of cells) {
    const s = status(c, id, p);
    if (s === undefined) continue;
    if (STATUS_RANK[s] > rank) {
      rank = STATUS_RANK[s];
      best = c;
    }
  }
  if (!best) return { judgement: nt('no cell evaluated it'), cell: null };
  const s = status(best, id, p)!;
  const others = cells.length > 1 ? ` (${tally(cells, id, p)})` : '';
  return { judgement: judgementOf(s, `${best.cellKey}: ${reason(best, id, p)}${others}`), cell: best };
}

/** Per-cell requirements: the worst cell decides, and is cited. */
export function worstCell(id: RequirementId, cells: readonly CellCompliance[]): RequirementResult {
  if (!cells.length) return result(id, nt('the run has no cells'), []);
  const picks = perProfile((p) => worst(id, cells, p));
  const cited = [...new Set(PROFILES.map((p) => picks[p].cell).filter((c): c is CellCompliance => c !== null))];
  return result(id, perProfile((p) => picks[p].judgement), cited.flatMap((c) => tagged(c, id)));
}

type Outcome = 'ok' | 'failed' | 'untested';
/** A group of cells: ok if any passed, failed if any failed/warned and none passed. */
function groupOutcome(cs: readonly CellCompliance[], id: RequirementId, p: ComplianceProfile): Outcome {
  if (cs.some((c) => status(c, id, p) === 'pass')) return 'ok';
  if (cs.some((c) => status(c, id, p) === 'fail' || status(c, id, p) === 'warn')) return 'failed';
  return 'untested';
}

/** HW-2: an AArch32 VM booted (and AArch64 ones). */
export function runHw2(cells: readonly CellCompliance[]): RequirementResult {
  const arm = cells.filter((c) => c.profile.arch === 'arm');
  const a64 = cells.filter((c) => c.profile.arch === 'aarch64' && observed(c, 'HW-2', OBS.probeArch).length > 0);
  const by = (s: VerdictStatus) => arm.filter((c) => status(c, 'HW-2', 'vmspec-1.0') === s);
  const ev = [...arm.flatMap((c) => tagged(c, 'HW-2')), ...a64.slice(0, 1).flatMap((c) => tagged(c, 'HW-2'))];
  let j: Judgement;
  if (by('pass').length) j = met(`AArch32 VM booted in ${keys(by('pass'))}${a64.length ? `; AArch64 in ${keys(a64.slice(0, 1))}` : '; no AArch64 cell ran the probe'}`);
  else if (by('warn').length || by('fail').length) {
    const c = [...by('fail'), ...by('warn')][0]!;
    j = unmet(`${c.cellKey}: ${reason(c, 'HW-2', 'vmspec-1.0')}`);
  } else if (by('not_applicable').length) j = na(`${by('not_applicable')[0]!.cellKey}: ${reason(by('not_applicable')[0]!, 'HW-2', 'vmspec-1.0')}`);
  else if (arm.length) j = nt(`${arm[0]!.cellKey}: ${reason(arm[0]!, 'HW-2', 'vmspec-1.0')}`);
  else j = nt('no AArch32 cell in the run (add an arch "arm" cell: qemu-system-arm under TCG, or -cpu host,aarch64=off on a KVM host with AArch32 EL1)');
  return result('HW-2', j, ev);
}

/** HW-4: v1.0 and bbr per cell (worst); v2.0 needs GICv2 and GICv3 provided across cells. */
export function runHw4(cells: readonly CellCompliance[]): RequirementResult {
  const base = worstCell('HW-4', cells);
  const failed = cells.filter((c) => status(c, 'HW-4', 'vmspec-2.0') === 'fail' || status(c, 'HW-4', 'vmspec-2.0') === 'warn');
  const provided = (v: string) => cells.filter((c) => observed(c, 'HW-4', OBS.gicVersion).includes(v) && ['pass', 'warn'].includes(status(c, 'HW-4', 'vmspec-1.0') ?? ''));
  const hostNa = (v: string) => cells.filter((c) => c.profile.gic === v && status(c, 'HW-4', 'vmspec-1.0') === 'not_applicable');
  const v2 = provided('v2');
  const v3 = provided('v3');
  let j20: Judgement;
  const ev: VerdictEvidence[] = [];
  if (failed.length) {
    j20 = judgementOf(status(failed[0]!, 'HW-4', 'vmspec-2.0')!, `${failed[0]!.cellKey}: ${reason(failed[0]!, 'HW-4', 'vmspec-2.0')}`);
    ev.push(...tagged(failed[0]!, 'HW-4'));
  } else if (v2.length && v3.length) {
    j20 = met(`GICv2 provided in ${v2[0]!.cellKey}, GICv3 in ${v3[0]!.cellKey}`);
    ev.push(...tagged(v2[0]!, 'HW-4'), ...tagged(v3[0]!, 'HW-4'));
  } else {
    const missing = (['v2', 'v3'] as const).filter((v) => !provided(v).length);
    const seen = (['v2', 'v3'] as const).filter((v) => provided(v).length).map((v) => `GIC${v} in ${provided(v)[0]!.cellKey}`);
    const parts = missing.map((v) => (hostNa(v).length ? `GIC${v}: N/A (host) in ${hostNa(v)[0]!.cellKey}` : `no GIC${v} cell in the run`));
    const why = `v2.0 needs GICv2 and GICv3: ${[...seen, ...parts].join('; ')}`;
    j20 = missing.every((v) => hostNa(v).length) ? na(why) : nt(why);
    for (const v of ['v2', 'v3'] as const) ev.push(...provided(v).slice(0, 1).flatMap((c) => tagged(c, 'HW-4')), ...hostNa(v).slice(0, 1).flatMap((c) => tagged(c, 'HW-4')));
  }
  return result('HW-4', { 'vmspec-1.0': judgementOf(base.verdicts['vmspec-1.0'].status, base.verdicts['vmspec-1.0'].reason), 'vmspec-2.0': j20, bbr: judgementOf(base.verdicts.bbr.status, base.verdicts.bbr.reason) }, [...base.evidence, ...ev]);
}

/** HW-5: only cells above 8 vCPUs say anything. */
export function runHw5(cells: readonly CellCompliance[]): RequirementResult {
  const big = cells.filter((c) => c.profile.cpus > 8);
  if (!big.length) return result('HW-5', nt('needs a cell with more than 8 vCPUs (GICv3 with e.g. 16 vCPUs; GICv2 with 9, expecting a refusal)'), []);
  return worstCell('HW-5', big);
}

/** HW-9: the image boots on every disk transport tried (at least two). */
export function runHw9(cells: readonly CellCompliance[]): RequirementResult {
  const transports = [...new Set(cells.map((c) => c.profile.disk))];
  const state = new Map(transports.map((t) => [t, groupOutcome(cells.filter((c) => c.profile.disk === t), 'HW-9', 'vmspec-1.0')]));
  const ok = transports.filter((t) => state.get(t) === 'ok');
  const bad = transports.filter((t) => state.get(t) === 'failed');
  const ev = transports.flatMap((t) => cells.filter((c) => c.profile.disk === t).slice(0, 1).flatMap((c) => tagged(c, 'HW-9')));
  let j: Judgement;
  if (ok.length && bad.length) j = unmet(`boots on ${ok.join(', ')} but not on ${bad.join(', ')}: the image assumes a device type`);
  else if (ok.length >= 2) j = met(`boots on every transport tried: ${ok.join(', ')}`);
  else if (ok.length === 1) j = nt(`only ${ok[0]} was tried; HW-9 needs boots on at least two of virtio-pci, virtio-mmio, xen-pv`);
  else if (bad.length) j = nt('the image booted on no transport (see OS-1)');
  else j = nt('no boot ran to a verdict');
  return result('HW-9', j, ev);
}

/** IMG-10: every execution state the image declares was booted by some cell. */
export function runImg10(cells: readonly CellCompliance[]): RequirementResult {
  const withDecl = cells.find((c) => observed(c, 'IMG-10', OBS.declaredArchitectures).length);
  if (!withDecl) return worstCell('IMG-10', cells);
  const mismatch = cells.find((c) => status(c, 'IMG-10', 'vmspec-1.0') === 'warn');
  const declared = observed(withDecl, 'IMG-10', OBS.declaredArchitectures)[0]!.split(',').filter((a) => a === 'aarch64' || a === 'arm');
  const ev = tagged(withDecl, 'IMG-10');
  if (mismatch) return result('IMG-10', partial(`${mismatch.cellKey}: ${reason(mismatch, 'IMG-10', 'vmspec-1.0')}`), ev);
  if (!declared.length) return result('IMG-10', unmet('the image declares no ARM execution state'), ev);
  const parts: string[] = [];
  let anyFailed = false;
  let anyUntested = false;
  for (const a of declared) {
    const cs = cells.filter((c) => c.profile.arch === a);
    const booted = cs.filter((c) => status(c, 'OS-1', 'vmspec-1.0') === 'pass');
    if (booted.length) {
      parts.push(`${archName(a)} booted in ${booted[0]!.cellKey}`);
      ev.push(...tagged(booted[0]!, 'OS-1'));
    } else if (cs.some((c) => status(c, 'OS-1', 'vmspec-1.0') === 'fail')) {
      anyFailed = true;
      parts.push(`${archName(a)} did not boot in ${keys(cs)}`);
      ev.push(...tagged(cs[0]!, 'OS-1'));
    } else {
      anyUntested = true;
      parts.push(cs.length ? `${archName(a)} not booted to a verdict` : `no ${archName(a)} cell in the run`);
    }
  }
  const text = `declares ${declared.map(archName).join(' and ')}: ${parts.join('; ')}`;
  return result('IMG-10', anyFailed ? unmet(text) : anyUntested ? nt(text) : met(text), ev);
}

/** OS-2: every console driver the profile names was seen bound in some cell. */
export function runOs2(cells: readonly CellCompliance[]): RequirementResult {
  const seen = new Map<Driver, CellCompliance>();
  for (const c of cells) for (const v of observed(c, 'OS-2', OBS.consoleDriver)) if (!seen.has(v as Driver)) seen.set(v as Driver, c);
  const ev = [...seen.entries()].flatMap(([d, c]) => tagged(c, 'OS-2', (e) => e.what === OBS.consoleDriver && e.value === d));
  const js = perProfile((p): Judgement => {
    const failing = cells.find((c) => status(c, 'OS-2', p) === 'fail' || status(c, 'OS-2', p) === 'warn');
    if (failing) return judgementOf(status(failing, 'OS-2', p)!, `${failing.cellKey}: ${reason(failing, 'OS-2', p)}`);
    const required = DRIVER_SETS[p];
    const bound = required.filter((d) => seen.has(d));
    const missing = required.filter((d) => !seen.has(d));
    const boundText = bound.map((d) => `${DRIVER_NAME[d]} (${seen.get(d)!.cellKey})`).join(', ');
    if (!missing.length) return met(`the guest drove ${boundText}`);
    const miss = missing.map((d) => DRIVER_NAME[d]).join(', ');
    return nt(bound.length ? `bound: ${boundText}; not exercised: ${miss} (needs a cell offering it)` : `no cell exercised ${miss}`);
  });
  const failingEv = cells.filter((c) => PROFILES.some((p) => status(c, 'OS-2', p) === 'fail')).slice(0, 1).flatMap((c) => tagged(c, 'OS-2'));
  return result('OS-2', js, [...ev, ...failingEv]);
}

/** OS-3: the image booted under GICv2 and GICv3 (v1.0: GICv2, plus any newer tried). */
export function runOs3(cells: readonly CellCompliance[]): RequirementResult {
  const ofVersion = (v: string) => cells.filter((c) => observed(c, 'OS-3', OBS.gicVersion)[0] === v);
  const st = (v: string, p: ComplianceProfile) => groupOutcome(ofVersion(v), 'OS-3', p);
  const ev = (['v2', 'v3'] as const).flatMap((v) => {
    const cs = ofVersion(v);
    const pick = cs.find((c) => status(c, 'OS-3', 'vmspec-1.0') === 'pass') ?? cs[0];
    return pick ? tagged(pick, 'OS-3') : [];
  });
  const where = (v: string, p: ComplianceProfile) => {
    const cs = ofVersion(v);
    const s = st(v, p);
    const c = s === 'ok' ? cs.find((x) => status(x, 'OS-3', p) === 'pass')! : cs[0];
    return s === 'ok' ? `booted under GIC${v} in ${c!.cellKey}` : s === 'failed' ? `did not boot under GIC${v} (${c!.cellKey})` : `no GIC${v} cell booted to a verdict`;
  };
  const js = perProfile((p): Judgement => {
    const s2 = st('v2', p);
    const s3 = st('v3', p);
    const text = `${where('v2', p)}; ${where('v3', p)}`;
    if (s2 === 'failed' || s3 === 'failed') return unmet(text);
    if (p === 'vmspec-1.0') return s2 === 'ok' ? met(s3 === 'ok' ? text : `${where('v2', p)} (no newer GIC tried)`) : nt(text);
    return s2 === 'ok' && s3 === 'ok' ? met(text) : nt(text);
  });
  return result('OS-3', js, ev);
}

const TRANSPORTS = ['virtio-pci', 'virtio-mmio', 'xen-pv'] as const;

/** OS-5: a block device on every transport (virtio-pci, virtio-mmio, xen-pv). */
export function runOs5(cells: readonly CellCompliance[]): RequirementResult {
  const st = (t: string) => groupOutcome(cells.filter((c) => c.profile.disk === t), 'OS-5', 'vmspec-1.0');
  const ok = TRANSPORTS.filter((t) => st(t) === 'ok');
  const bad = TRANSPORTS.filter((t) => st(t) === 'failed');
  const untested = TRANSPORTS.filter((t) => st(t) === 'untested');
  const ev = TRANSPORTS.flatMap((t) => cells.filter((c) => c.profile.disk === t).slice(0, 1).flatMap((c) => tagged(c, 'OS-5')));
  let j: Judgement;
  if (bad.length) j = unmet(`no block device on ${bad.join(', ')}${ok.length ? ` (fine on ${ok.join(', ')})` : ''}`);
  else if (!untested.length) j = met(`block devices found on ${ok.join(', ')}`);
  else j = nt(`${ok.length ? `block devices found on ${ok.join(', ')}; ` : ''}not exercised: ${untested.join(', ')}`);
  return result('OS-5', j, ev);
}

/** OS-6: booted under ACPI-only and DT-only (and dual when offered), as each profile asks. */
export function runOs6(cells: readonly CellCompliance[]): RequirementResult {
  const of = (d: string) => cells.filter((c) => observed(c, 'OS-6', OBS.hwDescription)[0] === d);
  const st = (d: string) => groupOutcome(of(d), 'OS-6', 'vmspec-2.0');
  const label: Record<string, string> = { dt: 'DT-only', acpi: 'ACPI-only', both: 'dual' };
  const text = (d: string) => {
    const s = st(d);
    const cs = of(d);
    if (s === 'ok') return `${label[d]} boot in ${cs.find((c) => status(c, 'OS-6', 'vmspec-2.0') === 'pass')!.cellKey}`;
    if (s === 'failed') return `${label[d]} boot failed (${cs[0]!.cellKey})`;
    return cs.length ? `${label[d]} not booted to a verdict` : `no ${label[d]} cell`;
  };
  const judge = (needed: string[]): Judgement => {
    const t = needed.map(text).join('; ');
    if (needed.some((d) => st(d) === 'failed')) return unmet(t);
    if (needed.every((d) => st(d) === 'ok')) return met(t);
    return nt(t);
  };
  const js: Record<ComplianceProfile, Judgement> = {
    // v1.0 platforms present DT; a dual platform boots DT by default.
    'vmspec-1.0': st('dt') === 'ok' || (st('dt') !== 'failed' && st('both') === 'ok') ? met(st('dt') === 'ok' ? text('dt') : text('both')) : judge(['dt']),
    'vmspec-2.0': judge(of('both').length ? ['acpi', 'dt', 'both'] : ['acpi', 'dt']),
    bbr: judge(['acpi', 'dt']),
  };
  const ev = ['dt', 'acpi', 'both'].flatMap((d) => {
    const cs = of(d);
    const pick = cs.find((c) => status(c, 'OS-6', 'vmspec-2.0') === 'pass') ?? cs[0];
    return pick ? tagged(pick, 'OS-6') : [];
  });
  return result('OS-6', js, ev);
}

/** Run-level combiners for requirements whose scope is `run`. */
export const RUN_COMBINERS: Readonly<Partial<Record<RequirementId, (cells: readonly CellCompliance[]) => RequirementResult>>> = {
  'IMG-10': runImg10,
  'HW-2': runHw2,
  'HW-4': runHw4,
  'HW-5': runHw5,
  'HW-9': runHw9,
  'OS-2': runOs2,
  'OS-3': runOs3,
  'OS-5': runOs5,
  'OS-6': runOs6,
};
