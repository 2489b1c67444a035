/**
 * The Xen backend against test-support/fake-xl.mjs, which replays real Xen console transcripts
 * (fixtures/console/*.tlog) with their timing, scaled down. Real Xen is not needed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ConsoleLine } from '../boot.types.js';
import { BootRequestInvalidError, ProfileNotSupportedError } from '../emulator.errors.js';
import { pidsWithCmdline, removeDir, repoRoot, samplesDir, scratchDir } from '../testing.helpers.js';
import type { VmProfile } from '../vm.profile.js';
import { XenLauncher, type XenBootRequest, type XenLauncherOptions } from './xen.launcher.js';

const fakeXl = path.join(repoRoot, 'packages/emulator/test-support/fake-xl.mjs');
const dom0 = path.join(samplesDir, 'xen-dom0-aavmf-gicv3.tlog');
const hangs = path.join(samplesDir, 'xen-with-acpi-hangs.tlog');
const profile: VmProfile = { arch: 'aarch64', firmware: 'edk2', hwDescription: 'dt', gic: 'v3', disk: 'xen-pv', cpus: 1, memoryMiB: 512, accel: 'xen' };

let dir: string;
let image: string;
let firmware: string;
let n = 0;

before(async () => {
  dir = await scratchDir('bootfarm-xen-spec-');
  image = path.join(dir, 'vendor.raw');
  await writeFile(image, '');
  await truncate(image, 1024 * 1024);
  firmware = path.join(dir, 'XEN_EFI.fd');
  await writeFile(firmware, 'fake ArmVirtXen firmware');
});
after(() => removeDir(dir));

interface Harness {
  launcher: XenLauncher;
  stateDir: string;
  workDir: string;
  calls: () => Promise<string[][]>;
  request: (over?: Partial<XenBootRequest>) => XenBootRequest;
}

async function harness(fakeEnv: Record<string, string>, options: Partial<XenLauncherOptions> = {}): Promise<Harness> {
  const i = ++n;
  const stateDir = path.join(dir, `state-${i}`);
  await mkdir(stateDir);
  const workDir = path.join(dir, `work-${i}`);
  const launcher = new XenLauncher({
    xl: fakeXl,
    edk2Firmware: firmware,
    pollIntervalMs: 50,
    consoleAttachMs: 50,
    env: {
      PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`,
      LC_ALL: 'C',
      FAKE_XL_STATE_DIR: stateDir,
      FAKE_XL_TIME_SCALE: '0.1',
      ...fakeEnv,
    },
    ...options,
  });
  return {
    launcher,
    stateDir,
    workDir,
    calls: async () => {
      const f = path.join(stateDir, 'calls.jsonl');
      if (!existsSync(f)) return [];
      return (await readFile(f, 'utf8')).split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { argv: string[] }).argv);
    },
    request: (over = {}) => ({ image: { path: image, format: 'raw' }, profile, workDir, timeoutMs: 20_000, silenceTimeoutMs: 5000, ...over }),
  };
}

const destroys = (calls: string[][]): string[][] => calls.filter((c) => c[0] === 'destroy');

function assertOffsets(lines: ConsoleLine[]): void {
  lines.forEach((l, i) => assert.equal(l.seq, i, 'seq is consecutive'));
  for (let i = 1; i < lines.length; i++) assert.ok(lines[i]!.offsetMs >= lines[i - 1]!.offsetMs, 'offsets never go back');
  assert.ok(lines.at(-1)!.offsetMs > lines[0]!.offsetMs, 'offsets increase over the boot');
}

describe('XenLauncher (fake xl)', () => {
  it('boots the Xen dom0 transcript to its ready marker, then the domain powers off by itself', async () => {
    const h = await harness({ FAKE_XL_TRANSCRIPT: dom0 });
    const lines: ConsoleLine[] = [];
    let startPid = 0;
    const report = await h.launcher.boot(h.request({ onLine: (l) => lines.push(l), onStart: (s) => (startPid = s.pid) }));
    assert.equal(report.outcome, 'passed', report.reason);
    assert.equal(report.failureClass, null);
    assert.equal(report.backend, 'xen');
    assert.equal(report.marker?.text, 'VMSPEC-GUEST-READY');
    // 3.366 s in the transcript, scaled by 0.1.
    assert.ok(report.marker!.offsetMs >= 300 && report.marker!.offsetMs < 3000, `marker at ${report.marker!.offsetMs} ms`);
    assert.equal(report.stage, 'os');
    assert.equal(report.exit.by, 'self');
    assert.equal(report.xen.domainEnd, 'powered_off');
    assert.equal(report.xen.domid, 1);
    assert.ok(startPid > 0);
    assert.ok(lines.length >= 349, `${lines.length} lines`);
    assert.equal(report.lineCount, lines.length);
    assertOffsets(lines);
    assert.equal(lines[0]!.text, 'UEFI firmware (version  built at 13:10:49 on Nov  5 2024)');
    const calls = await h.calls();
    assert.deepEqual(calls[0], ['create', '-p', path.join(h.workDir, 'domain.cfg')]);
    assert.ok(calls.some((c) => c.join(' ') === `console -t pv ${report.xen.domainName}`));
    assert.ok(calls.some((c) => c.join(' ') === `unpause ${report.xen.domainName}`));
    assert.deepEqual(destroys(calls), [['destroy', report.xen.domainName]], 'xl destroy exactly once');
    assert.equal(existsSync(h.workDir), false, 'work dir removed');
    assert.deepEqual(report.warnings, []);
    const cfg = await readFile(path.join(h.stateDir, `${report.xen.domainName}.cfg`), 'utf8');
    assert.equal(cfg, report.xen.config);
    assert.match(cfg, /format=qcow2, vdev=xvda, access=rw, backendtype=qdisk, target=.*overlay\.qcow2" \]/);
    assert.ok(!cfg.includes(image), 'the image itself is never given to the guest');
    assert.match(report.command.reproduce, /qemu-img create -f qcow2 -b \S+vendor\.raw -F raw /);
    assert.ok(report.command.reproduce.includes(report.xen.config.trimEnd()));
    assert.match(report.command.reproduce, /xl(\.mjs)? destroy /);
    assert.deepEqual(await pidsWithCmdline(report.xen.domainName), [], 'no xl console left');
  });

  it('ends a boot that hangs after the firmware (Xen with ACPI) on silence, and destroys the domain', async () => {
    const h = await harness({ FAKE_XL_TRANSCRIPT: hangs, FAKE_XL_HANG: '1' });
    const report = await h.launcher.boot(h.request({ silenceTimeoutMs: 400 }));
    assert.equal(report.outcome, 'timeout', report.reason);
    assert.equal(report.failureClass, 'silence');
    assert.equal(report.lineCount, 8);
    assert.equal(report.exit.by, 'sigkill');
    assert.equal(report.xen.domainEnd, 'destroyed');
    assert.deepEqual(destroys(await h.calls()), [['destroy', report.xen.domainName]]);
    assert.equal(existsSync(h.workDir), false);
    assert.deepEqual(await pidsWithCmdline(report.xen.domainName), []);
    assert.deepEqual(report.warnings, []);
  });

  it('ends on the time limit when the console keeps going', async () => {
    const h = await harness({ FAKE_XL_TRANSCRIPT: dom0, FAKE_XL_TIME_SCALE: '1' });
    const report = await h.launcher.boot(h.request({ timeoutMs: 1500, successMarkers: [/NEVER/] }));
    assert.equal(report.outcome, 'timeout', report.reason);
    assert.equal(report.failureClass, 'timeout');
    assert.equal(destroys(await h.calls()).length, 1);
    assert.equal(existsSync(h.workDir), false);
  });

  it('reports a power-off without a marker as a failed boot', async () => {
    const h = await harness({ FAKE_XL_TRANSCRIPT: dom0, FAKE_XL_TIME_SCALE: '0.05' });
    const report = await h.launcher.boot(h.request({ successMarkers: [/NEVER/] }));
    assert.equal(report.outcome, 'failed', report.reason);
    assert.equal(report.failureClass, 'powered_off_without_marker');
    assert.equal(report.exit.by, 'self');
    assert.equal(report.lineCount, 513, 'every line was drained before deciding');
    assert.equal(destroys(await h.calls()).length, 1, 'destroy is still called (and its "no such domain" is fine)');
    assert.deepEqual(report.warnings, []);
  });

  it('decides a boot that is over before `xl unpause` returns on the console it printed', async () => {
    const h = await harness({ FAKE_XL_TRANSCRIPT: dom0, FAKE_XL_TIME_SCALE: '0.01', FAKE_XL_UNPAUSE_RETURN_MS: '600' });
    const report = await h.launcher.boot(h.request({ successMarkers: [/NEVER/] }));
    assert.equal(report.outcome, 'failed', report.reason);
    assert.equal(report.failureClass, 'powered_off_without_marker');
    assert.equal(report.lineCount, 513);
    assert.equal(destroys(await h.calls()).length, 1);
    assert.equal(existsSync(h.workDir), false);
  });

  it('reports a crashed domain (on_crash=preserve) and destroys it', async () => {
    const h = await harness({ FAKE_XL_TRANSCRIPT: hangs, FAKE_XL_CRASH: '1' });
    const report = await h.launcher.boot(h.request({ successMarkers: [/NEVER/] }));
    assert.equal(report.outcome, 'failed', report.reason);
    assert.match(report.reason, /crashed/);
    assert.equal(report.xen.domainEnd, 'crashed');
    assert.deepEqual(destroys(await h.calls()), [['destroy', report.xen.domainName]]);
    assert.deepEqual(report.warnings, []);
  });

  it('turns a failing xl create into infrastructure_error with its message', async () => {
    const h = await harness({ FAKE_XL_TRANSCRIPT: dom0, FAKE_XL_FAIL_CREATE: 'failed to allocate 512 MiB of guest memory' });
    const report = await h.launcher.boot(h.request());
    assert.equal(report.outcome, 'infrastructure_error', report.reason);
    assert.equal(report.failureClass, 'qemu_start_failed');
    assert.match(report.reason, /Xen could not create the domain: xl create -p .* failed \(exit status 1\): .*failed to allocate 512 MiB of guest memory/);
    assert.match(report.stderr, /failed to allocate/);
    assert.equal(report.exit.by, 'not_started');
    assert.equal(destroys(await h.calls()).length, 1, 'destroyed anyway, in case it was half-created');
    assert.equal(existsSync(h.workDir), false);
  });

  it('cancels on abort mid-boot and destroys the domain', async () => {
    const h = await harness({ FAKE_XL_TRANSCRIPT: dom0, FAKE_XL_TIME_SCALE: '1' });
    const ac = new AbortController();
    const report = await h.launcher.boot(
      h.request({
        signal: ac.signal,
        onLine: (l) => {
          if (/\(XEN\) Xen version/.test(l.text)) ac.abort();
        },
      }),
    );
    assert.equal(report.outcome, 'canceled', report.reason);
    assert.equal(report.failureClass, null);
    assert.ok(report.lineCount < 100, `${report.lineCount} lines`);
    assert.equal(report.exit.by, 'sigkill');
    assert.deepEqual(destroys(await h.calls()), [['destroy', report.xen.domainName]]);
    assert.equal(existsSync(h.workDir), false);
    assert.deepEqual(await pidsWithCmdline(report.xen.domainName), []);
  });

  it('reports a missing xl as infrastructure_error', async () => {
    const h = await harness({}, { xl: path.join(dir, 'no-such-xl') });
    const report = await h.launcher.boot(h.request());
    assert.equal(report.outcome, 'infrastructure_error', report.reason);
    assert.equal(report.failureClass, 'host_setup_failed');
    assert.match(report.reason, /could not execute .*no-such-xl \(ENOENT\)/);
    assert.equal(existsSync(h.workDir), false);
  });

  it('captures the vuart as a second console when asked', async () => {
    const h = await harness({ FAKE_XL_TRANSCRIPT: dom0, FAKE_XL_VUART_TRANSCRIPT: hangs, FAKE_XL_TIME_SCALE: '0.05' });
    const report = await h.launcher.boot(h.request({ xen: { vuart: true } }));
    assert.equal(report.outcome, 'passed', report.reason);
    assert.match(report.xen.config, /^vuart = "sbsa_uart"$/m);
    assert.equal(report.xen.secondaryConsole?.type, 'vuart');
    assert.equal(report.xen.secondaryConsole?.lineCount, 8);
    const calls = await h.calls();
    assert.ok(calls.some((c) => c.join(' ') === `console -t vuart ${report.xen.domainName}`));
    assert.equal(destroys(calls).length, 1);
  });

  it('warns when xl destroy fails and the domain is still there', async () => {
    const h = await harness({ FAKE_XL_TRANSCRIPT: hangs, FAKE_XL_HANG: '1', FAKE_XL_FAIL_DESTROY: '1' });
    const report = await h.launcher.boot(h.request({ silenceTimeoutMs: 300 }));
    assert.equal(report.outcome, 'timeout');
    assert.match(report.warnings.join('\n'), /xl destroy failed and domain .* may still exist/);
  });

  it('refuses ACPI on a Xen without ACPI, and unsafe paths, before doing anything', async () => {
    const h = await harness({});
    await assert.rejects(h.launcher.boot(h.request({ profile: { ...profile, hwDescription: 'acpi' } })), (e: unknown) => {
      assert.ok(e instanceof ProfileNotSupportedError);
      assert.match(e.message, /Xen on this host has no ACPI support/);
      return true;
    });
    await assert.rejects(h.launcher.boot(h.request({ workDir: path.join(dir, 'we"ird') })), BootRequestInvalidError);
    await assert.rejects(h.launcher.boot(h.request({ xen: { primaryConsole: 'vuart' } })), BootRequestInvalidError);
    assert.deepEqual(await h.calls(), []);
  });
});
