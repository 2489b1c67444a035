import type { DurationHistogram } from '@bootfarm/db';
import type { Metric, MetricObjectWithValues, MetricValueWithName, Registry } from 'prom-client';

/**
 * A histogram whose buckets are computed by PostgreSQL at scrape time, not observed in process.
 * Boots finish in the workers, not in the scheduler, so the scheduler has nothing to observe;
 * counting `result.duration_ms` in SQL gives every scheduler replica the same series and
 * survives restarts. prom-client's Histogram only accepts observations, hence this small metric.
 */
export class SqlHistogram {
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private snapshot: DurationHistogram[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** Replaces the series with the database's current view. */
  set(histograms: DurationHistogram[]): void {
    this.snapshot = histograms;
  }

  get(): Omit<MetricObjectWithValues<MetricValueWithName<string>>, 'collect'> {
    const values: MetricValueWithName<string>[] = [];
    for (const h of this.snapshot) {
      for (const b of h.buckets) values.push({ metricName: `${this.name}_bucket`, labels: { capability: h.capability, le: b.le }, value: b.count });
      values.push({ metricName: `${this.name}_bucket`, labels: { capability: h.capability, le: '+Inf' }, value: h.count });
      values.push({ metricName: `${this.name}_sum`, labels: { capability: h.capability }, value: h.sumSeconds });
      values.push({ metricName: `${this.name}_count`, labels: { capability: h.capability }, value: h.count });
    }
    return { name: this.name, help: this.help, type: 'histogram' as never, values, aggregator: 'sum' };
  }

  reset(): void {
    this.snapshot = [];
  }
}
