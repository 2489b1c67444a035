// Overhead of the emulator core per profile: the exact QEMU argv from buildQemuCommand run bare
// (no setpriv/prlimit, overlay and vars made by this script) vs QemuLauncher.boot (containment,
// console capture, analysis, cleanup). Boots the probe to its verdict; one boot at a time.
// Usage: node bench/emulator.bench.mjs [rounds]   (build first: npx tsc -b packages/emulator packages/probe)
// Prints medians and ratios; never fails on timing.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  QemuLauncher,
  buildOverlayCommand,
  buildQemuCommand,
  defaultProfile,
  profileKey,
  workDirLayout,
} from '../packages/emulator/dist/index.js';
// Not (yet) re-exported by the package index: imported from its module.
import { defaultFirmwareCatalog, defaultQemuSystemBinaries, firmwareFor } from '../packages/emulator/dist/firmware.catalog.js';
import { ensureProbeImage } from '../packages/probe/dist/index.js';

const rounds = Number(process.argv[2] ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const profiles = [
  { ...defaultProfile, firmware: 'edk2', hwDescription: 'acpi', gic: 'v3', disk: 'virtio-pci' },
  { ...defaultProfile, firmware: 'edk2', hwDescription: 'dt', gic: 'v2', disk: 'virtio-mmio' },
  { ...defaultProfile, firmware: 'u-boot', hwDescription: 'dt', gic: 'v3', disk: 'virtio-pci' },
  { ...defaultProfile, arch: 'arm', firmware: 'edk2', hwDescription: 'dt', gic: 'v2', disk: 'virtio-pci' },
];
const images = { aarch64: await ensureProbeImage(), arm: await ensureProbeImage({ arch: 'arm' }) };
const scratch = mkdtempSync(join(tmpdir(), 'bootfarm-emulator-bench-'));
const launcher = new QemuLauncher();
let n = 0;

/** Bare: same argv, overlay and vars made here, QEMU spawned directly; returns [qemu ms, whole ms]. */
async function bare(profile) {
  const t0 = performance.now();
  const dir = join(scratch, `bare-${++n}`);
  mkdirSync(dir, { mode: 0o700 });
  const layout = workDirLayout(dir);
  const firmware = firmwareFor(defaultFirmwareCatalog, profile.arch, profile.firmware);
  if (firmware.kind === 'pflash') copyFileSync(firmware.varsTemplate, layout.varsCopy);
  const [img, ...imgArgs] = buildOverlayCommand({ path: images[profile.arch].imagePath, format: 'raw' }, layout.overlay, '/usr/bin/qemu-img');
  execFileSync(img, imgArgs, { stdio: 'ignore' });
  const [bin, ...args] = buildQemuCommand({ profile }, { ...layout, qemuSystem: defaultQemuSystemBinaries[profile.arch], firmware });
  const started = performance.now();
  let out = '';
  const qemu = spawn(bin, args, { stdio: ['ignore', 'pipe', 'inherit'], cwd: dir });
  qemu.stdout.on('data', (d) => (out += d.toString('latin1')));
  const code = await new Promise((resolve) => qemu.on('close', resolve));
  const qemuMs = performance.now() - started;
  if (code !== 0 || !out.includes('VMSPEC-PROBE result=done')) throw new Error(`bare boot failed (${code}): ${out.slice(-500)}`);
  rmSync(dir, { recursive: true, force: true });
  return [qemuMs, performance.now() - t0];
}

/** Launcher: QemuLauncher.boot; QEMU start → exit from the report, and the whole call. */
async function viaLauncher(profile) {
  const t0 = performance.now();
  const r = await launcher.boot({
    image: { path: images[profile.arch].imagePath, format: 'raw' },
    profile,
    workDir: join(scratch, `launcher-${++n}`),
    timeoutMs: 60_000,
    successMarkers: [/VMSPEC-PROBE result=done/],
  });
  if (r.outcome !== 'passed' || r.exit.by !== 'self') throw new Error(`launcher boot: ${r.outcome} ${r.reason}`);
  return [r.exit.offsetMs, performance.now() - t0];
}

console.log(`emulator bench: ${rounds} rounds per profile, interleaved bare/launcher, probe boots to its verdict`);
console.log('profile'.padEnd(52), 'bare qemu', 'launcher qemu', 'ratio', '| bare whole', 'launcher whole', 'ratio');
try {
  await bare(profiles[0]); // warm the page cache (firmware, images, binaries)
  for (const profile of profiles) {
    const b = { qemu: [], whole: [] };
    const l = { qemu: [], whole: [] };
    for (let i = 0; i < rounds; i++) {
      const [bq, bw] = await bare(profile);
      const [lq, lw] = await viaLauncher(profile);
      b.qemu.push(bq), b.whole.push(bw), l.qemu.push(lq), l.whole.push(lw);
    }
    const [mbq, mlq, mbw, mlw] = [median(b.qemu), median(l.qemu), median(b.whole), median(l.whole)];
    console.log(
      profileKey(profile).padEnd(52),
      `${mbq.toFixed(0)} ms`.padStart(9),
      `${mlq.toFixed(0)} ms`.padStart(13),
      (mlq / mbq).toFixed(3).padStart(5),
      '|',
      `${mbw.toFixed(0)} ms`.padStart(10),
      `${mlw.toFixed(0)} ms`.padStart(14),
      (mlw / mbw).toFixed(3).padStart(5),
    );
  }
  console.log('target: QEMU start→exit ratio ≤ 1.05 (informational; the bench never fails on timing)');
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
