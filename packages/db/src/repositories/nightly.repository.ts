import type { NightlySummaryDto, NightlyTrendDto, VmProfile } from '@bootfarm/contracts';
import { isUniqueViolation, Prisma, type PrismaClient } from '../client.js';
import { REGRESSION_COLUMNS, REGRESSION_JOINS, toRegressionDto, type RegressionRow } from './history.repository.js';
import { HISTORY_RESULT_COLUMNS, HISTORY_RESULT_JOINS, toHistoryResultDto, type HistoryResultRow } from './history.rows.js';
import { insertRunPlan } from './run.plan.js';
import type { VendorScope } from './scope.js';

/** An image registered for nightly runs, with the matrix it is re-run on. */
export interface NightlyImage {
  imageId: string;
  vendorId: string;
  /** The stored MatrixSpec (validated by the caller, which owns the matrix format). */
  matrix: unknown;
}

/** Nightly registrations and the night's runs; a night gets at most one run per image (unique key). */
export class NightlyRepository {
  constructor(private readonly db: PrismaClient) {}

  /** Registers (or, with null, unregisters) one of the vendor's images; false when it has no such image. */
  async setMatrix(vendorId: string, imageId: string, matrix: unknown): Promise<boolean> {
    const value = matrix === null ? Prisma.DbNull : (matrix as Prisma.InputJsonValue);
    const { count } = await this.db.image.updateMany({ where: { id: imageId, vendorId }, data: { nightlyMatrix: value } });
    return count === 1;
  }

  /** Every image registered for nightly runs, oldest first. */
  async registered(): Promise<NightlyImage[]> {
    const rows = await this.db.image.findMany({
      where: { NOT: { nightlyMatrix: { equals: Prisma.DbNull } } },
      select: { id: true, vendorId: true, nightlyMatrix: true },
      orderBy: { createdAt: 'asc' },
    });
    return rows.map((r) => ({ imageId: r.id, vendorId: r.vendorId, matrix: r.nightlyMatrix }));
  }

  /**
   * Creates the image's run for `nightlyDate` (trigger `nightly`) with its queued and
   * not-applicable cells, or returns null when that night already has its run (`@@unique([nightlyImageId, nightlyDate])`).
   */
  async createRun(input: {
    vendorId: string;
    imageId: string;
    nightlyDate: string;
    profiles: VmProfile[];
    notApplicable: { profile: VmProfile; reason: string }[];
    timeoutMs: number;
  }): Promise<{ runId: string } | null> {
    try {
      const runId = await this.db.$transaction((tx) =>
        insertRunPlan(tx, { ...input, imageIds: [input.imageId], trigger: 'nightly' }),
      );
      return { runId };
    } catch (err) {
      if (isUniqueViolation(err)) return null;
      throw err;
    }
  }

  /**
   * One night by vendor: what regressed (regressions its runs opened, not flaky), what was fixed,
   * what is flaky, how many cells still fail. Complete once the night's runs and the re-runs they
   * asked for have all ended. Null when the night has no run in scope.
   */
  async summary(scope: VendorScope, date: string): Promise<NightlySummaryDto | null> {
    const vendorFilter = (col: Prisma.Sql) => (typeof scope === 'string' ? Prisma.sql`AND ${col} = ${scope}::uuid` : Prisma.empty);
    const runs = await this.db.$queryRaw<{ vendor_id: string; vendor: string; runs: number; open: number }[]>`
      SELECT ru.vendor_id, v.name AS vendor, count(*)::int AS runs, count(*) FILTER (WHERE ru.status IN ('queued', 'running'))::int AS open
      FROM run ru JOIN vendor v ON v.id = ru.vendor_id
      WHERE ru.nightly_date = ${date} ${vendorFilter(Prisma.sql`ru.vendor_id`)} GROUP BY ru.vendor_id, v.name ORDER BY v.name`;
    if (runs.length === 0) return null;
    const cells = await this.db.$queryRaw<{ vendor_id: string; status: string; n: number }[]>`
      SELECT ru.vendor_id, c.status, count(*)::int AS n FROM cell c JOIN run ru ON ru.id = c.run_id
      WHERE ru.nightly_date = ${date} ${vendorFilter(Prisma.sql`ru.vendor_id`)} GROUP BY ru.vendor_id, c.status`;
    const regressions = await this.db.$queryRaw<RegressionRow[]>`
      SELECT ${REGRESSION_COLUMNS} FROM regression g ${REGRESSION_JOINS}
      WHERE g.nightly_date = ${date} ${vendorFilter(Prisma.sql`g.vendor_id`)} ORDER BY g.opened_at`;
    const [{ rechecking }] = await this.db.$queryRaw<{ rechecking: number }[]>`
      SELECT count(*)::int AS rechecking FROM run ru JOIN regression g ON g.id = ru.regression_id
      WHERE g.nightly_date = ${date} AND ru.status IN ('queued', 'running') ${vendorFilter(Prisma.sql`g.vendor_id`)}` as [{ rechecking: number }];
    const fixed = await this.db.$queryRaw<(HistoryResultRow & { vendor_id: string })[]>`
      SELECT ${HISTORY_RESULT_COLUMNS}, r.vendor_id FROM result r ${HISTORY_RESULT_JOINS} JOIN run ru ON ru.id = r.run_id
      WHERE ru.nightly_date = ${date} AND r.transition = 'fixed' ${vendorFilter(Prisma.sql`r.vendor_id`)} ORDER BY r.cell_key`;
    const still = await this.db.$queryRaw<{ vendor_id: string; n: number }[]>`
      SELECT r.vendor_id, count(*)::int AS n FROM result r JOIN run ru ON ru.id = r.run_id
      WHERE ru.nightly_date = ${date} AND r.transition = 'still_failing' ${vendorFilter(Prisma.sql`r.vendor_id`)} GROUP BY r.vendor_id`;
    return {
      date,
      complete: runs.every((r) => r.open === 0) && rechecking === 0,
      vendors: runs.map((v) => {
        const mine = regressions.filter((g) => g.vendor_id === v.vendor_id).map(toRegressionDto);
        return {
          vendor: v.vendor,
          runs: v.runs,
          cells: Object.fromEntries(cells.filter((c) => c.vendor_id === v.vendor_id).map((c) => [c.status, c.n])),
          regressed: mine.filter((g) => g.state !== 'flaky'),
          fixed: fixed.filter((f) => f.vendor_id === v.vendor_id).map(toHistoryResultDto),
          flaky: mine.filter((g) => g.state === 'flaky'),
          stillFailing: still.find((s) => s.vendor_id === v.vendor_id)?.n ?? 0,
        };
      }),
    };
  }

  /** The last `days` nights, newest first: pass rate per backend, mean time per boot stage, regressions opened (from the nights' counters). */
  async trends(scope: VendorScope, days: number, now = new Date()): Promise<NightlyTrendDto> {
    const since = new Date(now.getTime() - (days - 1) * 86_400_000).toISOString().slice(0, 10);
    const vendor = (col: Prisma.Sql) => (typeof scope === 'string' ? Prisma.sql`AND ${col} = ${scope}::uuid` : Prisma.empty);
    const rates = await this.db.$queryRaw<{ night: string; backend: string; passed: number; total: number }[]>`
      SELECT night, backend, sum(passed)::int AS passed, sum(total)::int AS total FROM nightly_stat
      WHERE night >= ${since} ${vendor(Prisma.sql`vendor_id`)} GROUP BY night, backend`;
    const stages = await this.db.$queryRaw<{ night: string; stage: string; ms: number }[]>`
      SELECT night, stage, (sum(total_ms) / nullif(sum(boots), 0))::int AS ms FROM nightly_stage_stat
      WHERE night >= ${since} ${vendor(Prisma.sql`vendor_id`)} GROUP BY night, stage`;
    const runs = await this.db.$queryRaw<{ night: string; n: number }[]>`
      SELECT nightly_date AS night, count(*)::int AS n FROM run WHERE nightly_date >= ${since} ${vendor(Prisma.sql`vendor_id`)} GROUP BY nightly_date`;
    const opened = await this.db.$queryRaw<{ night: string; n: number }[]>`
      SELECT g.nightly_date AS night, count(*)::int AS n FROM regression g
      WHERE g.nightly_date >= ${since} AND g.state <> 'flaky' ${vendor(Prisma.sql`g.vendor_id`)} GROUP BY g.nightly_date`;
    const nights = [...new Set(runs.map((r) => r.night))].sort().reverse();
    return {
      nights: nights.map((night) => ({
        date: night,
        runs: runs.find((r) => r.night === night)?.n ?? 0,
        passRate: Object.fromEntries(rates.filter((r) => r.night === night).map((r) => [r.backend, { passed: r.passed, total: r.total }])),
        stageMs: Object.fromEntries(stages.filter((s) => s.night === night && s.ms !== null).map((s) => [s.stage, s.ms])),
        regressions: opened.find((o) => o.night === night)?.n ?? 0,
      })),
    };
  }
}
