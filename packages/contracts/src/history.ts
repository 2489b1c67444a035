import { z } from 'zod';
import { BootStage, Outcome } from './enums.js';
import { Backend } from './profile.js';
import { ImageRefDto } from './api.js';

// History: failure signatures, per-cell transitions and regressions, the cross-hypervisor
// differential, console comparison, nightly summaries and search.

/** Infrastructure signatures (the farm's fault) are kept apart from image/platform ones. */
export const SignatureKind = z.enum(['product', 'infrastructure']);
export type SignatureKind = z.infer<typeof SignatureKind>;

/** A keyset page: pass `nextCursor` back as `cursor` for the next one (null: no more). */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

/** A value of an axis and how many occurrences had it. */
export const AxisCountDto = z.object({ value: z.string(), count: z.number().int() });
export type AxisCountDto = z.infer<typeof AxisCountDto>;

/** A failure signature in lists: counts are over what the caller may see (a vendor: its own results). */
export const SignatureSummaryDto = z.object({
  id: z.uuid(),
  /** The analyzer's normalised signature (syzbot-style title), e.g. `panic: VFS: Unable to mount root fs`. */
  title: z.string(),
  kind: SignatureKind,
  failureClass: z.string(),
  /** The stage most occurrences stopped at. */
  stage: BootStage,
  occurrences: z.number().int(),
  firstSeenAt: z.iso.datetime(),
  lastSeenAt: z.iso.datetime(),
  images: z.number().int(),
  /** Backends it was seen on (`qemu-tcg`, `xen`, ...). */
  backends: z.array(z.string()),
  /** Occurrences per UTC day over the last 30 days, oldest first (a sparkline). */
  daily: z.array(z.number().int()).length(30),
});
export type SignatureSummaryDto = z.infer<typeof SignatureSummaryDto>;
export const SignatureListDto = pageOf(SignatureSummaryDto);
export type SignatureListDto = z.infer<typeof SignatureListDto>;

/** A signature with where it happened. */
export const SignatureDto = SignatureSummaryDto.extend({
  /** Other titles that joined this signature (near-duplicates, merges). */
  aliases: z.array(z.string()),
  affected: z.object({
    images: z.array(z.object({ id: z.uuid(), name: z.string(), count: z.number().int() })),
    /** Vendor names (only an admin sees more than its own). */
    vendors: z.array(AxisCountDto),
    backends: z.array(AxisCountDto),
    /** Cell keys (`aarch64/edk2/acpi/gicv3/virtio-pci/2cpu/1024M/tcg`). */
    keys: z.array(AxisCountDto),
    firmware: z.array(AxisCountDto),
    hwDescription: z.array(AxisCountDto),
    gic: z.array(AxisCountDto),
  }),
});
export type SignatureDto = z.infer<typeof SignatureDto>;

/** Body of POST /api/signatures/:id/merge (admin): the other signature joins this one. */
export const MergeSignatureRequest = z.strictObject({ from: z.uuid() });

/** How a result compares with the previous result of the same image on the same cell. */
export const Transition = z.enum(['first', 'new_failure', 'fixed', 'still_failing', 'still_passing', 'no_verdict']);
export type Transition = z.infer<typeof Transition>;

/** One boot result in history (an occurrence, a search hit, a point of an image's timeline). */
export const HistoryResultDto = z.object({
  resultId: z.uuid(),
  cellId: z.uuid(),
  runId: z.uuid(),
  image: ImageRefDto,
  key: z.string(),
  backend: Backend,
  outcome: Outcome,
  failureClass: z.string().nullable(),
  stage: BootStage,
  reason: z.string(),
  signature: z.object({ id: z.uuid(), title: z.string() }).nullable(),
  transition: Transition.nullable(),
  durationMs: z.number().int(),
  at: z.iso.datetime(),
});
export type HistoryResultDto = z.infer<typeof HistoryResultDto>;
export const HistoryResultListDto = pageOf(HistoryResultDto);
export type HistoryResultListDto = z.infer<typeof HistoryResultListDto>;

/**
 * checking: newly failing, re-runs on the way; confirmed: the re-runs failed too; flaky: a re-run
 * passed (not a regression); fixed: a later run passed again.
 */
export const RegressionState = z.enum(['checking', 'confirmed', 'flaky', 'fixed']);
export type RegressionState = z.infer<typeof RegressionState>;

export const RegressionDto = z.object({
  id: z.uuid(),
  image: ImageRefDto,
  key: z.string(),
  backend: Backend,
  state: RegressionState,
  /** What the previous result was compared by: the same image digest, or (a new upload) the same image name. */
  basis: z.enum(['digest', 'name']),
  signature: z.object({ id: z.uuid(), title: z.string() }).nullable(),
  /** The run that newly failed, and the last passing result before it. */
  openedRunId: z.uuid(),
  previousResultId: z.uuid(),
  checks: z.object({ requested: z.number().int(), done: z.number().int(), failed: z.number().int() }),
  lastRunId: z.uuid(),
  closedRunId: z.uuid().nullable(),
  openedAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  closedAt: z.iso.datetime().nullable(),
});
export type RegressionDto = z.infer<typeof RegressionDto>;
export const RegressionListDto = pageOf(RegressionDto);
export type RegressionListDto = z.infer<typeof RegressionListDto>;

/** What is kept per image × cell: its boots and how many failures did not reproduce. */
export const CellTrackDto = z.object({
  key: z.string(),
  backend: Backend,
  boots: z.number().int(),
  passes: z.number().int(),
  failures: z.number().int(),
  /** Failures a re-run did not reproduce. */
  flakyFailures: z.number().int(),
  /** flakyFailures / boots with a verdict (0 when none). */
  flakeRate: z.number(),
  lastOutcome: Outcome.nullable(),
  lastRunId: z.uuid().nullable(),
});
export type CellTrackDto = z.infer<typeof CellTrackDto>;

/** GET /api/images/:id/history: the image's cells over time, newest result first per cell. */
export const ImageHistoryDto = z.object({
  image: ImageRefDto,
  cells: z.array(CellTrackDto.extend({ results: z.array(HistoryResultDto) })),
  regressions: z.array(RegressionDto),
});
export type ImageHistoryDto = z.infer<typeof ImageHistoryDto>;

/** The plain-words reading of one image's cells in one run. */
export const DifferentialVerdict = z.enum([
  'passes_everywhere',
  'fails_everywhere',
  'axis',
  'worker_host',
  'infrastructure',
  'mixed',
  'no_results',
]);
export const DifferentialDto = z.object({
  runId: z.uuid(),
  image: ImageRefDto,
  verdict: DifferentialVerdict,
  /** E.g. "fails only on Xen", "fails on every platform with ACPI", "fails everywhere (image bug)". */
  statement: z.string(),
  /** The axis and value that separate failures from passes (verdict axis / worker_host). */
  axis: z.string().nullable(),
  value: z.string().nullable(),
  groups: z.array(
    z.object({
      outcome: Outcome,
      failureClass: z.string().nullable(),
      signature: z.string().nullable(),
      cells: z.array(z.object({ cellId: z.uuid(), key: z.string(), backend: Backend, workerHost: z.string().nullable() })),
    }),
  ),
});
export type DifferentialDto = z.infer<typeof DifferentialDto>;

/** A line of a compared console. */
export const CompareLineDto = z.object({ seq: z.number().int(), offsetMs: z.number().int(), text: z.string(), stage: BootStage });

/** GET /api/compare?a=<cell>&b=<cell>: two consoles aligned by boot stage. */
export const ConsoleCompareDto = z.object({
  a: z.object({ cellId: z.uuid(), runId: z.uuid(), key: z.string(), outcome: Outcome.nullable(), lines: z.number().int() }),
  b: z.object({ cellId: z.uuid(), runId: z.uuid(), key: z.string(), outcome: Outcome.nullable(), lines: z.number().int() }),
  /** Each stage either console reached, in boot order, with its lines on each side. */
  stages: z.array(
    z.object({
      stage: BootStage,
      a: z.object({ lines: z.number().int(), durationMs: z.number().int() }).nullable(),
      b: z.object({ lines: z.number().int(), durationMs: z.number().int() }).nullable(),
      /** Same lines once addresses, numbers and timestamps are normalised. */
      same: z.boolean(),
    }),
  ),
  /** The first place the normalised consoles differ, with the lines around it on both sides; null when they agree. */
  divergence: z
    .object({
      stage: BootStage,
      aSeq: z.number().int().nullable(),
      bSeq: z.number().int().nullable(),
      a: z.array(CompareLineDto),
      b: z.array(CompareLineDto),
    })
    .nullable(),
});
export type ConsoleCompareDto = z.infer<typeof ConsoleCompareDto>;

/** GET /api/nightly/:date: one night, by vendor. */
export const NightlySummaryDto = z.object({
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  /** Every nightly run of the night and every re-run they asked for has ended. */
  complete: z.boolean(),
  vendors: z.array(
    z.object({
      vendor: z.string(),
      runs: z.number().int(),
      cells: z.record(z.string(), z.number().int()),
      regressed: z.array(RegressionDto),
      fixed: z.array(HistoryResultDto),
      flaky: z.array(RegressionDto),
      stillFailing: z.number().int(),
    }),
  ),
});
export type NightlySummaryDto = z.infer<typeof NightlySummaryDto>;

/** GET /api/nightly: the nights, newest first, with pass rates per backend and mean stage durations (trends). */
export const NightlyTrendDto = z.object({
  nights: z.array(
    z.object({
      date: z.string(),
      runs: z.number().int(),
      /** backend → passed / boots with a verdict. */
      passRate: z.record(z.string(), z.object({ passed: z.number().int(), total: z.number().int() })),
      /** stage → mean ms spent in it over the night's boots that reached it. */
      stageMs: z.record(z.string(), z.number().int()),
      regressions: z.number().int(),
    }),
  ),
});
export type NightlyTrendDto = z.infer<typeof NightlyTrendDto>;

/** Query of GET /api/search: filters (all optional, ANDed) and, with `q`, console full-text. */
export const SearchQuery = z.strictObject({
  vendor: z.string().max(200).optional(),
  image: z.uuid().optional(),
  imageName: z.string().max(200).optional(),
  backend: Backend.optional(),
  arch: z.string().max(20).optional(),
  firmware: z.string().max(20).optional(),
  hwDescription: z.string().max(20).optional(),
  gic: z.string().max(4).optional(),
  outcome: Outcome.optional(),
  stage: BootStage.optional(),
  failureClass: z.string().max(60).optional(),
  signature: z.uuid().optional(),
  from: z.iso.datetime().optional(),
  to: z.iso.datetime().optional(),
  /** Console text to find (case-insensitive substring, at least 3 characters). */
  q: z.string().min(3).max(200).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type SearchQuery = z.input<typeof SearchQuery>;

/** A search hit: the result, and with `q` the console line that matched. */
export const SearchHitDto = HistoryResultDto.extend({
  line: z.object({ seq: z.number().int(), offsetMs: z.number().int(), text: z.string() }).nullable(),
});
export type SearchHitDto = z.infer<typeof SearchHitDto>;
export const SearchResultDto = pageOf(SearchHitDto);
export type SearchResultDto = z.infer<typeof SearchResultDto>;

/** Body of a `regression` webhook event (sent when re-runs confirm a new failure). */
export const RegressionEvent = z.object({ event: z.literal('regression'), regression: RegressionDto });
export type RegressionEvent = z.infer<typeof RegressionEvent>;

/** Body of a `nightly.summary` webhook event (sent once the night is complete). */
export const NightlySummaryEvent = z.object({ event: z.literal('nightly.summary'), summary: NightlySummaryDto });
export type NightlySummaryEvent = z.infer<typeof NightlySummaryEvent>;
