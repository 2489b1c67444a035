import type { BootRepository, OpsRepository } from '@bootfarm/db';

/** Where a client is in a cell's console: the attempt it follows and the last seq it has. */
export interface ConsoleCursor {
  attempt: number | null;
  seq: number;
}

/** One line as the stream sends it. */
export interface LiveConsoleLine {
  seq: number;
  offsetMs: number;
  text: string;
  attempt: number;
}

/** Where a session writes; `send` resolves once the client can take more (back-pressure). */
export interface ConsoleSink {
  line(line: LiveConsoleLine): Promise<void>;
  attempt(attempt: number): Promise<void>;
  end(status: string, attempt: number | null): Promise<void>;
}

const PAGE = 500;
const isTerminal = (status: string) => status !== 'queued' && status !== 'running';

/**
 * Follows one cell's console for one client: reads what is new since its cursor, moves to a
 * retry's attempt (announcing it) once the previous attempt is drained, and ends when the cell
 * is terminal. Woken by notifications and by a slow poll; wake-ups while reading coalesce.
 */
export class ConsoleSession {
  private reading = false;
  private again = false;
  private done = false;

  constructor(
    private readonly cellId: string,
    private readonly deps: { ops: OpsRepository; boots: BootRepository },
    private readonly sink: ConsoleSink,
    private cursor: ConsoleCursor,
    private readonly onError: (err: unknown) => void,
    private readonly onDone: () => void,
  ) {}

  get finished(): boolean {
    return this.done;
  }

  /** Stops reading (the client went away). */
  stop(): void {
    this.done = true;
  }

  wake(): void {
    if (this.done) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    void this.run();
  }

  private async run(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.readOnce();
      } while (this.again && !this.done);
    } catch (err) {
      this.onError(err); // the next poll tries again
    } finally {
      this.reading = false;
    }
  }

  private async readOnce(): Promise<void> {
    // Status first, lines second: a cell becomes terminal only after its last lines are stored,
    // so lines read after a terminal status are complete.
    const progress = await this.deps.ops.cellProgress(this.cellId);
    if (this.done) return;
    if (!progress) return this.finish('missing');
    const latest = progress.latestAttempt;
    if (latest !== null) {
      if (this.cursor.attempt === null) await this.enter(latest);
      while (this.cursor.attempt !== null && !this.done) {
        await this.drain(this.cursor.attempt);
        if (this.cursor.attempt >= latest || this.done) break;
        await this.enter(this.cursor.attempt + 1);
      }
    }
    if (isTerminal(progress.status) && !this.done) await this.finish(progress.status);
  }

  private async enter(attempt: number): Promise<void> {
    this.cursor = { attempt, seq: -1 };
    await this.sink.attempt(attempt);
  }

  private async drain(attempt: number): Promise<void> {
    for (;;) {
      const page = await this.deps.boots.console(this.cellId, { attempt, afterSeq: this.cursor.seq, limit: PAGE });
      for (const l of page.lines) {
        if (this.done) return;
        await this.sink.line({ seq: l.seq, offsetMs: l.offsetMs, text: l.text, attempt });
        this.cursor = { attempt, seq: l.seq };
      }
      if (page.lines.length < PAGE) return;
    }
  }

  private async finish(status: string): Promise<void> {
    this.done = true;
    await this.sink.end(status, this.cursor.attempt);
    this.onDone();
  }
}
