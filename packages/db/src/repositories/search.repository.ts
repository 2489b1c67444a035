import { Backend, Outcome, VmProfile, type SearchResultDto } from '@bootfarm/contracts';
import type { ConsoleSide, DifferentialCell, StageMark } from '@bootfarm/history';
import { Prisma, type PrismaClient } from '../client.js';
import { ConsoleStore } from '../console/console.store.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { beforeCursor, HISTORY_RESULT_COLUMNS, HISTORY_RESULT_JOINS, toHistoryResultDto, utc, type HistoryResultRow } from './history.rows.js';
import { containsPattern } from './signature.repository.js';
import type { VendorScope } from './scope.js';

/** Search filters (all optional, ANDed), as the API validated them. */
export interface SearchFilter {
  vendor?: string | undefined;
  image?: string | undefined;
  imageName?: string | undefined;
  backend?: string | undefined;
  arch?: string | undefined;
  firmware?: string | undefined;
  hwDescription?: string | undefined;
  gic?: string | undefined;
  outcome?: string | undefined;
  stage?: string | undefined;
  failureClass?: string | undefined;
  signature?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  q?: string | undefined;
  cursor?: string | undefined;
  limit: number;
}

/**
 * Below this many matching console chunks a text is "rare": the trigram index finds the few
 * attempts that printed it and only their results are read. Above it, matches are dense and
 * walking results newest first, checking each one's console, reaches a page sooner.
 */
const RARE_TEXT_CHUNKS = 2000;
/** Lines a compared console is read up to. */
const COMPARE_MAX_LINES = 20_000;

interface HitRow extends HistoryResultRow {
  line_seq: number | null;
  line_offset_ms: number | null;
  line_text: string | null;
}

/** One compared console: its cell, run and result, and its lines with stage marks. */
export interface CompareSideRecord extends ConsoleSide {
  cellId: string;
  runId: string;
  key: string;
  outcome: string | null;
}

/**
 * History search (results by vendor, image, platform axes, outcome, stage, failure class,
 * signature and date; console text) and the reads the differential and console comparison need.
 *
 * Console text is matched with pg_trgm: a GIN trigram index on console_chunk.text answers
 * case-insensitive substring queries (`ILIKE '%…%'`). Trigrams, not tsvector, because console text
 * is not prose: people search for `ttyAMA0`, `0x0000dead`, `\EFI\BOOT\BOOTAA64.EFI`, `EFI_NOT_FOUND` —
 * tokens a text-search parser splits, stems or drops — and expect exactly what they typed to match.
 */
export class SearchRepository {
  constructor(private readonly db: PrismaClient) {}

  async search(scope: VendorScope, f: SearchFilter): Promise<SearchResultDto> {
    const after = f.cursor ? decodeCursor(f.cursor) : null;
    const part = (n: number) => Prisma.sql`split_part(r.cell_key, '/', ${n})`;
    const where = Prisma.join(
      [
        Prisma.sql`true`,
        typeof scope === 'string' ? Prisma.sql`r.vendor_id = ${scope}::uuid` : null,
        f.vendor ? Prisma.sql`r.vendor_id = (SELECT id FROM vendor WHERE name = ${f.vendor})` : null,
        f.image ? Prisma.sql`r.image_id = ${f.image}::uuid` : null,
        f.imageName ? Prisma.sql`i.name = ${f.imageName}` : null,
        f.backend ? Prisma.sql`r.backend = ${f.backend}` : null,
        // The cell key is `<arch>/<firmware>/<hw>/gic<v>/…` (profileKey).
        f.arch ? Prisma.sql`${part(1)} = ${f.arch}` : null,
        f.firmware ? Prisma.sql`${part(2)} = ${f.firmware}` : null,
        f.hwDescription ? Prisma.sql`${part(3)} = ${f.hwDescription}` : null,
        f.gic ? Prisma.sql`${part(4)} = ${`gic${f.gic}`}` : null,
        f.outcome ? Prisma.sql`r.outcome = ${f.outcome}` : null,
        f.stage ? Prisma.sql`r.stage = ${f.stage}` : null,
        f.failureClass ? Prisma.sql`r.failure_class = ${f.failureClass}` : null,
        f.signature ? Prisma.sql`r.signature_id = ${f.signature}::uuid` : null,
        f.from ? Prisma.sql`r.created_at >= ${utc(new Date(f.from))}` : null,
        f.to ? Prisma.sql`r.created_at < ${utc(new Date(f.to))}` : null,
      ].filter((x): x is Prisma.Sql => x !== null),
      ' AND ',
    );
    let rows: HitRow[];
    if (!f.q) {
      rows = await this.db.$queryRaw<HitRow[]>`
        SELECT ${HISTORY_RESULT_COLUMNS}, NULL::int AS line_seq, NULL::int AS line_offset_ms, NULL::text AS line_text
        FROM result r ${HISTORY_RESULT_JOINS}
        WHERE ${where} ${beforeCursor(after)}
        ORDER BY r.created_at DESC, r.id DESC LIMIT ${f.limit + 1}`;
    } else {
      const pattern = containsPattern(f.q);
      const [{ n }] = await this.db.$queryRaw<{ n: number }[]>`
        SELECT count(*)::int AS n FROM (SELECT 1 FROM console_chunk WHERE text ILIKE ${pattern} LIMIT ${RARE_TEXT_CHUNKS}) x` as [{ n: number }];
      // Rare text: only the attempts whose console has it (trigram index), plus live lines (small, unindexed).
      const candidates =
        n < RARE_TEXT_CHUNKS
          ? Prisma.sql`AND r.attempt_id IN (SELECT attempt_id FROM console_chunk WHERE text ILIKE ${pattern}
                                             UNION SELECT attempt_id FROM console_line WHERE text ILIKE ${pattern})`
          : Prisma.empty;
      rows = await this.db.$queryRaw<HitRow[]>`
        SELECT ${HISTORY_RESULT_COLUMNS}, m.seq AS line_seq, m.offset_ms AS line_offset_ms, m.text AS line_text
        FROM result r ${HISTORY_RESULT_JOINS}
        CROSS JOIN LATERAL (
          SELECT * FROM (
            SELECT ch.first_seq + (l.i - 1)::int AS seq, ch.offsets_ms[l.i] AS offset_ms, l.t AS text
            FROM console_chunk ch CROSS JOIN LATERAL unnest(string_to_array(ch.text, E'\\n')) WITH ORDINALITY AS l(t, i)
            WHERE ch.attempt_id = r.attempt_id AND ch.text ILIKE ${pattern} AND l.t ILIKE ${pattern}
            UNION ALL
            SELECT cl.seq, cl.offset_ms, cl.text FROM console_line cl WHERE cl.attempt_id = r.attempt_id AND cl.text ILIKE ${pattern}
          ) hits ORDER BY seq LIMIT 1
        ) m
        WHERE ${where} ${candidates} ${beforeCursor(after)}
        ORDER BY r.created_at DESC, r.id DESC LIMIT ${f.limit + 1}`;
    }
    const page = rows.slice(0, f.limit);
    const last = page.at(-1);
    return {
      items: page.map((r) => ({
        ...toHistoryResultDto(r),
        line: r.line_seq === null ? null : { seq: r.line_seq, offsetMs: r.line_offset_ms ?? 0, text: r.line_text ?? '' },
      })),
      nextCursor: rows.length > f.limit && last ? encodeCursor(last.created_at, last.result_id) : null,
    };
  }

  /** One image's cells in one run, with what the differential reads; null when the run is not in scope. */
  async differentialCells(scope: VendorScope, runId: string, imageId: string): Promise<DifferentialCell[] | null> {
    const run = await this.db.run.findFirst({ where: { id: runId, ...(typeof scope === 'string' && { vendorId: scope }) }, select: { id: true } });
    if (!run) return null;
    const rows = await this.db.$queryRaw<{ id: string; key: string; backend: string; profile: unknown; outcome: string; failure_class: string | null; signature: string | null; host: string | null }[]>`
      SELECT c.id, c.key, c.backend, c.profile, r.outcome, r.failure_class,
             COALESCE(s.title, r.evidence->>'normalisedSignature') AS signature, w.host
      FROM cell c JOIN result r ON r.cell_id = c.id
      LEFT JOIN failure_signature s ON s.id = r.signature_id
      LEFT JOIN attempt a ON a.id = r.attempt_id LEFT JOIN worker w ON w.id = a.worker_id
      WHERE c.run_id = ${runId}::uuid AND c.image_id = ${imageId}::uuid ORDER BY c.key`;
    return rows.map((r) => ({
      cellId: r.id,
      key: r.key,
      backend: Backend.parse(r.backend),
      profile: VmProfile.parse(r.profile),
      workerHost: r.host,
      outcome: Outcome.parse(r.outcome),
      failureClass: r.failure_class,
      signature: r.signature,
    }));
  }

  /** A cell's console (latest attempt, up to a cap) with its stage marks; null when not in scope. */
  async compareSide(scope: VendorScope, cellId: string): Promise<CompareSideRecord | null> {
    const cell = await this.db.cell.findFirst({
      where: { id: cellId, ...(typeof scope === 'string' && { run: { vendorId: scope } }) },
      select: { id: true, runId: true, key: true, result: { select: { outcome: true, attemptId: true, evidence: true } }, attempts: { select: { id: true }, orderBy: { number: 'desc' }, take: 1 } },
    });
    if (!cell) return null;
    const attemptId = cell.result?.attemptId ?? cell.attempts[0]?.id;
    const lines = attemptId ? await new ConsoleStore(this.db).page(attemptId, -1, COMPARE_MAX_LINES) : [];
    const evidence = cell.result?.evidence as { stages?: StageMark[] } | undefined;
    return { cellId: cell.id, runId: cell.runId, key: cell.key, outcome: cell.result?.outcome ?? null, lines, stages: Array.isArray(evidence?.stages) ? evidence.stages : [] };
  }
}
