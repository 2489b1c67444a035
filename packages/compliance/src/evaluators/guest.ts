/**
 * OS-1..OS-12 for one cell: what the image's guest did on this cell's platform, read from the
 * boot result and the guest console facts (kernel lines and the farm guest's VMSPEC-GUEST lines).
 * Run-scoped requirements (OS-2/3/5/6) record this cell's contribution; verdicts.ts combines them.
 */
import type { ComplianceProfile, RequirementResult, VerdictEvidence } from '@bootfarm/contracts';
import type { RequirementId } from '../catalogue.js';
import {
  OBS, RT, acpiTables, bootReachedOs, descriptionKind, descriptions, findingsFor, firstKernelFact, guestKey, parseDec, rtPropMask,
  type CellContext,
} from '../context.js';
import { bootEv, consoleEv, met, na, nt, partial, perProfile, result, unmet, type Judgement } from '../judge.js';
import { findingEvidence } from './image.js';

/**
 * The common preamble: the cell cannot boot the image, or the image was not booted, or (for
 * console-based requirements) no guest facts were recorded — an absent line is only evidence
 * when the console was analysed.
 */
function precheck(ctx: CellContext, id: RequirementId, needsConsole = true): RequirementResult | null {
  if (ctx.cannotBoot) return result(id, na(ctx.cannotBoot), []);
  if (!ctx.input.boot) return result(id, nt('the image was not booted in this cell'), []);
  if (needsConsole && !ctx.guest) return result(id, nt('no guest console facts were recorded for this cell'), bootEvidence(ctx));
  return null;
}

function bootEvidence(ctx: CellContext): VerdictEvidence[] {
  const b = ctx.input.boot!;
  return [bootEv('image boot outcome', `${b.outcome} at stage ${b.stage}${b.failureClass ? ` (${b.failureClass})` : ''}`, b.marker ?? b.decidingLine)];
}

/** The boot's verdict alone: passed → met, failed/timeout → unmet, else not tested. */
function bootJudgement(ctx: CellContext, what: string): Judgement {
  const b = ctx.input.boot!;
  if (b.outcome === 'passed') return met(`${what}: the boot reached its success marker`);
  if (b.outcome === 'failed' || b.outcome === 'timeout') return unmet(`${what}: the boot ${b.outcome === 'timeout' ? 'timed out' : 'failed'} (${b.reason})`);
  if (b.outcome === 'infrastructure_error') return nt(`the farm could not boot the cell (${b.reason})`);
  return nt(`the boot did not run to a verdict (${b.outcome}: ${b.reason})`);
}

/** OS-1: the boot reached its success marker. */
export function evalOs1(ctx: CellContext): RequirementResult {
  const pre = precheck(ctx, 'OS-1', false);
  if (pre) return pre;
  const b = ctx.input.boot!;
  const j = b.outcome === 'passed' ? met(`booted to userspace${b.marker ? ` (marker: ${b.marker.text.slice(0, 80)})` : ''}`) : bootJudgement(ctx, 'did not boot to userspace');
  return result('OS-1', j, bootEvidence(ctx));
}

/** Console drivers the profiles name. */
export type Driver = 'PL011' | 'SBSA' | 'XENPV' | 'VIRTIO';
/** The console drivers each profile asks the guest to have. */
export const DRIVER_SETS: Readonly<Record<ComplianceProfile, readonly Driver[]>> = {
  'vmspec-1.0': ['PL011', 'VIRTIO', 'XENPV'],
  'vmspec-2.0': ['PL011', 'SBSA'],
  bbr: ['PL011', 'SBSA'],
};
export const DRIVER_NAME: Readonly<Record<Driver, string>> = { PL011: 'pl011', SBSA: 'SBSA UART', XENPV: 'Xen PV console', VIRTIO: 'virtio-console' };

/** OS-2 per cell: the guest bound the console(s) this cell's platform offers. */
export function evalOs2(ctx: CellContext): RequirementResult {
  const pre = precheck(ctx, 'OS-2');
  if (pre) return pre;
  const g = ctx.guest;
  const ev: VerdictEvidence[] = [];
  // What the platform offers (probe; else what the cell asked for).
  const offered = new Set<Driver>();
  const m = ctx.probe.main;
  let from = 'probe';
  if (m) {
    const compat = m.get('fdt.uart.compatible')?.value ?? '';
    const dtCount = parseDec(m.get('fdt.uart.count')?.value) ?? 0;
    const d = descriptions(m);
    if (d.dt && dtCount > 0) offered.add(compat.includes('sbsa') ? 'SBSA' : 'PL011');
    if (d.dt && !m.get('fdt.uart.count')) {
      if (parseDec(m.get('fdt.pl011')?.value)) offered.add('PL011');
      if (parseDec(m.get('fdt.sbsa-uart')?.value)) offered.add('SBSA');
    }
    // Linux binds ACPI's ARMH0011 with the SBSA driver ("is a SBSA").
    if (d.acpi && !d.dt && (m.get('acpi.dsdt.armh0011')?.value === 'present' || acpiTables(m).tables?.includes('SPCR'))) offered.add('SBSA');
    if (m.get('fdt.xen')?.value === 'present' || m.get('fdt.xen')?.value === '1') offered.add('XENPV');
  } else {
    from = 'requested profile (not probed)';
    const p = ctx.input.profile;
    if (p.accel === 'xen') offered.add('XENPV');
    else offered.add(p.hwDescription === 'acpi' ? 'SBSA' : 'PL011');
  }
  const seen = new Set<Driver>();
  if (g?.uart) {
    seen.add(g.uart.value.kind);
    ev.push(consoleEv(g.uart, OBS.consoleDriver, g.uart.value.kind));
  }
  const gu = guestKey(g, 'uart');
  if (gu && /uart:(PL011|SBSA)/i.test(gu.value)) {
    const k = /SBSA/i.test(gu.value) ? 'SBSA' : 'PL011';
    if (!seen.has(k)) ev.push(consoleEv(gu, OBS.consoleDriver, k));
    seen.add(k);
  }
  if (g?.hvc0) {
    const k: Driver = g.xen ? 'XENPV' : 'VIRTIO';
    seen.add(k);
    ev.push(consoleEv(g.hvc0, OBS.consoleDriver, k));
  }
  if (!bootReachedOs(ctx) && seen.size === 0) return result('OS-2', nt('the guest kernel never ran in this cell'), bootEvidence(ctx));
  ev.push({ source: m ? 'probe' : 'boot', what: 'consoles the platform offers', value: [...offered].join(',') || 'none' });
  return result('OS-2', perProfile((p): Judgement => {
    const relevant = [...offered].filter((d) => DRIVER_SETS[p].includes(d));
    if (!relevant.length) return na(`this cell offers no console ${p} names (offers ${[...offered].map((d) => DRIVER_NAME[d]).join(', ') || 'none'})`);
    const missing = relevant.filter((d) => !seen.has(d));
    if (missing.length) {
      if (ctx.input.boot!.outcome !== 'passed') return nt(`the boot did not complete; ${missing.map((d) => DRIVER_NAME[d]).join(', ')} not seen bound`);
      if (!firstKernelFact(g)) return nt('no Linux kernel lines recognised on the console: the bound drivers are unknown');
      return unmet(`the platform offers ${missing.map((d) => DRIVER_NAME[d]).join(', ')} (${from}) but the guest bound no driver for it`);
    }
    return met(`the guest drove ${relevant.map((d) => DRIVER_NAME[d]).join(', ')}`);
  }), ev);
}

/** The GIC this cell ran under: the guest's driver line, else the probe's, else the profile's. */
function cellGic(ctx: CellContext): { version: 'v2' | 'v3'; evidence: VerdictEvidence[] } {
  const g = ctx.guest?.gic;
  if (g) return { version: g.value.version, evidence: [consoleEv(g, OBS.gicVersion, g.value.version)] };
  const k = guestKey(ctx.guest, 'gic');
  if (k && /GICv3/.test(k.value)) return { version: 'v3', evidence: [consoleEv(k, OBS.gicVersion, 'v3')] };
  if (k && /GICv2|GIC-0/.test(k.value)) return { version: 'v2', evidence: [consoleEv(k, OBS.gicVersion, 'v2')] };
  return { version: ctx.input.profile.gic, evidence: [{ source: 'boot', what: OBS.gicVersion, value: ctx.input.profile.gic }] };
}

/** OS-3 per cell: the image booted under this cell's GIC version. */
export function evalOs3(ctx: CellContext): RequirementResult {
  const pre = precheck(ctx, 'OS-3', false);
  if (pre) return pre;
  const gic = cellGic(ctx);
  return result('OS-3', bootJudgement(ctx, `under GIC${gic.version}`), [...gic.evidence, ...bootEvidence(ctx)]);
}

/** OS-4: the guest's wall clock is rtc-efi. */
export function evalOs4(ctx: CellContext): RequirementResult {
  const pre = precheck(ctx, 'OS-4');
  if (pre) return pre;
  const g = ctx.guest;
  const ev: VerdictEvidence[] = [];
  // Under bbr an RTC is optional when the firmware does not claim GetTime.
  let bbrNa: Judgement | null = null;
  if (ctx.probe.main) {
    const rp = rtPropMask(ctx.probe.main);
    if (rp.mask !== null && rp.mask !== undefined && (rp.mask & RT.GetTime) === 0) {
      bbrNa = na('the firmware\'s RT_PROPERTIES does not claim GetTime: EBBR allows no UEFI RTC');
      ev.push(...rp.evidence);
    }
  }
  const withBbr = (j: Judgement): Record<ComplianceProfile, Judgement> => ({ 'vmspec-1.0': j, 'vmspec-2.0': j, bbr: bbrNa ?? j });
  const name = guestKey(g, 'rtc0.name');
  if (g?.rtcEfi) return result('OS-4', withBbr(met(`the guest registered rtc-efi as ${g.rtcEfi.value.rtc}`)), [...ev, consoleEv(g.rtcEfi, 'RTC driver', 'rtc-efi', 'rtc-efi')]);
  if (name?.value === 'rtc-efi') return result('OS-4', withBbr(met('the guest\'s rtc0 is rtc-efi')), [...ev, consoleEv(name, 'rtc0 name', name.value, 'rtc-efi')]);
  if (g?.efiNotFound) return result('OS-4', withBbr(unmet('the kernel was not booted through UEFI (efi: UEFI not found): no UEFI RTC')), [...ev, consoleEv(g.efiNotFound, 'EFI', 'not found')]);
  if (g?.rtc) return result('OS-4', withBbr(unmet(`the guest's wall clock is ${g.rtc.value.driver}, not the UEFI RTC (rtc-efi)`)), [...ev, consoleEv(g.rtc, 'RTC driver', g.rtc.value.driver, 'rtc-efi')]);
  if (name) return result('OS-4', withBbr(unmet(name.value ? `the guest's rtc0 is ${name.value}, not rtc-efi` : 'the guest has no rtc0 (no RTC driver bound)')), [...ev, consoleEv(name, 'rtc0 name', name.value, 'rtc-efi')]);
  if (ctx.input.boot!.outcome === 'passed' && firstKernelFact(g)) {
    return result('OS-4', withBbr(unmet('the guest booted but registered no RTC')), [...ev, ...bootEvidence(ctx)]);
  }
  return result('OS-4', nt('the console showed no RTC registration (no kernel facts recorded)'), [...ev, ...bootEvidence(ctx)]);
}

/** OS-5 per cell: the guest found a block device on this cell's transport. */
export function evalOs5(ctx: CellContext): RequirementResult {
  const t = ctx.input.profile.disk;
  const tEv: VerdictEvidence = { source: 'boot', what: OBS.diskTransport, value: t };
  if (ctx.cannotBoot) return result('OS-5', na(ctx.cannotBoot), [tEv]);
  if (!ctx.input.boot) return result('OS-5', nt('the image was not booted in this cell'), [tEv]);
  const b = ctx.input.boot;
  if (b.outcome !== 'passed' && b.stage === 'os' && /mount root|unknown-block/i.test(b.reason)) {
    return result('OS-5', unmet(`the kernel could not mount its root on ${t}: ${b.reason}`), [tEv, ...bootEvidence(ctx)]);
  }
  if (!ctx.guest) return result('OS-5', nt('no guest console facts were recorded for this cell'), [tEv, ...bootEvidence(ctx)]);
  const blk = guestKey(ctx.guest, 'block', 'blockdevs');
  const list = blk ? blk.value.split(',').map((s) => s.trim()).filter((s) => /^(vd|xvd|sd|nvme)/.test(s)) : [];
  if (blk && list.length) return result('OS-5', met(`the guest's ${t} driver found ${list.join(', ')}`), [tEv, consoleEv(blk, 'block devices the guest enumerated', blk.value)]);
  if (blk && ctx.input.boot.outcome === 'passed') return result('OS-5', unmet(`no ${t} block device in the guest (block=${blk.value || 'none'})`), [tEv, consoleEv(blk, 'block devices the guest enumerated', blk.value)]);
  return result('OS-5', nt(b.outcome === 'passed' ? 'the guest reported no block device list (needs the farm guest\'s block= line)' : `the boot did not complete (${b.outcome})`), [tEv, ...bootEvidence(ctx)]);
}

/** OS-6 per cell: the image booted with the description this platform presented. */
export function evalOs6(ctx: CellContext): RequirementResult {
  const pre = precheck(ctx, 'OS-6', false);
  if (pre) return pre;
  const m = ctx.probe.main;
  let desc: 'dt' | 'acpi' | 'both' | 'none';
  const ev: VerdictEvidence[] = [];
  if (m && descriptions(m).reported) {
    const d = descriptions(m);
    desc = descriptionKind(d);
    ev.push({ source: 'probe', what: OBS.hwDescription, value: desc, probeBoot: m.boot }, ...d.evidence);
  } else {
    desc = ctx.input.profile.hwDescription;
    ev.push({ source: 'boot', what: OBS.hwDescription, value: desc, expected: 'requested (not probed)' });
  }
  const g = ctx.guest;
  if (g?.dtbSource) ev.push(consoleEv(g.dtbSource, 'description the EFI stub used', g.dtbSource.value));
  if (g?.acpiRsdp) ev.push(consoleEv(g.acpiRsdp, 'ACPI RSDP the guest found', `v${g.acpiRsdp.value.revision}`));
  ev.push(...bootEvidence(ctx));
  const label = { dt: 'a DT-only', acpi: 'an ACPI-only', both: 'a dual (ACPI + DT)', none: 'no' }[desc];
  const j = bootJudgement(ctx, `with ${label} description`);
  return result('OS-6', perProfile((p): Judgement => {
    if (desc === 'none') return na('the platform presented no description (FW-5)');
    if (p === 'vmspec-1.0' && desc === 'acpi') return na('v1.0 platforms present DT; an ACPI-only boot is not required');
    if (p === 'bbr' && desc === 'both') return na('bbr platforms present exactly one description');
    return j;
  }), ev);
}

/** OS-7: the loader used the firmware's description, not its own DTB. */
export function evalOs7(ctx: CellContext): RequirementResult {
  const pre = precheck(ctx, 'OS-7');
  if (pre) return pre;
  const fixed = findingsFor(ctx, 'IMG-9').filter((f) => f.check === 'fixed-dtb');
  const ev = findingEvidence(fixed);
  const s = ctx.guest?.dtbSource;
  if (s) ev.unshift(consoleEv(s, 'description the EFI stub used', s.value, 'configuration_table or empty'));
  if (s?.value === 'command_line') return result('OS-7', unmet('the loader passed its own DTB (EFI stub: Using DTB from command line)'), ev);
  if (fixed.length) return result('OS-7', unmet(`the image's loader config hard-codes a device tree: ${fixed[0]!.message}`), ev);
  if (s) {
    const m = ctx.probe.main;
    if (m && s.value === 'empty' && descriptions(m).dt) {
      ev.push(...descriptions(m).evidence);
      return result('OS-7', unmet('the EFI stub generated an empty DTB although the firmware installed one'), ev);
    }
    return result('OS-7', met(s.value === 'configuration_table' ? 'the EFI stub used the firmware\'s DTB (configuration table)' : 'the EFI stub used the firmware\'s ACPI (generated an empty DTB for the command line only)'), ev);
  }
  return result('OS-7', nt('no EFI stub line on the console (not a Linux EFI-stub boot, or the kernel never ran)'), [...ev, ...bootEvidence(ctx)]);
}

/** OS-8: CPUs, memory and a block device as configured. */
export function evalOs8(ctx: CellContext): RequirementResult {
  const pre = precheck(ctx, 'OS-8');
  if (pre) return pre;
  const g = ctx.guest;
  const prof = ctx.input.profile;
  const ev: VerdictEvidence[] = [];
  const problems: string[] = [];
  const checked: string[] = [];
  const up = g?.cpusBroughtUp;
  const cpusKey = guestKey(g, 'cpus');
  const cpus = up?.value.cpus ?? parseDec(cpusKey?.value.split(' ')[0]);
  if (cpus !== undefined) {
    ev.push(up ? consoleEv(up, 'CPUs the guest brought up', String(cpus), String(prof.cpus)) : consoleEv(cpusKey!, 'CPUs the guest sees', String(cpus), String(prof.cpus)));
    checked.push(`${cpus}/${prof.cpus} CPUs`);
    if (cpus !== prof.cpus) problems.push(`${cpus} of ${prof.cpus} vCPUs online`);
  }
  const mem = guestKey(g, 'memtotal_kb');
  const kb = parseDec(mem?.value);
  if (kb !== undefined) {
    const want = prof.memoryMiB * 1024;
    ev.push(consoleEv(mem!, 'MemTotal (kB)', String(kb), `${Math.round(want * 0.8)}..${want}`));
    checked.push(`MemTotal ${Math.round(kb / 1024)} MiB of ${prof.memoryMiB} MiB`);
    // The kernel reserves its own image, page tables and firmware regions: 80 % is a floor, not exact.
    if (kb > want || kb < want * 0.8) problems.push(`MemTotal ${Math.round(kb / 1024)} MiB for a ${prof.memoryMiB} MiB VM`);
  }
  const blk = guestKey(g, 'block', 'blockdevs');
  if (blk) {
    const disks = blk.value.split(',').filter((s) => /^(vd|xvd|sd|nvme)/.test(s.trim()));
    ev.push(consoleEv(blk, 'block devices', blk.value, 'the attached disk'));
    checked.push(`disks ${disks.join(',') || 'none'}`);
    if (!disks.length) problems.push('no disk enumerated');
  }
  if (problems.length) return result('OS-8', unmet(problems.join('; ')), ev);
  if (!checked.length) return result('OS-8', nt(bootReachedOs(ctx) ? 'the console showed no CPU, memory or device counts' : 'the guest kernel never ran in this cell'), [...ev, ...bootEvidence(ctx)]);
  return result('OS-8', met(`the guest enumerated ${checked.join(', ')}`), ev);
}

/** OS-9: PSCI ≥ 0.2 found and every vCPU brought up. */
export function evalOs9(ctx: CellContext): RequirementResult {
  const pre = precheck(ctx, 'OS-9');
  if (pre) return pre;
  const g = ctx.guest;
  const ev: VerdictEvidence[] = [];
  const psci = g?.psci;
  const up = g?.cpusBroughtUp;
  if (psci) ev.push(consoleEv(psci, 'PSCI version the guest found', psci.value.version, '>= 0.2'));
  if (g?.psciStandardFunctionIds) ev.push(consoleEv(g.psciStandardFunctionIds, 'standard PSCI v0.2 function IDs', 'yes'));
  if (up) ev.push(consoleEv(up, 'CPUs brought up', String(up.value.cpus), String(ctx.input.profile.cpus)));
  const problems: string[] = [];
  if (psci && !(psci.value.major > 0 || psci.value.minor >= 2)) problems.push(`PSCI v${psci.value.version} is older than 0.2`);
  if (!psci && up) problems.push('the kernel reported no PSCI firmware');
  if (up && up.value.cpus !== ctx.input.profile.cpus) problems.push(`only ${up.value.cpus} of ${ctx.input.profile.cpus} CPUs brought up`);
  if (problems.length) return result('OS-9', unmet(problems.join('; ')), ev);
  if (psci && up) return result('OS-9', met(`PSCI v${psci.value.version}; ${up.value.cpus} CPU(s) brought up`), ev);
  return result('OS-9', nt(bootReachedOs(ctx) ? 'the console showed no PSCI and SMP lines' : 'the guest kernel never ran in this cell'), [...ev, ...bootEvidence(ctx)]);
}

/** OS-10: the farm guest wrote and read back an NV variable through efivarfs. */
export function evalOs10(ctx: CellContext): RequirementResult {
  const pre = precheck(ctx, 'OS-10');
  if (pre) return pre;
  const ev: VerdictEvidence[] = [];
  let bbrNa: Judgement | null = null;
  if (ctx.probe.main) {
    const rp = rtPropMask(ctx.probe.main);
    if (rp.mask !== null && rp.mask !== undefined && (rp.mask & RT.SetVariable) === 0) {
      bbrNa = na('RT_PROPERTIES does not claim runtime SetVariable: EBBR allows that');
      ev.push(...rp.evidence);
    }
  }
  const w = guestKey(ctx.guest, 'efivars.write');
  if (!w) return result('OS-10', nt('needs the farm guest\'s efivars.write line (it writes a VmspecGuest variable through efivarfs)'), [...ev, ...bootEvidence(ctx)]);
  ev.push(consoleEv(w, 'efivarfs write and read-back', w.value, 'ok'));
  const j = w.value === 'ok' ? met('the guest wrote an NV+BS+RT variable through efivarfs and read it back')
    : w.value === 'unavailable' ? unmet('efivarfs is unavailable in the guest (no EFI runtime services, or not booted through UEFI)')
      : unmet(`writing a UEFI variable from the guest ${w.value}`);
  return result('OS-10', { 'vmspec-1.0': j, 'vmspec-2.0': j, bbr: bbrNa ?? j }, ev);
}

/** OS-11: hotplug is not exercised. */
export function evalOs11(_ctx: CellContext): RequirementResult {
  return result('OS-11', nt('not tested: needs the HW-8 hotplug steps (QMP device_add / xl block-attach) with the guest reporting the new devices'), []);
}

/** OS-12: kernel messages on the platform console without console= arguments. */
export function evalOs12(ctx: CellContext): RequirementResult {
  const pre = precheck(ctx, 'OS-12');
  if (pre) return pre;
  const g = ctx.guest;
  const kernel = firstKernelFact(g);
  const ev: VerdictEvidence[] = [];
  if (kernel) ev.push(consoleEv(kernel, 'first kernel message on the platform console', kernel.evidence.text.slice(0, 120)));
  const cl = g?.commandLine;
  const clKey = guestKey(g, 'cmdline');
  const args = cl ? [...cl.value.consoleArgs] : clKey ? clKey.value.split(/\s+/).filter((a) => a.startsWith('console=')).map((a) => a.slice(8)) : [];
  if (cl) ev.push(consoleEv(cl, 'kernel command line', cl.value.text, 'no console='));
  else if (clKey) ev.push(consoleEv(clKey, 'kernel command line', clKey.value, 'no console='));
  ev.push(...findingEvidence(findingsFor(ctx, 'IMG-9').filter((f) => f.check.startsWith('console-'))));
  const m = ctx.probe.main;
  const noUart = m && m.get('fdt.xen')?.value === 'present' && !(parseDec(m.get('fdt.uart.count')?.value) ?? 0);
  if (!kernel) {
    // The farm guest's own lines prove userspace ran: the kernel printed nothing we could read.
    if (ctx.input.boot!.outcome === 'passed' && Object.keys(g?.guest ?? {}).length > 0) {
      const why = args.some((a) => a.startsWith('ttyAMA')) && noUart ? ': console=ttyAMA on a platform without a UART sends them nowhere' : '';
      return result('OS-12', unmet(`no kernel messages reached the platform console${why}`), [...ev, ...bootEvidence(ctx)]);
    }
    return result('OS-12', nt('the guest kernel never ran in this cell'), [...ev, ...bootEvidence(ctx)]);
  }
  if (args.length) {
    if (args.some((a) => a.startsWith('ttyAMA')) && noUart) return result('OS-12', unmet(`console=${args.join(' console=')} on a platform without a UART (Xen without vuart)`), ev);
    return result('OS-12', partial(`kernel messages reached the console, but through console=${args.join(' console=')} on the command line: not shown to work without it`), ev);
  }
  return result('OS-12', met('kernel messages reached the platform console with no console= argument (stdout-path, SPCR or hvc preference)'), ev);
}
