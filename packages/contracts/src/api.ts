import { z } from 'zod';
import { BootStage, CellStatus, ImageFormat, Outcome, RunStatus, RunTrigger } from './enums.js';
import { Backend, VmProfile, profileKey } from './profile.js';
import { ComplianceProfile, ProfileSummary } from './compliance.js';
import { MatrixSpec } from './matrix.js';
import { Capability } from './farm.js';

// The scheduler's HTTP API, shared by the scheduler, the dashboard and the CLI.

/** Where in the image, which bytes or which value led to a finding. */
export const EvidenceDto = z.object({
  what: z.string(),
  offset: z.number().optional(),
  bytes: z.string().optional(),
  value: z.string().optional(),
  expected: z.string().optional(),
});
export type EvidenceDto = z.infer<typeof EvidenceDto>;

/** A static finding about an image against one requirement (IMG-1..IMG-10). */
export const FindingDto = z.object({
  id: z.string().regex(/^IMG-\d+$/),
  check: z.string(),
  level: z.enum(['pass', 'warn', 'fail', 'info']),
  message: z.string(),
  evidence: z.array(EvidenceDto),
});
export type FindingDto = z.infer<typeof FindingDto>;

/** What static inspection found at intake. */
export const InspectionDto = z.object({
  /** Size of the disk the guest sees (the container's virtual size). */
  virtualSize: z.number().int().nonnegative(),
  /** Architectures the image declares through its removable-media boot files. */
  architectures: z.array(z.string()),
  findings: z.array(FindingDto),
  /** What `qemu-img info` said about the same file, for cross-checking. */
  qemuImg: z.object({ format: z.string(), virtualSize: z.number() }).nullable(),
});
export type InspectionDto = z.infer<typeof InspectionDto>;

/** An uploaded image as the API shows it. */
export const ImageDto = z.object({
  id: z.uuid(),
  name: z.string(),
  format: ImageFormat,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  sizeBytes: z.number().int().nonnegative(),
  createdAt: z.iso.datetime(),
  inspection: InspectionDto.nullable(),
});
export type ImageDto = z.infer<typeof ImageDto>;

/** Query of POST /api/images (the body is the image bytes, application/octet-stream). */
export const UploadImageQuery = z.strictObject({
  name: z.string().trim().min(1).max(200).regex(/^[\w.+@-][\w .+@-]*$/, 'letters, digits, space and . _ + @ - only'),
  format: ImageFormat,
});
export type UploadImageQuery = z.infer<typeof UploadImageQuery>;

/** How many images one run may hold (each is booted on every cell). */
export const MAX_RUN_IMAGES = 16;

/** Body of POST /api/runs. */
export const CreateRunRequest = z.strictObject({
  /** The image to test, or */
  imageId: z.uuid().optional(),
  /** several images, each booted on every cell of the matrix (one report per image). */
  imageIds: z
    .array(z.uuid())
    .min(1)
    .max(MAX_RUN_IMAGES)
    .refine((ids) => new Set(ids).size === ids.length, 'imageIds must be distinct')
    .optional(),
  /** Cell timeout in seconds. */
  timeoutSec: z.number().int().min(5).max(3600).default(120),
  /** The platforms to boot on, one cell each (default: the reference AArch64 virt machine). */
  profiles: z
    .array(VmProfile)
    .min(1)
    .max(64)
    .refine((ps) => new Set(ps.map(profileKey)).size === ps.length, 'profiles must be distinct')
    .optional(),
  /** Or a declarative matrix (preset, axes, include/exclude); cells that cannot exist are kept as not applicable. */
  matrix: MatrixSpec.optional(),
})
  .refine((r) => !(r.profiles && r.matrix), { message: 'give profiles or matrix, not both', path: ['matrix'] })
  .refine((r) => (r.imageId === undefined) !== (r.imageIds === undefined), { message: 'give imageId or imageIds (exactly one of them)', path: ['imageIds'] });
export type CreateRunRequest = z.input<typeof CreateRunRequest>;

/** The images of a run, in the order they were given. */
export function runImageIds(request: { imageId?: string | undefined; imageIds?: string[] | undefined }): string[] {
  return request.imageIds ?? (request.imageId ? [request.imageId] : []);
}

/** The accepted result of a cell. */
export const ResultDto = z.object({
  outcome: Outcome,
  failureClass: z.string().nullable(),
  reason: z.string(),
  stage: BootStage,
  durationMs: z.number().int(),
  /** The exact command, to reproduce the boot by hand. */
  commandLine: z.string(),
  firmware: z.record(z.string(), z.unknown()),
  /** What the guest (or the probe) reported about the platform. */
  facts: z.record(z.string(), z.unknown()),
});
export type ResultDto = z.infer<typeof ResultDto>;

/** A matrix cell of a run. */
export const CellDto = z.object({
  id: z.uuid(),
  /** The run's image this cell boots. */
  imageId: z.uuid(),
  key: z.string(),
  backend: Backend,
  profile: VmProfile,
  status: CellStatus,
  /** Why a not_applicable cell cannot exist. */
  reason: z.string().nullable(),
  attempts: z.number().int().nonnegative(),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
  result: ResultDto.nullable(),
  /**
   * Set while the cell is queued and no online worker in good or unknown health serves the
   * capability it needs ("no capable worker"): it waits visibly instead of failing.
   */
  waitingFor: Capability.nullable(),
});
export type CellDto = z.infer<typeof CellDto>;

/** An image as runs refer to it. */
export const ImageRefDto = ImageDto.pick({ id: true, name: true, sha256: true, format: true });
export type ImageRefDto = z.infer<typeof ImageRefDto>;

/** A run's image with its compliance verdict per profile, once every cell of the run has ended. */
export const RunImageDto = ImageRefDto.extend({ compliance: z.record(ComplianceProfile, ProfileSummary).nullable() });
export type RunImageDto = z.infer<typeof RunImageDto>;

/** A run in lists. */
export const RunSummaryDto = z.object({
  id: z.uuid(),
  status: RunStatus,
  trigger: RunTrigger,
  /** The run's images, in submission order. */
  images: z.array(ImageRefDto),
  createdAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().nullable(),
});
export type RunSummaryDto = z.infer<typeof RunSummaryDto>;

/** A run with its cells and, once every cell is terminal, each image's compliance verdict per profile. */
export const RunDto = RunSummaryDto.extend({
  images: z.array(RunImageDto),
  /** Image-major (in the order of `images`), then by cell key. */
  cells: z.array(CellDto),
});
export type RunDto = z.infer<typeof RunDto>;

/** A console line with its offset since the emulator started. */
export const ConsoleLineDto = z.object({ seq: z.number().int(), offsetMs: z.number().int(), text: z.string() });
export type ConsoleLineDto = z.infer<typeof ConsoleLineDto>;

/** GET /api/cells/:id/console: the console of the cell's latest (or chosen) attempt. */
export const ConsoleDto = z.object({
  cellId: z.uuid(),
  attempt: z.number().int().nullable(),
  lines: z.array(ConsoleLineDto),
  nextSeq: z.number().int().nullable(),
});
export type ConsoleDto = z.infer<typeof ConsoleDto>;

/** Every error body the API returns. */
export const ErrorDto = z.object({
  statusCode: z.number().int(),
  error: z.string(),
  message: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type ErrorDto = z.infer<typeof ErrorDto>;

/** Keyset page of runs. */
export const RunListDto = z.object({ items: z.array(RunSummaryDto), nextCursor: z.string().nullable() });
export type RunListDto = z.infer<typeof RunListDto>;
