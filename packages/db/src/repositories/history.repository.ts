import { randomUUID } from 'node:crypto';
import { Backend, ImageFormat, Outcome, RegressionState, VmProfile, type CellTrackDto, type ImageHistoryDto, type RegressionDto, type RegressionListDto } from '@bootfarm/contracts';
import { afterLaterRun, afterRecheck, isOpen, openRegression, signatureOf, transitionOf, verdictOf, type RegressionStep } from '@bootfarm/history';
import { Prisma, type PrismaClient } from '../client.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { beforeCursor, HISTORY_RESULT_COLUMNS, HISTORY_RESULT_JOINS, toHistoryResultDto, type HistoryResultRow } from './history.rows.js';
import { insertRunPlan } from './run.plan.js';
import { recordSignatureOccurrence } from './signature.repository.js';
import type { VendorScope } from './scope.js';

/** How recording treats new failures. */
export interface RecordOptions {
  /** Re-runs asked for when a cell newly fails (0: a new failure is a regression at once). */
  rechecks: number;
}

/** What recording a run did, for its caller to act on after the commit. */
export interface RecordOutcome {
  recorded: number;
  /** Re-run runs created (queued in PostgreSQL; the caller enqueues them, else the reconciler does). */
  recheckRunIds: string[];
  /** Regressions this run's results confirmed (to tell the vendor). */
  confirmed: string[];
}

interface TrackRow {
  boots: number;
  last_outcome: string | null;
  last_result_id: string | null;
}

export interface RegressionRow {
  id: string;
  vendor_id: string;
  image_id: string;
  image_name: string;
  sha256: string;
  format: string;
  cell_key: string;
  backend: string;
  state: string;
  basis: string;
  signature_id: string | null;
  signature_title: string | null;
  opened_run_id: string;
  previous_result_id: string;
  checks_requested: number;
  checks_done: number;
  checks_failed: number;
  last_run_id: string;
  closed_run_id: string | null;
  opened_at: Date;
  updated_at: Date;
  closed_at: Date | null;
}

export const REGRESSION_COLUMNS = Prisma.sql`
  g.id, g.vendor_id, g.image_id, i.name AS image_name, i.sha256, i.format, g.cell_key, g.backend, g.state, g.basis,
  g.signature_id, s.title AS signature_title, g.opened_run_id, g.previous_result_id, g.checks_requested, g.checks_done,
  g.checks_failed, g.last_run_id, g.closed_run_id, g.opened_at, g.updated_at, g.closed_at`;
export const REGRESSION_JOINS = Prisma.sql`JOIN image i ON i.id = g.image_id LEFT JOIN failure_signature s ON s.id = g.signature_id`;

export function toRegressionDto(g: RegressionRow): RegressionDto {
  return {
    id: g.id,
    image: { id: g.image_id, name: g.image_name, sha256: g.sha256, format: ImageFormat.parse(g.format) },
    key: g.cell_key,
    backend: Backend.parse(g.backend),
    state: RegressionState.parse(g.state),
    basis: g.basis === 'name' ? 'name' : 'digest',
    signature: g.signature_id && g.signature_title !== null ? { id: g.signature_id, title: g.signature_title } : null,
    openedRunId: g.opened_run_id,
    previousResultId: g.previous_result_id,
    checks: { requested: g.checks_requested, done: g.checks_done, failed: g.checks_failed },
    lastRunId: g.last_run_id,
    closedRunId: g.closed_run_id,
    openedAt: g.opened_at.toISOString(),
    updatedAt: g.updated_at.toISOString(),
    closedAt: g.closed_at?.toISOString() ?? null,
  };
}

/** `AND g.vendor_id = …` for a vendor's scope. */
function regressionScope(scope: VendorScope): Prisma.Sql {
  return typeof scope === 'string' ? Prisma.sql`AND g.vendor_id = ${scope}::uuid` : Prisma.empty;
}

/**
 * History's record: each settled run's results get their failure signature, their transition
 * against the previous verdict of the same image on the same cell, the image × cell's counters,
 * and the regressions they open, confirm, call flaky or close. Exactly once per result, whoever
 * records (a claimed `recorded_at`), and serialised per image × cell (its track row is locked).
 */
export class HistoryRepository {
  constructor(private readonly db: PrismaClient) {}

  /** Records every result of the run not recorded yet. */
  async recordRun(runId: string, opts: RecordOptions): Promise<RecordOutcome> {
    const run = await this.db.run.findUnique({ where: { id: runId }, select: { id: true, vendorId: true, trigger: true, regressionId: true, nightlyDate: true } });
    const out: RecordOutcome = { recorded: 0, recheckRunIds: [], confirmed: [] };
    if (!run) return out;
    const results = await this.db.result.findMany({
      where: { cell: { runId }, recordedAt: null },
      select: { id: true, outcome: true, failureClass: true, reason: true, stage: true, durationMs: true, evidence: true, createdAt: true, imageId: true, cellKey: true, backend: true, cell: { select: { profile: true, timeoutMs: true } } },
      orderBy: [{ imageId: 'asc' }, { cellKey: 'asc' }],
    });
    for (const r of results) {
      // One transaction per result: a long run never holds many track locks at once.
      await this.db.$transaction(async (tx) => {
        // The track row is the lock: two runs of the same image × cell record one after the other.
        await tx.$executeRaw`INSERT INTO cell_track (image_id, cell_key, backend) VALUES (${r.imageId}::uuid, ${r.cellKey}, ${r.backend}) ON CONFLICT DO NOTHING`;
        const [track] = await tx.$queryRaw<TrackRow[]>`SELECT boots, last_outcome, last_result_id FROM cell_track WHERE image_id = ${r.imageId}::uuid AND cell_key = ${r.cellKey} FOR UPDATE`;
        const claimed = await tx.$executeRaw`UPDATE result SET recorded_at = now() WHERE id = ${r.id}::uuid AND recorded_at IS NULL`;
        if (claimed === 0 || !track) return;
        out.recorded++;
        const verdict = verdictOf(r.outcome);
        const previous = track.last_outcome !== null && track.last_result_id !== null
          ? { outcome: track.last_outcome, resultId: track.last_result_id, basis: 'digest' as const }
          : await this.previousByName(tx, r.imageId, r.cellKey);
        const transition = transitionOf(previous ? (verdictOf(previous.outcome) ?? undefined) : undefined, verdict);
        const profile = VmProfile.parse(r.cell.profile);
        const sig = signatureOf({ outcome: r.outcome, failureClass: r.failureClass, reason: r.reason, normalisedSignature: normalisedSignatureOf(r.evidence) });
        const signatureId = sig
          ? await recordSignatureOccurrence(tx, sig, { vendorId: run.vendorId, imageId: r.imageId, cellKey: r.cellKey, backend: r.backend, profile, stage: r.stage, at: r.createdAt })
          : null;
        await tx.$executeRaw`UPDATE result SET signature_id = ${signatureId}::uuid, transition = ${transition}, previous_result_id = ${previous?.resultId ?? null}::uuid WHERE id = ${r.id}::uuid`;

        let step: (RegressionStep & { id: string }) | null = null;
        if (run.trigger === 'recheck' && run.regressionId) {
          const [g] = await tx.$queryRaw<RegressionRow[]>`SELECT * FROM regression g WHERE id = ${run.regressionId}::uuid FOR UPDATE`;
          if (g) step = { id: g.id, ...afterRecheck(progressOf(g), verdict) };
        } else {
          const [g] = await tx.$queryRaw<RegressionRow[]>`
            SELECT * FROM regression g WHERE image_id = ${r.imageId}::uuid AND cell_key = ${r.cellKey} AND state IN ('checking', 'confirmed')
            ORDER BY opened_at DESC LIMIT 1 FOR UPDATE`;
          if (g) step = { id: g.id, ...afterLaterRun(progressOf(g), verdict) };
          else if (transition === 'new_failure' && previous) {
            const id = randomUUID();
            const opened = openRegression(opts.rechecks);
            await tx.$executeRaw`
              INSERT INTO regression (id, vendor_id, image_id, cell_key, backend, state, basis, signature_id, opened_run_id, opened_result_id,
                previous_result_id, nightly_date, checks_requested, last_run_id)
              VALUES (${id}::uuid, ${run.vendorId}::uuid, ${r.imageId}::uuid, ${r.cellKey}, ${r.backend}, ${opened.state}, ${previous.basis},
                ${signatureId}::uuid, ${run.id}::uuid, ${r.id}::uuid, ${previous.resultId}::uuid, ${run.nightlyDate}, ${opened.checksRequested}, ${run.id}::uuid)`;
            // The re-runs are created in this transaction, so a crash cannot lose them (queued runs are enqueued by the reconciler).
            for (let i = 0; i < opened.checksRequested; i++) {
              out.recheckRunIds.push(await insertRunPlan(tx, { vendorId: run.vendorId, imageIds: [r.imageId], trigger: 'recheck', regressionId: id, profiles: [profile], timeoutMs: r.cell.timeoutMs }));
            }
            if (opened.confirmed) out.confirmed.push(id);
          }
        }
        if (step) {
          await tx.$executeRaw`
            UPDATE regression SET state = ${step.state}, checks_done = ${step.checksDone}, checks_failed = ${step.checksFailed},
              last_run_id = ${run.id}::uuid, updated_at = now(),
              closed_run_id = CASE WHEN ${step.closed} THEN ${run.id}::uuid ELSE closed_run_id END,
              closed_at = CASE WHEN ${step.closed} THEN now() ELSE closed_at END
            WHERE id = ${step.id}::uuid`;
          if (step.confirmed) out.confirmed.push(step.id);
        }
        const counted = verdict !== null ? 1 : 0;
        if (run.nightlyDate !== null && counted === 1) await recordNightlyBoot(tx, run.nightlyDate, run.vendorId, r);
        await tx.$executeRaw`
          UPDATE cell_track SET
            boots = boots + ${counted}, passes = passes + ${verdict === 'pass' ? 1 : 0}, failures = failures + ${verdict === 'fail' ? 1 : 0},
            flaky_failures = flaky_failures + ${step?.flaky ? 1 : 0},
            last_outcome = CASE WHEN ${counted} = 1 THEN ${r.outcome} ELSE last_outcome END,
            last_result_id = CASE WHEN ${counted} = 1 THEN ${r.id}::uuid ELSE last_result_id END,
            last_run_id = CASE WHEN ${counted} = 1 THEN ${run.id}::uuid ELSE last_run_id END,
            updated_at = now()
          WHERE image_id = ${r.imageId}::uuid AND cell_key = ${r.cellKey}`;
      });
    }
    return out;
  }

  /** A new upload of an image name has no verdicts yet: the same name's latest verdict on this cell stands in. */
  private async previousByName(tx: Prisma.TransactionClient, imageId: string, cellKey: string): Promise<{ outcome: string; resultId: string; basis: 'name' } | null> {
    const [row] = await tx.$queryRaw<{ last_outcome: string; last_result_id: string }[]>`
      SELECT t.last_outcome, t.last_result_id FROM image me
      JOIN image i ON i.vendor_id = me.vendor_id AND i.name = me.name AND i.id <> me.id
      JOIN cell_track t ON t.image_id = i.id AND t.cell_key = ${cellKey}
      WHERE me.id = ${imageId}::uuid AND t.last_outcome IS NOT NULL
      ORDER BY t.updated_at DESC LIMIT 1`;
    return row ? { outcome: row.last_outcome, resultId: row.last_result_id, basis: 'name' } : null;
  }

  /** One regression in scope, or null. */
  async regression(scope: VendorScope, id: string): Promise<RegressionDto | null> {
    const [g] = await this.db.$queryRaw<RegressionRow[]>`SELECT ${REGRESSION_COLUMNS} FROM regression g ${REGRESSION_JOINS} WHERE g.id = ${id}::uuid ${regressionScope(scope)}`;
    return g ? toRegressionDto(g) : null;
  }

  /** Regressions newest first, optionally of one state or image; keyset on (opened_at, id). */
  async regressions(scope: VendorScope, opts: { state?: string | undefined; imageId?: string | undefined; cursor?: string | undefined; limit: number }): Promise<RegressionListDto> {
    const after = opts.cursor ? decodeCursor(opts.cursor) : null;
    const rows = await this.db.$queryRaw<RegressionRow[]>`
      SELECT ${REGRESSION_COLUMNS} FROM regression g ${REGRESSION_JOINS}
      WHERE true ${regressionScope(scope)}
        ${opts.state ? Prisma.sql`AND g.state = ${opts.state}` : Prisma.empty}
        ${opts.imageId ? Prisma.sql`AND g.image_id = ${opts.imageId}::uuid` : Prisma.empty}
        ${beforeCursor(after, Prisma.sql`g.opened_at`, Prisma.sql`g.id`)}
      ORDER BY g.opened_at DESC, g.id DESC LIMIT ${opts.limit + 1}`;
    const page = rows.slice(0, opts.limit);
    const last = page.at(-1);
    return { items: page.map(toRegressionDto), nextCursor: rows.length > opts.limit && last ? encodeCursor(last.opened_at, last.id) : null };
  }

  /** Regressions by id (for events), in any scope. */
  async regressionsById(ids: string[]): Promise<(RegressionDto & { vendorId: string })[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.$queryRaw<RegressionRow[]>`SELECT ${REGRESSION_COLUMNS} FROM regression g ${REGRESSION_JOINS} WHERE g.id = ANY(${ids}::uuid[])`;
    return rows.map((g) => ({ ...toRegressionDto(g), vendorId: g.vendor_id }));
  }

  /** Regressions confirmed whose latest event was this run (raised again on every settle; the event key dedupes). */
  async confirmedByRun(runId: string): Promise<string[]> {
    const rows = await this.db.$queryRaw<{ id: string }[]>`SELECT id FROM regression WHERE last_run_id = ${runId}::uuid AND state = 'confirmed'`;
    return rows.map((r) => r.id);
  }

  /** An image's cells over time: per cell its counters and latest results (newest first), and its regressions. */
  async imageHistory(scope: VendorScope, imageId: string, opts: { perCell: number }): Promise<ImageHistoryDto | null> {
    const image = await this.db.image.findFirst({ where: { id: imageId, ...(typeof scope === 'string' && { vendorId: scope }) } });
    if (!image) return null;
    const tracks = await this.db.cellTrack.findMany({ where: { imageId }, orderBy: { cellKey: 'asc' } });
    const results = await this.db.$queryRaw<HistoryResultRow[]>`
      SELECT ${HISTORY_RESULT_COLUMNS} FROM cell_track t
      CROSS JOIN LATERAL (SELECT * FROM result r0 WHERE r0.image_id = t.image_id AND r0.cell_key = t.cell_key ORDER BY r0.created_at DESC LIMIT ${opts.perCell}) r
      ${HISTORY_RESULT_JOINS}
      WHERE t.image_id = ${imageId}::uuid
      ORDER BY r.cell_key, r.created_at DESC`;
    const byKey = new Map<string, ReturnType<typeof toHistoryResultDto>[]>();
    for (const h of results.map(toHistoryResultDto)) byKey.set(h.key, [...(byKey.get(h.key) ?? []), h]);
    const regressions = await this.db.$queryRaw<RegressionRow[]>`
      SELECT ${REGRESSION_COLUMNS} FROM regression g ${REGRESSION_JOINS} WHERE g.image_id = ${imageId}::uuid ORDER BY g.opened_at DESC LIMIT 100`;
    return {
      image: { id: image.id, name: image.name, sha256: image.sha256, format: ImageFormat.parse(image.format) },
      cells: tracks.map((t) => ({ ...toCellTrackDto(t), results: byKey.get(t.cellKey) ?? [] })),
      regressions: regressions.map(toRegressionDto),
    };
  }
}

function toCellTrackDto(t: { cellKey: string; backend: string; boots: number; passes: number; failures: number; flakyFailures: number; lastOutcome: string | null; lastRunId: string | null }): CellTrackDto {
  return {
    key: t.cellKey,
    backend: Backend.parse(t.backend),
    boots: t.boots,
    passes: t.passes,
    failures: t.failures,
    flakyFailures: t.flakyFailures,
    flakeRate: t.boots > 0 ? t.flakyFailures / t.boots : 0,
    lastOutcome: t.lastOutcome === null ? null : Outcome.parse(t.lastOutcome),
    lastRunId: t.lastRunId,
  };
}

function progressOf(g: Pick<RegressionRow, 'state' | 'checks_requested' | 'checks_done' | 'checks_failed'>) {
  const state = RegressionState.parse(g.state);
  return { state, checksRequested: g.checks_requested, checksDone: g.checks_done, checksFailed: g.checks_failed, open: isOpen(state) };
}

/** A nightly boot with a verdict, into the night's counters and stage times (the trends read these). */
async function recordNightlyBoot(tx: Prisma.TransactionClient, night: string, vendorId: string, r: { outcome: string; backend: string; durationMs: number; evidence: Prisma.JsonValue }): Promise<void> {
  await tx.$executeRaw`
    INSERT INTO nightly_stat (night, vendor_id, backend, total, passed) VALUES (${night}, ${vendorId}::uuid, ${r.backend}, 1, ${r.outcome === 'passed' ? 1 : 0})
    ON CONFLICT (night, vendor_id, backend) DO UPDATE SET total = nightly_stat.total + 1, passed = nightly_stat.passed + EXCLUDED.passed`;
  const stages = stageDurations(r.evidence, r.durationMs);
  if (stages.length === 0) return;
  const rows = stages.map(([stage, ms]) => Prisma.sql`(${night}, ${vendorId}::uuid, ${stage}, 1, ${ms})`);
  await tx.$executeRaw`
    INSERT INTO nightly_stage_stat (night, vendor_id, stage, boots, total_ms) VALUES ${Prisma.join(rows)}
    ON CONFLICT (night, vendor_id, stage) DO UPDATE SET boots = nightly_stage_stat.boots + 1, total_ms = nightly_stage_stat.total_ms + EXCLUDED.total_ms`;
}

/** Time in each stage a boot reached: from its mark to the next one (the last: to the end of the boot). */
export function stageDurations(evidence: Prisma.JsonValue, durationMs: number): [string, number][] {
  const marks = evidence && typeof evidence === 'object' && !Array.isArray(evidence) ? evidence['stages'] : null;
  if (!Array.isArray(marks)) return [];
  const valid = marks.filter((m): m is { stage: string; offsetMs: number } =>
    !!m && typeof m === 'object' && !Array.isArray(m) && typeof m['stage'] === 'string' && typeof m['offsetMs'] === 'number');
  return valid.map((m, i) => [m.stage, Math.max(0, Math.round((valid[i + 1]?.offsetMs ?? durationMs) - m.offsetMs))]);
}

/** The analyzer's normalised signature from a result's evidence, if it gave one. */
function normalisedSignatureOf(evidence: Prisma.JsonValue): string | null {
  const v = evidence && typeof evidence === 'object' && !Array.isArray(evidence) ? evidence['normalisedSignature'] : null;
  return typeof v === 'string' && v.length > 0 ? v : null;
}
