import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultProfile, type VmProfile } from '@bootfarm/contracts';
import { afterLaterRun, afterRecheck, compareConsoles, differential, openRegression, signatureJoinKey, signatureOf, transitionOf, verdictOf, type DifferentialCell, type RegressionStep } from './index.js';
import { sample } from './testing.samples.js';

const failed = (normalisedSignature: string | null, failureClass = 'kernel_panic') => ({ outcome: 'failed', failureClass, reason: 'x', normalisedSignature });

describe('signatures', () => {
  it('the same panic on three hypervisors is one signature; an address-only difference does not split it', () => {
    // One real capture, as three hypervisors would print it: other load addresses, other timestamps.
    const shifted = (delta: number) => (t: string) => t.replace(/0x([0-9a-f]{8,})/g, (_, h: string) => `0x${(BigInt(`0x${h}`) + BigInt(delta)).toString(16)}`).replace(/\[\s*(\d+)\.(\d+)\]/, (_, s: string, f: string) => `[ ${Number(s) + delta % 7}.${f}]`);
    const runs = [0, 0x1000, 0x7f3000].map((d) => sample('linux-bare-image-panic', shifted(d)).analysis);
    assert.ok(runs.every((a) => a.failureClass === 'kernel_panic'));
    const sigs = runs.map((a) => signatureOf({ outcome: 'failed', failureClass: a.failureClass, reason: 'kernel panic', normalisedSignature: a.normalisedSignature }));
    assert.equal(new Set(sigs.map((s) => s!.title)).size, 1, sigs.map((s) => s!.title).join(' | '));
    assert.match(sigs[0]!.title, /VFS: Unable to mount root fs/);
    assert.equal(sigs[0]!.kind, 'product');
  });

  it('near-duplicate titles share a join key; a different reason does not', () => {
    assert.equal(signatureJoinKey('kernel panic: VFS: Unable to mount root fs on unknown-block(N,N)'), signatureJoinKey('Kernel panic: VFS: unable to mount root fs on unknown-block(ADDR,N)'));
    assert.notEqual(signatureJoinKey('kernel panic: VFS: Unable to mount root fs'), signatureJoinKey('kernel panic: Attempted to kill init!'));
  });

  it('infrastructure failures are kept apart and titled from their reason, numbers normalised', () => {
    const a = signatureOf({ outcome: 'infrastructure_error', failureClass: 'qemu_start_failed', reason: 'QEMU exited with code 1 before the console opened (pid 4242)', normalisedSignature: null })!;
    const b = signatureOf({ outcome: 'infrastructure_error', failureClass: 'qemu_start_failed', reason: 'QEMU exited with code 1 before the console opened (pid 77)', normalisedSignature: null })!;
    assert.equal(a.kind, 'infrastructure');
    assert.equal(a.title, b.title);
    assert.equal(signatureOf({ outcome: 'passed', failureClass: null, reason: 'ready', normalisedSignature: null }), null);
    assert.equal(signatureOf(failed('kernel panic: x'))!.kind, 'product');
  });
});

describe('transitions', () => {
  it('compares each verdict with the previous one of the same cell', () => {
    assert.equal(transitionOf(undefined, 'pass'), 'first');
    assert.equal(transitionOf('pass', 'fail'), 'new_failure');
    assert.equal(transitionOf('fail', 'pass'), 'fixed');
    assert.equal(transitionOf('fail', 'fail'), 'still_failing');
    assert.equal(transitionOf('pass', 'pass'), 'still_passing');
    assert.equal(transitionOf('pass', verdictOf('infrastructure_error')), 'no_verdict');
    assert.equal(verdictOf('timeout'), 'fail');
    assert.equal(verdictOf('canceled'), null);
  });
});

describe('regressions', () => {
  const run = (steps: ((r: RegressionStep) => RegressionStep)[], start = openRegression(2)) => steps.reduce((r, f) => f(r), start);

  it('a cell that fails once then passes twice is a flake, not a regression', () => {
    const r = run([(r) => afterRecheck(r, 'pass'), (r) => afterRecheck(r, 'pass')]);
    assert.equal(r.state, 'flaky');
    assert.equal(r.checksDone, 2);
    assert.equal(r.checksFailed, 0);
    assert.equal(afterRecheck(openRegression(2), 'pass').flaky, true, 'the first passing re-run calls it');
  });

  it('failing re-runs confirm it; the next passing run closes it as fixed', () => {
    const once = afterRecheck(openRegression(2), 'fail');
    assert.equal(once.state, 'checking');
    const confirmed = afterRecheck(once, 'fail');
    assert.equal(confirmed.state, 'confirmed');
    assert.equal(confirmed.confirmed, true);
    const still = afterLaterRun(confirmed, 'fail');
    assert.equal(still.state, 'confirmed');
    assert.equal(still.confirmed, false, 'confirmed once, not again');
    const fixed = afterLaterRun(still, 'pass');
    assert.equal(fixed.state, 'fixed');
    assert.equal(fixed.closed, true);
  });

  it('re-runs lost to the farm decide nothing; the next regular run does', () => {
    const lost = run([(r) => afterRecheck(r, null), (r) => afterRecheck(r, null)]);
    assert.equal(lost.state, 'checking');
    assert.equal(afterLaterRun(lost, 'fail').state, 'confirmed');
    assert.equal(afterLaterRun(lost, 'pass').state, 'flaky');
    assert.equal(afterLaterRun(lost, null).state, 'checking');
  });

  it('with no re-runs configured a new failure is confirmed at once', () => {
    assert.equal(openRegression(0).state, 'confirmed');
  });
});

describe('differential', () => {
  const p = (over: Partial<VmProfile>): VmProfile => ({ ...defaultProfile, ...over });
  let n = 0;
  const cell = (profile: VmProfile, outcome: DifferentialCell['outcome'], workerHost = 'host-a', signature: string | null = outcome === 'passed' ? null : 'kernel panic: x'): DifferentialCell => ({
    cellId: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    key: JSON.stringify(profile),
    backend: profile.accel === 'xen' ? 'xen' : profile.accel === 'kvm' ? 'qemu-kvm' : 'qemu-tcg',
    profile,
    workerHost,
    outcome,
    failureClass: outcome === 'passed' ? null : 'kernel_panic',
    signature,
  });
  const tcgAcpi = p({ hwDescription: 'acpi' });
  const tcgDt = p({ hwDescription: 'dt' });
  const xenDt = p({ hwDescription: 'dt', accel: 'xen', disk: 'xen-pv' });
  const tcgV2 = p({ hwDescription: 'dt', gic: 'v2' });

  it('fails only on Xen', () => {
    const d = differential([cell(tcgAcpi, 'passed'), cell(tcgDt, 'passed'), cell(xenDt, 'failed', 'xen-host')]);
    assert.equal(d.verdict, 'axis');
    assert.equal(d.axis, 'backend');
    assert.match(d.statement, /^fails only on Xen/);
  });

  it('fails on every platform with ACPI', () => {
    const d = differential([cell(tcgAcpi, 'failed'), cell(p({ hwDescription: 'acpi', gic: 'v2' }), 'timeout'), cell(tcgDt, 'passed'), cell(tcgV2, 'passed')]);
    assert.equal(d.axis, 'hwDescription');
    assert.equal(d.value, 'acpi');
    assert.match(d.statement, /^fails on every platform with ACPI/);
  });

  it('fails everywhere (image bug), and passes everywhere', () => {
    const all = differential([cell(tcgAcpi, 'failed'), cell(tcgDt, 'failed'), cell(xenDt, 'failed')]);
    assert.equal(all.verdict, 'fails_everywhere');
    assert.match(all.statement, /^fails everywhere \(image bug\).*always "kernel panic: x"/);
    assert.equal(differential([cell(tcgAcpi, 'passed'), cell(tcgDt, 'passed')]).verdict, 'passes_everywhere');
  });

  it('fails on one worker host only (infrastructure) when no platform axis explains it', () => {
    const [a, b] = [p({ cpus: 2 }), p({ cpus: 2, memoryMiB: 1024 })];
    const d = differential([cell(tcgAcpi, 'failed', 'bad-host'), cell(b, 'failed', 'bad-host'), cell(a, 'passed', 'good-host'), cell(p({ memoryMiB: 1024 }), 'passed', 'good-host')]);
    assert.equal(d.verdict, 'worker_host');
    assert.equal(d.value, 'bad-host');
    assert.match(d.statement, /one worker host only \(bad-host\)/);
  });

  it('two axes together, infrastructure errors set aside, and no simple rule', () => {
    const d = differential([cell(p({ gic: 'v2', hwDescription: 'acpi' }), 'failed'), cell(p({ gic: 'v2', hwDescription: 'dt' }), 'passed'), cell(tcgAcpi, 'passed'), cell(tcgDt, 'infrastructure_error')]);
    assert.equal(d.axis, 'hwDescription+gic');
    assert.match(d.statement, /with ACPI and with GICv2.*1 cell\(s\) set aside/);
    const mixed = differential([cell(tcgAcpi, 'failed', 'h1'), cell(tcgDt, 'passed', 'h1'), cell(p({ hwDescription: 'dt', cpus: 2 }), 'failed', 'h2'), cell(p({ cpus: 2 }), 'passed', 'h2')]);
    assert.equal(mixed.verdict, 'mixed');
    assert.equal(differential([cell(tcgAcpi, 'infrastructure_error')]).verdict, 'infrastructure');
    assert.equal(mixed.groups[0]!.outcome, 'failed', 'failures are listed first');
  });
});

describe('console comparison', () => {
  const sideOf = (name: string, edit?: (t: string) => string) => {
    const s = sample(name, edit);
    return { lines: s.lines, stages: s.analysis.stages };
  };

  it('a console compared with itself (other addresses and timestamps) has no divergence', () => {
    const a = sideOf('linux-uki-aavmf-acpi');
    const b = sideOf('linux-uki-aavmf-acpi', (t) => t.replace(/\b0x[0-9a-f]{6,}/g, '0xdeadbeef').replace(/^\[\s*\d+\.\d+\]/, '[ 9.999999]'));
    const c = compareConsoles(a, b);
    assert.equal(c.divergence, null);
    assert.ok(c.stages.length >= 3 && c.stages.every((s) => s.same));
  });

  it('a booting and a panicking kernel diverge in the OS stage, at the line where they part', () => {
    const c = compareConsoles(sideOf('linux-uki-aavmf-acpi'), sideOf('linux-bare-image-panic'));
    assert.ok(c.divergence);
    const stages = c.stages.map((s) => s.stage);
    assert.deepEqual(stages, [...stages].sort((x, y) => ['none', 'firmware', 'boot_manager', 'bootloader', 'os'].indexOf(x) - ['none', 'firmware', 'boot_manager', 'bootloader', 'os'].indexOf(y)), 'stages in boot order');
    const d = c.divergence;
    assert.ok(d.a.length > 0 && d.b.length > 0, 'lines around it on both sides');
    // The context shows the first differing line on each side.
    if (d.aSeq !== null) assert.ok(d.a.some((l) => l.seq === d.aSeq));
    if (d.bSeq !== null) assert.ok(d.b.some((l) => l.seq === d.bSeq));
    // Everything before the divergence stage is the same.
    const at = c.stages.findIndex((s) => s.stage === d.stage);
    assert.ok(c.stages.slice(0, at).every((s) => s.same));
  });

  it('ACPI and DT boots of one image part where the EFI stub picks its DTB (firmware spinner lines ignored)', () => {
    const c = compareConsoles(sideOf('linux-uki-aavmf-acpi'), sideOf('linux-uki-aavmf-fdt'));
    assert.ok(c.divergence);
    assert.equal(c.divergence.stage, 'bootloader');
    assert.deepEqual(c.stages.slice(0, 2).map((s) => [s.stage, s.same]), [['firmware', true], ['boot_manager', true]]);
    const at = (lines: typeof c.divergence.a, seq: number | null) => lines.find((l) => l.seq === seq)?.text;
    assert.equal(at(c.divergence.a, c.divergence.aSeq), 'EFI stub: Generating empty DTB');
    assert.equal(at(c.divergence.b, c.divergence.bSeq), 'EFI stub: Using DTB from configuration table');
    assert.ok(c.divergence.a.some((l) => l.text.includes('Loaded initrd')), 'with the lines before it');
  });
});
