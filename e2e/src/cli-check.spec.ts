// `bootfarm check` run as a user runs it: the real CLI in a subprocess (and in a terminal, under
// tmux), booting real QEMU + edk2, with no server, database or Redis.
import { RunCompliance } from '@bootfarm/contracts';
import { ensureFixture } from '@bootfarm/fixtures';
import { ensureProbeImage } from '@bootfarm/probe';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { validateXML } from 'xmllint-wasm';
import { repoRoot, waitFor } from './farm.harness.js';

const cli = join(repoRoot, 'apps/cli/dist/main.js');
const artifactsDir = process.env.TEST_ARTIFACTS_DIR ?? join(repoRoot, '.artifacts');

/** Runs the CLI to its end: exit code, stdout, stderr. The environment has no database or Redis. */
function bootfarm(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/', TMPDIR: tmpdir() }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('bootfarm check', () => {
  let dir: string;
  let probe: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bootfarm-cli-'));
    probe = (await ensureProbeImage()).imagePath;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a good image: exit 0, the JSON report on stdout, a JUnit file that validates, an HTML report that renders, the logs kept', async () => {
    const junit = join(dir, 'probe.xml');
    const html = join(dir, 'probe.html');
    const logs = join(dir, 'logs');
    const r = await bootfarm(['check', probe, '--json', '--junit', junit, '--html', html, '--keep-logs', logs, '--matrix', '{"axes":{"hwDescription":["acpi","dt"]}}'], dir);
    assert.equal(r.code, 0, r.stderr);
    const report = RunCompliance.parse(JSON.parse(r.stdout));
    assert.equal(report.cells.length, 2);
    assert.equal(report.requirements.length, 43);
    assert.equal(report.summary.bbr?.verdict === 'fail', false, 'the probe image meets BBR');
    // DT on one cell and ACPI on the other: v1.0's FDT requirement passes at run level only through the DT cell.
    assert.match(r.stderr, /aarch64\/edk2\/dt\/.*: passed/);
    assert.match(r.stderr, /result: 2\/2 cells booted/);

    const xsd = readFileSync(join(repoRoot, 'packages/compliance/schema/junit.xsd'), 'utf8');
    const xml = readFileSync(junit, 'utf8');
    const valid = await validateXML({ xml: [{ fileName: 'probe.xml', contents: xml }], schema: [{ fileName: 'junit.xsd', contents: xsd }] });
    assert.equal(valid.valid, true, valid.rawOutput);
    assert.equal((xml.match(/<testcase /g) ?? []).length, 43 * 3, 'one test case per requirement × cell, and the run');

    const kept = readdirSync(logs).sort();
    assert.equal(kept.filter((f) => f.endsWith('.log')).length, 2);
    const consoleLog = readFileSync(join(logs, kept.find((f) => f.endsWith('.log'))!), 'utf8');
    assert.match(consoleLog, /^\[\s+\d+\.\d{3}\] .*VMSPEC-PROBE banner=/m, 'the console with its offsets');

    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`file://${html}`);
      await page.getByText('FW-5', { exact: false }).first().waitFor();
      mkdirSync(join(artifactsDir, 'cli'), { recursive: true });
      await page.screenshot({ path: join(artifactsDir, 'cli', 'check-report.png') });
    } finally {
      await browser.close();
    }
  });

  test('a negative image: exit 1, the failing requirements and the boot failure in the table', async () => {
    const notPe = await ensureFixture('neg-not-pe');
    const r = await bootfarm(['check', notPe.path, '--format', 'raw'], dir);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^IMG-6\s.*FAIL/m, 'the boot file is not a UEFI application');
    assert.match(r.stdout, /^bbr\s+FAIL/m);
    assert.match(r.stderr, /failed \(no_boot_device\)/);
  });

  test('an image the intake refuses: exit 1 with the typed reason, nothing booted', async () => {
    const bad = join(dir, 'not-a-qcow2.qcow2');
    execFileSync('truncate', ['-s', '1M', bad]);
    const r = await bootfarm(['check', bad], dir);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /intake: the image is refused: \w+/);
    assert.doesNotMatch(r.stderr, /booting/);
  });

  test('cells this host cannot run are listed as not applicable with the reason', async () => {
    const r = await bootfarm(['check', probe, '--matrix', '{"axes":{"accel":["tcg","kvm"]}}'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\/kvm: not applicable \(.+\)/);
    assert.match(r.stderr, /result: 1\/1 cells booted/);
  });

  test('bad arguments exit 2 and say what to do', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['check', join(dir, 'missing.img')], /cannot read .*missing\.img: ENOENT/],
      [['check', probe, '--matrix', 'everything'], /not a preset \(quick, .*\), a JSON spec or @file\.json/],
      [['check', probe, '--matrix', '{"axes":{"gics":["v2"]}}'], /--matrix: .*gics|Unrecognized key/],
      [['check', probe, '--timeout', '0'], /--timeout must be a whole number/],
      [['check', join(dir, 'disk.vmdk')], /cannot read|cannot tell the container format/],
      [['check'], /missing required argument 'image'/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ];
    for (const [args, message] of cases) {
      const r = await bootfarm(args, dir);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    const help = await bootfarm(['check', '--help'], dir);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Exit codes: 0 all required verdicts pass, 1 compliance or boot failures, 2 infrastructure problems/);
  });

  test('in a terminal the live progress redraws in place and ends cleanly', { skip: existsSync('/usr/bin/tmux') ? false : 'tmux is not installed' }, async () => {
    const session = `bootfarm-cli-${process.pid}`;
    const done = join(dir, 'tmux.done');
    const shell = `node ${cli} check ${probe} --matrix '{"axes":{"hwDescription":["acpi","dt"],"gic":["v2","v3"]}}' --jobs 2 --timeout 240; echo "exit=$?" > ${done}; sleep 600`;
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '160', '-y', '80', shell], { env: { ...process.env, TERM: 'xterm-256color' } });
    const screens: string[] = [];
    try {
      await waitFor(() => {
        screens.push(execFileSync('tmux', ['capture-pane', '-p', '-S', '-', '-t', session]).toString());
        return existsSync(done);
      }, 900_000);
      const final = screens.at(-1)!;
      assert.equal(readFileSync(done, 'utf8').trim(), 'exit=0');
      const running = screens.find((s) => /▶ .*booting the image|◆ .*probing the platform/.test(s));
      assert.ok(running, 'a screen showed cells booting or probing');
      // Four cells, each on one line rewritten in place: one final line per cell, no leftovers of earlier frames.
      const finals = final.split('\n').filter((l) => /^[✓✗] aarch64/.test(l));
      assert.equal(finals.length, 4, final);
      assert.equal(new Set(finals.map((l) => l.split(/\s+/)[1])).size, 4);
      assert.doesNotMatch(final, /booting the image|probing the platform/, 'no stale progress line is left');
      assert.match(final, /result: 4\/4 cells booted/);
      mkdirSync(join(artifactsDir, 'cli'), { recursive: true });
      execFileSync('sh', ['-c', `cat > ${join(artifactsDir, 'cli', 'terminal.txt')}`], { input: final });
    } finally {
      try {
        execFileSync('tmux', ['kill-session', '-t', session], { stdio: 'ignore' });
      } catch {
        // ended with its command
      }
    }
  });
});
