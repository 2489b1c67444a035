/**
 * Captures one boot's console: keeps the raw bytes up to a cap (then only counts them, so the
 * guest is still drained and never blocks on a full pipe), and turns the stream into numbered,
 * time-stamped {@link ConsoleLine}s. The clock is injected, so this is testable without QEMU.
 */
import type { ConsoleLine, LineEnd } from './boot.types.js';
import { ConsoleLineSplitter, type SplitLine } from './console-line.splitter.js';

/** Default cap on stored raw console bytes per boot. */
export const defaultMaxRawConsoleBytes = 8 * 1024 * 1024;

/** Start of the line that stands for everything past the byte cap (it is the last stored line). */
export const truncationMarkerPrefix = '[bootfarm] console truncated:';

/** Options of {@link ConsoleCapture}. */
export interface ConsoleCaptureOptions {
  /** Milliseconds since QEMU started, from a monotonic clock. */
  readonly now: () => number;
  /** Raw bytes kept (default 8 MiB). */
  readonly maxRawBytes?: number;
  /** Longest line in one record, raw bytes (default 4096). */
  readonly maxLineBytes?: number;
}

/** Raw bytes + line records of one boot's console. */
export class ConsoleCapture {
  private readonly splitter: ConsoleLineSplitter;
  private readonly maxRawBytes: number;
  private readonly chunks: Buffer[] = [];
  private stored = 0;
  private total = 0;
  private lines = 0;
  private lastOffset = 0;
  private truncationAnnounced = false;

  constructor(private readonly options: ConsoleCaptureOptions) {
    this.maxRawBytes = options.maxRawBytes ?? defaultMaxRawConsoleBytes;
    this.splitter = new ConsoleLineSplitter(
      options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes },
    );
  }

  /** Bytes received so far, stored or not. */
  get totalBytes(): number {
    return this.total;
  }

  /** True once bytes past the cap were dropped. */
  get truncated(): boolean {
    return this.total > this.stored;
  }

  /** Line records produced so far. */
  get lineCount(): number {
    return this.lines;
  }

  /** True while an unfinished line is pending. */
  get hasPartialLine(): boolean {
    return this.splitter.pendingBytes > 0;
  }

  /**
   * What a consumer should store for `line`: the line itself while the console is under the byte
   * cap; at the cap, one explicit truncation marker in the line's place; then nothing. The analyzer
   * is fed every line regardless, so a marker or a panic past the cap still decides the boot.
   */
  forStorage(line: ConsoleLine): ConsoleLine | null {
    if (!this.truncated) return line;
    if (this.truncationAnnounced) return null;
    this.truncationAnnounced = true;
    return { ...line, text: `${truncationMarkerPrefix} output past ${this.maxRawBytes} bytes is analysed but not stored`, end: 'length_cap' };
  }

  /** The stored raw bytes (at most the cap). */
  raw(): Buffer {
    return Buffer.concat(this.chunks, this.stored);
  }

  /** Takes one chunk from the console; returns the lines it completed. */
  write(chunk: Buffer): ConsoleLine[] {
    this.total += chunk.length;
    const room = this.maxRawBytes - this.stored;
    if (room > 0) {
      // Copy: the caller's buffer may be pooled and reused.
      const keep = Buffer.from(chunk.subarray(0, Math.min(room, chunk.length)));
      this.chunks.push(keep);
      this.stored += keep.length;
    }
    return this.number(this.splitter.push(chunk));
  }

  /** Ends a pending partial line (`idle`: the guest paused mid-line; `eof`: the console closed). */
  flush(end: Extract<LineEnd, 'idle' | 'eof'>): ConsoleLine[] {
    return this.number(this.splitter.flush(end));
  }

  private number(split: SplitLine[]): ConsoleLine[] {
    if (split.length === 0) return [];
    // Never go backwards, even if an injected clock does.
    const offsetMs = Math.max(this.lastOffset, Math.floor(this.options.now()));
    this.lastOffset = offsetMs;
    return split.map((l) => ({ seq: this.lines++, offsetMs, text: l.text, end: l.end }));
  }
}
