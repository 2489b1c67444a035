/**
 * Real QEMU (TCG) boots: each takes about a second. Processes are found by their work dir in
 * /proc/<pid>/cmdline, never by name, since other tests may run QEMU at the same time.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { QemuLauncher, defaultQemuPaths } from './qemu.launcher.js';
import { defaultProfile, type VmProfile } from './vm.profile.js';
import { BootRequestInvalidError, ProfileNotSupportedError } from './emulator.errors.js';
import type { BootReport, BootRequest, ConsoleLine } from './boot.types.js';
import { pidsWithCmdline, procLimits, procStatus, removeDir, scratchDir, waitFor } from './testing.helpers.js';
import { probeHostCapabilities } from './capability.probe.js';
import { QmpClient } from './qmp.client.js';

let dir: string;
let blank: string;
let zeroCode: string;
let n = 0;
const launcher = new QemuLauncher();
let silentLauncher: QemuLauncher;

/** A fresh work dir path (not created: the launcher creates it). */
const workDir = (): string => path.join(dir, `work-${++n}`);

function request(overrides: Partial<BootRequest> = {}): BootRequest {
  return {
    image: { path: blank, format: 'raw' },
    profile: defaultProfile,
    workDir: workDir(),
    timeoutMs: 30_000,
    silenceTimeoutMs: 15_000,
    ...overrides,
  };
}

async function sha256(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

/** Asserts no process mentions the work dir and the dir is gone. */
async function assertCleanedUp(report: BootReport, wd: string): Promise<void> {
  assert.deepEqual(await pidsWithCmdline(wd), [], 'no process left that mentions the work dir');
  assert.equal(existsSync(wd), false, 'work dir removed');
  assert.deepEqual(report.warnings, []);
}

/** Waits until the wrappers have exec'd into QEMU itself. */
async function waitForQemu(pid: number): Promise<void> {
  const ok = await waitFor(async () => (await procStatus(pid))?.Name === 'qemu-system-aar', 5000, 10);
  assert.ok(ok, 'QEMU did not start');
}

before(async () => {
  dir = await scratchDir();
  await chmod(dir, 0o755); // traversable by the unprivileged uid of the runAs test
  blank = path.join(dir, 'blank.raw');
  await writeFile(blank, '');
  await truncate(blank, 64 * 1024 * 1024);
  // Firmware made of zeros: QEMU starts, the CPU spins on undefined instructions, and the
  // console stays silent forever.
  zeroCode = path.join(dir, 'zero-code.fd');
  await writeFile(zeroCode, '');
  await truncate(zeroCode, 64 * 1024 * 1024);
  silentLauncher = new QemuLauncher({ firmwareCode: zeroCode });
});

after(async () => {
  await removeDir(dir);
});

describe('QemuLauncher with real QEMU', () => {
  it('fails a blank disk fast with no_boot_device (edk2 falls back to its shell)', async () => {
    const lines: ConsoleLine[] = [];
    const req = request({ onLine: (l) => lines.push(l) });
    const r = await launcher.boot(req);
    assert.equal(r.outcome, 'failed', r.reason);
    assert.equal(r.failureClass, 'no_boot_device');
    assert.equal(r.stage, 'boot_manager');
    assert.equal(r.failureSignature?.pattern, 'edk2.shell_fallback');
    assert.equal(r.exit.by, 'sigkill');
    assert.ok(r.exit.offsetMs !== null && r.exit.offsetMs < 10_000, `took ${r.exit.offsetMs} ms`);
    assert.equal(lines[0]?.text, 'UEFI firmware (version  built at 13:10:49 on Nov  5 2024)');
    assert.deepEqual(lines.map((l) => l.seq), lines.map((_, i) => i));
    assert.equal(r.lineCount, lines.length);
    assert.ok(r.consoleBytes > 100);
    assert.equal(r.consoleTruncated, false);
    assert.deepEqual(r.stages.map((s) => s.stage), ['firmware', 'boot_manager']);
    assert.match(r.firmware.codeSha256 ?? '', /^[0-9a-f]{64}$/);
    assert.match(r.firmware.varsTemplateSha256 ?? '', /^[0-9a-f]{64}$/);
    assert.equal(r.command.argv[0], defaultQemuPaths.qemuSystem);
    assert.deepEqual(r.command.launchArgv.slice(0, 4), [defaultQemuPaths.setpriv, '--pdeathsig', 'SIGKILL', '--no-new-privs']);
    assert.ok(r.command.shell.startsWith('/usr/bin/qemu-system-aarch64 -M virt,accel=tcg,gic-version=3 '));
    assert.match(r.command.reproduce, /qemu-img create -f qcow2 -b \S+blank\.raw -F raw /);
    assert.equal(r.containment.parentDeathSignal, 'SIGKILL');
    assert.equal(r.containment.rlimits.coreBytes, 0);
    await assertCleanedUp(r, req.workDir);
  });

  it('passes on a marker, then stops a guest that stays up through QMP quit after the grace', async () => {
    const req = request({ successMarkers: [/^UEFI firmware \(version/], markerGraceMs: 200 });
    const r = await launcher.boot(req);
    assert.equal(r.outcome, 'passed', r.reason);
    assert.equal(r.marker?.seq, 0);
    assert.equal(r.failureSignature, null, 'no failure analysis after the verdict');
    assert.deepEqual({ code: r.exit.code, signal: r.exit.signal, by: r.exit.by }, { code: 0, signal: null, by: 'qmp_quit' });
    assert.ok(r.exit.offsetMs! - r.marker!.offsetMs >= 200, 'the guest got its grace');
    await assertCleanedUp(r, req.workDir);
  });

  it('times out a VM that never prints (whole-boot limit) and kills it', async () => {
    // The limit also covers preparing the boot (overlay, varstore): room for a loaded machine.
    const req = request({ timeoutMs: 4000, silenceTimeoutMs: 60_000 });
    const r = await silentLauncher.boot(req);
    assert.equal(r.outcome, 'timeout', r.reason);
    assert.equal(r.failureClass, 'no_console_output');
    assert.equal(r.stage, 'none');
    assert.equal(r.exit.by, 'sigkill');
    assert.equal(r.exit.signal, 'SIGKILL');
    assert.ok(r.durationMs < 9000, `took ${r.durationMs} ms`);
    assert.match(r.reason, /time limit/);
    await assertCleanedUp(r, req.workDir);
  });

  it('ends a silent console at the silence limit', async () => {
    const req = request({ timeoutMs: 30_000, silenceTimeoutMs: 800 });
    const r = await silentLauncher.boot(req);
    assert.equal(r.outcome, 'timeout', r.reason);
    assert.equal(r.failureClass, 'no_console_output');
    assert.match(r.reason, /nothing on its console for 0\.80 s/);
    assert.ok(r.durationMs < 5000, `took ${r.durationMs} ms`);
    await assertCleanedUp(r, req.workDir);
  });

  it('can run on past a failure signature to the silence limit, delivering the idle prompt line', async () => {
    const lines: ConsoleLine[] = [];
    const req = request({ stopOnFailureSignature: false, silenceTimeoutMs: 2500, onLine: (l) => lines.push(l) });
    const r = await launcher.boot(req);
    assert.equal(r.outcome, 'timeout', r.reason);
    assert.equal(r.failureClass, 'no_boot_device', 'the signature seen earlier names the failure');
    assert.match(r.reason, /silent for 2\.50 s/);
    assert.deepEqual({ text: lines.at(-1)?.text, end: lines.at(-1)?.end }, { text: 'Shell> ', end: 'idle' });
    await assertCleanedUp(r, req.workDir);
  });

  it('reports a missing firmware file as an infrastructure error without starting QEMU', async () => {
    const req = request();
    const r = await new QemuLauncher({ firmwareCode: path.join(dir, 'no-such-code.fd') }).boot(req);
    assert.equal(r.outcome, 'infrastructure_error');
    assert.equal(r.failureClass, 'qemu_start_failed');
    assert.match(r.reason, /firmware code file cannot be read.*no-such-code\.fd/);
    assert.equal(r.exit.by, 'not_started');
    assert.equal(r.firmware.codeSha256, null);
    await assertCleanedUp(r, req.workDir);
  });

  it('reports QEMU refusing to start (bad firmware size) with its stderr', async () => {
    const short = path.join(dir, 'short-code.fd');
    await writeFile(short, Buffer.alloc(1024));
    const req = request();
    const r = await new QemuLauncher({ firmwareCode: short }).boot(req);
    assert.equal(r.outcome, 'infrastructure_error');
    assert.equal(r.failureClass, 'qemu_start_failed');
    assert.match(r.reason, /device requires 67108864 bytes, block backend provides 1024 bytes/);
    assert.equal(r.consoleBytes, 0);
    assert.equal(r.exit.code, 1);
    await assertCleanedUp(r, req.workDir);
  });

  it('reports a missing QEMU binary with the exec error', async () => {
    const req = request();
    const r = await new QemuLauncher({ qemuSystem: path.join(dir, 'no-such-qemu') }).boot(req);
    assert.equal(r.outcome, 'infrastructure_error');
    assert.equal(r.failureClass, 'qemu_start_failed');
    assert.match(r.reason, /failed to execute .*no-such-qemu/);
    await assertCleanedUp(r, req.workDir);
  });

  it('reports an unreadable image as a host setup failure', async () => {
    const req = request({ image: { path: path.join(dir, 'missing.raw'), format: 'raw' } });
    const r = await launcher.boot(req);
    assert.equal(r.outcome, 'infrastructure_error');
    assert.equal(r.failureClass, 'host_setup_failed');
    assert.match(r.reason, /missing\.raw cannot be read/);
    await assertCleanedUp(r, req.workDir);
  });

  it('refuses a qcow2 image that names a backing file, before QEMU opens it', async () => {
    const evil = path.join(dir, 'backed.qcow2');
    execFileSync(defaultQemuPaths.qemuImg, ['create', '-f', 'qcow2', '-b', blank, '-F', 'raw', evil, '64M'], { stdio: 'ignore' });
    const req = request({ image: { path: evil, format: 'qcow2' } });
    const r = await launcher.boot(req);
    assert.equal(r.outcome, 'failed');
    assert.equal(r.failureClass, 'image_rejected');
    assert.match(r.reason, /names a backing file/);
    assert.equal(r.exit.by, 'not_started');
    await assertCleanedUp(r, req.workDir);
  });

  it('refuses a work dir that already holds files, and leaves it alone', async () => {
    const wd = workDir();
    await mkdir(wd);
    await writeFile(path.join(wd, 'keep.txt'), 'mine');
    const r = await launcher.boot(request({ workDir: wd }));
    assert.equal(r.outcome, 'infrastructure_error');
    assert.equal(r.failureClass, 'host_setup_failed');
    assert.equal(await readFile(path.join(wd, 'keep.txt'), 'utf8'), 'mine');
  });

  it('cancels mid-boot on abort, after QEMU ran contained (rlimits, no_new_privs, seccomp)', async () => {
    const ac = new AbortController();
    let checks: Promise<void> | undefined;
    const req = request({
      signal: ac.signal,
      onStart: ({ pid }) => {
        checks = (async () => {
          try {
            await waitForQemu(pid);
            // QEMU installs its seccomp filter a moment after exec.
            assert.ok(await waitFor(async () => (await procStatus(pid))?.Seccomp === '2', 5000, 10), 'QEMU -sandbox installed a seccomp filter');
            const limits = (await procLimits(pid)) ?? '';
            assert.match(limits, /Max core file size\s+0\s+0/);
            assert.match(limits, new RegExp(`Max address space\\s+${(512 + 2048 + 256) * 1024 * 1024}\\s`));
            assert.match(limits, /Max file size\s+4294967296\s/);
            assert.equal((await procStatus(pid))?.NoNewPrivs, '1');
            assert.equal((await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ')[2], String(pid), 'own process group');
          } finally {
            ac.abort();
          }
        })();
      },
    });
    const r = await silentLauncher.boot(req);
    await checks;
    assert.equal(r.outcome, 'canceled', r.reason);
    assert.equal(r.failureClass, null);
    assert.equal(r.exit.by, 'sigkill');
    await assertCleanedUp(r, req.workDir);
  });

  it('reports QEMU crashing mid-boot (SIGSEGV from outside) as an infrastructure error', async () => {
    const req = request({
      onStart: ({ pid }) => {
        void waitForQemu(pid).then(() => process.kill(pid, 'SIGSEGV'));
      },
    });
    const r = await silentLauncher.boot(req);
    assert.equal(r.outcome, 'infrastructure_error', r.reason);
    assert.equal(r.failureClass, 'qemu_crashed');
    assert.deepEqual({ signal: r.exit.signal, by: r.exit.by }, { signal: 'SIGSEGV', by: 'self' });
    assert.match(r.reason, /killed by SIGSEGV/);
    await assertCleanedUp(r, req.workDir);
  });

  it('survives an onLine callback that throws, and says so', async () => {
    const req = request({
      onLine: () => {
        throw new Error('consumer bug');
      },
    });
    const r = await launcher.boot(req);
    assert.equal(r.failureClass, 'no_boot_device', r.reason);
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]!, /onLine threw.*consumer bug/);
    assert.deepEqual(await pidsWithCmdline(req.workDir), []);
    assert.equal(existsSync(req.workDir), false);
  });

  it('cancels without starting anything when already aborted', async () => {
    const req = request({ signal: AbortSignal.abort() });
    const r = await launcher.boot(req);
    assert.equal(r.outcome, 'canceled');
    assert.equal(r.exit.by, 'not_started');
    assert.equal(existsSync(req.workDir), false);
  });

  it('cancels during preparation and cleans up', async () => {
    const ac = new AbortController();
    const req = request({ signal: ac.signal });
    const p = launcher.boot(req);
    queueMicrotask(() => ac.abort());
    const r = await p;
    assert.equal(r.outcome, 'canceled');
    assert.equal(r.exit.by, 'not_started');
    await assertCleanedUp(r, req.workDir);
  });

  it('QEMU dies with its parent (setpriv --pdeathsig) when the worker is SIGKILLed', async () => {
    const wd = workDir();
    const script = path.join(dir, 'parent-death.mjs');
    const indexUrl = new URL('./index.js', import.meta.url).href;
    await writeFile(
      script,
      `import { readFileSync } from 'node:fs';
import { QemuLauncher, defaultProfile } from ${JSON.stringify(indexUrl)};
const [image, workDir, code] = process.argv.slice(2);
new QemuLauncher({ firmwareCode: code }).boot({
  image: { path: image, format: 'raw' }, profile: defaultProfile, workDir, timeoutMs: 120000,
  onStart: ({ pid }) => {
    const poll = setInterval(() => {
      let name = '';
      try { name = readFileSync('/proc/' + pid + '/comm', 'utf8').trim(); } catch {}
      if (name !== 'qemu-system-aar') return;
      clearInterval(poll);
      process.stdout.write(JSON.stringify({ pid }) + '\\n', () => process.kill(process.pid, 'SIGKILL'));
    }, 10);
  },
});
`,
    );
    const child = spawn(process.execPath, [script, blank, wd, zeroCode], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exit = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    assert.equal(exit, 'SIGKILL');
    const { pid } = JSON.parse(out) as { pid: number };
    const gone = await waitFor(async () => {
      const st = await procStatus(pid);
      return (st === null || st.State?.startsWith('Z') === true) && (await pidsWithCmdline(wd)).length === 0;
    }, 3000);
    assert.ok(gone, `QEMU ${pid} survived its parent`);
    await removeDir(wd); // nobody was left to clean up: the worker's reaper does this in production
  });

  it('never modifies the image: hash, mode and mtime unchanged (raw read-only file, and qcow2)', async () => {
    const rawImage = path.join(dir, 'immutable.raw');
    await writeFile(rawImage, Buffer.alloc(0));
    await truncate(rawImage, 64 * 1024 * 1024);
    await writeFile(rawImage, Buffer.from('not a partition table'), { flag: 'r+' });
    await chmod(rawImage, 0o444);
    const qcowImage = path.join(dir, 'immutable.qcow2');
    execFileSync(defaultQemuPaths.qemuImg, ['convert', '-f', 'raw', '-O', 'qcow2', rawImage, qcowImage]);
    await chmod(qcowImage, 0o640);
    for (const [image, format] of [[rawImage, 'raw'], [qcowImage, 'qcow2']] as const) {
      const before = { sha: await sha256(image), st: await stat(image) };
      const req = request({ image: { path: image, format } });
      const r = await launcher.boot(req);
      assert.equal(r.outcome, 'failed', `${format}: ${r.reason}`);
      assert.equal(r.failureClass, 'no_boot_device');
      const st = await stat(image);
      assert.equal(await sha256(image), before.sha, `${format} content unchanged`);
      assert.equal(st.mode, before.st.mode, `${format} mode unchanged`);
      assert.equal(st.mtimeMs, before.st.mtimeMs, `${format} mtime unchanged`);
      assert.ok(r.command.overlayArgv.includes(image) && !r.command.argv.some((a) => a.includes(image)));
      await assertCleanedUp(r, req.workDir);
    }
  });

  it('keeps raw console bytes up to the cap and writes them where asked', async () => {
    const rawPath = path.join(dir, 'console.raw');
    const req = request({ rawConsolePath: rawPath });
    const r = await new QemuLauncher({ maxRawConsoleBytes: 100 }).boot(req);
    assert.equal(r.failureClass, 'no_boot_device');
    assert.equal(r.consoleTruncated, true);
    assert.ok(r.consoleBytes > 100);
    const raw = await readFile(rawPath);
    assert.equal(raw.length, 100);
    assert.ok(raw.toString('latin1').startsWith('UEFI firmware (version'));
    assert.ok(r.lineCount >= 3, 'lines are still split past the raw cap');
    await assertCleanedUp(r, req.workDir);
  });

  it('boots a virtio-mmio, GICv2, device-tree, 2-vCPU profile', async () => {
    const profile: VmProfile = { ...defaultProfile, disk: 'virtio-mmio', gic: 'v2', hwDescription: 'dt', cpus: 2 };
    const req = request({ profile });
    const r = await launcher.boot(req);
    assert.equal(r.failureClass, 'no_boot_device', r.reason);
    assert.ok(r.command.argv.includes('virt,accel=tcg,acpi=off,gic-version=2'));
    assert.ok(r.command.argv.includes('virtio-blk-device,drive=disk0'));
    await assertCleanedUp(r, req.workDir);
  });

  it('runs QEMU as an unprivileged uid when asked (root workers)', { skip: process.getuid?.() !== 0 && 'needs root to switch uid' }, async () => {
    const ac = new AbortController();
    let uid: string | undefined;
    const req = request({
      signal: ac.signal,
      onStart: ({ pid }) => {
        void (async () => {
          await waitForQemu(pid);
          uid = (await procStatus(pid))?.Uid;
          ac.abort();
        })();
      },
    });
    const r = await new QemuLauncher({ firmwareCode: zeroCode, runAs: { uid: 65534, gid: 65534 } }).boot(req);
    assert.equal(r.outcome, 'canceled', r.reason);
    assert.equal(uid?.split(/\s+/)[0], '65534');
    assert.deepEqual(r.containment.runAs, { uid: 65534, gid: 65534 });
    await assertCleanedUp(r, req.workDir);
  });

  it('gives a restricted user-mode NIC only to a profile that asks for one', async () => {
    const ac = new AbortController();
    let classes: number[] = [];
    let checks: Promise<void> | undefined;
    const req = request({
      profile: { ...defaultProfile, network: 'user-restricted' },
      signal: ac.signal,
      onStart: () => {
        checks = (async () => {
          try {
            const socket = path.join(req.workDir, 'qmp.sock');
            assert.ok(await waitFor(async () => (await stat(socket).catch(() => null))?.isSocket() === true, 5000, 10), 'QMP socket');
            const qmp = await QmpClient.connect(socket, 3000);
            try {
              const buses = (await qmp.execute('query-pci')) as Array<{ devices: Array<{ class_info: { class: number } }> }>;
              classes = buses.flatMap((b) => b.devices.map((d) => d.class_info.class));
            } finally {
              qmp.close();
            }
          } finally {
            ac.abort();
          }
        })();
        checks.catch(() => undefined);
      },
    });
    const r = await silentLauncher.boot(req);
    await checks;
    assert.equal(r.outcome, 'canceled', r.reason);
    assert.ok(classes.includes(0x0200), `an Ethernet controller (classes ${classes.map((c) => c.toString(16)).join(',')})`);
    assert.equal(r.command.argv[r.command.argv.indexOf('-netdev') + 1], 'user,id=net0,restrict=on');
    assert.ok(!r.command.argv.includes('-nic'));
    assert.equal(r.containment.network, 'user-restricted');
    await assertCleanedUp(r, req.workDir);
  });

  it('refuses KVM here with the validator\'s reasons, and never falls back to TCG', async () => {
    const kvmProfile: VmProfile = { ...defaultProfile, accel: 'kvm' };
    const blind = new QemuLauncher({ backend: 'qemu-kvm' });
    assert.equal(blind.id, 'qemu-kvm');
    assert.match(blind.unsupportedReasons(kvmProfile).join(' | '), /needs the host capabilities/);
    const host = await probeHostCapabilities();
    const kvm = new QemuLauncher({ backend: 'qemu-kvm', host });
    if (host.hostArch === 'x86_64') {
      assert.ok(kvm.unsupportedReasons(kvmProfile).includes('host is x86_64: no KVM for aarch64 guests'));
      await assert.rejects(kvm.boot(request({ profile: kvmProfile })), ProfileNotSupportedError);
    }
    assert.equal(kvm.unsupportedReasons(defaultProfile)[0], 'accel tcg needs the qemu-tcg backend, not qemu-kvm');
    assert.deepEqual(new QemuLauncher({ host }).unsupportedReasons(kvmProfile), ['accel kvm needs the qemu-kvm backend, not qemu-tcg']);
    const noArmFirmware = new QemuLauncher({
      host: { ...host, firmware: host.firmware.map((f) => (f.key === 'arm/edk2' && f.role === 'code' ? { ...f, present: false, sha256: null } : f)) },
    });
    assert.deepEqual(noArmFirmware.unsupportedReasons({ ...defaultProfile, arch: 'arm', hwDescription: 'dt' }), [
      'AArch32 needs a 32-bit UEFI build (AAVMF32_CODE.fd not installed; Debian package qemu-efi-arm)',
    ]);
    assert.deepEqual(noArmFirmware.explain({ ...defaultProfile, disk: 'virtio-mmio' }).reasons, ['virtio-mmio is not hotpluggable (devices are fixed at boot)']);
  });

  it('rejects unusable requests before doing anything', async () => {
    await assert.rejects(launcher.boot(request({ workDir: 'relative/dir' })), BootRequestInvalidError);
    await assert.rejects(launcher.boot(request({ image: { path: 'x.raw', format: 'raw' } })), BootRequestInvalidError);
    await assert.rejects(launcher.boot(request({ image: { path: blank, format: 'vmdk' as 'raw' } })), BootRequestInvalidError);
    await assert.rejects(launcher.boot(request({ timeoutMs: 0 })), BootRequestInvalidError);
    await assert.rejects(launcher.boot(request({ workDir: `/tmp/${'x'.repeat(120)}` })), /too long for a UNIX socket/);
    await assert.rejects(launcher.boot(request({ profile: { ...defaultProfile, firmware: 'u-boot' } })), ProfileNotSupportedError);
    await assert.rejects(launcher.boot(request({ profile: { ...defaultProfile, accel: 'kvm', arch: 'arm' } })), (e: ProfileNotSupportedError) => {
      assert.equal(e.code, 'PROFILE_NOT_SUPPORTED');
      assert.equal(e.problems.length, 2);
      return true;
    });
  });
});
