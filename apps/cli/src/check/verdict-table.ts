import type { ComplianceProfile, RunCompliance, VerdictStatus } from '@bootfarm/contracts';

const PROFILES: readonly ComplianceProfile[] = ['vmspec-1.0', 'vmspec-2.0', 'bbr'];
const MARK: Record<VerdictStatus, string> = { pass: 'pass', fail: 'FAIL', warn: 'warn', not_applicable: 'n/a', not_tested: 'untested' };

/**
 * The run's per-requirement verdicts under every profile, as a plain-text table, then one summary
 * line per profile with the requirements that decided it. Reasons are shown for what failed.
 */
export function renderVerdictTable(report: RunCompliance, opts: { color?: boolean } = {}): string {
  const paint = (status: VerdictStatus, text: string) => {
    if (!opts.color) return text;
    const code = status === 'pass' ? 32 : status === 'fail' ? 31 : status === 'warn' ? 33 : 90;
    return `\x1b[${code}m${text}\x1b[0m`;
  };
  const idWidth = 7;
  const titleWidth = Math.min(48, Math.max(...report.requirements.map((r) => r.title.length)));
  const col = 10;
  const lines = [`${'id'.padEnd(idWidth)} ${'requirement'.padEnd(titleWidth)} ${PROFILES.map((p) => p.padEnd(col)).join(' ')}`];
  lines.push('-'.repeat(lines[0]!.length));
  const failures: string[] = [];
  for (const r of report.requirements) {
    const cells = PROFILES.map((p) => {
      const v = r.verdicts[p];
      return v ? paint(v.status, MARK[v.status].padEnd(col)) : ''.padEnd(col);
    });
    lines.push(`${r.id.padEnd(idWidth)} ${r.title.slice(0, titleWidth).padEnd(titleWidth)} ${cells.join(' ')}`);
    const failed = PROFILES.map((p) => r.verdicts[p]).find((v) => v?.status === 'fail');
    if (failed) failures.push(`  ${r.id}: ${failed.reason}`);
  }
  lines.push('');
  for (const p of PROFILES) {
    const s = report.summary[p];
    if (!s) continue;
    const counts = Object.entries(s.counts).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${MARK[k as VerdictStatus]}`).join(', ');
    lines.push(`${p.padEnd(11)} ${paint(s.verdict, s.verdict.toUpperCase().padEnd(5))} ${counts}${s.failing.length ? `; decided by ${s.failing.join(', ')}` : ''}`);
  }
  if (failures.length) lines.push('', 'failed:', ...failures);
  return `${lines.join('\n')}\n`;
}
