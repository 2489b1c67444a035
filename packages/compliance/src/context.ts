/**
 * A cell's inputs, pre-read for the evaluators: probe facts per boot, the guest facts, the boot,
 * the intake findings, plus the small decisions several evaluators share.
 */
import type { FindingDto, ProbeBootDto, VerdictEvidence } from '@bootfarm/contracts';
import type { CellInput, GuestFact, GuestFactsInput } from './inputs.js';
import { allRecords, lastRecord, readProbeRecords, type ProbeRecord } from './probe-records.js';
import { probeEv } from './judge.js';

/**
 * Evidence labels that carry a cell's observation to the run-level evaluators (which only see
 * the stored cell results). The run reads `value` of evidence whose `what` is one of these.
 */
export const OBS = {
  /** `v2` | `v3`: the GIC the cell's platform provided. */
  gicVersion: 'GIC version provided',
  /** `dt` | `acpi` | `both` | `none`: the hardware description the platform presented. */
  hwDescription: 'hardware description presented',
  /** `PL011` | `SBSA` | `XENPV` | `VIRTIO`: a console driver the guest bound. */
  consoleDriver: 'console driver bound by the guest',
  /** `virtio-pci` | `virtio-mmio` | `xen-pv`: the root disk's transport. */
  diskTransport: 'root disk transport',
  /** Comma-separated architectures the image declares (`aarch64,arm`). */
  declaredArchitectures: 'architectures the image declares',
  /** `aarch64` | `arm`: the probe ran in this execution state. */
  probeArch: 'probe execution state',
} as const;

/** Well-known configuration-table GUIDs (lowercase registry format). */
export const GUID = {
  dtb: 'b1b621d5-f19c-41a5-830b-d9152c69aae0',
  acpi20: '8868e871-e4f1-11d3-bc22-0080c73c8881',
  smbios3: 'f2fd1544-9794-4a2c-992e-e5bbcf20e394',
  smbios: 'eb9d2d31-2d88-11d3-9a16-0090273fc14d',
  rtprop: 'eb66918a-7eef-402a-842e-931d21c38ae9',
} as const;

/** The facts of one probe boot. */
export class ProbeBootView {
  readonly records: ProbeRecord[];
  constructor(readonly dto: ProbeBootDto) {
    this.records = readProbeRecords(dto.lines);
  }
  get boot(): number {
    return this.dto.boot;
  }
  /** The last record of the first key present (later keys are older protocol spellings). */
  get(...keys: string[]): ProbeRecord | undefined {
    for (const k of keys) {
      const r = lastRecord(this.records, k);
      if (r) return r;
    }
    return undefined;
  }
  all(key: string): ProbeRecord[] {
    return allRecords(this.records, key);
  }
  /** Evidence from the last record of the first key present, or nothing. */
  ev(what: string, ...keys: string[]): VerdictEvidence[] {
    const r = this.get(...keys);
    return r ? [probeEv(r, what, this.boot)] : [];
  }
  hasGuid(guid: string): ProbeRecord | undefined {
    return this.all('cfgtable.guid').find((r) => r.value.toLowerCase() === guid);
  }
  get banner(): ProbeRecord | undefined {
    return this.get('banner');
  }
  /**
   * Protocol version from the banner. From v2 on, a key whose source does not exist is not
   * printed, so a missing key means "not found"; under v1 it means "not reported".
   */
  get version(): number {
    const m = /^vmspec-probe\/(\d{1,3})\b/.exec(this.banner?.value ?? '');
    return m ? Number(m[1]) : 0;
  }
}

/** Why the platform probe cannot answer, or null when it can. */
export interface ProbeState {
  /** The first boot whose probe printed its banner. */
  readonly main: ProbeBootView | null;
  readonly boots: readonly ProbeBootView[];
  /** Reason for not_tested when `main` is null. */
  readonly missing: string;
  /** True when the probe could not run for the farm's reasons (infrastructure error). */
  readonly infrastructure: boolean;
}

export interface CellContext {
  readonly input: CellInput;
  readonly probe: ProbeState;
  readonly guest: GuestFactsInput | null;
  readonly findings: readonly FindingDto[] | null;
  /** Non-null: the image cannot boot in this cell by construction (boot-based verdicts do not apply). */
  readonly cannotBoot: string | null;
}

export function buildContext(input: CellInput): CellContext {
  return { input, probe: probeState(input), guest: input.guest, findings: input.image.inspection?.findings ?? null, cannotBoot: cannotBoot(input) };
}

function probeState(input: CellInput): ProbeState {
  const p = input.platform;
  if (!p) return { main: null, boots: [], missing: 'no platform probe for this cell (the worker boots the VMSPEC probe disk on the cell\'s platform)', infrastructure: false };
  const boots = [...p.boots].sort((a, b) => a.boot - b.boot).map((b) => new ProbeBootView(b));
  if (boots.length === 0) return { main: null, boots, missing: 'the platform probe recorded no boot', infrastructure: false };
  const main = boots.find((b) => b.banner) ?? null;
  if (main) return { main, boots, missing: '', infrastructure: false };
  const b1 = boots[0]!.dto;
  const infra = b1.outcome === 'infrastructure_error';
  return {
    main: null, boots, infrastructure: infra,
    missing: infra ? `the probe could not be started on this platform (${b1.outcome}: ${b1.reason})` : `the probe printed nothing (${b1.outcome}: ${b1.reason}); see FW-1`,
  };
}

/** The image declares no boot file for the cell's architecture, or the cell cannot exist (GICv2 > 8 vCPUs). */
function cannotBoot(input: CellInput): string | null {
  const archs = input.image.inspection?.architectures ?? [];
  const arm = archs.filter((a) => a === 'aarch64' || a === 'arm');
  if (arm.length > 0 && !arm.includes(input.profile.arch)) {
    return `the image declares ${arm.map(archName).join(' and ')} only; this cell is ${archName(input.profile.arch)} (IMG-10)`;
  }
  if (input.profile.gic === 'v2' && input.profile.cpus > 8 && input.boot?.outcome !== 'passed') {
    return `GICv2 supports at most 8 vCPUs and this cell asks for ${input.profile.cpus} (HW-5)`;
  }
  return null;
}

export const archName = (a: string): string => (a === 'arm' ? 'AArch32' : a === 'aarch64' ? 'AArch64' : a);

// ---- shared readings --------------------------------------------------------------------------

export function isSuccess(status: string | undefined): boolean {
  return status !== undefined && (status === 'EFI_SUCCESS' || /^0x0+$/i.test(status));
}

export function parseHex(v: string | undefined): number | undefined {
  if (v === undefined || !/^0x[0-9a-f]+$/i.test(v)) return undefined;
  return Number.parseInt(v.slice(2), 16);
}

export function parseDec(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

const present = (v: string | undefined): boolean => v === 'present' || v === '1' || v === 'yes';

/** Which descriptions the firmware installed, from the probe. */
export function descriptions(b: ProbeBootView): { dt: boolean; acpi: boolean; reported: boolean; evidence: VerdictEvidence[] } {
  const fdt = b.get('fdt');
  const acpi = b.get('acpi20');
  const dtGuid = b.hasGuid(GUID.dtb);
  const acpiGuid = b.hasGuid(GUID.acpi20);
  const dt = fdt ? present(fdt.value) : dtGuid !== undefined;
  const ac = acpi ? present(acpi.value) : acpiGuid !== undefined;
  const evidence: VerdictEvidence[] = [];
  if (fdt) evidence.push(probeEv(fdt, 'DEVICE_TREE configuration table', b.boot));
  else if (dtGuid) evidence.push(probeEv(dtGuid, 'DEVICE_TREE configuration table GUID', b.boot));
  if (acpi) evidence.push(probeEv(acpi, 'ACPI 2.0 configuration table', b.boot));
  else if (acpiGuid) evidence.push(probeEv(acpiGuid, 'ACPI 2.0 configuration table GUID', b.boot));
  // A probe that stopped before its table scan says nothing about either table.
  const reported = !!(fdt || acpi || b.all('cfgtable.guid').length || b.get('cfgtable.count'));
  return { dt, acpi: ac, reported, evidence };
}

/** dt | acpi | both | none, from {@link descriptions}. */
export const descriptionKind = (d: { dt: boolean; acpi: boolean }): 'dt' | 'acpi' | 'both' | 'none' => (d.dt && d.acpi ? 'both' : d.dt ? 'dt' : d.acpi ? 'acpi' : 'none');

/** Tables the XSDT lists (probe v2 `acpi.xsdt.tables`, v1 `acpi.tables`). */
export function acpiTables(b: ProbeBootView): { tables: string[] | null; rec: ProbeRecord | undefined } {
  const rec = b.get('acpi.xsdt.tables', 'acpi.tables');
  return { tables: rec ? rec.value.split(',').map((s) => s.trim()).filter(Boolean) : null, rec };
}

/** The RT_PROPERTIES mask: null when the table is absent (everything claimed), undefined when unknown. */
export function rtPropMask(b: ProbeBootView): { mask: number | null | undefined; evidence: VerdictEvidence[] } {
  const flag = b.get('rtprop', 'rt.properties');
  const sup = b.get('rtprop.supported', 'rt.properties.supported');
  if (sup) return { mask: parseHex(sup.value), evidence: [probeEv(sup, 'EFI_RT_PROPERTIES_TABLE RuntimeServicesSupported', b.boot)] };
  if (flag && flag.value.startsWith('absent')) return { mask: null, evidence: [probeEv(flag, 'EFI_RT_PROPERTIES_TABLE', b.boot)] };
  if (b.hasGuid(GUID.rtprop) || (flag && flag.value === 'present')) return { mask: undefined, evidence: flag ? [probeEv(flag, 'EFI_RT_PROPERTIES_TABLE', b.boot)] : [] };
  return { mask: flag ? null : undefined, evidence: [] };
}

/** RT_PROPERTIES bits (UEFI 2.8+). */
export const RT = {
  GetTime: 0x1, SetTime: 0x2, GetWakeupTime: 0x4, SetWakeupTime: 0x8, GetVariable: 0x10, GetNextVariableName: 0x20,
  SetVariable: 0x40, SetVirtualAddressMap: 0x80, ConvertPointer: 0x100, GetNextHighMonotonicCount: 0x200, ResetSystem: 0x400,
  UpdateCapsule: 0x800, QueryCapsuleCapabilities: 0x1000, QueryVariableInfo: 0x2000,
} as const;
export const RT_ALL = 0x3fff;

export function rtNames(mask: number): string[] {
  return Object.entries(RT).filter(([, bit]) => (mask & bit) !== 0).map(([n]) => n);
}

/** Was the image booted far enough to judge the guest? */
export function bootReachedOs(ctx: CellContext): boolean {
  const b = ctx.input.boot;
  return !!b && (b.outcome === 'passed' || b.stage === 'os');
}

/** Any kernel fact on the console (not the farm guest's own key=value lines). */
export function firstKernelFact(g: GuestFactsInput | null): GuestFact<unknown> | null {
  if (!g) return null;
  const order: (keyof GuestFactsInput)[] = ['efi', 'efiNotFound', 'psci', 'archTimer', 'cpusBroughtUp', 'console', 'uart', 'commandLine', 'gic', 'xen', 'hvc0'];
  for (const k of order) {
    const f = g[k] as GuestFact<unknown> | null | undefined;
    if (f && typeof f === 'object' && 'evidence' in f) return f;
  }
  return null;
}

/** The farm guest's `VMSPEC-GUEST key=value` fact. */
export function guestKey(g: GuestFactsInput | null, ...keys: string[]): GuestFact<string> | null {
  for (const k of keys) {
    const f = g?.guest?.[k];
    if (f) return f;
  }
  return null;
}

export function findingsFor(ctx: CellContext, id: string): FindingDto[] {
  return (ctx.findings ?? []).filter((f) => f.id === id);
}

/** Rank of a boot stage, in boot order. */
export function stageRank(stage: string): number {
  return ['none', 'firmware', 'boot_manager', 'bootloader', 'os'].indexOf(stage);
}
