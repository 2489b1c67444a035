import type { BootRepository } from '@bootfarm/db';

type Line = { seq: number; offsetMs: number; text: string };

/**
 * Batches console lines into PostgreSQL while a boot runs (a write every `intervalMs` or
 * `maxBatch` lines), so the dashboard can follow a live boot without a write per line.
 * After each stored batch it NOTIFYs, which wakes the scheduler's live console streams.
 */
export class ConsoleWriter {
  private pending: Line[] = [];
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown = null;

  constructor(
    private readonly repo: BootRepository,
    private readonly attemptId: string,
    private readonly intervalMs = 250,
    private readonly maxBatch = 500,
  ) {}

  push(line: Line): void {
    this.pending.push(line);
    if (this.pending.length >= this.maxBatch) this.schedule(0);
    else if (!this.timer) this.schedule(this.intervalMs);
  }

  /** Writes what is pending and waits for every write; rethrows the first write error. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.write();
    await this.chain;
    if (this.failure) throw this.failure;
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.write();
    }, ms);
  }

  private write(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    // Writes are chained so lines land in order; a failed batch is remembered for flush().
    const lastSeq = batch.at(-1)!.seq;
    this.chain = this.chain
      .then(async () => {
        await this.repo.appendConsole(this.attemptId, batch);
        await this.notify(lastSeq);
      })
      .catch((err: unknown) => {
        this.failure ??= err;
      });
  }

  /** Wakes live console streams; a lost notification only delays them to their next poll. */
  private async notify(lastSeq: number): Promise<void> {
    try {
      await this.repo.notifyConsole(this.attemptId, lastSeq);
    } catch {
      // not a console failure: the lines are stored
    }
  }
}
