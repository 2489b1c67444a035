// What compliance costs a cell: the platform probe (two probe boots sharing a variable store)
// against the image boot it accompanies, and evaluation + the three reports against serialising
// the same facts. Prints ratios measured in this run; fails on nothing.
//
//   node bench/compliance.bench.mjs [rounds]
import { evaluateCell, evaluateRun, renderHtmlReport, renderJUnitReport, renderJsonReport } from '@bootfarm/compliance';
import { defaultProfile } from '@bootfarm/contracts';
import { QemuLauncher } from '@bootfarm/emulator';
import { ensureFixture } from '@bootfarm/fixtures';
import { probePlatform } from '@bootfarm/probe';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const rounds = Number(process.argv[2] ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'bootfarm-bench-compliance-'));
const launcher = new QemuLauncher();
const profile = { ...defaultProfile, cpus: 2 };
const guest = await ensureFixture('linux-uki');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const imageMs = [];
const probeMs = [];
let sample;
try {
  for (let i = 0; i < rounds; i++) {
    let t = performance.now();
    const boot = await launcher.boot({ image: { path: guest.path, format: 'raw' }, profile, workDir: join(dir, `img-${i}`), timeoutMs: 120_000 });
    imageMs.push(performance.now() - t);
    t = performance.now();
    const platform = await probePlatform({ launcher, profile, workDir: join(dir, `probe-${i}`) });
    probeMs.push(performance.now() - t);
    sample = { boot, platform };
  }

  const input = {
    cellId: 'c1',
    cellKey: 'bench',
    profile,
    image: { inspection: null },
    boot: { outcome: sample.boot.outcome, reason: sample.boot.reason, stage: sample.boot.stage, failureClass: sample.boot.failureClass, marker: sample.boot.marker, decidingLine: sample.boot.decidingLine ?? null },
    guest: sample.boot.guestFacts ?? null,
    platform: sample.platform,
  };
  const evalRounds = 200;
  let t = performance.now();
  for (let i = 0; i < evalRounds; i++) JSON.parse(JSON.stringify(input));
  const cloneMs = (performance.now() - t) / evalRounds;
  t = performance.now();
  let report;
  for (let i = 0; i < evalRounds; i++) {
    const cell = evaluateCell(input);
    report = evaluateRun({ runId: 'r1', image: { id: 'i1', name: 'linux-uki', sha256: guest.sha256, format: 'raw' }, generatedAt: new Date().toISOString(), cells: [cell] });
  }
  const evalMs = (performance.now() - t) / evalRounds;
  t = performance.now();
  for (let i = 0; i < evalRounds; i++) {
    renderJsonReport(report);
    renderJUnitReport(report);
    renderHtmlReport(report);
  }
  const renderMs = (performance.now() - t) / evalRounds;

  console.log(`rounds: ${rounds}, profile ${JSON.stringify(profile)}`);
  console.log(`image boot (Linux guest, QemuLauncher)   median ${median(imageMs).toFixed(0)} ms`);
  console.log(`platform probe (2 boots, shared vars)    median ${median(probeMs).toFixed(0)} ms   ×${(median(probeMs) / median(imageMs)).toFixed(2)} of the image boot`);
  console.log(`facts JSON round trip (baseline)         ${cloneMs.toFixed(3)} ms`);
  console.log(`evaluateCell + evaluateRun               ${evalMs.toFixed(3)} ms   ×${(evalMs / cloneMs).toFixed(1)} of the round trip`);
  console.log(`JSON + JUnit + HTML reports              ${renderMs.toFixed(3)} ms   ×${(renderMs / cloneMs).toFixed(1)} of the round trip`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
