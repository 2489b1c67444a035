import { ComplianceProfile, isTerminalCell, type BootEvidenceDto, type CellCompliance, type CellDetailDto, type RequirementResult, type VerdictEvidence } from '@bootfarm/contracts';
import { useMemo, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { api } from '../api.js';
import { ConsoleView, plainText, type ScrollRequest } from '../console-view.js';
import { duration, Empty, ErrorNote, Loading, StatusBadge } from '../layout.js';
import { usePoll } from '../use-poll.js';
import { profileNames } from './run-page.js';

/** One cell: outcome, stage timeline, console (live while it boots), verdicts, reproduce command, facts. */
export function CellPage() {
  const { cellId = '' } = useParams();
  // ?line=<seq>: a search hit or a compared line opens the console there.
  const [params] = useSearchParams();
  const lineParam = Number.parseInt(params.get('line') ?? '', 10);
  const target = Number.isInteger(lineParam) && lineParam >= 0 ? lineParam : null;
  const { value: cell, error, loading } = usePoll(() => api.cell(cellId), [cellId], 1500, (c) => !isTerminalCell(c.status));
  const [scrollTo, setScrollTo] = useState<ScrollRequest | null>(null);
  const evidence = cell?.result?.evidence;
  const timeline = useMemo(() => (evidence ? timelineOf(evidence) : []), [evidence]);
  const marks = useMemo(() => {
    const m = new Map<number, string[]>();
    for (const t of timeline) m.set(t.seq, [...(m.get(t.seq) ?? []), t.label]);
    return m;
  }, [timeline]);
  if (loading) return <Loading />;
  if (!cell) return error ? <ErrorNote error={error} what="cell" /> : null;
  const r = cell.result;
  const show = (seq: number) => setScrollTo({ seq });
  const deciding = evidence?.decidingLine ?? evidence?.failureSignature ?? evidence?.marker ?? null;
  return (
    <section className="cell-page">
      <p className="crumbs">
        <Link to={`/runs/${cell.runId}`}>← Run</Link> · image <Link to={`/images/${cell.image.id}`}>{cell.image.name}</Link>
        {r && <> · <Link to={`/runs/${cell.runId}?compare=${cell.id}#compare`}>Compare with…</Link></>}
      </p>
      <h1>
        <code className="cell-key" data-testid="cell-key">{cell.key}</code> <StatusBadge status={cell.status} />
      </h1>
      {error && <ErrorNote error={error} />}
      <dl className="facts">
        {cell.reason && <><dt>Not applicable</dt><dd data-testid="cell-reason">{cell.reason}</dd></>}
        {cell.waitingFor && <><dt>Waiting</dt><dd>for a worker serving {cell.waitingFor} (none is online)</dd></>}
        {r && (
          <>
            <dt>Outcome</dt><dd data-testid="outcome">{r.outcome}{r.failureClass ? ` (${r.failureClass})` : ''}</dd>
            <dt>Reason</dt><dd data-testid="reason">{r.reason}</dd>
            <dt>Last stage</dt><dd data-testid="stage">{r.stage.replaceAll('_', ' ')}</dd>
            <dt>Duration</dt><dd>{duration(r.durationMs)}</dd>
          </>
        )}
        <dt>Backend</dt><dd>{cell.backend}</dd>
        <dt>Attempts</dt><dd>{cell.attempts}</dd>
        <dt>Timeout</dt><dd>{duration(cell.timeoutMs)}</dd>
        {cell.startedAt && <><dt>Started</dt><dd>{new Date(cell.startedAt).toLocaleString()}</dd></>}
      </dl>

      {timeline.length > 0 && <StageTimeline timeline={timeline} end={timelineEnd(evidence!, timeline)} onSelect={show} />}

      {cell.status !== 'not_applicable' && (
        <>
          <h2>Console</h2>
          {deciding && (
            <p className="deciding">
              Deciding line <button type="button" className="link" onClick={() => show(deciding.seq)}>#{deciding.seq} at {(deciding.offsetMs / 1000).toFixed(3)} s</button>:{' '}
              <code>{plainText(deciding.text)}</code>
            </p>
          )}
          {target !== null && <p className="muted" data-testid="target-note">Opened at line #{target}.</p>}
          <ConsoleView cellId={cell.id} live={!isTerminalCell(cell.status)} marks={marks} highlight={deciding?.seq ?? null} target={target} scrollTo={scrollTo} />
        </>
      )}

      {r && (
        <>
          <h2>Requirement verdicts</h2>
          {r.compliance ? <Verdicts compliance={r.compliance} onShowLine={show} /> : <Empty>This cell ended without verdicts ({r.outcome.replaceAll('_', ' ')}).</Empty>}
          <h2>Reproduce</h2>
          <Reproduce commandLine={r.commandLine} firmware={r.firmware} />
          <Facts facts={r.facts} />
          <BootDetails evidence={r.evidence} />
        </>
      )}
    </section>
  );
}

interface Mark {
  label: string;
  phase: string;
  seq: number;
  offsetMs: number;
}

/** The finer phases when the analyzer recorded them, else the coarse stages. */
function timelineOf(e: BootEvidenceDto): Mark[] {
  const src = e.phases.length > 0 ? e.phases.map((p) => ({ phase: p.phase, seq: p.seq, offsetMs: p.offsetMs })) : e.stages.map((s) => ({ phase: s.stage, seq: s.seq, offsetMs: s.offsetMs }));
  return src.filter((m) => m.phase !== 'none').map((m) => ({ ...m, label: m.phase.replaceAll('_', ' ') })).sort((a, b) => a.offsetMs - b.offsetMs);
}

function timelineEnd(e: BootEvidenceDto, t: Mark[]): number {
  const last = t.at(-1)?.offsetMs ?? 0;
  return Math.max(last, e.exit?.offsetMs ?? 0, e.decidingLine?.offsetMs ?? 0) || 1;
}

/** The boot's phases as a bar, widths proportional to the time spent in each; each part shows its line. */
function StageTimeline({ timeline, end, onSelect }: { timeline: Mark[]; end: number; onSelect: (seq: number) => void }) {
  const first = timeline[0]!.offsetMs;
  const parts = timeline.map((m, i) => ({ ...m, until: timeline[i + 1]?.offsetMs ?? Math.max(end, m.offsetMs) }));
  return (
    <figure className="timeline" data-testid="timeline">
      <figcaption className="sr-only">Boot timeline</figcaption>
      <div className="timeline-bar">
        {first > 0 && <span className="seg seg-start" style={{ flexGrow: first / end }} title={`emulator start → ${(first / 1000).toFixed(3)} s`} />}
        {parts.map((p) => (
          <button type="button" key={`${p.phase}-${p.seq}`} className={`seg seg-${p.phase}`} style={{ flexGrow: Math.max(p.until - p.offsetMs, end / 200) / end }}
            onClick={() => onSelect(p.seq)} title={`${p.label}: ${(p.offsetMs / 1000).toFixed(3)} s`} aria-label={`${p.label} at ${(p.offsetMs / 1000).toFixed(3)} s: show its line in the console`}>
            <span className="seg-label">{p.label}</span>
          </button>
        ))}
      </div>
      <ol className="timeline-legend">
        {parts.map((p) => (
          <li key={`${p.phase}-${p.seq}`} data-testid="timeline-phase">
            <span className={`dot seg-${p.phase}`} aria-hidden="true" /> {p.label} <span className="muted">at {(p.offsetMs / 1000).toFixed(3)} s, {duration(p.until - p.offsetMs)}</span>
          </li>
        ))}
      </ol>
    </figure>
  );
}

/** Every requirement as judged from this cell, per profile, with its evidence. */
function Verdicts({ compliance, onShowLine }: { compliance: CellCompliance; onShowLine: (seq: number) => void }) {
  const [onlyProblems, setOnlyProblems] = useState(false);
  const problem = (r: RequirementResult) => Object.values(r.verdicts).some((v) => v.status === 'fail' || v.status === 'warn');
  const shown = onlyProblems ? compliance.requirements.filter(problem) : compliance.requirements;
  return (
    <div className="verdicts" data-testid="verdicts">
      <p>
        {ComplianceProfile.options.map((p) => (
          <span key={p} className="summary-item" data-testid={`cell-verdict-${p}`}>{profileNames[p]} <StatusBadge status={compliance.summary[p].verdict} /></span>
        ))}
      </p>
      <label className="check"><input type="checkbox" checked={onlyProblems} onChange={(e) => setOnlyProblems(e.target.checked)} /> Only failures and warnings</label>
      <div className="table-scroll">
        <table className="requirements">
          <thead>
            <tr>
              <th scope="col">Requirement</th>
              {ComplianceProfile.options.map((p) => <th scope="col" key={p}>{profileNames[p]}</th>)}
              <th scope="col">Evidence</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((req) => (
              <tr key={req.id} data-testid="requirement" data-id={req.id}>
                <th scope="row"><code>{req.id}</code> {req.title}</th>
                {ComplianceProfile.options.map((p) => {
                  const v = req.verdicts[p];
                  return (
                    <td key={p} title={`${v.level.replaceAll('_', ' ')}: ${v.reason}`}>
                      <StatusBadge status={v.status} />
                      {v.level !== 'absent' && v.status !== 'pass' && <span className="verdict-reason">{v.reason}</span>}
                    </td>
                  );
                })}
                <td>{req.evidence.length > 0 ? <EvidenceList evidence={req.evidence} onShowLine={onShowLine} /> : <span className="muted">—</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {shown.length === 0 && <Empty>No failures or warnings.</Empty>}
    </div>
  );
}

function EvidenceList({ evidence, onShowLine }: { evidence: VerdictEvidence[]; onShowLine: (seq: number) => void }) {
  return (
    <details>
      <summary>{evidence.length} item{evidence.length === 1 ? '' : 's'}</summary>
      <ul className="evidence">
        {evidence.map((e, i) => (
          <li key={i}>
            <span className="source">{e.source}{e.probeBoot ? ` (probe boot ${e.probeBoot})` : ''}</span> {e.what}
            {e.value !== undefined && <> = <code>{e.value}</code></>}
            {e.expected !== undefined && <> (expected <code>{e.expected}</code>)</>}
            {e.offset !== undefined && <> at byte <code>0x{e.offset.toString(16)}</code></>}
            {e.bytes && <> bytes <code>{e.bytes}</code></>}
            {e.line !== undefined && <> <code className="evidence-line">{plainText(e.line)}</code></>}
            {/* Only console evidence points into this console; probe lines come from the probe's own boots. */}
            {e.source === 'console' && e.seq !== undefined && <> <button type="button" className="link" onClick={() => onShowLine(e.seq!)}>show line #{e.seq}</button></>}
          </li>
        ))}
      </ul>
    </details>
  );
}

function Reproduce({ commandLine, firmware }: { commandLine: string; firmware: Record<string, unknown> }) {
  const [copied, setCopied] = useState(false);
  const fw = Object.entries(firmware).filter(([, v]) => typeof v === 'string' || typeof v === 'number');
  return (
    <div className="reproduce">
      {commandLine ? <pre className="command" data-testid="command">{commandLine}</pre> : <Empty>No command was built for this attempt.</Empty>}
      {commandLine && (
        <button type="button" onClick={() => void navigator.clipboard?.writeText(commandLine).then(() => setCopied(true), () => setCopied(false))}>
          {copied ? 'Copied' : 'Copy command'}
        </button>
      )}
      {fw.length > 0 && (
        <dl className="facts small">
          {fw.map(([k, v]) => <div className="fact" key={k}><dt>{k}</dt><dd><code>{String(v)}</code></dd></div>)}
        </dl>
      )}
    </div>
  );
}

const show = (v: unknown): string =>
  typeof v === 'boolean' ? (v ? 'yes' : 'no') : Array.isArray(v) ? v.map(show).join(', ') : v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v);

const factLabels: Record<string, string> = {
  uefiRevision: 'UEFI revision',
  firmwareVendor: 'Firmware vendor',
  firmwareRevision: 'Firmware revision',
  fdtPresent: 'Device tree',
  fdtRootCompatible: 'DT root compatible',
  acpi20Present: 'ACPI 2.0',
  smbios3Present: 'SMBIOS 3',
  getTime: 'GetTime',
};

/** What the probe measured on this platform and what the guest's console showed. */
function Facts({ facts }: { facts: Record<string, unknown> }) {
  const probe = facts.probe as Record<string, unknown> | undefined;
  const guest = facts.guest as Record<string, unknown> | undefined;
  const platform = facts.platform as { boots?: { boot: number; outcome: string; reason: string }[]; varsShared?: boolean } | undefined;
  const rows = (o: Record<string, unknown>, testid: string) =>
    Object.entries(o)
      .filter(([, v]) => v !== undefined && v !== null && v !== '' && !(typeof v === 'object' && Object.keys(v).length === 0))
      .map(([k, v]) => (
        <div className="fact" key={k} data-testid={testid}>
          <dt>{factLabels[k] ?? k}</dt>
          <dd>{typeof v === 'boolean' && k.endsWith('Present') ? (v ? 'present' : 'absent') : show(v)}</dd>
        </div>
      ));
  return (
    <>
      <h2>Platform facts (probe)</h2>
      {probe ? <dl className="facts">{rows(probe, 'probe-fact')}</dl> : <Empty>The probe reported nothing for this cell.</Empty>}
      {platform?.boots && (
        <ul className="plain">
          {platform.boots.map((b) => <li key={b.boot}>Probe boot {b.boot}: <StatusBadge status={b.outcome} /> {b.reason}</li>)}
          {platform.varsShared !== undefined && <li className="muted">{platform.varsShared ? 'The two probe boots shared one UEFI variable store.' : 'The firmware keeps no variables between boots.'}</li>}
        </ul>
      )}
      {typeof facts.platformError === 'string' && <p className="error">Platform probe: {facts.platformError}</p>}
      <h2>Guest facts</h2>
      {guest && Object.keys(guest).length > 0 ? <dl className="facts">{rows(guest, 'guest-fact')}</dl> : <Empty>The guest's console showed no facts.</Empty>}
    </>
  );
}

/** How the emulator ended, and what it said on stderr. */
function BootDetails({ evidence }: { evidence: BootEvidenceDto }) {
  return (
    <details className="boot-details">
      <summary>Emulator details</summary>
      <dl className="facts">
        {evidence.exit && <><dt>Exit</dt><dd>{evidence.exit.by.replaceAll('_', ' ')}{evidence.exit.code !== null ? `, code ${evidence.exit.code}` : ''}{evidence.exit.signal ? `, ${evidence.exit.signal}` : ''}</dd></>}
        {evidence.normalisedSignature && <><dt>Signature</dt><dd><code>{evidence.normalisedSignature}</code></dd></>}
        {evidence.lineCount !== undefined && <><dt>Lines</dt><dd>{evidence.lineCount}{evidence.consoleTruncated ? ' (console truncated at the byte cap)' : ''}</dd></>}
        {evidence.warnings && evidence.warnings.length > 0 && <><dt>Warnings</dt><dd>{evidence.warnings.join('; ')}</dd></>}
      </dl>
      {evidence.stderr && <pre className="command">{evidence.stderr}</pre>}
    </details>
  );
}
