import { randomUUID } from 'node:crypto';
import { BootStage, SignatureKind, type AxisCountDto, type HistoryResultListDto, type SignatureDto, type SignatureListDto, type SignatureSummaryDto, type VmProfile } from '@bootfarm/contracts';
import type { FailureSignatureOf } from '@bootfarm/history';
import { Prisma, type PrismaClient } from '../client.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { beforeCursor, HISTORY_RESULT_COLUMNS, HISTORY_RESULT_JOINS, toHistoryResultDto, utc, type HistoryResultRow } from './history.rows.js';
import type { VendorScope } from './scope.js';

/** Where one occurrence happened: the axes its signature's statistics are kept by. */
export interface OccurrenceAxes {
  vendorId: string;
  imageId: string;
  cellKey: string;
  backend: string;
  profile: VmProfile;
  stage: string;
  at: Date;
}

/** Values listed per axis on a signature's page (most frequent first). */
const TOP_VALUES = 50;
/** Days a signature's sparkline covers. */
const SPARK_DAYS = 30;
const DAY_MS = 86_400_000;

/**
 * Adds one occurrence of a failure to its signature, inside the caller's transaction: finds the
 * signature by the title's join key (near-duplicates land on the same one) or creates it, bumps
 * its counters and its per-vendor, per-axis statistics. Returns the signature id.
 */
export async function recordSignatureOccurrence(tx: Prisma.TransactionClient, sig: FailureSignatureOf, o: OccurrenceAxes): Promise<string> {
  const titleKey = `${sig.kind}:${sig.title}`;
  const joinKey = `${sig.kind}:${sig.joinKey}`;
  // Serialises recorders meeting the same new failure at once: one signature per join key.
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${joinKey}))`;
  let id = (await tx.$queryRaw<{ signature_id: string }[]>`SELECT signature_id FROM signature_alias WHERE title_key = ${titleKey}`)[0]?.signature_id;
  if (!id) {
    // A new title: a near-duplicate of a known one joins its signature, as an alternative title.
    id = (await tx.$queryRaw<{ signature_id: string }[]>`SELECT signature_id FROM signature_alias WHERE join_key = ${joinKey} LIMIT 1`)[0]?.signature_id;
    if (!id) {
      id = randomUUID();
      await tx.$executeRaw`
        INSERT INTO failure_signature (id, title, kind, failure_class, stage, occurrences, first_seen_at, last_seen_at)
        VALUES (${id}::uuid, ${sig.title}, ${sig.kind}, ${sig.failureClass}, ${o.stage}, 0, ${utc(o.at)}, ${utc(o.at)})`;
    }
    await tx.$executeRaw`INSERT INTO signature_alias (title_key, title, join_key, signature_id) VALUES (${titleKey}, ${sig.title}, ${joinKey}, ${id}::uuid)`;
  }
  await tx.$executeRaw`
    UPDATE failure_signature SET occurrences = occurrences + 1,
      first_seen_at = LEAST(first_seen_at, ${utc(o.at)}), last_seen_at = GREATEST(last_seen_at, ${utc(o.at)})
    WHERE id = ${id}::uuid`;
  const axes: [string, string][] = [
    ['all', ''],
    ['image', o.imageId],
    ['backend', o.backend],
    ['key', o.cellKey],
    ['firmware', o.profile.firmware],
    ['hwDescription', o.profile.hwDescription],
    ['gic', o.profile.gic],
    ['day', o.at.toISOString().slice(0, 10)],
  ];
  const rows = axes.map(([axis, value]) => Prisma.sql`(${id}::uuid, ${o.vendorId}::uuid, ${axis}, ${value}, 1, ${utc(o.at)}, ${utc(o.at)})`);
  await tx.$executeRaw`
    INSERT INTO signature_stat (signature_id, vendor_id, axis, value, occurrences, first_seen_at, last_seen_at) VALUES ${Prisma.join(rows)}
    ON CONFLICT (signature_id, vendor_id, axis, value) DO UPDATE SET occurrences = signature_stat.occurrences + 1,
      first_seen_at = LEAST(signature_stat.first_seen_at, EXCLUDED.first_seen_at), last_seen_at = GREATEST(signature_stat.last_seen_at, EXCLUDED.last_seen_at)`;
  return id;
}

interface SignatureRow {
  id: string;
  title: string;
  kind: string;
  failure_class: string;
  stage: string;
  occurrences: number;
  first_seen_at: Date;
  last_seen_at: Date;
}

interface StatRow {
  signature_id: string;
  axis: string;
  value: string;
  occurrences: number;
}

/** Filters of the signature list. */
export interface SignatureFilter {
  kind?: string | undefined;
  failureClass?: string | undefined;
  /** Part of the title (case-insensitive). */
  q?: string | undefined;
  cursor?: string | undefined;
  limit: number;
}

/** `ILIKE` pattern that matches `text` anywhere, its wildcards taken literally. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Failure signatures as people browse them. An admin sees every vendor's occurrences; a vendor
 * sees counts over its own results only, and a signature it never hit is not found.
 */
export class SignatureRepository {
  constructor(private readonly db: PrismaClient) {}

  /** Signatures, most recently seen first (keyset on last seen, id), with counts, backends and a 30-day sparkline. */
  async list(scope: VendorScope, f: SignatureFilter, now = new Date()): Promise<SignatureListDto> {
    const after = f.cursor ? decodeCursor(f.cursor) : null;
    const filters = Prisma.sql`
      ${f.kind ? Prisma.sql`AND s.kind = ${f.kind}` : Prisma.empty}
      ${f.failureClass ? Prisma.sql`AND s.failure_class = ${f.failureClass}` : Prisma.empty}
      ${f.q ? Prisma.sql`AND s.title ILIKE ${containsPattern(f.q)}` : Prisma.empty}`;
    const rows =
      typeof scope === 'string'
        ? await this.db.$queryRaw<SignatureRow[]>`
            SELECT s.id, s.title, s.kind, s.failure_class, s.stage, st.occurrences, st.first_seen_at, st.last_seen_at
            FROM signature_stat st JOIN failure_signature s ON s.id = st.signature_id
            WHERE st.vendor_id = ${scope}::uuid AND st.axis = 'all' ${filters} ${beforeCursor(after, Prisma.sql`st.last_seen_at`, Prisma.sql`s.id`)}
            ORDER BY st.last_seen_at DESC, s.id DESC LIMIT ${f.limit + 1}`
        : await this.db.$queryRaw<SignatureRow[]>`
            SELECT s.id, s.title, s.kind, s.failure_class, s.stage, s.occurrences, s.first_seen_at, s.last_seen_at
            FROM failure_signature s WHERE s.occurrences > 0 ${filters} ${beforeCursor(after, Prisma.sql`s.last_seen_at`, Prisma.sql`s.id`)}
            ORDER BY s.last_seen_at DESC, s.id DESC LIMIT ${f.limit + 1}`;
    const page = rows.slice(0, f.limit);
    const ids = page.map((r) => r.id);
    const [stats, images] = [await this.stats(scope, ids, ['backend', 'day'], now), await this.imageCounts(scope, ids)];
    const last = page.at(-1);
    return {
      items: page.map((r) => this.summary(r, stats.get(r.id) ?? [], images.get(r.id) ?? 0, now)),
      nextCursor: rows.length > f.limit && last ? encodeCursor(last.last_seen_at, last.id) : null,
    };
  }

  /** One signature with its aliases and where it happened, or null (not found in scope). */
  async find(scope: VendorScope, id: string, now = new Date()): Promise<SignatureDto | null> {
    const [row] =
      typeof scope === 'string'
        ? await this.db.$queryRaw<SignatureRow[]>`
            SELECT s.id, s.title, s.kind, s.failure_class, s.stage, st.occurrences, st.first_seen_at, st.last_seen_at
            FROM signature_stat st JOIN failure_signature s ON s.id = st.signature_id
            WHERE s.id = ${id}::uuid AND st.vendor_id = ${scope}::uuid AND st.axis = 'all'`
        : await this.db.$queryRaw<SignatureRow[]>`
            SELECT id, title, kind, failure_class, stage, occurrences, first_seen_at, last_seen_at FROM failure_signature WHERE id = ${id}::uuid`;
    if (!row) return null;
    const stats = (await this.stats(scope, [id], ['image', 'backend', 'day', 'key', 'firmware', 'hwDescription', 'gic'], now)).get(id) ?? [];
    const imageCount = (await this.imageCounts(scope, [id])).get(id) ?? 0;
    const aliases = await this.db.signatureAlias.findMany({ where: { signatureId: id }, select: { title: true }, orderBy: { title: 'asc' } });
    const vendors = await this.db.$queryRaw<{ name: string; occurrences: number }[]>`
      SELECT v.name, st.occurrences FROM signature_stat st JOIN vendor v ON v.id = st.vendor_id
      WHERE st.signature_id = ${id}::uuid AND st.axis = 'all' ${typeof scope === 'string' ? Prisma.sql`AND st.vendor_id = ${scope}::uuid` : Prisma.empty}
      ORDER BY st.occurrences DESC, v.name`;
    const imageIds = stats.filter((s) => s.axis === 'image').map((s) => s.value);
    const names = new Map((await this.db.image.findMany({ where: { id: { in: imageIds } }, select: { id: true, name: true } })).map((i) => [i.id, i.name]));
    const axis = (name: string): AxisCountDto[] =>
      stats.filter((s) => s.axis === name).map((s) => ({ value: s.value, count: s.occurrences })).sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
    return {
      ...this.summary(row, stats, imageCount, now),
      aliases: aliases.map((a) => a.title).filter((t) => t !== row.title),
      affected: {
        images: axis('image').map((a) => ({ id: a.value, name: names.get(a.value) ?? a.value, count: a.count })),
        vendors: vendors.map((v) => ({ value: v.name, count: v.occurrences })),
        backends: axis('backend'),
        keys: axis('key'),
        firmware: axis('firmware'),
        hwDescription: axis('hwDescription'),
        gic: axis('gic'),
      },
    };
  }

  /** A signature's occurrences, newest first (keyset on created_at, id). */
  async occurrences(scope: VendorScope, id: string, opts: { cursor?: string | undefined; limit: number }): Promise<HistoryResultListDto> {
    const after = opts.cursor ? decodeCursor(opts.cursor) : null;
    const rows = await this.db.$queryRaw<HistoryResultRow[]>`
      SELECT ${HISTORY_RESULT_COLUMNS} FROM result r ${HISTORY_RESULT_JOINS}
      WHERE r.signature_id = ${id}::uuid ${typeof scope === 'string' ? Prisma.sql`AND r.vendor_id = ${scope}::uuid` : Prisma.empty} ${beforeCursor(after)}
      ORDER BY r.created_at DESC, r.id DESC LIMIT ${opts.limit + 1}`;
    const page = rows.slice(0, opts.limit);
    const last = page.at(-1);
    return { items: page.map(toHistoryResultDto), nextCursor: rows.length > opts.limit && last ? encodeCursor(last.created_at, last.result_id) : null };
  }

  /**
   * Folds signature `fromId` into `intoId` (an operator says two titles are one failure): its
   * aliases, occurrences, statistics and regressions move; `fromId` is gone. False if either is missing.
   */
  async merge(intoId: string, fromId: string): Promise<boolean> {
    if (intoId === fromId) return false;
    return this.db.$transaction(async (tx) => {
      const found = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM failure_signature WHERE id IN (${intoId}::uuid, ${fromId}::uuid) ORDER BY id FOR UPDATE`;
      if (found.length !== 2) return false;
      await tx.$executeRaw`
        INSERT INTO signature_stat (signature_id, vendor_id, axis, value, occurrences, first_seen_at, last_seen_at)
        SELECT ${intoId}::uuid, vendor_id, axis, value, occurrences, first_seen_at, last_seen_at FROM signature_stat WHERE signature_id = ${fromId}::uuid
        ON CONFLICT (signature_id, vendor_id, axis, value) DO UPDATE SET occurrences = signature_stat.occurrences + EXCLUDED.occurrences,
          first_seen_at = LEAST(signature_stat.first_seen_at, EXCLUDED.first_seen_at), last_seen_at = GREATEST(signature_stat.last_seen_at, EXCLUDED.last_seen_at)`;
      await tx.$executeRaw`
        UPDATE failure_signature t SET occurrences = t.occurrences + f.occurrences,
          first_seen_at = LEAST(t.first_seen_at, f.first_seen_at), last_seen_at = GREATEST(t.last_seen_at, f.last_seen_at)
        FROM failure_signature f WHERE t.id = ${intoId}::uuid AND f.id = ${fromId}::uuid`;
      await tx.$executeRaw`UPDATE signature_alias SET signature_id = ${intoId}::uuid WHERE signature_id = ${fromId}::uuid`;
      await tx.$executeRaw`UPDATE result SET signature_id = ${intoId}::uuid WHERE signature_id = ${fromId}::uuid`;
      await tx.$executeRaw`UPDATE regression SET signature_id = ${intoId}::uuid WHERE signature_id = ${fromId}::uuid`;
      await tx.$executeRaw`DELETE FROM failure_signature WHERE id = ${fromId}::uuid`;
      return true;
    });
  }

  /**
   * Per signature, its statistics on `axes` in scope: the top {@link TOP_VALUES} values of each
   * axis (a common failure has thousands of images), and every day of the sparkline's window.
   */
  private async stats(scope: VendorScope, ids: string[], axes: string[], now: Date): Promise<Map<string, StatRow[]>> {
    const out = new Map<string, StatRow[]>();
    if (ids.length === 0) return out;
    const since = new Date(now.getTime() - (SPARK_DAYS - 1) * DAY_MS).toISOString().slice(0, 10);
    const rows = await this.db.$queryRaw<StatRow[]>`
      SELECT signature_id, axis, value, occurrences FROM (
        SELECT signature_id, axis, value, sum(occurrences)::int AS occurrences,
               row_number() OVER (PARTITION BY signature_id, axis ORDER BY sum(occurrences) DESC, value) AS rank
        FROM signature_stat
        WHERE signature_id = ANY(${ids}::uuid[]) AND axis = ANY(${axes}::text[]) AND (axis <> 'day' OR value >= ${since})
          ${typeof scope === 'string' ? Prisma.sql`AND vendor_id = ${scope}::uuid` : Prisma.empty}
        GROUP BY signature_id, axis, value
      ) x WHERE axis = 'day' OR rank <= ${TOP_VALUES}`;
    for (const r of rows) out.set(r.signature_id, [...(out.get(r.signature_id) ?? []), r]);
    return out;
  }

  /** Per signature, how many distinct images it hit (in scope). */
  private async imageCounts(scope: VendorScope, ids: string[]): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.$queryRaw<{ signature_id: string; n: number }[]>`
      SELECT signature_id, count(DISTINCT value)::int AS n FROM signature_stat
      WHERE signature_id = ANY(${ids}::uuid[]) AND axis = 'image' ${typeof scope === 'string' ? Prisma.sql`AND vendor_id = ${scope}::uuid` : Prisma.empty}
      GROUP BY signature_id`;
    return new Map(rows.map((r) => [r.signature_id, r.n]));
  }

  private summary(r: SignatureRow, stats: StatRow[], images: number, now: Date): SignatureSummaryDto {
    const daily = new Array<number>(SPARK_DAYS).fill(0);
    const today = Date.parse(now.toISOString().slice(0, 10));
    for (const s of stats) {
      if (s.axis !== 'day') continue;
      const ago = Math.round((today - Date.parse(s.value)) / DAY_MS);
      if (ago >= 0 && ago < SPARK_DAYS) daily[SPARK_DAYS - 1 - ago]! += s.occurrences;
    }
    return {
      id: r.id,
      title: r.title,
      kind: SignatureKind.parse(r.kind),
      failureClass: r.failure_class,
      stage: BootStage.parse(r.stage),
      occurrences: r.occurrences,
      firstSeenAt: r.first_seen_at.toISOString(),
      lastSeenAt: r.last_seen_at.toISOString(),
      images,
      backends: stats.filter((s) => s.axis === 'backend').map((s) => s.value).sort(),
      daily,
    };
  }
}
