/**
 * Splits a console byte stream, fed in chunks cut at arbitrary places, into bounded lines.
 * Pure: no clock, no I/O. Lines end at `\n`; a line longer than the cap is cut (at a UTF-8
 * character boundary when possible) and continues in the next record. Memory is bounded by
 * the cap whatever the guest writes.
 */
import type { LineEnd } from './boot.types.js';
import { sanitizeConsoleBytes } from './console-text.sanitizer.js';

/** One line out of the splitter. */
export interface SplitLine {
  /** Sanitized text (see `sanitizeConsoleBytes`). */
  readonly text: string;
  /** Why the line ended here. */
  readonly end: LineEnd;
  /** Raw bytes the line held, `\n` excluded. */
  readonly rawBytes: number;
}

/** Options of {@link ConsoleLineSplitter}. */
export interface ConsoleLineSplitterOptions {
  /** Longest line kept in one record, in raw bytes (default 4096). */
  readonly maxLineBytes?: number;
}

/** Default cap on one console line, in raw bytes. */
export const defaultMaxLineBytes = 4096;

const NEWLINE = 0x0a;

/** Incremental, bounded line splitter for raw console bytes. */
export class ConsoleLineSplitter {
  private readonly max: number;
  private readonly buf: Buffer;
  private len = 0;

  constructor(options: ConsoleLineSplitterOptions = {}) {
    this.max = options.maxLineBytes ?? defaultMaxLineBytes;
    if (!Number.isInteger(this.max) || this.max < 4) throw new RangeError('maxLineBytes must be an integer >= 4');
    this.buf = Buffer.allocUnsafe(this.max);
  }

  /** Raw bytes of the current, unfinished line. */
  get pendingBytes(): number {
    return this.len;
  }

  /** Feeds one chunk; returns the lines it completed, in order. */
  push(chunk: Uint8Array): SplitLine[] {
    const out: SplitLine[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, pos);
      const stop = nl === -1 ? chunk.length : nl;
      this.append(chunk, pos, stop, out);
      if (nl === -1) break;
      out.push(this.take(this.len, 'newline'));
      pos = nl + 1;
    }
    return out;
  }

  /**
   * Ends the current unfinished line, if it holds any bytes: `idle` when the guest paused
   * mid-line (a prompt), `eof` when the console closed.
   */
  flush(end: Extract<LineEnd, 'idle' | 'eof'>): SplitLine[] {
    return this.len === 0 ? [] : [this.take(this.len, end)];
  }

  private append(chunk: Uint8Array, from: number, to: number, out: SplitLine[]): void {
    let pos = from;
    while (pos < to) {
      if (this.len === this.max) out.push(this.take(this.utf8Cut(), 'length_cap'));
      const n = Math.min(to - pos, this.max - this.len);
      this.buf.set(chunk.subarray(pos, pos + n), this.len);
      this.len += n;
      pos += n;
    }
  }

  /** Emits the first `cut` bytes as a line and keeps the rest (an unfinished UTF-8 character) pending. */
  private take(cut: number, end: LineEnd): SplitLine {
    const line: SplitLine = { text: sanitizeConsoleBytes(this.buf.subarray(0, cut)), end, rawBytes: cut };
    const rest = this.len - cut;
    if (rest > 0) this.buf.copyWithin(0, cut, this.len);
    this.len = rest;
    return line;
  }

  /** Where to cut a full buffer so that a multi-byte UTF-8 character is not split. */
  private utf8Cut(): number {
    for (let i = this.len - 1; i >= Math.max(0, this.len - 4); i--) {
      const b = this.buf[i]!;
      if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead byte
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
      return this.len - i < need && i > 0 ? i : this.len;
    }
    return this.len;
  }
}
