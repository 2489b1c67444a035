// The bootfarm CLI as a farm client, run as a subprocess against a running farm: login, submit
// --wait with its verdict as the exit code, runs, show, logs, report, rerun, workers, and the
// errors a user meets (unreachable server, a bad token).
import { ensureFixture } from '@bootfarm/fixtures';
import { ensureProbeImage } from '@bootfarm/probe';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { validateXML } from 'xmllint-wasm';
import { repoRoot, startFarm, type Farm } from './farm.harness.js';

const cli = join(repoRoot, 'apps/cli/bin/bootfarm.js');

describe('bootfarm against a farm', () => {
  let farm: Farm;
  let home: string;
  let runId: string;

  /** The CLI with its own config directory and nothing of the farm in its environment. */
  const bootfarm = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [cli, ...args], { env: { PATH: process.env.PATH ?? '', HOME: home, XDG_CONFIG_HOME: join(home, 'config') }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      child.once('exit', (code) => resolve({ code, stdout, stderr }));
    });

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'bootfarm-cli-home-'));
    farm = await startFarm();
  });
  after(async () => {
    await farm?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  test('without a login every command says how to log in; login checks the token and saves it privately', async () => {
    const none = await bootfarm(['runs']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /run `bootfarm login --server URL --token TOKEN`/);
    const bad = await bootfarm(['login', '--server', farm.schedulerUrl, '--token', 'bft_not-a-real-token']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /the farm refused the token/);
    const ok = await bootfarm(['login', '--server', farm.schedulerUrl, '--token', farm.token!]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /logged in to .* as e2e \(vendor\)/);
    const saved = join(home, 'config', 'bootfarm', 'config.json');
    assert.equal(statSync(saved).mode & 0o777, 0o600, 'the token is readable by its owner only');
  });

  test('submit --wait follows the run to its verdict: exit 0, the cells on stderr, a JUnit file that validates', async () => {
    const probe = await ensureProbeImage();
    const junit = join(home, 'run.xml');
    const r = await bootfarm(['submit', probe.imagePath, '--wait', '--matrix', '{"axes":{"hwDescription":["acpi","dt"]}}', '--junit', junit]);
    assert.equal(r.code, 0, r.stderr);
    runId = r.stdout.trim().split('\n')[0]!;
    assert.match(runId, /^[0-9a-f-]{36}$/);
    assert.match(r.stderr, /uploading \S+ 100%/);
    assert.match(r.stderr, /aarch64\/edk2\/acpi\/.*: passed at bootloader/);
    assert.match(r.stderr, /aarch64\/edk2\/dt\/.*: passed at bootloader/);
    assert.match(r.stderr, new RegExp(`run ${runId}: passed; bbr (pass|warn)`));
    const xsd = readFileSync(join(repoRoot, 'packages/compliance/schema/junit.xsd'), 'utf8');
    const valid = await validateXML({ xml: [{ fileName: 'run.xml', contents: readFileSync(junit, 'utf8') }], schema: [{ fileName: 'junit.xsd', contents: xsd }] });
    assert.equal(valid.valid, true, valid.rawOutput);
  });

  test('runs, show, logs, report and workers read the farm', async () => {
    const list = await bootfarm(['runs']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^${runId}  passed`, 'm'));
    const show = await bootfarm(['show', runId]);
    assert.equal(show.code, 0, show.stderr);
    const cellId = /^ {2}([0-9a-f-]{36}) {2}passed/m.exec(show.stdout)?.[1];
    assert.ok(cellId, show.stdout);
    assert.match(show.stdout, /vmspec-2\.0 +fail: .*FW-5/, 'edk2 never installs ACPI and DT at once');
    const logs = await bootfarm(['logs', cellId]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /^\[\s+\d+\.\d{3}\] .*VMSPEC-PROBE banner=/m);
    const followed = await bootfarm(['logs', cellId, '--follow']);
    assert.equal(followed.code, 0, followed.stderr);
    assert.match(followed.stdout, /VMSPEC-PROBE banner=/, 'a finished cell streams its console, then ends');
    assert.match(followed.stderr, /-- cell passed/);
    const html = join(home, 'run.html');
    const report = await bootfarm(['report', runId, '--html', html]);
    assert.equal(report.code, 0, report.stderr);
    assert.match(readFileSync(html, 'utf8'), /^<!DOCTYPE html>/);
    const workers = await bootfarm(['workers']);
    assert.equal(workers.code, 0, workers.stderr);
    assert.match(workers.stdout, /online +good +qemu-tcg:aarch64/);
  });

  test('a run of a good and a negative image exits 1, with a report per image; rerun boots the same platforms again', async () => {
    const notPe = await ensureFixture('neg-not-pe');
    const probe = await ensureProbeImage();
    const junit = join(home, 'both.xml');
    const r = await bootfarm(['submit', probe.imagePath, notPe.path, '--format', 'raw', '--wait', '--junit', junit]);
    assert.equal(r.code, 1, r.stderr);
    const [probeName, negName] = [basename(probe.imagePath), basename(notPe.path)];
    assert.match(r.stderr, new RegExp(`${negName}/aarch64/\\S+: failed \\(no_boot_device\\)`));
    assert.match(r.stderr, new RegExp(`${probeName}/aarch64/\\S+: passed`));
    assert.match(r.stderr, new RegExp(`bbr ${probeName} (pass|warn), ${negName} fail`));
    const files = [probeName, negName].map((n) => join(home, `both-${n}.xml`));
    for (const f of files) assert.ok(existsSync(f), `${f} written`);
    assert.match(readFileSync(files[0]!, 'utf8'), new RegExp(`name="image.name" value="${probeName}"`));
    assert.match(readFileSync(files[1]!, 'utf8'), new RegExp(`name="image.name" value="${negName}"`));
    const again = await bootfarm(['rerun', runId, '--wait']);
    assert.equal(again.code, 0, again.stderr);
    const newRun = again.stdout.trim();
    assert.notEqual(newRun, runId);
    const show = await bootfarm(['show', newRun]);
    assert.equal((show.stdout.match(/^ {2}[0-9a-f-]{36} {2}passed/gm) ?? []).length, 2, 'the same two platforms');
  });

  test('an unreachable farm, an unknown run and bad arguments exit 2 with what to do', async () => {
    const down = await bootfarm(['runs', '--server', 'http://127.0.0.1:9', '--token', farm.token!]);
    assert.equal(down.code, 2);
    assert.match(down.stderr, /cannot reach the farm at http:\/\/127\.0\.0\.1:9 .*is the scheduler running/);
    const missing = await bootfarm(['show', '00000000-0000-4000-8000-000000000000']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /not found/);
    const noReport = await bootfarm(['report', runId]);
    assert.equal(noReport.code, 2);
    assert.match(noReport.stderr, /say which report: --junit FILE, --html FILE and\/or --json FILE/);
  });
});
