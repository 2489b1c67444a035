import type { PrismaClient } from '../client.js';

/** A console line as stored and served. */
export interface StoredLine {
  seq: number;
  offsetMs: number;
  text: string;
}

/** Lines per compacted chunk: big enough for PostgreSQL to compress well, small enough to page. */
export const CHUNK_LINES = 256;

/** Splits seq-ordered lines into chunks of consecutive seqs, at most `size` lines each. */
export function chunkLines(lines: readonly StoredLine[], size = CHUNK_LINES): StoredLine[][] {
  const chunks: StoredLine[][] = [];
  let current: StoredLine[] = [];
  for (const line of lines) {
    const prev = current.at(-1);
    if (current.length === size || (prev && line.seq !== prev.seq + 1)) {
      chunks.push(current);
      current = [];
    }
    current.push(line);
  }
  if (current.length) chunks.push(current);
  return chunks;
}

/**
 * An attempt's console in its two forms: `console_line` rows while it runs (cheap appends the live
 * stream reads), `console_chunk` rows once it is over (about a quarter of the space: up to 256
 * lines per row, texts joined by newlines and compressed by PostgreSQL). Readers see one sequence.
 */
export class ConsoleStore {
  constructor(private readonly db: PrismaClient) {}

  /** Up to `limit` lines of an attempt after `afterSeq`, from either form. */
  async page(attemptId: string, afterSeq: number, limit: number): Promise<StoredLine[]> {
    // Rows first, chunks second: a compaction committing in between leaves the lines in both
    // reads (deduplicated by seq), never in neither.
    const rows = await this.db.consoleLine.findMany({
      where: { attemptId, seq: { gt: afterSeq } },
      orderBy: { seq: 'asc' },
      take: limit,
      select: { seq: true, offsetMs: true, text: true },
    });
    const bySeq = new Map<number, StoredLine>(rows.map((r) => [r.seq, r]));
    let from = afterSeq;
    let fromChunks = 0;
    while (fromChunks < limit) {
      const chunks = await this.db.consoleChunk.findMany({ where: { attemptId, lastSeq: { gt: from } }, orderBy: { firstSeq: 'asc' }, take: 8 });
      for (const c of chunks) {
        const texts = c.text.split('\n');
        c.offsetsMs.forEach((offsetMs, i) => {
          const seq = c.firstSeq + i;
          if (seq > afterSeq) {
            bySeq.set(seq, { seq, offsetMs, text: texts[i] ?? '' });
            fromChunks++;
          }
        });
        from = c.lastSeq;
      }
      if (chunks.length < 8) break;
    }
    return [...bySeq.values()].sort((a, b) => a.seq - b.seq).slice(0, limit);
  }

  /**
   * Moves a finished attempt's lines into chunks, in one transaction (readers see the lines
   * throughout). A running attempt, or one already compacted, is left alone. Returns the lines moved.
   */
  async compact(attemptId: string): Promise<number> {
    return this.db.$transaction(async (tx) => {
      const [attempt] = await tx.$queryRaw<{ status: string }[]>`SELECT status FROM attempt WHERE id = ${attemptId}::uuid FOR UPDATE SKIP LOCKED`;
      if (!attempt || attempt.status === 'running') return 0;
      const lines = await tx.consoleLine.findMany({ where: { attemptId }, orderBy: { seq: 'asc' }, select: { seq: true, offsetMs: true, text: true } });
      // Newlines separate lines in a chunk; the capture never stores one, but never lose a line if it did.
      if (lines.length === 0 || lines.some((l) => l.text.includes('\n'))) return 0;
      await tx.consoleChunk.createMany({
        data: chunkLines(lines).map((c) => ({
          attemptId,
          firstSeq: c[0]!.seq,
          lastSeq: c.at(-1)!.seq,
          offsetsMs: c.map((l) => l.offsetMs),
          text: c.map((l) => l.text).join('\n'),
        })),
        skipDuplicates: true,
      });
      await tx.consoleLine.deleteMany({ where: { attemptId } });
      return lines.length;
    });
  }

  /**
   * Attempts over for at least `graceMs` whose lines are still rows (oldest first). Driven from
   * console_line, which holds only running and not yet compacted attempts, so the cost does not
   * grow with the history of attempts.
   */
  async compactable(graceMs: number, limit: number): Promise<string[]> {
    const rows = await this.db.$queryRaw<{ id: string }[]>`
      SELECT a.id FROM attempt a
      WHERE a.id IN (SELECT DISTINCT attempt_id FROM console_line)
        AND a.status <> 'running' AND a.finished_at < now() - make_interval(secs => ${graceMs / 1000}::float8)
      ORDER BY a.finished_at LIMIT ${limit}`;
    return rows.map((r) => r.id);
  }
}
