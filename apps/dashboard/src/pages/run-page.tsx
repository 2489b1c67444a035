import type { CellDto, ConsoleLineDto, RunDto } from '@bootfarm/contracts';
import { useEffect, useRef, useState } from 'react';
import { useParams } from 'react-router';
import { api } from '../api.js';
import { ErrorNote, Loading, StatusBadge } from '../layout.js';
import { usePoll } from '../use-poll.js';

const running = (run: RunDto) => run.status === 'queued' || run.status === 'running';

/** One run: its outcome, and for each cell the result, the platform facts and the console. */
export function RunPage() {
  const { runId = '' } = useParams();
  const { value: run, error, loading } = usePoll(() => api.run(runId), [runId], 1000, running);
  return (
    <section>
      {loading && <Loading />}
      {error && <ErrorNote error={error} />}
      {run && (
        <>
          <h1>
            Run of <span data-testid="image-name">{run.image.name}</span> <StatusBadge status={run.status} />
          </h1>
          <p className="muted">
            Image <code>{run.image.sha256}</code> ({run.image.format}) · created {new Date(run.createdAt).toLocaleString()}
          </p>
          {run.cells.map((cell) => <CellSection key={cell.id} cell={cell} />)}
        </>
      )}
    </section>
  );
}

function CellSection({ cell }: { cell: CellDto }) {
  const r = cell.result;
  const probe = (r?.facts as { probe?: Record<string, unknown> } | undefined)?.probe;
  return (
    <article className="cell" data-testid="cell">
      <h2>
        <code>{cell.key}</code> <StatusBadge status={cell.status} />
      </h2>
      {r && (
        <dl className="facts">
          <dt>Outcome</dt><dd data-testid="outcome">{r.outcome}{r.failureClass ? ` (${r.failureClass})` : ''}</dd>
          <dt>Reason</dt><dd>{r.reason}</dd>
          <dt>Last stage</dt><dd data-testid="stage">{r.stage}</dd>
          <dt>Duration</dt><dd>{(r.durationMs / 1000).toFixed(2)} s</dd>
          <dt>Attempts</dt><dd>{cell.attempts}</dd>
          {probe && <ProbeFacts probe={probe} />}
          <dt>Reproduce</dt><dd><pre className="command">{r.commandLine}</pre></dd>
        </dl>
      )}
      <ConsoleView cellId={cell.id} live={!r} />
    </article>
  );
}

function ProbeFacts({ probe }: { probe: Record<string, unknown> }) {
  const rows: [string, unknown][] = [
    ['UEFI revision', probe.uefiRevision],
    ['Firmware', [probe.firmwareVendor, probe.firmwareRevision].filter(Boolean).join(' ')],
    ['Device tree', probe.fdtPresent === undefined ? undefined : probe.fdtPresent ? `present (${probe.fdtRootCompatible ?? '?'})` : 'absent'],
    ['ACPI 2.0', probe.acpi20Present === undefined ? undefined : probe.acpi20Present ? 'present' : 'absent'],
    ['SMBIOS 3', probe.smbios3Present === undefined ? undefined : probe.smbios3Present ? 'present' : 'absent'],
    ['GetTime', probe.getTime],
  ];
  return (
    <>
      {rows.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => (
        <div key={k} className="fact" data-testid="probe-fact"><dt>{k}</dt><dd>{String(v)}</dd></div>
      ))}
    </>
  );
}

/** The console of the cell's latest attempt; follows new lines while the boot runs. */
function ConsoleView({ cellId, live }: { cellId: string; live: boolean }) {
  const [lines, setLines] = useState<ConsoleLineDto[]>([]);
  const [error, setError] = useState<Error | null>(null);
  const lastSeq = useRef(-1);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const page = await api.console(cellId, lastSeq.current);
        if (stopped) return;
        if (page.lines.length > 0) {
          lastSeq.current = page.lines.at(-1)!.seq;
          setLines((prev) => [...prev, ...page.lines]);
        }
        if (live || page.nextSeq !== null) timer = setTimeout(tick, page.nextSeq !== null ? 0 : 500);
      } catch (e) {
        if (!stopped) setError(e as Error);
      }
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [cellId, live]);
  return (
    <div className="console" data-testid="console" aria-label="console">
      {error && <ErrorNote error={error} />}
      {lines.length === 0 && !error && <p className="muted">No console output yet.</p>}
      {lines.map((l) => (
        <div key={l.seq} className={l.text.includes('VMSPEC-PROBE') ? 'line probe' : 'line'}>
          <span className="offset">{(l.offsetMs / 1000).toFixed(3)}</span>
          <span className="text">{l.text}</span>
        </div>
      ))}
    </div>
  );
}
