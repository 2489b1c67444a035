import { ConsoleLineDto } from '@bootfarm/contracts';
import { z } from 'zod';
import { ApiError } from './api.js';
import { authHeaders } from './auth.js';

const StreamLine = ConsoleLineDto.extend({ attempt: z.number().int() });
const AttemptEvent = z.object({ attempt: z.number().int() });

/** What a live console stream reports. */
export interface ConsoleStreamHandlers {
  /** The lines that follow belong to this attempt (first, and again on a retry: start over). */
  attempt(attempt: number): void;
  line(line: ConsoleLineDto): void;
  /** The cell is terminal; the stream is over. */
  end(status: string): void;
}

/**
 * Follows `GET /api/cells/:id/console/stream` (Server-Sent Events). EventSource cannot send the
 * Authorization header, so this reads the event stream through fetch(); after a dropped
 * connection it resumes after the last line received (the `Last-Event-ID` the server sent).
 * Resolves when the cell ends or `signal` aborts; rejects when the stream cannot be opened.
 */
export async function followConsole(cellId: string, handlers: ConsoleStreamHandlers, signal: AbortSignal): Promise<void> {
  let lastId: string | null = null;
  let failures = 0;
  while (!signal.aborted) {
    let res: Response;
    try {
      res = await fetch(`/api/cells/${encodeURIComponent(cellId)}/console/stream`, {
        headers: { accept: 'text/event-stream', ...authHeaders(), ...(lastId && { 'last-event-id': lastId }) },
        signal,
      });
    } catch (err) {
      if (signal.aborted) return;
      if (++failures > 5) throw err;
      await sleep(1000, signal);
      continue;
    }
    if (!res.ok || !res.body) throw new ApiError(res.status, res.statusText);
    failures = 0;
    try {
      for await (const ev of readEvents(res.body)) {
        if (ev.id) lastId = ev.id;
        if (ev.event === 'attempt') handlers.attempt(AttemptEvent.parse(JSON.parse(ev.data)).attempt);
        else if (ev.event === 'end') {
          handlers.end(z.object({ status: z.string() }).parse(JSON.parse(ev.data)).status);
          return;
        } else if (ev.event === 'message') {
          const { attempt: _attempt, ...line } = StreamLine.parse(JSON.parse(ev.data));
          handlers.line(line);
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      if (!(err instanceof TypeError)) throw err; // a network error mid-stream: reconnect below
    }
    await sleep(1000, signal);
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

/** The WHATWG event-stream format: fields, a blank line dispatches, `:` starts a comment. */
async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; id: string | null; data: string }> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = 'message';
  let id: string | null = null;
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffer.search(/\r\n|\n|\r/)) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(buffer.startsWith('\r\n', nl) ? nl + 2 : nl + 1);
        if (line === '') {
          if (data.length > 0) yield { event, id, data: data.join('\n') };
          event = 'message';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = val;
        else if (field === 'data') data.push(val);
        else if (field === 'id') id = val;
      }
    }
  } finally {
    reader.releaseLock();
  }
}
