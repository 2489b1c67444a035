/**
 * A minimal QMP (QEMU Machine Protocol) client over a UNIX socket: greeting, capabilities
 * negotiation, commands. Enough to ask QEMU to `quit` cleanly; bounded in time and bytes.
 */
import net from 'node:net';

/** Default per-operation time limit. */
const DEFAULT_TIMEOUT_MS = 2000;
/** QMP replies are small; a line longer than this means something is wrong. */
const MAX_BUFFER_BYTES = 1024 * 1024;

/** A QMP connection. Create with {@link QmpClient.connect}. */
export class QmpClient {
  private buffer = '';
  private waiters: Array<(msg: Record<string, unknown> | null) => void> = [];
  private closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => this.onData(d));
    socket.on('close', () => this.onClose());
    socket.on('error', () => this.onClose());
  }

  /** Connects, reads the greeting and negotiates capabilities. Rejects on failure or timeout. */
  static async connect(socketPath: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<QmpClient> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.createConnection({ path: socketPath });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`QMP connect timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    const client = new QmpClient(socket);
    try {
      const greeting = await client.next(timeoutMs);
      if (!greeting || !('QMP' in greeting)) throw new Error('no QMP greeting');
      await client.execute('qmp_capabilities', undefined, timeoutMs);
      return client;
    } catch (e) {
      client.close();
      throw e;
    }
  }

  /** Runs a command and resolves with its `return` value; rejects on `error`, close or timeout. */
  async execute(command: string, args?: Record<string, unknown>, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<unknown> {
    if (this.closed) throw new Error('QMP connection closed');
    this.socket.write(`${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const msg = await this.next(Math.max(1, deadline - Date.now()));
      if (msg === null) throw new Error(`QMP connection closed during ${command}`);
      if ('event' in msg) continue;
      if ('error' in msg) throw new Error(`QMP ${command} failed: ${JSON.stringify(msg.error)}`);
      if ('return' in msg) return msg.return;
    }
  }

  /** Closes the connection. */
  close(): void {
    this.socket.destroy();
    this.onClose();
  }

  private next(timeoutMs: number): Promise<Record<string, unknown> | null> {
    const ready = this.shiftLine();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`QMP reply timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (msg: Record<string, unknown> | null): void => {
        clearTimeout(timer);
        resolve(msg);
      };
      this.waiters.push(waiter);
    });
  }

  private onData(data: string): void {
    this.buffer += data;
    if (this.buffer.length > MAX_BUFFER_BYTES) {
      this.close();
      return;
    }
    while (this.waiters.length > 0) {
      const msg = this.shiftLine();
      if (msg === undefined) break;
      this.waiters.shift()!(msg);
    }
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters.splice(0)) w(null);
  }

  /** Next complete JSON message, skipping blank/unparseable lines; undefined if none is buffered. */
  private shiftLine(): Record<string, unknown> | undefined {
    for (;;) {
      const nl = this.buffer.indexOf('\n');
      if (nl === -1) return undefined;
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (!line) continue;
      try {
        const parsed: unknown = JSON.parse(line);
        if (parsed && typeof parsed === 'object') return parsed as Record<string, unknown>;
      } catch {
        // not JSON: ignore the line
      }
    }
  }
}
