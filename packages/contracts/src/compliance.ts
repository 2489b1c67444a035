import { z } from 'zod';
import { VmProfile } from './profile.js';

// The compliance report: requirement-by-requirement verdicts against the ARM VM System
// Specification, per profile. This is a published format (vendors keep these files):
// COMPLIANCE_SCHEMA names its version; add optional fields freely, change nothing else
// without a new version.

/** Version tag every compliance report carries in `schema`. */
export const COMPLIANCE_SCHEMA = 'bootfarm.compliance/v1';

/** The three readings of the spec a verdict is given under (they disagree on FDT/ACPI and the UART). */
export const ComplianceProfile = z.enum(['vmspec-1.0', 'vmspec-2.0', 'bbr']);
export type ComplianceProfile = z.infer<typeof ComplianceProfile>;

/** Requirement families: the image file, the firmware, the virtual hardware, the guest OS. */
export const RequirementGroup = z.enum(['IMG', 'FW', 'HW', 'OS']);
export type RequirementGroup = z.infer<typeof RequirementGroup>;

/** How strongly a profile asks for a requirement; `absent` when the profile does not contain it. */
export const RequirementLevel = z.enum(['must', 'should', 'strongly_recommended', 'informative', 'absent']);
export type RequirementLevel = z.infer<typeof RequirementLevel>;

/**
 * A verdict. `warn`: met only partly, or not met where the level is below must. `not_applicable`
 * carries why; `not_tested` carries what would test it.
 */
export const VerdictStatus = z.enum(['pass', 'fail', 'warn', 'not_applicable', 'not_tested']);
export type VerdictStatus = z.infer<typeof VerdictStatus>;

/** Where a verdict's evidence comes from. */
export const EvidenceSource = z.enum(['image', 'probe', 'console', 'boot', 'run']);
export type EvidenceSource = z.infer<typeof EvidenceSource>;

/**
 * One piece of evidence. Image evidence gives offsets and bytes; probe and console evidence give
 * the line (its sequence number and offset in ms since the emulator started); run-level evidence
 * names the cell it comes from.
 */
export const VerdictEvidence = z.object({
  source: EvidenceSource,
  /** What was looked at, in words. */
  what: z.string(),
  value: z.string().optional(),
  expected: z.string().optional(),
  /** Byte offset in the guest-visible disk. */
  offset: z.number().optional(),
  /** Bytes as hex. */
  bytes: z.string().optional(),
  /** Console line: sequence number, offset since start, text. */
  seq: z.number().int().optional(),
  offsetMs: z.number().optional(),
  line: z.string().optional(),
  /** Which probe boot (1 or 2: the second shares the first's variable store). */
  probeBoot: z.number().int().optional(),
  /** The cell the evidence comes from (run-level verdicts). */
  cellKey: z.string().optional(),
});
export type VerdictEvidence = z.infer<typeof VerdictEvidence>;

/** A requirement's verdict under one profile. */
export const ProfileVerdict = z.object({
  level: RequirementLevel,
  status: VerdictStatus,
  /** Why: the failing observation, the reason it does not apply, or what would test it. */
  reason: z.string(),
});
export type ProfileVerdict = z.infer<typeof ProfileVerdict>;

/** One requirement, evaluated once, judged under every profile. */
export const RequirementResult = z.object({
  id: z.string().regex(/^(IMG|FW|HW|OS)-\d+$/),
  group: RequirementGroup,
  title: z.string(),
  verdicts: z.record(ComplianceProfile, ProfileVerdict),
  evidence: z.array(VerdictEvidence),
});
export type RequirementResult = z.infer<typeof RequirementResult>;

/** Verdict of a cell or a run under one profile, with counts of requirement verdicts. */
export const ProfileSummary = z.object({
  /** fail: a must failed; warn: something short of must failed or warned; pass otherwise. */
  verdict: z.enum(['pass', 'warn', 'fail']),
  counts: z.record(VerdictStatus, z.number().int().nonnegative()),
  /** Ids of the requirements that decided a fail or warn verdict. */
  failing: z.array(z.string()),
});
export type ProfileSummary = z.infer<typeof ProfileSummary>;

/** A cell's compliance: every requirement, judged from this cell's image, platform probe and guest console. */
export const CellCompliance = z.object({
  cellId: z.string(),
  cellKey: z.string(),
  profile: VmProfile,
  summary: z.record(ComplianceProfile, ProfileSummary),
  requirements: z.array(RequirementResult),
});
export type CellCompliance = z.infer<typeof CellCompliance>;

/** The run's compliance report (JSON download, source of the JUnit and HTML reports). */
export const RunCompliance = z.object({
  schema: z.literal(COMPLIANCE_SCHEMA),
  runId: z.string(),
  image: z.object({ id: z.string(), name: z.string(), sha256: z.string(), format: z.string() }),
  generatedAt: z.iso.datetime(),
  /** The requirement catalogue's version the verdicts were given against. */
  catalogueVersion: z.string(),
  summary: z.record(ComplianceProfile, ProfileSummary),
  /** Run-level verdicts: each requirement over all cells (some need several cells, e.g. GICv2 and GICv3). */
  requirements: z.array(RequirementResult),
  cells: z.array(CellCompliance),
});
export type RunCompliance = z.infer<typeof RunCompliance>;

// ---- platform probe: what the worker records about a cell's platform ------------------------

/** A console line with its sequence number and offset since the emulator started. */
export const ProbeLineDto = z.object({ seq: z.number().int(), offsetMs: z.number(), text: z.string() });
export type ProbeLineDto = z.infer<typeof ProbeLineDto>;

/** One boot of the VMSPEC probe on a cell's platform. */
export const ProbeBootDto = z.object({
  /** 1 or 2; boot 2 reuses boot 1's UEFI variable store (FW-7). */
  boot: z.number().int().min(1),
  outcome: z.string(),
  reason: z.string(),
  commandLine: z.string(),
  /** Host UTC when the emulator was started and when it ended: the reference for FW-6's clock check. */
  hostStartedAt: z.iso.datetime(),
  hostFinishedAt: z.iso.datetime(),
  exit: z.object({ code: z.number().nullable(), signal: z.string().nullable() }).nullable(),
  /** The probe's `VMSPEC-PROBE` lines (and only those), capped. */
  lines: z.array(ProbeLineDto),
});
export type ProbeBootDto = z.infer<typeof ProbeBootDto>;

/** The platform probe of a cell: the probe booted twice on the cell's exact VM profile. */
export const PlatformProbeDto = z.object({
  profile: VmProfile,
  /** True when the two boots shared one variable store (edk2 pflash); false for U-Boot's volatile store. */
  varsShared: z.boolean(),
  boots: z.array(ProbeBootDto),
});
export type PlatformProbeDto = z.infer<typeof PlatformProbeDto>;
