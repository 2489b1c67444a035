import { Backend, BootStage, ImageFormat, Outcome, Transition, type HistoryResultDto } from '@bootfarm/contracts';
import { Prisma } from '../client.js';

// One result as history shows it (an occurrence, a search hit, a point of an image's timeline):
// the columns every such query selects, and the row's DTO.

/** The select list; the query must join `image i` and left-join `failure_signature s` to `result r`. */
export const HISTORY_RESULT_COLUMNS = Prisma.sql`
  r.id AS result_id, r.cell_id, r.run_id, r.image_id, i.name AS image_name, i.sha256, i.format,
  r.cell_key, r.backend, r.outcome, r.failure_class, r.stage, r.reason, r.signature_id, s.title AS signature_title,
  r.transition, r.duration_ms, r.created_at`;

/** The joins those columns need. */
export const HISTORY_RESULT_JOINS = Prisma.sql`
  JOIN image i ON i.id = r.image_id
  LEFT JOIN failure_signature s ON s.id = r.signature_id`;

export interface HistoryResultRow {
  result_id: string;
  cell_id: string;
  run_id: string;
  image_id: string;
  image_name: string;
  sha256: string;
  format: string;
  cell_key: string;
  backend: string;
  outcome: string;
  failure_class: string | null;
  stage: string;
  reason: string;
  signature_id: string | null;
  signature_title: string | null;
  transition: string | null;
  duration_ms: number;
  created_at: Date;
}

export function toHistoryResultDto(r: HistoryResultRow): HistoryResultDto {
  return {
    resultId: r.result_id,
    cellId: r.cell_id,
    runId: r.run_id,
    image: { id: r.image_id, name: r.image_name, sha256: r.sha256, format: ImageFormat.parse(r.format) },
    key: r.cell_key,
    backend: Backend.parse(r.backend),
    outcome: Outcome.parse(r.outcome),
    failureClass: r.failure_class,
    stage: BootStage.parse(r.stage),
    reason: r.reason,
    signature: r.signature_id && r.signature_title !== null ? { id: r.signature_id, title: r.signature_title } : null,
    transition: r.transition === null ? null : Transition.parse(r.transition),
    durationMs: r.duration_ms,
    at: r.created_at.toISOString(),
  };
}

/** An instant as the `timestamp` (UTC, no zone) columns Prisma writes, whatever the session's time zone. */
export function utc(d: Date): Prisma.Sql {
  return Prisma.sql`(${d.toISOString()}::timestamptz AT TIME ZONE 'UTC')`;
}

/** `AND (r.created_at, r.id) < (cursor)` for newest-first keyset pages, or nothing. */
export function beforeCursor(after: { createdAt: Date; id: string } | null, at = Prisma.sql`r.created_at`, id = Prisma.sql`r.id`): Prisma.Sql {
  return after ? Prisma.sql`AND (${at}, ${id}) < (${utc(after.createdAt)}, ${after.id}::uuid)` : Prisma.empty;
}
