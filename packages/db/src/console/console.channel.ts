import pg from 'pg';
import type { PrismaClient } from '../client.js';

/**
 * The PostgreSQL channel a worker NOTIFYs after each console batch it stores.
 * WARNING: persisted in deployed workers and schedulers alike; never rename.
 */
export const CONSOLE_CHANNEL = 'bootfarm_console';

/** The payload of a console notification: which cell's attempt got lines, up to which seq. */
export interface ConsoleAppended {
  cellId: string;
  attemptId: string;
  attempt: number;
  lastSeq: number;
}

/**
 * Tells listeners that `attemptId` has lines up to `lastSeq`. One statement resolves the cell
 * (the worker knows only its attempt), so a listener can fan out by cell without a lookup.
 * NOTIFY is delivered on commit and is only a wake-up: the lines themselves are read from the table.
 */
export async function notifyConsoleAppended(db: Pick<PrismaClient, '$executeRaw'>, attemptId: string, lastSeq: number): Promise<void> {
  await db.$executeRaw`
    SELECT pg_notify(${CONSOLE_CHANNEL}, json_build_object('cellId', cell_id, 'attemptId', id, 'attempt', number, 'lastSeq', ${lastSeq}::int)::text)
    FROM attempt WHERE id = ${attemptId}::uuid`;
}

/**
 * Tells listeners that a cell's attempt started or its cell became terminal (`lastSeq` -1: no
 * new lines). Sent inside the transaction that makes the change, so it is delivered on commit,
 * when a woken reader can see it.
 */
export async function notifyCellChanged(tx: Pick<PrismaClient, '$executeRaw'>, attemptId: string): Promise<void> {
  await notifyConsoleAppended(tx as PrismaClient, attemptId, -1);
}

/** Thrown by {@link parseConsoleAppended} for a payload that is not ours. */
export class ConsoleNotificationError extends Error {
  readonly code = 'CONSOLE_NOTIFICATION_INVALID';
  override readonly name = 'ConsoleNotificationError';
}

/** Parses a notification payload (anyone with access may NOTIFY the channel: trust nothing). */
export function parseConsoleAppended(payload: string | undefined): ConsoleAppended {
  try {
    const v = JSON.parse(payload ?? '') as Partial<ConsoleAppended>;
    if (typeof v.cellId === 'string' && typeof v.attemptId === 'string' && Number.isInteger(v.attempt) && Number.isInteger(v.lastSeq)) {
      return { cellId: v.cellId, attemptId: v.attemptId, attempt: v.attempt!, lastSeq: v.lastSeq! };
    }
  } catch {
    // fall through
  }
  throw new ConsoleNotificationError(`not a console notification: ${String(payload).slice(0, 120)}`);
}

/** Options of a {@link ConsoleListener}. */
export interface ConsoleListenerOptions {
  databaseUrl: string;
  onAppended(event: ConsoleAppended): void;
  /** Called when the connection drops or a reconnect fails (it is retried). */
  onError?(err: Error): void;
  /** Called after (re)connecting and subscribing; subscribers should re-read what they may have missed. */
  onListening?(): void;
  /** First reconnect delay; doubles up to 30 s. */
  reconnectDelayMs?: number;
}

/**
 * One dedicated connection that LISTENs on {@link CONSOLE_CHANNEL} (a pooled connection cannot
 * hold a LISTEN). It reconnects on its own; notifications sent while it was down are lost, which
 * is why callers also poll slowly and re-read after `onListening`.
 */
export class ConsoleListener {
  private client: pg.Client | null = null;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private delay: number;

  constructor(private readonly opts: ConsoleListenerOptions) {
    this.delay = opts.reconnectDelayMs ?? 500;
  }

  /** Connects and subscribes; resolves once listening (or after the first failure, retrying in the background). */
  async start(): Promise<void> {
    await this.connect();
  }

  /** True while the connection is up and subscribed. */
  get listening(): boolean {
    return this.client !== null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.opts.databaseUrl, keepAlive: true, connectionTimeoutMillis: 10_000 });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('console listener connection ended')));
    client.on('notification', (msg) => {
      if (msg.channel !== CONSOLE_CHANNEL) return;
      try {
        this.opts.onAppended(parseConsoleAppended(msg.payload));
      } catch (err) {
        this.opts.onError?.(err as Error);
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CONSOLE_CHANNEL}`);
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => {});
      this.opts.onError?.(err as Error);
      this.retry();
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.delay = this.opts.reconnectDelayMs ?? 500;
    this.opts.onListening?.();
  }

  private lost(client: pg.Client, err: Error): void {
    if (this.client !== client) return;
    this.client = null;
    client.removeAllListeners('end');
    client.end().catch(() => {});
    if (this.stopped) return;
    this.opts.onError?.(err);
    this.retry();
  }

  private retry(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, this.delay);
    this.delay = Math.min(this.delay * 2, 30_000);
  }
}
