/**
 * FW-1..FW-11 and HW-1..HW-10 for one cell: what the cell's platform (hypervisor + firmware)
 * provides, read from the VMSPEC probe's facts (PROTOCOL.md, v2 keys; v1 spellings where they
 * differ), the guest console only as a fallback or as supporting evidence.
 */
import type { ComplianceProfile, RequirementResult, VerdictEvidence } from '@bootfarm/contracts';
import {
  GUID, OBS, RT, RT_ALL, acpiTables, descriptionKind, descriptions, findingsFor, isSuccess, parseDec, parseHex, rtNames, rtPropMask,
  stageRank, type CellContext, type ProbeBootView,
} from '../context.js';
import { bootEv, consoleEv, met, na, nt, partial, perProfile, probeEv, result, unmet, type Judgement } from '../judge.js';

const hex = (n: number, w = 8): string => `0x${n.toString(16).padStart(w, '0')}`;
const yes = (v: string | undefined): boolean => v === 'yes' || v === 'present' || v === 'ok' || v === '1';

/** Probe-based requirement without a usable probe: not tested, with why. */
function noProbe(ctx: CellContext): Judgement {
  return nt(ctx.probe.missing);
}

// ---- FW ---------------------------------------------------------------------------------------

/** FW-1: the probe's banner proves the firmware started the probe disk's removable-path app. */
export function evalFw1(ctx: CellContext): RequirementResult {
  const m = ctx.probe.main;
  if (m) {
    const ev: VerdictEvidence[] = [probeEv(m.banner!, 'probe banner (printed by the removable-path application)', m.boot)];
    ev.push(...m.ev('path the firmware loaded the probe from', 'image.path'), ...m.ev('firmware vendor', 'fw.vendor'));
    const vendor = m.get('fw.vendor')?.value ?? 'the firmware';
    const cl = m.dto.commandLine;
    if (/(^|\s)-kernel\s/.test(cl)) {
      ev.push({ source: 'probe', what: 'probe boot command line', value: cl.slice(0, 300), probeBoot: m.boot });
      return result('FW-1', partial(`${vendor} ran the probe, but the VM was started with -kernel (direct kernel boot): UEFI is not the first code the VM runs`), ev);
    }
    return result('FW-1', met(`${vendor} started the probe disk's removable-path application`), ev);
  }
  const b1 = ctx.probe.boots[0];
  if (b1 && !ctx.probe.infrastructure) {
    return result('FW-1', unmet(`the firmware never started the probe's removable-path application: the probe printed nothing (${b1.dto.outcome}: ${b1.dto.reason})`), [
      { source: 'probe', what: 'probe boot outcome', value: `${b1.dto.outcome}: ${b1.dto.reason}`, probeBoot: b1.boot },
    ]);
  }
  const efi = ctx.guest?.efi;
  if (efi) return result('FW-1', met(`the guest kernel was started by UEFI ${efi.value.revision} (${efi.value.vendor}); not probed`), [consoleEv(efi, 'EFI firmware seen by the guest', efi.value.revision)]);
  return result('FW-1', noProbe(ctx), []);
}

const FW2_MIN: Readonly<Record<ComplianceProfile, number>> = { 'vmspec-1.0': 0x00020028, 'vmspec-2.0': 0x0002003c, bbr: 0x0002003c };
const revText = (raw: number): string => `${raw >>> 16}.${raw & 0xffff}`;

/** Minor of a kernel-printed EFI revision: old kernels print it raw ("2.70"), newer dotted ("2.7", "2.3.1"). */
function guestRevision(rev: string): number | undefined {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(rev);
  if (!m) return undefined;
  const major = Number(m[1]);
  let minor = Number(m[2]);
  if (m[3] !== undefined) minor = minor * 10 + Number(m[3]);
  else if (m[2]!.length === 1 || m[2] === '10' || m[2] === '11') minor *= 10; // "2.10" is 2.10 on any kernel since 2.1 firmware is long gone
  return (major << 16) | minor;
}

/** FW-2: ST->Hdr.Revision against each profile's floor. */
export function evalFw2(ctx: CellContext): RequirementResult {
  const m = ctx.probe.main;
  let raw: number | undefined;
  const ev: VerdictEvidence[] = [];
  let from = '';
  if (m) {
    const r = m.get('uefi.revision_raw');
    raw = parseHex(r?.value);
    if (raw === undefined) {
      const t = m.get('uefi.revision');
      const mm = t && /^(\d+)\.(\d+)$/.exec(t.value);
      if (mm) raw = (Number(mm[1]) << 16) | Number(mm[2]);
      if (t) ev.push(probeEv(t, 'UEFI revision (system table)', m.boot));
    } else ev.push(probeEv(r!, 'UEFI revision (system table)', m.boot));
    ev.push(...m.ev('firmware vendor', 'fw.vendor'), ...m.ev('firmware revision', 'fw.revision'));
    from = 'system table';
  } else if (ctx.guest?.efi) {
    raw = guestRevision(ctx.guest.efi.value.revision);
    ev.push(consoleEv(ctx.guest.efi, 'UEFI revision seen by the guest', ctx.guest.efi.value.revision));
    from = 'guest kernel line';
  }
  if (raw === undefined) return result('FW-2', m ? nt('the probe printed no UEFI revision') : noProbe(ctx), ev);
  const rv = raw;
  return result('FW-2', perProfile((p) => {
    const min = FW2_MIN[p];
    return rv >= min ? met(`UEFI ${revText(rv)} (${hex(rv)}, ${from}) ≥ ${revText(min)}`) : unmet(`UEFI ${revText(rv)} (${hex(rv)}, ${from}) is older than ${revText(min)}`);
  }), ev);
}

/** The GIC version the platform described: DT compatible / MADT GICD version (v1: fdt.gic-v2/v3). */
function describedGic(m: ProbeBootView): { version: 'v2' | 'v3' | null; evidence: VerdictEvidence[]; gicr: number | undefined } {
  const ev: VerdictEvidence[] = [];
  const dtv = m.get('fdt.gic.version');
  if (dtv && (dtv.value === 'v2' || dtv.value === 'v3')) {
    ev.push(probeEv(dtv, 'DT GIC version', m.boot), ...m.ev('DT GIC compatible', 'fdt.gic.compatible'));
    return { version: dtv.value, evidence: ev, gicr: undefined };
  }
  const v3 = m.get('fdt.gic-v3');
  const v2 = m.get('fdt.gic-v2');
  if (v3?.value === '1' || v2?.value === '1') {
    const r = v3?.value === '1' ? v3 : v2!;
    return { version: v3?.value === '1' ? 'v3' : 'v2', evidence: [probeEv(r, 'DT GIC node', m.boot)], gicr: undefined };
  }
  const gicd = m.get('acpi.madt.gicd.version');
  const n = parseDec(gicd?.value);
  if (gicd && n !== undefined && n >= 2) {
    const gicr = parseDec(m.get('acpi.madt.gicr')?.value);
    ev.push(probeEv(gicd, 'MADT GICD version', m.boot), ...m.ev('MADT GICR entries', 'acpi.madt.gicr'));
    return { version: n >= 3 ? 'v3' : 'v2', evidence: ev, gicr };
  }
  return { version: null, evidence: [], gicr: undefined };
}

/** FW-3: a complete FDT from the DEVICE_TREE table, never the EFI stub's generated DTB. */
export function evalFw3(ctx: CellContext): RequirementResult {
  const m = ctx.probe.main;
  if (!m) return result('FW-3', noProbe(ctx), []);
  const d = descriptions(m);
  if (!d.reported) return result('FW-3', nt('the probe did not report its configuration tables'), []);
  const ev = [...d.evidence];
  const stub = ctx.guest?.dtbSource;
  if (!d.dt) {
    if (stub) ev.push(consoleEv(stub, 'DTB the guest used (not the firmware\'s when generated by the EFI stub)', stub.value));
    const why = `no DEVICE_TREE configuration table (the firmware installed ${d.acpi ? 'ACPI only' : 'neither DT nor ACPI'})${stub?.value === 'empty' ? '; the guest\'s DTB was generated empty by the EFI stub, which is not a firmware FDT' : ''}`;
    return result('FW-3', { 'vmspec-1.0': unmet(why), 'vmspec-2.0': unmet(why), bbr: na(`${why}: under bbr the platform may describe itself with ACPI alone (FW-5 decides exactly one)`) }, ev);
  }
  const missing: string[] = [];
  const unknown: string[] = [];
  // v2 prints no key for a node that does not exist; v1 simply did not report some.
  const absentOrUnknown = (what: string) => (m.version >= 2 ? missing : unknown).push(what);
  const walk = m.get('fdt.walk');
  if (walk) ev.push(probeEv(walk, 'FDT structure walk', m.boot, 'ok'));
  if (walk && walk.value !== 'ok') missing.push(`a well-formed structure block (the walk stopped: ${walk.value})`);
  const magic = m.get('fdt.magic');
  if (magic) ev.push(probeEv(magic, 'FDT magic', m.boot, 'ok'));
  if (magic && magic.value !== 'ok') missing.push(`a valid FDT header (magic ${magic.value}${m.get('fdt.error') ? `, ${m.get('fdt.error')!.value}` : ''})`);
  const cpus = m.get('fdt.cpus');
  const want = ctx.input.profile.cpus;
  if (!cpus) absentOrUnknown('/cpus cpu nodes');
  else {
    ev.push(probeEv(cpus, 'DT /cpus cpu nodes', m.boot, String(want)));
    if (Number(cpus.value) !== want) missing.push(`${want} cpu nodes (found ${cpus.value})`);
  }
  const memCount = m.get('fdt.memory.count');
  if (!memCount) absentOrUnknown('memory nodes');
  else {
    ev.push(probeEv(memCount, 'DT memory nodes', m.boot));
    if (!(Number(memCount.value) >= 1)) missing.push('a memory node');
  }
  const gic = describedGic(m);
  if (gic.version === null) {
    const c = m.get('fdt.gic.compatible');
    if (c) ev.push(probeEv(c, 'DT GIC compatible', m.boot));
    else missing.push('a GIC node');
  } else ev.push(...gic.evidence);
  const timer = m.get('fdt.timer.compatible', 'fdt.arch-timer');
  if (!timer) absentOrUnknown('an arch timer node');
  else {
    ev.push(probeEv(timer, 'DT arch timer', m.boot));
    if (timer.value === '0' || timer.value === '') missing.push('an arch timer node');
  }
  const psci = m.get('fdt.psci.compatible', 'fdt.psci');
  if (!psci) absentOrUnknown('a psci node');
  else {
    ev.push(probeEv(psci, 'DT /psci', m.boot));
    if (psci.value === '0' || psci.value === '') missing.push('a psci node');
  }
  const uartCount = m.get('fdt.uart.count');
  const xen = m.get('fdt.xen');
  let uarts: number | undefined = parseDec(uartCount?.value);
  if (uartCount) ev.push(probeEv(uartCount, 'DT UART nodes (arm,pl011 / arm,sbsa-uart)', m.boot));
  if (uarts === undefined) {
    const pl = m.get('fdt.pl011');
    const sb = m.get('fdt.sbsa-uart');
    if (pl || sb) {
      uarts = (parseDec(pl?.value) ?? 0) + (parseDec(sb?.value) ?? 0);
      ev.push(...(pl ? [probeEv(pl, 'DT pl011 nodes', m.boot)] : []), ...(sb ? [probeEv(sb, 'DT sbsa-uart nodes', m.boot)] : []));
    }
  }
  const status = m.get('fdt.uart.status');
  const uartOk = uarts !== undefined && uarts > 0 && (!status || status.value === 'okay' || status.value === 'ok');
  if (status) ev.push(probeEv(status, 'DT UART status', m.boot, 'okay'));
  const isXen = yes(xen?.value);
  if (xen && isXen) ev.push(probeEv(xen, 'DT /hypervisor (xen,xen): PV console', m.boot));
  if (uarts === undefined && !isXen) absentOrUnknown('a UART node');
  else if (!uartOk && !isXen) missing.push(uarts ? 'an enabled UART (the UART node is disabled)' : 'a UART node (or a Xen /hypervisor PV console)');
  if (stub?.value === 'configuration_table') ev.push(consoleEv(stub, 'guest used the firmware DTB', stub.value));
  if (missing.length) return result('FW-3', unmet(`the FDT is incomplete: missing ${missing.join(', ')}`), ev);
  if (unknown.length) return result('FW-3', partial(`FDT installed; not reported by this probe version: ${unknown.join(', ')}`), ev);
  return result('FW-3', met(`complete FDT in the DEVICE_TREE table: ${want} CPU(s), memory, ${gic.version ?? 'GIC'}, timer, PSCI, ${uartOk ? 'UART' : 'Xen PV console'}`), ev);
}

/** FW-4: the ACPI 2.0 table and the tables an OS needs. */
export function evalFw4(ctx: CellContext): RequirementResult {
  const m = ctx.probe.main;
  if (!m) return result('FW-4', noProbe(ctx), []);
  const d = descriptions(m);
  if (!d.reported) return result('FW-4', nt('the probe did not report its configuration tables'), []);
  const ev = [...d.evidence];
  if (!d.acpi) {
    const why = `no ACPI 2.0 configuration table (the firmware installed ${d.dt ? 'DT only' : 'neither DT nor ACPI'})`;
    return result('FW-4', { 'vmspec-1.0': unmet(why), 'vmspec-2.0': unmet(why), bbr: na(`${why}: under bbr the platform may describe itself with DT alone (FW-5 decides exactly one)`) }, ev);
  }
  const sig = m.get('acpi.rsdp.signature');
  if (sig && sig.value === 'bad') return result('FW-4', unmet('the ACPI 2.0 configuration table does not point at an RSDP ("RSD PTR " signature bad)'), [...ev, probeEv(sig, 'RSDP signature', m.boot, 'RSD PTR ')]);
  const missing: string[] = [];
  const weak: string[] = [];
  const unknown: string[] = [];
  const rev = m.get('acpi.rsdp.revision');
  if (rev) {
    ev.push(probeEv(rev, 'RSDP revision', m.boot, '>= 2'));
    if (!(Number(rev.value) >= 2)) missing.push(`RSDP revision ≥ 2 (found ${rev.value})`);
  } else (m.version >= 2 ? missing : unknown).push('RSDP revision');
  const sum = m.get('acpi.rsdp.checksum');
  if (sum) {
    ev.push(probeEv(sum, 'RSDP checksums', m.boot, 'ok'));
    if (sum.value !== 'ok') missing.push('valid RSDP checksums');
  }
  const xsdt = m.get('acpi.xsdt');
  if (xsdt) {
    ev.push(probeEv(xsdt, 'XSDT', m.boot, 'present'));
    if (xsdt.value !== 'present') missing.push('an XSDT');
  }
  const { tables, rec } = acpiTables(m);
  if (rec) ev.push(probeEv(rec, 'XSDT tables', m.boot));
  if (!tables) (m.version >= 2 ? missing : unknown).push('an XSDT table list');
  else for (const t of ['FACP', 'APIC', 'GTDT']) if (!tables.includes(t)) missing.push(t);
  const dsdt = m.get('acpi.dsdt');
  if (dsdt) {
    ev.push(probeEv(dsdt, 'DSDT (FADT X_DSDT)', m.boot, 'present'));
    if (dsdt.value !== 'present') missing.push('DSDT');
  } else (m.version >= 2 ? missing : unknown).push('DSDT');
  const hwr = m.get('acpi.fadt.hw_reduced');
  if (hwr) {
    ev.push(probeEv(hwr, 'FADT HW_REDUCED_ACPI', m.boot, 'yes'));
    if (hwr.value !== 'yes') missing.push('FADT HW_REDUCED_ACPI');
  } else (m.version >= 2 ? missing : unknown).push('a FADT long enough to hold its flags');
  if (tables) {
    if (!tables.includes('SPCR')) weak.push('no SPCR (the OS cannot find its console without console=)');
    const pcie = ctx.input.profile.disk === 'virtio-pci' || yes(m.get('fdt.pcie', 'fdt.pcie-ecam')?.value);
    if (pcie && !tables.includes('MCFG')) weak.push('no MCFG although the platform has PCIe');
  }
  if (missing.length) return result('FW-4', unmet(`ACPI description incomplete: missing ${missing.join(', ')}`), ev);
  if (weak.length) return result('FW-4', partial(`ACPI tables installed but ${weak.join('; ')}`), ev);
  if (unknown.length) return result('FW-4', partial(`ACPI 2.0 table installed; not reported by this probe version: ${unknown.join(', ')}`), ev);
  return result('FW-4', met(`ACPI 2.0 table: RSDP rev ${rev?.value}, XSDT ${tables!.join(',')}, DSDT, HW-reduced FADT`), ev);
}

/** FW-5: the profiles' disagreement on DT and ACPI, judged on the same two facts. */
export function evalFw5(ctx: CellContext): RequirementResult {
  const m = ctx.probe.main;
  if (!m) return result('FW-5', noProbe(ctx), []);
  const d = descriptions(m);
  if (!d.reported) return result('FW-5', nt('the probe did not report its configuration tables'), []);
  const what = descriptionKind(d);
  const saw = { dt: 'DT only (DEVICE_TREE table, no ACPI)', acpi: 'ACPI only (no DEVICE_TREE table)', both: 'both ACPI and DT', none: 'neither ACPI nor DT' }[what];
  const judgements: Record<ComplianceProfile, Judgement> = {
    'vmspec-1.0': d.dt ? met(`the firmware installed ${saw}: v1.0 needs the FDT`) : unmet(`the firmware installed ${saw}: v1.0 needs the FDT`),
    'vmspec-2.0': what === 'both' ? met(`the firmware installed ${saw}, as v2.0 requires`) : unmet(`the firmware installed ${saw}: v2.0 needs both tables at once (edk2 since 2017 installs exactly one)`),
    bbr: what === 'dt' || what === 'acpi' ? met(`the firmware installed ${saw}: exactly one, as EBBR requires`) : unmet(`the firmware installed ${saw}: EBBR requires exactly one`),
  };
  return result('FW-5', judgements, [...d.evidence, { source: 'probe', what: OBS.hwDescription, value: what, probeBoot: m.boot }]);
}

const TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;
/** The RTC's `YYYY-MM-DDTHH:MM:SS`, read as UTC (the VM spec RTC and QEMU's default base). */
function rtcMs(t: string | undefined): number | undefined {
  if (!t || !TIME.test(t)) return undefined;
  const ms = Date.parse(`${t}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}
const FIVE_MIN = 5 * 60 * 1000;

/** FW-6: GetTime must succeed, advance across the stall and agree with the host; SetTime must succeed. */
export function evalFw6(ctx: CellContext): RequirementResult {
  const m = ctx.probe.main;
  if (!m) return result('FW-6', noProbe(ctx), []);
  const ev: VerdictEvidence[] = [];
  const rp = rtPropMask(m);
  ev.push(...rp.evidence);
  const g1 = m.get('rt.gettime.1', 'rt.gettime');
  const t1 = m.get('rt.gettime.1.time', 'rt.gettime.time');
  const g2 = m.get('rt.gettime.2');
  const t2 = m.get('rt.gettime.2.time');
  const st = m.get('rt.settime');
  const stall = m.get('rt.stall_us');
  for (const [r, w] of [[g1, 'GetTime status (first read)'], [t1, 'GetTime time (first read)'], [stall, 'Stall between the reads (µs)'], [g2, 'GetTime status (after the stall)'], [t2, 'GetTime time (after the stall)'], [st, 'SetTime status']] as const) {
    if (r) ev.push(probeEv(r, w, m.boot, w.includes('status') ? 'EFI_SUCCESS' : undefined));
  }
  const claimsGetTime = rp.mask === null || rp.mask === undefined || (rp.mask & RT.GetTime) !== 0;
  const bbrNa = !claimsGetTime ? na(`RT_PROPERTIES (${hex(rp.mask!, 4)}) does not claim GetTime: EBBR allows a platform without an RTC`) : null;
  if (!g1) return result('FW-6', nt('the probe printed no GetTime result'), ev);
  const problems: string[] = [];
  const unknown: string[] = [];
  if (!isSuccess(g1.value)) problems.push(`GetTime returned ${g1.value}`);
  const ms1 = rtcMs(t1?.value);
  const ms2 = rtcMs(t2?.value);
  if (g2 && !isSuccess(g2.value)) problems.push(`the second GetTime returned ${g2.value}`);
  const stallStatus = m.get('rt.stall');
  if (stallStatus) ev.push(probeEv(stallStatus, 'Stall status', m.boot, 'EFI_SUCCESS'));
  const stalled = !stallStatus || isSuccess(stallStatus.value);
  if (!stalled) unknown.push(`time advance (Stall returned ${stallStatus!.value}, see FW-8)`);
  else if (g2 && isSuccess(g2.value) && ms1 !== undefined && ms2 !== undefined) {
    const secs = (ms2 - ms1) / 1000;
    const stallS = (parseDec(stall?.value) ?? 2_000_000) / 1e6;
    if (secs < 1) problems.push(`the clock did not advance: ${t1!.value} then ${t2!.value} across a ${stallS} s stall (a constant clock)`);
  } else if (!g2 && stalled) unknown.push('time advance (a second GetTime after the stall, probe v2)');
  const reading = ms2 ?? ms1;
  const readingText = (ms2 !== undefined ? t2 : t1)?.value;
  const host = m.dto;
  const lo = Date.parse(host.hostStartedAt) - FIVE_MIN;
  const hi = Date.parse(host.hostFinishedAt) + FIVE_MIN;
  ev.push({ source: 'probe', what: 'host UTC while the probe ran', value: `${host.hostStartedAt} .. ${host.hostFinishedAt}`, expected: 'RTC within ±5 min', probeBoot: m.boot });
  if (reading === undefined) {
    if (isSuccess(g1.value)) problems.push(`GetTime gave no readable time (${t1?.value ?? 'none'})`);
  } else if (reading < lo || reading > hi) {
    problems.push(`GetTime says ${readingText} but the host's UTC was ${host.hostStartedAt} .. ${host.hostFinishedAt} (more than 5 min apart)`);
  }
  // `skipped`: the second read failed, which is already the problem.
  if (st && !isSuccess(st.value) && st.value !== 'skipped') problems.push(`SetTime returned ${st.value}`);
  else if (!st) unknown.push('SetTime (probe v2)');
  const propProblem = rp.mask !== null && rp.mask !== undefined && (rp.mask & (RT.GetTime | RT.SetTime)) !== (RT.GetTime | RT.SetTime)
    ? `RT_PROPERTIES (${hex(rp.mask, 4)}) does not claim GetTime and SetTime` : null;
  const vmspec = (): Judgement => {
    const all = propProblem ? [...problems, propProblem] : problems;
    if (all.length) return unmet(all.join('; '));
    if (unknown.length) return nt(`GetTime succeeded with ${readingText} (within the host window); not measured: ${unknown.join(', ')}`);
    return met(`GetTime advanced across the stall (${t1!.value} → ${t2!.value}), within 5 min of the host's UTC; SetTime succeeded`);
  };
  const bbr = (): Judgement => {
    if (bbrNa) return bbrNa;
    if (problems.length) return unmet(problems.join('; '));
    if (unknown.length) return nt(`GetTime succeeded with ${readingText}; not measured: ${unknown.join(', ')}`);
    return met(`GetTime advanced across the stall (${t1!.value} → ${t2!.value}), within 5 min of the host's UTC; SetTime succeeded`);
  };
  return result('FW-6', { 'vmspec-1.0': vmspec(), 'vmspec-2.0': vmspec(), bbr: bbr() }, ev);
}

/** FW-7: boot 2 must find the token boot 1 wrote (two boots sharing one variable store). */
export function evalFw7(ctx: CellContext): RequirementResult {
  const p = ctx.input.platform;
  if (!p) return result('FW-7', noProbe(ctx), []);
  const b1 = ctx.probe.boots.find((b) => b.boot === 1 && b.banner) ?? ctx.probe.main;
  if (!b1) return result('FW-7', noProbe(ctx), []);
  const ev: VerdictEvidence[] = [{ source: 'probe', what: 'the two probe boots share one variable store', value: String(p.varsShared) }];
  const written = b1.get('var.written');
  const set = b1.get('var.setvariable');
  if (set) ev.push(probeEv(set, 'SetVariable(NV+BS+RT) status', b1.boot, 'EFI_SUCCESS'));
  ev.push(...b1.ev('GetVariable before writing', 'var.getvariable'), ...b1.ev('variable read back in the same boot', 'var.readback.match'));
  const prev1 = b1.get('var.previous');
  if (prev1 && prev1.value !== 'absent') ev.push(probeEv(prev1, 'token found before writing (the store was not fresh)', b1.boot, 'absent'));
  if (set && !isSuccess(set.value)) return result('FW-7', unmet(`SetVariable(NV+BS+RT) failed in probe boot ${b1.boot}: ${set.value}`), ev);
  if (prev1?.value === 'missing') return result('FW-7', unmet('GetVariable is missing (NULL service pointer)'), [...ev, probeEv(prev1, 'GetVariable before writing', b1.boot)]);
  if (!written) return result('FW-7', nt(`probe boot ${b1.boot} printed no var.written (the variable test needs probe v2)`), ev);
  ev.push(probeEv(written, 'token written in boot 1', b1.boot));
  const b2 = ctx.probe.boots.find((b) => b.boot > b1.boot && b.banner);
  if (!b2) {
    const why = ctx.probe.boots.some((b) => b.boot > b1.boot) ? 'the second probe boot printed nothing' : 'only one probe boot was recorded';
    return result('FW-7', nt(`needs a second probe boot on the same variable store: ${why}`), ev);
  }
  const prev = b2.get('var.previous');
  if (!prev) return result('FW-7', nt(`probe boot ${b2.boot} printed no var.previous`), ev);
  ev.push(probeEv(prev, 'token found in boot 2 before writing', b2.boot, written.value));
  if (prev.value === written.value) return result('FW-7', met(`boot ${b2.boot} found boot ${b1.boot}'s token ${written.value}: the variable store persisted across the power cycle`), ev);
  const found = prev.value === 'absent' ? 'no token' : `token ${prev.value}`;
  return result('FW-7', unmet(p.varsShared
    ? `boot ${b2.boot} found ${found} although both boots used one store: the firmware does not persist NV variables (emulated NV store)`
    : `the variable store is volatile: boot ${b2.boot} found ${found}, not boot ${b1.boot}'s ${written.value}`), ev);
}

interface RtCall { readonly key: string; readonly name: keyof typeof RT; readonly ok: readonly string[] }
const RT_CALLS: readonly RtCall[] = [
  // UEFI lets GetWakeupTime return EFI_UNSUPPORTED on platforms without a wake-up timer.
  { key: 'rt.getwakeuptime', name: 'GetWakeupTime', ok: ['EFI_SUCCESS', 'EFI_UNSUPPORTED'] },
  { key: 'rt.getnexthighmonotoniccount', name: 'GetNextHighMonotonicCount', ok: ['EFI_SUCCESS'] },
  { key: 'rt.queryvariableinfo', name: 'QueryVariableInfo', ok: ['EFI_SUCCESS'] },
  { key: 'rt.getnextvariablename', name: 'GetNextVariableName', ok: ['EFI_SUCCESS', 'EFI_NOT_FOUND', 'EFI_BUFFER_TOO_SMALL'] },
  { key: 'var.setvariable', name: 'SetVariable', ok: ['EFI_SUCCESS'] },
];

/** FW-8: the runtime services; bbr accepts a subset advertised in RT_PROPERTIES. */
export function evalFw8(ctx: CellContext): RequirementResult {
  const m = ctx.probe.main;
  if (!m) return result('FW-8', noProbe(ctx), []);
  const rp = rtPropMask(m);
  const ev: VerdictEvidence[] = [...rp.evidence];
  const failures: { name: string; status: string; claimed: boolean }[] = [];
  let called = 0;
  const claimed = (name: keyof typeof RT): boolean => rp.mask === null || rp.mask === undefined || (rp.mask & RT[name]) !== 0;
  for (const c of RT_CALLS) {
    const r = m.get(c.key);
    if (!r) continue;
    called++;
    const ok = c.ok.includes(r.value) || (isSuccess(r.value) && c.ok.includes('EFI_SUCCESS'));
    ev.push(probeEv(r, `${c.name} status`, m.boot, c.ok.join(' or ')));
    if (!ok) failures.push({ name: c.name, status: r.value, claimed: claimed(c.name) });
  }
  const res = m.get('result');
  if (res) ev.push(probeEv(res, 'probe end (ResetSystem follows)', m.boot, 'done'));
  const resetFailed = m.all('result').some((r) => r.value === 'reset-failed');
  const subset = rp.mask !== null && rp.mask !== undefined && (rp.mask & RT_ALL) !== RT_ALL
    ? `RT_PROPERTIES claims only ${hex(rp.mask, 4)} (missing ${rtNames(RT_ALL & ~rp.mask).join(', ')})` : null;
  const fmt = (xs: typeof failures) => xs.map((f) => `${f.name} returned ${f.status}`).join('; ');
  const vmspec = (): Judgement => {
    const problems = [...(subset ? [subset] : []), ...(failures.length ? [fmt(failures)] : []), ...(resetFailed ? ['ResetSystem returned'] : [])];
    if (problems.length) return unmet(problems.join('; '));
    if (called === 0) return nt('the probe (v1) did not call the runtime services');
    return met(`${called} runtime service calls succeeded${rp.mask === null ? '; no RT_PROPERTIES table (all services claimed)' : '; RT_PROPERTIES claims all'}`);
  };
  const bbr = (): Judgement => {
    // EBBR: unsupported is fine when advertised; an advertised service must work.
    const bad = failures.filter((f) => f.claimed || (f.status !== 'EFI_UNSUPPORTED' && f.status !== 'missing'));
    const problems = [...(bad.length ? [fmt(bad)] : []), ...(resetFailed ? ['ResetSystem returned'] : [])];
    if (problems.length) return unmet(`${problems.join('; ')}${subset ? ` (${subset})` : ''}`);
    if (called === 0) return nt('the probe (v1) did not call the runtime services');
    return met(subset ? `${subset}; every call the table claims worked and the unclaimed ones reported EFI_UNSUPPORTED` : `${called} runtime service calls succeeded`);
  };
  return result('FW-8', { 'vmspec-1.0': vmspec(), 'vmspec-2.0': vmspec(), bbr: bbr() }, ev);
}

/** EL of a 32-bit CPSR mode: HYP is EL2, MON EL3, USR EL0, the other PL1 modes EL1. */
function elOfCpsr(mode: number): number {
  const m = mode & 0x1f;
  return m === 0x1a ? 2 : m === 0x16 ? 3 : m === 0x10 ? 0 : 1;
}

/** FW-9: the firmware's exception level. */
export function evalFw9(ctx: CellContext): RequirementResult {
  const m = ctx.probe.main;
  let el: number | undefined;
  let how = '';
  const ev: VerdictEvidence[] = [];
  if (m) {
    const a64 = m.get('cpu.current_el');
    const a32 = m.get('cpu.cpsr_mode');
    if (a64) {
      el = parseDec(a64.value);
      how = `CurrentEL ${a64.value}`;
      ev.push(probeEv(a64, 'CurrentEL of the probe (firmware\'s level)', m.boot, '1'));
    } else if (a32) {
      const mode = parseHex(a32.value);
      if (mode !== undefined) el = elOfCpsr(mode);
      how = `CPSR mode ${a32.value}${mode !== undefined && (mode & 0x1f) === 0x13 ? ' (SVC)' : mode !== undefined && (mode & 0x1f) === 0x1a ? ' (HYP)' : ''}`;
      ev.push(probeEv(a32, 'CPSR mode of the probe (firmware\'s level)', m.boot, '0x13 (SVC)'));
    }
  }
  if (el === undefined && ctx.guest?.cpusStartedAt?.value.el != null) {
    const f = ctx.guest.cpusStartedAt;
    el = f.value.el!;
    how = `the guest kernel started at EL${el} (not probed)`;
    ev.push(consoleEv(f, 'EL the guest kernel started at', `EL${el}`, 'EL1'));
  }
  if (el === undefined) return result('FW-9', m ? nt('the probe printed no CurrentEL/CPSR') : noProbe(ctx), ev);
  const e = el;
  return result('FW-9', perProfile((p): Judgement => {
    if (e === 1) return met(`firmware at EL1 (${how})`);
    if (e === 2 && p === 'bbr') return met(`firmware at EL2 (${how}): EBBR allows EL1 or EL2`);
    if (e === 2) return unmet(`firmware at EL2 (${how}): EL2 is the hypervisor's (virtualization=on or nested virtualization)`);
    return unmet(`firmware at EL${e} (${how})`);
  }), ev);
}

/** FW-10: SMBIOS 3.x with Type 19 (successors only). */
export function evalFw10(ctx: CellContext): RequirementResult {
  const m = ctx.probe.main;
  if (!m) {
    const t = ctx.guest?.efiConfigTables;
    const s = ctx.guest?.smbios;
    if (t || s) {
      const ev = [...(t ? [consoleEv(t, 'EFI configuration tables seen by the guest', t.value.names.join(','))] : []), ...(s ? [consoleEv(s, 'SMBIOS version seen by the guest', s.value.version)] : [])];
      if (t?.value.smbios3 || (s && s.value.version.startsWith('3'))) return result('FW-10', met(`SMBIOS ${s?.value.version ?? '3.x'} (seen by the guest; Type 19 not checked)`), ev);
      if (t?.value.smbios || s) return result('FW-10', partial('only a 32-bit SMBIOS 2.x entry point (seen by the guest)'), ev);
      return result('FW-10', unmet('no SMBIOS table among the EFI configuration tables the guest saw'), ev);
    }
    return result('FW-10', noProbe(ctx), []);
  }
  const ev: VerdictEvidence[] = [];
  const s3 = m.get('smbios3');
  const s2 = m.get('smbios');
  const has3 = s3 ? yes(s3.value) : m.hasGuid(GUID.smbios3) !== undefined;
  const has2 = s2 ? yes(s2.value) : m.hasGuid(GUID.smbios) !== undefined;
  if (s3) ev.push(probeEv(s3, 'SMBIOS3 configuration table', m.boot, 'present'));
  if (s2) ev.push(probeEv(s2, 'SMBIOS 2.x configuration table', m.boot));
  const anchor = m.get('smbios3.anchor');
  const ver = m.get('smbios3.version');
  const t19 = m.get('smbios.type19');
  if (anchor) ev.push(probeEv(anchor, 'SMBIOS3 anchor _SM3_', m.boot, 'ok'));
  if (ver) ev.push(probeEv(ver, 'SMBIOS3 version', m.boot));
  if (t19) ev.push(probeEv(t19, 'SMBIOS Type 19 structures', m.boot, '>= 1'));
  if (has3) {
    if (anchor && anchor.value !== 'ok') return result('FW-10', unmet('the SMBIOS3 table has no valid _SM3_ anchor'), ev);
    if (t19 && !(Number(t19.value) >= 1)) return result('FW-10', partial(`SMBIOS ${ver?.value ?? '3.x'} without Type 19 memory-array mappings`), ev);
    return result('FW-10', met(`SMBIOS ${ver?.value ?? '3.x'} entry point${t19 ? ` with ${t19.value} Type 19 structure(s)` : ' (Type 19 not reported by this probe version)'}`), ev);
  }
  if (has2) return result('FW-10', partial('only a 32-bit SMBIOS 2.x entry point (_SM_), no SMBIOS 3'), ev);
  const noneEv = ev.length ? ev : m.ev('configuration table count', 'cfgtable.count');
  return result('FW-10', unmet('no SMBIOS table'), noneEv);
}

/** FW-11: from a fresh variable store the firmware's boot manager reached the image's loader. */
export function evalFw11(ctx: CellContext): RequirementResult {
  if (ctx.cannotBoot) return result('FW-11', na(ctx.cannotBoot), []);
  const b = ctx.input.boot;
  if (!b) return result('FW-11', nt('the image was not booted in this cell'), []);
  const ev: VerdictEvidence[] = [bootEv('image boot stage reached', `${b.stage} (${b.outcome})`, b.marker ?? b.decidingLine)];
  if (stageRank(b.stage) >= stageRank('bootloader')) {
    return result('FW-11', met(`from an empty variable store the boot manager started the image's removable-path loader (reached ${b.stage})`), ev);
  }
  if (b.outcome === 'infrastructure_error' || b.outcome === 'canceled') return result('FW-11', nt(`the boot did not run (${b.outcome}: ${b.reason})`), ev);
  if (b.failureClass === 'no_boot_device') {
    const bootFile = [...findingsFor(ctx, 'IMG-5'), ...findingsFor(ctx, 'IMG-6')];
    const valid = bootFile.some((f) => f.level === 'pass') && !bootFile.some((f) => f.level === 'fail');
    if (valid) return result('FW-11', unmet(`the firmware found no boot device although the image has a valid removable-path application (IMG-5, IMG-6): ${b.reason}`), ev);
    return result('FW-11', na('the image has no valid removable-path application (IMG-5/IMG-6): the boot manager had nothing to fall back to'), ev);
  }
  return result('FW-11', nt(`the boot ended at stage ${b.stage} for a reason that does not implicate the boot manager (${b.failureClass ?? b.outcome}: ${b.reason})`), ev);
}

// ---- HW ---------------------------------------------------------------------------------------

/** HW-1: the description's CPUs and memory match the VM that was configured. */
export function evalHw1(ctx: CellContext): RequirementResult {
  const m = ctx.probe.main;
  if (!m) return result('HW-1', noProbe(ctx), []);
  const prof = ctx.input.profile;
  const ev: VerdictEvidence[] = [];
  const problems: string[] = [];
  const checked: string[] = [];
  const cpus = m.get('fdt.cpus') ?? m.get('acpi.madt.gicc');
  if (cpus) {
    ev.push(probeEv(cpus, cpus.key === 'fdt.cpus' ? 'CPUs described (DT /cpus)' : 'CPUs described (MADT GICC entries)', m.boot, String(prof.cpus)));
    checked.push('CPUs');
    if (Number(cpus.value) !== prof.cpus) problems.push(`${cpus.value} CPU(s) described for a ${prof.cpus}-vCPU VM`);
  }
  const want = prof.memoryMiB * 1024 * 1024;
  const memChecks: [string | undefined, string, number | undefined][] = [
    ['fdt.memory.bytes', 'RAM described (DT memory nodes)', parseDec(m.get('fdt.memory.bytes')?.value)],
    ['mem.ram_bytes', 'RAM in the UEFI memory map', parseDec(m.get('mem.ram_bytes')?.value)],
    ['mem.total_mib', 'RAM in the UEFI memory map (MiB)', ((v) => (v === undefined ? undefined : v * 1024 * 1024))(parseDec(m.get('mem.total_mib')?.value))],
  ];
  for (const [key, what, bytes] of memChecks) {
    if (bytes === undefined || !key) continue;
    ev.push(probeEv(m.get(key)!, what, m.boot, `${prof.memoryMiB} MiB`));
    checked.push(what);
    // The firmware may keep a little for itself; it can never show more than was configured.
    if (bytes > want || bytes < want * 0.9) problems.push(`${what}: ${Math.round(bytes / 1048576)} MiB for a ${prof.memoryMiB} MiB VM`);
    if (key === 'mem.ram_bytes') break;
  }
  if (problems.length) return result('HW-1', unmet(problems.join('; ')), ev);
  if (!checked.length) return result('HW-1', nt('the probe reported neither CPU count nor memory'), ev);
  return result('HW-1', met(`the description matches the VM: ${prof.cpus} vCPU(s), ${prof.memoryMiB} MiB (checked: ${checked.join(', ')})`), ev);
}

/** HW-2 per cell: an AArch32 cell shows the platform boots AArch32 VMs; AArch64 cells contribute to the run. */
export function evalHw2(ctx: CellContext): RequirementResult {
  const arch = ctx.input.profile.arch;
  const m = ctx.probe.main;
  const ev: VerdictEvidence[] = m ? [probeEv(m.banner!, OBS.probeArch, m.boot)] : [];
  if (m) ev[0] = { ...ev[0]!, value: arch };
  if (arch === 'aarch64') return result('HW-2', na('AArch32 check; this cell is AArch64 (HW-2 is judged across the run\'s cells)'), ev);
  if (m) {
    const banner = m.banner!.value;
    if (/arch=arm\b/.test(banner)) return result('HW-2', met('the platform booted an AArch32 VM (probe banner arch=arm)'), ev);
    return result('HW-2', unmet(`the AArch32 cell's probe reports ${banner}`), ev);
  }
  if (ctx.probe.infrastructure) return result('HW-2', na(`host cannot run an AArch32 VM: ${ctx.probe.missing}`), []);
  const b = ctx.input.boot;
  if (b?.outcome === 'passed') return result('HW-2', met('the image booted in this AArch32 VM'), [bootEv('image boot outcome', b.outcome, b.marker)]);
  if (ctx.probe.boots.length) return result('HW-2', unmet(`the AArch32 VM did not start the probe: ${ctx.probe.missing}`), [{ source: 'probe', what: 'probe boot outcome', value: `${ctx.probe.boots[0]!.dto.outcome}: ${ctx.probe.boots[0]!.dto.reason}`, probeBoot: 1 }]);
  return result('HW-2', noProbe(ctx), []);
}

const SPCR_TYPES: Readonly<Record<number, { name: string; arm: boolean }>> = {
  3: { name: 'ARM PL011', arm: true },
  14: { name: 'ARM SBSA Generic UART', arm: true },
  13: { name: 'ARM SBSA 32-bit (deprecated)', arm: true },
  0: { name: '16550', arm: false },
  1: { name: '16550 subset', arm: false },
  18: { name: '16550-compatible', arm: false },
};

/** HW-3: v1.0 any console; v2.0 an SBSA-compatible UART; bbr a Generic UART/pl011 or a 16550. */
export function evalHw3(ctx: CellContext): RequirementResult {
  const m = ctx.probe.main;
  if (!m) {
    const u = ctx.guest?.uart;
    if (u) return result('HW-3', met(`the guest bound ${u.value.tty} (${u.value.detail}) at ${u.value.mmio}; not probed`), [consoleEv(u, 'UART the guest bound', u.value.kind)]);
    const h = ctx.guest?.hvc0;
    if (h) {
      const why = 'the guest used hvc0 and bound no ttyAMA (a missing driver cannot be ruled out; the platform probe decides)';
      return result('HW-3', { 'vmspec-1.0': met('the guest has a console (hvc0); not probed'), 'vmspec-2.0': nt(why), bbr: nt(why) }, [consoleEv(h, 'hvc0 console enabled', 'hvc0')]);
    }
    return result('HW-3', noProbe(ctx), []);
  }
  const ev: VerdictEvidence[] = [];
  // DT side.
  const compat = m.get('fdt.uart.compatible');
  const count = parseDec(m.get('fdt.uart.count')?.value) ?? ((parseDec(m.get('fdt.pl011')?.value) ?? 0) + (parseDec(m.get('fdt.sbsa-uart')?.value) ?? 0));
  const status = m.get('fdt.uart.status')?.value ?? 'okay';
  ev.push(...m.ev('DT UART compatible', 'fdt.uart.compatible'), ...m.ev('DT UART nodes', 'fdt.uart.count', 'fdt.pl011'), ...m.ev('DT UART status', 'fdt.uart.status'));
  const dtUart = count > 0 && (status === 'okay' || status === 'ok');
  const dtName = compat?.value ?? (parseDec(m.get('fdt.sbsa-uart')?.value) ? 'arm,sbsa-uart' : 'arm,pl011');
  // ACPI side.
  const spcr = m.get('acpi.spcr.interface_type');
  const armh = m.get('acpi.dsdt.armh0011');
  const { tables } = acpiTables(m);
  if (spcr) ev.push(probeEv(spcr, 'SPCR interface type', m.boot, '3 (PL011) or 14 (SBSA)'));
  if (armh) ev.push(probeEv(armh, 'DSDT ARMH0011 device', m.boot, 'present'));
  ev.push(...m.ev('SPCR base address', 'acpi.spcr.base'));
  const spcrType = parseDec(spcr?.value);
  const spcrKind = spcrType !== undefined ? SPCR_TYPES[spcrType] : undefined;
  const hasArmh = armh?.value === 'present';
  const spcrListed = tables?.includes('SPCR') ?? false;
  // Xen PV console.
  const xen = m.get('fdt.xen');
  const isXen = yes(xen?.value);
  if (isXen) ev.push(probeEv(xen!, 'DT /hypervisor (xen,xen): PV console hvc0', m.boot));
  let armUart: string | null = dtUart ? `${dtName} (DT)` : null;
  let uart16550: string | null = null;
  let weak: string | null = null;
  if (!armUart && spcrKind?.arm && hasArmh) armUart = `${spcrKind.name} (SPCR type ${spcrType}, DSDT ARMH0011)`;
  else if (!armUart && spcrKind?.arm) weak = `SPCR announces a ${spcrKind.name} but the DSDT has no ARMH0011 device`;
  else if (!armUart && spcrKind && !spcrKind.arm) uart16550 = `${spcrKind.name} (SPCR type ${spcrType})`;
  else if (!armUart && hasArmh) weak = 'a DSDT ARMH0011 UART without an SPCR table (the OS is not told it is the console)';
  else if (!armUart && spcrListed && !spcr) weak = 'an SPCR table (interface type not reported by this probe version)';
  if (count > 0 && !dtUart) ev.push({ source: 'probe', what: 'DT UART disabled', value: status, expected: 'okay', probeBoot: m.boot });
  const u = ctx.guest?.uart;
  if (u) ev.push(consoleEv(u, 'UART the guest bound', u.value.kind));
  const none = isXen ? 'only the Xen PV console (hvc0): no emulated UART (Xen: vuart="sbsa_uart")' : 'no UART in the DT or ACPI description';
  const judgements: Record<ComplianceProfile, Judgement> = {
    'vmspec-1.0': armUart || uart16550 ? met(`console UART: ${armUart ?? uart16550}`) : isXen ? met('Xen PV console (hvc0): a console v1.0 accepts') : weak ? met(`console: ${weak}`) : unmet(none),
    'vmspec-2.0': armUart ? met(`emulated UART: ${armUart}`) : weak ? partial(weak) : uart16550 ? unmet(`${uart16550} is not an SBSA-compatible UART`) : unmet(none),
    bbr: armUart || uart16550 ? met(`UART: ${armUart ?? uart16550}`) : weak ? partial(weak) : unmet(none),
  };
  if (!ev.length) return result('HW-3', nt('the probe reported no UART facts'), []);
  return result('HW-3', judgements, ev);
}

/** Host refused the requested GIC version (policy §6.5: not applicable, not fail). */
function hostRefusedGic(ctx: CellContext): string | null {
  const reasons = [
    ...ctx.probe.boots.filter((b) => b.dto.outcome === 'infrastructure_error').map((b) => b.dto.reason),
    ...(ctx.input.boot?.outcome === 'infrastructure_error' ? [ctx.input.boot.reason] : []),
  ];
  return reasons.find((r) => /gic/i.test(r)) ?? null;
}

/** HW-4 per cell: the GIC provided matches the one requested; v2.0's "both" is the run's. */
export function evalHw4(ctx: CellContext): RequirementResult {
  const want = ctx.input.profile.gic;
  const refused = hostRefusedGic(ctx);
  if (refused) return result('HW-4', na(`N/A (host): the host cannot provide GIC${want} (${refused})`), [bootEv('platform start', refused)]);
  const m = ctx.probe.main;
  let version: 'v2' | 'v3' | null = null;
  let ev: VerdictEvidence[] = [];
  let gicr: number | undefined;
  let from = 'probe';
  if (m) ({ version, evidence: ev, gicr } = describedGic(m));
  if (!version && ctx.guest?.gic) {
    version = ctx.guest.gic.value.version;
    ev = [consoleEv(ctx.guest.gic, 'GIC driver the guest used', version)];
    from = 'guest';
  }
  const unknownCompat = m?.get('fdt.gic.compatible');
  if (!version && unknownCompat) return result('HW-4', nt(`the GIC's version could not be told from its compatible (${unknownCompat.value})`), [probeEv(unknownCompat, 'DT GIC compatible', m!.boot)]);
  if (!version) return result('HW-4', m ? nt('the probe reported no GIC') : noProbe(ctx), ev);
  ev.push({ source: from === 'probe' ? 'probe' : 'console', what: OBS.gicVersion, value: version, expected: want });
  if (version !== want) return result('HW-4', unmet(`the cell asked for GIC${want} but the ${from === 'probe' ? 'firmware described' : 'guest drove'} GIC${version}`), ev);
  if (version === 'v3' && gicr === 0) return result('HW-4', partial('GICv3 in the MADT without GICR (redistributor) entries'), ev);
  const ok = `GIC${version} provided as requested (${from})`;
  return result('HW-4', {
    'vmspec-1.0': met(`${ok}: GICv2 or newer`),
    'vmspec-2.0': nt(`${ok}; v2.0 needs both GICv2 and GICv3, judged across the run's cells`),
    bbr: met(`${ok}`),
  }, ev);
}

/** HW-5 per cell: cells above 8 vCPUs show the GICv2 limit (refused) or its absence under GICv3. */
export function evalHw5(ctx: CellContext): RequirementResult {
  const { cpus, gic } = ctx.input.profile;
  if (cpus <= 8) return result('HW-5', na(`the cell has ${cpus} vCPU(s): the 8-vCPU GICv2 limit does not arise`), []);
  const m = ctx.probe.main;
  const described = m ? m.get('fdt.cpus') ?? m.get('acpi.madt.gicc') : undefined;
  const up = ctx.guest?.cpusBroughtUp;
  const ev: VerdictEvidence[] = [];
  if (described) ev.push(probeEv(described, 'CPUs described', m!.boot, String(cpus)));
  if (up) ev.push(consoleEv(up, 'CPUs the guest brought up', String(up.value.cpus), String(cpus)));
  if (gic === 'v2') {
    const refusal = [...ctx.probe.boots.map((b) => b.dto), ...(ctx.input.boot ? [ctx.input.boot] : [])].find((x) => x.outcome === 'infrastructure_error');
    if (refusal) return result('HW-5', met(`the platform refused ${cpus} vCPUs with GICv2, as the limit requires (${refusal.reason})`), [...ev, bootEv('platform start', `${refusal.outcome}: ${refusal.reason}`)]);
    const n = described ? Number(described.value) : up?.value.cpus;
    if (n !== undefined && n <= 8) return result('HW-5', met(`GICv2 VM capped at ${n} of ${cpus} requested vCPUs`), ev);
    if (n !== undefined) return result('HW-5', unmet(`a GICv2 VM with ${n} vCPUs: beyond GICv2's 8-CPU limit`), ev);
    return result('HW-5', nt('the GICv2 cell neither refused nor reported its CPU count'), ev);
  }
  const n = up?.value.cpus ?? (described ? Number(described.value) : undefined);
  if (n === undefined) return result('HW-5', nt(`no CPU count reported for this ${cpus}-vCPU GICv3 cell`), ev);
  if (n === cpus) return result('HW-5', met(`GICv3 VM with all ${cpus} vCPUs (no 8-CPU limit)`), ev);
  return result('HW-5', unmet(`only ${n} of ${cpus} vCPUs under GICv3`), ev);
}

/** HW-6: virtual counter/timer visible and described. */
export function evalHw6(ctx: CellContext): RequirementResult {
  const m = ctx.probe.main;
  const at = ctx.guest?.archTimer;
  const guestEv = at ? [consoleEv(at, 'timer the guest kernel uses', at.value.virtual ? 'virt' : 'phys', 'virt')] : [];
  if (!m) {
    if (at) return result('HW-6', at.value.virtual ? met('the guest runs on the virtual arch timer; not probed') : partial('the guest runs on the physical timer (kernel at EL2?); not probed'), guestEv);
    return result('HW-6', noProbe(ctx), []);
  }
  const ev: VerdictEvidence[] = [];
  const problems: string[] = [];
  const frq = m.get('timer.cntfrq_hz');
  if (frq) ev.push(probeEv(frq, 'CNTFRQ (Hz)', m.boot, '> 0'));
  if (!frq || !(Number(frq.value) > 0)) problems.push(frq ? `CNTFRQ is ${frq.value}` : 'no CNTFRQ reading');
  const c1 = m.get('timer.cntvct.1', 'timer.cntvct');
  const c2 = m.get('timer.cntvct.2');
  if (c1) ev.push(probeEv(c1, 'CNTVCT before the stall', m.boot));
  if (c2) ev.push(probeEv(c2, 'CNTVCT after the stall', m.boot));
  let advanced: boolean | undefined;
  if (c1 && c2 && /^\d+$/.test(c1.value) && /^\d+$/.test(c2.value)) {
    advanced = BigInt(c2.value) > BigInt(c1.value);
    if (!advanced) problems.push(`CNTVCT did not increase (${c1.value} → ${c2.value})`);
  }
  const d = descriptions(m);
  const ppi = m.get('fdt.timer.virt_ppi');
  if (d.dt && ppi) {
    ev.push(probeEv(ppi, 'DT timer virtual PPI', m.boot, '11 (INTID 27)'));
    if (ppi.value !== '11') problems.push(`the DT timer's virtual PPI is ${ppi.value}, not 11`);
  } else if (d.dt && m.version >= 2) problems.push('the DT describes no arch timer interrupt');
  const gsiv = m.get('acpi.gtdt.virt_gsiv');
  if (d.acpi && gsiv) {
    ev.push(probeEv(gsiv, 'GTDT virtual EL1 timer GSIV', m.boot, '27'));
    if (gsiv.value !== '27') problems.push(`the GTDT virtual timer GSIV is ${gsiv.value}, not 27`);
  } else if (d.acpi && m.version >= 2 && acpiTables(m).tables && !acpiTables(m).tables!.includes('GTDT')) problems.push('no GTDT: the virtual timer is not described');
  ev.push(...guestEv);
  if (problems.length) return result('HW-6', unmet(problems.join('; ')), ev);
  if (advanced === undefined) return result('HW-6', nt(`CNTFRQ ${frq!.value} Hz; the counter's advance was not measured (needs probe v2's two CNTVCT reads)`), ev);
  return result('HW-6', met(`virtual counter at ${frq!.value} Hz advancing across the stall${ppi || gsiv ? '; virtual timer interrupt described as INTID 27' : ''}`), ev);
}

/** HW-7: PSCI ≥ 0.2 described (DT or FADT) and the probe's shutdown worked. */
export function evalHw7(ctx: CellContext): RequirementResult {
  const m = ctx.probe.main;
  const g = ctx.guest?.psci;
  if (!m) {
    if (g) {
      const ok = g.value.major > 0 || g.value.minor >= 2;
      return result('HW-7', ok ? met(`PSCI v${g.value.version} (seen by the guest; not probed)`) : unmet(`PSCI v${g.value.version} is older than 0.2`), [consoleEv(g, 'PSCI version the guest found', g.value.version, '>= 0.2')]);
    }
    return result('HW-7', noProbe(ctx), []);
  }
  const ev: VerdictEvidence[] = [];
  const problems: string[] = [];
  const ok: string[] = [];
  const d = descriptions(m);
  if (d.dt) {
    const c = m.get('fdt.psci.compatible');
    const meth = m.get('fdt.psci.method');
    const v1 = m.get('fdt.psci');
    if (c) {
      ev.push(probeEv(c, 'DT /psci compatible', m.boot, 'arm,psci-0.2 or arm,psci-1.0'));
      if (/arm,psci-(0\.2|1\.0)/.test(c.value)) ok.push(`DT ${c.value}`);
      else problems.push(`DT /psci is ${c.value || 'empty'} (PSCI 0.1 only)`);
    } else if (v1) {
      ev.push(probeEv(v1, 'DT /psci node', m.boot));
      if (v1.value === '1') ok.push('DT /psci (version not reported by this probe version)');
      else problems.push('no DT /psci node');
    } else problems.push('no DT /psci node');
    if (meth) {
      ev.push(probeEv(meth, 'DT /psci method', m.boot, 'hvc or smc'));
      if (meth.value !== 'hvc' && meth.value !== 'smc') problems.push(`DT /psci method ${meth.value}`);
    }
  }
  if (d.acpi) {
    const f = m.get('acpi.fadt.psci');
    if (f) {
      ev.push(probeEv(f, 'FADT ARM_BOOT_ARCH PSCI_COMPLIANT', m.boot, 'yes'), ...m.ev('FADT ARM_BOOT_ARCH PSCI_USE_HVC', 'acpi.fadt.psci_hvc'));
      if (f.value === 'yes') ok.push('FADT PSCI_COMPLIANT');
      else problems.push('FADT ARM_BOOT_ARCH does not set PSCI_COMPLIANT');
    }
  }
  if (m.all('result').some((r) => r.value === 'reset-failed')) {
    problems.push('ResetSystem(EfiResetShutdown) returned: the VM did not power off');
    ev.push(...m.ev('probe end', 'result'));
  } else {
    const act = m.get('action');
    if (act) ev.push(probeEv(act, 'probe shutdown request', m.boot));
    const exit = m.dto.exit;
    if (act && exit) ev.push({ source: 'probe', what: 'emulator exit after the shutdown', value: exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`, probeBoot: m.boot });
  }
  if (g) ev.push(consoleEv(g, 'PSCI version the guest found', g.value.version, '>= 0.2'));
  if (problems.length) return result('HW-7', unmet(problems.join('; ')), ev);
  if (!ok.length) {
    if (g && (g.value.major > 0 || g.value.minor >= 2)) return result('HW-7', met(`PSCI v${g.value.version} (the guest's reading; the probe reported no PSCI facts)`), ev);
    return result('HW-7', nt('the probe reported no PSCI description'), ev);
  }
  return result('HW-7', met(`PSCI ≥ 0.2: ${ok.join(', ')}${g ? `; the guest found PSCI v${g.value.version}` : ''}`), ev);
}

/** HW-8: a hotplug-capable bus exists (hotplug itself is not exercised). */
export function evalHw8(ctx: CellContext): RequirementResult {
  const m = ctx.probe.main;
  if (!m) return result('HW-8', noProbe(ctx), []);
  const ev: VerdictEvidence[] = [];
  const pcie = m.get('fdt.pcie', 'fdt.pcie-ecam');
  const { tables, rec } = acpiTables(m);
  const xen = m.get('fdt.xen');
  const buses: string[] = [];
  if (pcie && yes(pcie.value)) {
    buses.push('PCIe (DT pci-host-ecam-generic)');
    ev.push(probeEv(pcie, 'DT PCIe host bridge', m.boot));
  }
  if (tables?.includes('MCFG')) {
    buses.push('PCIe (ACPI MCFG)');
    ev.push(probeEv(rec!, 'XSDT tables (MCFG)', m.boot));
  }
  if (xen && yes(xen.value)) {
    buses.push('Xen PV bus (xenbus)');
    ev.push(probeEv(xen, 'DT /hypervisor xen,xen', m.boot));
  }
  if (buses.length) return result('HW-8', nt(`hotplug-capable bus present: ${buses.join(', ')}; hotplug itself not exercised (needs QMP device_add into a pcie-root-port, or xl block-attach/network-attach)`), ev);
  const d = descriptions(m);
  if (!d.dt && !tables) return result('HW-8', nt('the probe reported neither DT buses nor ACPI tables'), []);
  if (pcie) ev.push(probeEv(pcie, 'DT PCIe host bridge', m.boot, 'present'));
  if (rec) ev.push(probeEv(rec, 'XSDT tables', m.boot, 'MCFG'));
  if (xen) ev.push(probeEv(xen, 'DT /hypervisor', m.boot));
  if (!ev.length) ev.push(...d.evidence);
  return result('HW-8', unmet('no PCIe host bridge and no Xen bus: devices can only sit on virtio-mmio, which is not hotpluggable'), ev);
}

/** HW-9 per cell: did the image boot with its root disk on this cell's transport. */
export function evalHw9(ctx: CellContext): RequirementResult {
  const t = ctx.input.profile.disk;
  const ev: VerdictEvidence[] = [{ source: 'boot', what: OBS.diskTransport, value: t }];
  if (ctx.cannotBoot) return result('HW-9', na(ctx.cannotBoot), ev);
  const b = ctx.input.boot;
  if (!b) return result('HW-9', nt('the image was not booted in this cell'), ev);
  ev.push(bootEv('image boot outcome', b.outcome, b.marker ?? b.decidingLine));
  if (b.outcome === 'passed') return result('HW-9', met(`booted with its disk on ${t}`), ev);
  if (b.outcome === 'failed' || b.outcome === 'timeout') return result('HW-9', unmet(`did not boot with its disk on ${t}: ${b.reason}`), ev);
  return result('HW-9', nt(`the boot did not run to a verdict (${b.outcome})`), ev);
}

/** HW-10: VBSA needs Vbsa.efi; not run by the farm. */
export function evalHw10(_ctx: CellContext): RequirementResult {
  return result('HW-10', nt('not tested: needs Vbsa.efi (sysarch-acs) run from the UEFI Shell and the bsa_app Linux module'), []);
}
