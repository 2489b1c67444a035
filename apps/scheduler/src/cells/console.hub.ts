import { ConsoleListener } from '@bootfarm/db';
import { HttpException, HttpStatus, Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { SCHEDULER_CONFIG, type SchedulerConfig } from '../config.js';

/** A live console stream as the hub knows it. */
export interface StreamSubscriber {
  cellId: string;
  vendorId: string;
  /** Something may have changed: re-read. */
  wake(): void;
  /** The scheduler is shutting down: end the response. */
  close(): void;
}

/** Too many live streams open for a cell or a vendor (429). */
export class TooManyStreamsError extends HttpException {
  readonly code = 'TOO_MANY_STREAMS';
  override readonly name = 'TooManyStreamsError';
  constructor(message: string) {
    super(message, HttpStatus.TOO_MANY_REQUESTS);
  }
}

/**
 * Fans PostgreSQL console notifications out to the live streams of each cell: one dedicated
 * LISTEN connection for the whole scheduler, however many browsers follow boots.
 */
@Injectable()
export class ConsoleHub implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(ConsoleHub.name);
  private readonly byCell = new Map<string, Set<StreamSubscriber>>();
  private readonly perVendor = new Map<string, number>();
  private readonly listener: ConsoleListener;

  constructor(@Inject(SCHEDULER_CONFIG) private readonly config: SchedulerConfig) {
    this.listener = new ConsoleListener({
      databaseUrl: config.DATABASE_URL,
      onAppended: (e) => this.wakeCell(e.cellId),
      // Notifications sent while the connection was down are gone: every stream re-reads.
      onListening: () => this.wakeAll(),
      onError: (err) => this.logger.warn(`console listener: ${err.message}`),
    });
  }

  async onModuleInit(): Promise<void> {
    await this.listener.start();
  }

  /** Whether the LISTEN connection is up (streams fall back to polling when it is not). */
  get listening(): boolean {
    return this.listener.listening;
  }

  /** Registers a stream; throws TooManyStreamsError past the per-cell or per-vendor bound. Returns its removal. */
  subscribe(sub: StreamSubscriber): () => void {
    const cell = this.byCell.get(sub.cellId) ?? new Set<StreamSubscriber>();
    if (cell.size >= this.config.CONSOLE_STREAM_MAX_PER_CELL) throw new TooManyStreamsError(`too many live console streams for cell ${sub.cellId}`);
    const vendorCount = this.perVendor.get(sub.vendorId) ?? 0;
    if (vendorCount >= this.config.CONSOLE_STREAM_MAX_PER_VENDOR) throw new TooManyStreamsError('too many live console streams for this vendor');
    cell.add(sub);
    this.byCell.set(sub.cellId, cell);
    this.perVendor.set(sub.vendorId, vendorCount + 1);
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      cell.delete(sub);
      if (cell.size === 0) this.byCell.delete(sub.cellId);
      const left = (this.perVendor.get(sub.vendorId) ?? 1) - 1;
      if (left <= 0) this.perVendor.delete(sub.vendorId);
      else this.perVendor.set(sub.vendorId, left);
    };
  }

  /** Open streams (all cells). */
  get size(): number {
    let n = 0;
    for (const s of this.byCell.values()) n += s.size;
    return n;
  }

  private wakeCell(cellId: string): void {
    for (const sub of this.byCell.get(cellId) ?? []) sub.wake();
  }

  private wakeAll(): void {
    for (const subs of this.byCell.values()) for (const sub of subs) sub.wake();
  }

  /** Ends every stream before the HTTP server closes (an open stream would hold it open). */
  async beforeApplicationShutdown(): Promise<void> {
    for (const subs of [...this.byCell.values()]) for (const sub of [...subs]) sub.close();
    await this.listener.stop();
  }
}
