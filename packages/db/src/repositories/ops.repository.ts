import type { PrismaClient } from '../client.js';

/** Boots counted by outcome and capability. */
export interface BootCount {
  capability: string;
  outcome: string;
  count: number;
}

/** A boot-duration histogram of one capability: cumulative counts per upper bound (seconds). */
export interface DurationHistogram {
  capability: string;
  buckets: { le: number; count: number }[];
  count: number;
  sumSeconds: number;
}

/** Workers counted by health and state. */
export interface WorkerCount {
  health: string;
  state: string;
  count: number;
}

/** Where a cell's console stands: its status and its latest attempt (null before the first). */
export interface CellProgress {
  cellId: string;
  status: string;
  latestAttempt: number | null;
}

/**
 * Read-only aggregates for readiness and metrics. Every query is one cheap GROUP BY, run at
 * request or scrape time, so any scheduler replica reports the same numbers and a restart loses none.
 */
export class OpsRepository {
  constructor(private readonly db: PrismaClient) {}

  /** A round trip to PostgreSQL. */
  async ping(): Promise<void> {
    await this.db.$queryRaw`SELECT 1`;
  }

  /** Results by outcome and the capability of their cell. */
  async bootCounts(): Promise<BootCount[]> {
    return this.db.$queryRaw<BootCount[]>`
      SELECT c.capability, r.outcome, count(*)::int AS count
      FROM result r JOIN cell c ON c.id = r.cell_id
      GROUP BY c.capability, r.outcome ORDER BY 1, 2`;
  }

  /** Cumulative boot-duration buckets per capability, computed from result.duration_ms. */
  async durationHistograms(bucketsSeconds: readonly number[]): Promise<DurationHistogram[]> {
    const bounds = bucketsSeconds.map((s) => Math.round(s * 1000));
    const [buckets, totals] = await Promise.all([
      this.db.$queryRaw<{ capability: string; i: number; n: number }[]>`
        SELECT c.capability, u.i::int AS i, count(*) FILTER (WHERE r.duration_ms <= u.b)::int AS n
        FROM result r JOIN cell c ON c.id = r.cell_id
        CROSS JOIN unnest(${bounds}::int[]) WITH ORDINALITY AS u(b, i)
        GROUP BY c.capability, u.i`,
      this.db.$queryRaw<{ capability: string; count: number; sum_ms: number }[]>`
        SELECT c.capability, count(*)::int AS count, coalesce(sum(r.duration_ms), 0)::float8 AS sum_ms
        FROM result r JOIN cell c ON c.id = r.cell_id
        GROUP BY c.capability ORDER BY 1`,
    ]);
    return totals.map((t) => {
      const mine = new Map(buckets.filter((b) => b.capability === t.capability).map((b) => [b.i, b.n]));
      return {
        capability: t.capability,
        buckets: bucketsSeconds.map((le, i) => ({ le, count: mine.get(i + 1) ?? 0 })),
        count: t.count,
        sumSeconds: t.sum_ms / 1000,
      };
    });
  }

  /** Registered workers by health and state. */
  async workerCounts(): Promise<WorkerCount[]> {
    return this.db.$queryRaw<WorkerCount[]>`
      SELECT health, state, count(*)::int AS count FROM worker GROUP BY health, state ORDER BY 1, 2`;
  }

  /** Online workers per capability whose heartbeat is younger than `maxAgeMs`. */
  async onlineWorkersByCapability(maxAgeMs: number): Promise<Map<string, number>> {
    const rows = await this.db.$queryRaw<{ capability: string; count: number }[]>`
      SELECT cap AS capability, count(*)::int AS count
      FROM worker, unnest(capabilities) AS cap
      WHERE state = 'online' AND last_heartbeat_at > now() - make_interval(secs => ${maxAgeMs / 1000}::float8)
      GROUP BY cap`;
    return new Map(rows.map((r) => [r.capability, r.count]));
  }

  /** Cells not yet started (status queued) per capability. */
  async waitingCells(): Promise<Map<string, number>> {
    const rows = await this.db.$queryRaw<{ capability: string; count: number }[]>`
      SELECT capability, count(*)::int AS count FROM cell WHERE status = 'queued' GROUP BY capability`;
    return new Map(rows.map((r) => [r.capability, r.count]));
  }

  /** A cell's status and latest attempt number, or null when the cell does not exist. */
  async cellProgress(cellId: string): Promise<CellProgress | null> {
    const rows = await this.db.$queryRaw<{ status: string; latest: number | null }[]>`
      SELECT c.status, (SELECT max(a.number) FROM attempt a WHERE a.cell_id = c.id)::int AS latest
      FROM cell c WHERE c.id = ${cellId}::uuid`;
    const row = rows[0];
    return row ? { cellId, status: row.status, latestAttempt: row.latest } : null;
  }
}
