/** One Server-Sent Event as a client sees it. */
export interface SseEvent {
  event: string;
  id: string | null;
  data: string;
  /** performance.now() when the event was parsed. */
  receivedAt: number;
}

/**
 * Parses a text/event-stream response body (the WHATWG event-stream format: fields, blank-line
 * dispatch, `:` comments), yielding each event as soon as its blank line arrives.
 */
export async function* readSse(res: Response): AsyncGenerator<SseEvent> {
  if (!res.body) return;
  const decoder = new TextDecoder();
  let buffer = '';
  let event = { event: 'message', id: null as string | null, data: [] as string[] };
  const reader = res.body.getReader();
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
          if (event.data.length > 0) yield { event: event.event, id: event.id, data: event.data.join('\n'), receivedAt: performance.now() };
          event = { event: 'message', id: event.id, data: [] };
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event.event = val;
        else if (field === 'data') event.data.push(val);
        else if (field === 'id') event.id = val;
      }
    }
  } finally {
    reader.releaseLock();
  }
}
