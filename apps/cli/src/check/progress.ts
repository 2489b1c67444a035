/**
 * Live progress of the cells, one line each, on stderr (stdout stays clean for --json). On a
 * terminal the block is redrawn in place a few times a second; elsewhere (CI logs, pipes) each
 * cell's state changes are printed as plain lines, once.
 */
export type CellPhase = 'queued' | 'booting' | 'probing' | 'done' | 'not_applicable';

interface Row {
  key: string;
  phase: CellPhase;
  detail: string;
  startedAt: number | null;
  endedAt: number | null;
  ok: boolean | null;
}

const SYMBOL: Record<CellPhase, string> = { queued: '·', booting: '▶', probing: '◆', done: '✓', not_applicable: '–' };

export class Progress {
  private readonly rows = new Map<string, Row>();
  private drawn = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly live = Boolean(out.isTTY),
  ) {}

  add(key: string, phase: CellPhase, detail = ''): void {
    this.rows.set(key, { key, phase, detail, startedAt: null, endedAt: null, ok: null });
    if (!this.live) this.out.write(`${key}: ${phase === 'not_applicable' ? `not applicable (${detail})` : 'queued'}\n`);
  }

  update(key: string, phase: CellPhase, detail: string, ok: boolean | null = null): void {
    const row = this.rows.get(key);
    if (!row) return;
    const changed = row.phase !== phase || (phase === 'done' && row.detail !== detail);
    if (row.startedAt === null && phase !== 'queued') row.startedAt = performance.now();
    if (phase === 'done') row.endedAt = performance.now();
    Object.assign(row, { phase, detail, ok });
    if (!this.live && changed) this.out.write(`${key}: ${this.describe(row)}\n`);
  }

  /** Starts redrawing (terminal only). */
  start(): void {
    if (!this.live) return;
    this.draw();
    this.timer = setInterval(() => this.draw(), 200);
  }

  /** Draws the final state once and stops. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.live) this.draw();
  }

  private draw(): void {
    const width = Math.max(40, (this.out.columns ?? 120) - 1);
    const lines = [...this.rows.values()].map((r) => {
      const symbol = r.phase === 'done' ? (r.ok ? '\x1b[32m✓\x1b[0m' : '\x1b[31m✗\x1b[0m') : SYMBOL[r.phase];
      return `${symbol} ${`${r.key}  ${this.describe(r)}`.slice(0, width - 2)}`;
    });
    // Move to the top of the block drawn last time and rewrite it, clearing each line.
    const up = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    this.out.write(`${up}${lines.map((l) => `\r\x1b[2K${l}`).join('\n')}\n`);
    this.drawn = lines.length;
  }

  private describe(r: Row): string {
    const elapsed = r.startedAt === null ? '' : ` ${(((r.endedAt ?? performance.now()) - r.startedAt) / 1000).toFixed(1)} s`;
    switch (r.phase) {
      case 'queued':
        return 'queued';
      case 'not_applicable':
        return `not applicable: ${r.detail}`;
      case 'booting':
        return `booting the image${elapsed}${r.detail ? ` (${r.detail})` : ''}`;
      case 'probing':
        return `probing the platform${elapsed}`;
      case 'done':
        return `${r.detail}${elapsed}`;
    }
  }
}
