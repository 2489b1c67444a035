import type { ConsoleLineDto } from '@bootfarm/contracts';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from './api.js';
import { followConsole } from './console-stream.js';
import { ErrorNote } from './layout.js';

const ROW_PX = 18;

// The worker stores console text with escape sequences and control characters removed; this
// is a second guard, so a line stored before that (or by another writer) never shows raw escapes.
// eslint-disable-next-line no-control-regex
const ESCAPES = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[ -/]*[0-~])?|[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;
export const plainText = (text: string) => text.replace(ESCAPES, '');

/** A request to bring a console line into view (a new object each time, so the same line can be asked twice). */
export interface ScrollRequest {
  seq: number;
}

/**
 * The console of a cell's latest attempt, virtualised: only the rows in view are in the DOM, so
 * a console of megabytes scrolls like a short one. While the boot runs it follows the live
 * stream (SSE), sticking to the bottom unless the reader scrolled up. `marks` labels the lines
 * where a stage or phase was reached; `highlight` is the line that decided the outcome.
 */
export function ConsoleView({ cellId, live, marks, highlight, target = null, scrollTo, onEnd }: {
  cellId: string;
  live: boolean;
  marks: ReadonlyMap<number, string[]>;
  highlight: number | null;
  /** A line asked for by the URL (a search hit): opened at and marked instead of the deciding line. */
  target?: number | null;
  scrollTo: ScrollRequest | null;
  onEnd?: () => void;
}) {
  const lines = useRef<ConsoleLineDto[]>([]);
  const [count, setCount] = useState(0);
  const [state, setState] = useState<'loading' | 'live' | 'done'>('loading');
  const [error, setError] = useState<Error | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  // Lines arrive one event at a time; the list re-renders at most once a frame.
  const frame = useRef<number | null>(null);
  const flush = useCallback(() => {
    if (frame.current !== null) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = null;
      setCount(lines.current.length);
    });
  }, []);
  const liveAtMount = useRef(live);
  const onEndRef = useRef(onEnd);
  onEndRef.current = onEnd;

  useEffect(() => {
    const abort = new AbortController();
    lines.current = [];
    setCount(0);
    setError(null);
    const append = (batch: ConsoleLineDto[]) => {
      const last = lines.current.at(-1)?.seq ?? -1;
      for (const l of batch) if (l.seq > last) lines.current.push(l);
      flush();
    };
    const readStored = async () => {
      for (;;) {
        const page = await api.console(cellId, lines.current.at(-1)?.seq ?? -1);
        if (abort.signal.aborted) return;
        append(page.lines);
        if (page.nextSeq === null) return;
      }
    };
    const run = async () => {
      if (!liveAtMount.current) {
        await readStored();
        setState('done');
        return;
      }
      setState('live');
      try {
        await followConsole(cellId, {
          attempt: () => {
            lines.current = [];
            flush();
          },
          line: (l) => append([l]),
          end: () => onEndRef.current?.(),
        }, abort.signal);
      } catch {
        // The stream is refused (e.g. an operator reading another vendor's cell): read the stored lines.
        if (abort.signal.aborted) return;
        await readStored();
      }
      if (!abort.signal.aborted) setState('done');
    };
    run().catch((e: Error) => {
      if (!abort.signal.aborted) setError(e);
    });
    return () => {
      abort.abort();
      if (frame.current !== null) cancelAnimationFrame(frame.current);
      frame.current = null;
    };
  }, [cellId, flush]);

  const virtualizer = useVirtualizer({ count, getScrollElement: () => scroller.current, estimateSize: () => ROW_PX, overscan: 30 });

  useEffect(() => {
    if (stick.current && state === 'live' && count > 0) virtualizer.scrollToIndex(count - 1, { align: 'end' });
  }, [count, state, virtualizer]);

  useEffect(() => {
    if (!scrollTo) return;
    const index = lines.current.findIndex((l) => l.seq >= scrollTo.seq);
    if (index >= 0) {
      stick.current = false;
      virtualizer.scrollToIndex(index, { align: 'center' });
    }
  }, [scrollTo, count > 0, virtualizer]); // eslint-disable-line react-hooks/exhaustive-deps

  // A finished boot opens at the line asked for, else at the line that decided it, once every
  // line read is rendered (`count` catches up a frame after the last page arrives).
  const opened = useRef(false);
  const openAt = target ?? highlight;
  useEffect(() => {
    if (opened.current || state !== 'done' || liveAtMount.current || openAt === null || count === 0 || count < lines.current.length) return;
    opened.current = true;
    const index = lines.current.findIndex((l) => l.seq >= openAt);
    if (index >= 0) virtualizer.scrollToIndex(index, { align: 'center' });
  }, [state, count, openAt, virtualizer]);

  const onScroll = () => {
    const el = scroller.current;
    if (el) stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < ROW_PX * 2;
  };

  return (
    <div className="console-frame">
      <p className="console-status muted" data-testid="console-status" aria-live="polite">
        {state === 'loading' ? 'Loading the console…' : `${state === 'live' ? 'Live: ' : ''}${count} line${count === 1 ? '' : 's'}${state === 'live' ? ' so far' : ''}`}
      </p>
      {error && <ErrorNote error={error} />}
      <div ref={scroller} onScroll={onScroll} className="console" data-testid="console" role="log" aria-label="console" tabIndex={0}>
        {count === 0 && state !== 'loading' && !error && <p className="muted">No console output{state === 'live' ? ' yet' : ''}.</p>}
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {virtualizer.getVirtualItems().map((row) => {
            const l = lines.current[row.index];
            if (!l) return null;
            const mark = marks.get(l.seq);
            const cls = ['line', l.seq === highlight ? 'deciding' : '', l.seq === target ? 'target' : '', mark ? 'marked' : '', l.text.includes('VMSPEC-PROBE') ? 'probe' : ''].filter(Boolean).join(' ');
            return (
              <div key={row.key} className={cls} data-seq={l.seq} data-testid={l.seq === highlight ? 'deciding-line' : l.seq === target ? 'target-line' : undefined} data-target={l.seq === target ? 'true' : undefined}
                style={{ position: 'absolute', top: 0, left: 0, minWidth: '100%', height: ROW_PX, transform: `translateY(${row.start}px)` }}>
                <span className="offset">{(l.offsetMs / 1000).toFixed(3)}</span>
                {mark && <span className="mark" data-testid="stage-mark">{mark.join(' · ')}</span>}
                <span className="text">{plainText(l.text)}</span>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
