// Speed of the spine, as ratios against baselines measured in the same run:
//   1. bare QEMU booting the probe (same firmware, overlay and flags, no launcher)  = baseline
//   2. the emulator core's QemuLauncher (containment, capture, analysis, cleanup)
//   3. the whole farm: POST /api/runs → run passed (BullMQ, worker, PostgreSQL writes)
//   4. streamed upload over HTTP vs hashing + copying the same file locally
// Usage: node bench/spine.bench.mjs [rounds]   (run `npm run build` first). Prints, never fails on timing.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { QemuLauncher, defaultProfile } from '../packages/emulator/dist/index.js';
import { ensureProbeImage } from '../packages/probe/dist/index.js';
import { startFarm, waitFor } from '../e2e/dist/farm.harness.js';

const rounds = Number(process.argv[2] ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const probe = await ensureProbeImage();
const scratch = mkdtempSync(join(tmpdir(), 'bootfarm-bench-'));

async function bareQemu(i) {
  const dir = join(scratch, `bare-${i}`);
  execFileSync('mkdir', ['-p', dir]);
  copyFileSync('/usr/share/AAVMF/AAVMF_VARS.fd', join(dir, 'vars.fd'));
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', probe.imagePath, '-F', 'raw', join(dir, 'overlay.qcow2')]);
  const started = performance.now();
  const qemu = spawn('qemu-system-aarch64', [
    '-M', 'virt,accel=tcg,gic-version=3', '-cpu', 'cortex-a72', '-smp', '1', '-m', '512', '-nodefaults', '-no-user-config',
    '-nic', 'none', '-display', 'none', '-no-reboot', '-boot', 'menu=on,splash-time=0', '-serial', 'stdio',
    '-drive', 'if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/AAVMF/AAVMF_CODE.fd',
    '-drive', `if=pflash,format=raw,unit=1,file=${join(dir, 'vars.fd')}`,
    '-drive', `if=none,id=d0,format=qcow2,file=${join(dir, 'overlay.qcow2')}`, '-device', 'virtio-blk-pci,drive=d0',
  ], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  qemu.stdout.on('data', (c) => (out += c));
  await new Promise((r) => qemu.once('exit', r));
  if (!out.includes('VMSPEC-PROBE result=done')) throw new Error('bare boot did not reach the probe verdict');
  return performance.now() - started;
}

async function launcher(i) {
  const started = performance.now();
  const report = await new QemuLauncher().boot({
    image: { path: probe.imagePath, format: 'raw' }, profile: defaultProfile, workDir: join(scratch, `launcher-${i}`), timeoutMs: 120_000,
  });
  if (report.outcome !== 'passed') throw new Error(`launcher boot: ${report.reason}`);
  return performance.now() - started;
}

const table = [];
const measure = async (name, fn) => {
  const samples = [];
  for (let i = 0; i < rounds; i++) samples.push(await fn(i));
  table.push({ name, median: median(samples), min: Math.min(...samples), max: Math.max(...samples) });
};

await measure('bare QEMU boot (baseline)', bareQemu);
await measure('QemuLauncher.boot', launcher);

const farm = await startFarm();
try {
  const up = await farm.api(`/api/images?name=probe&format=raw`, {
    method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Readable.toWeb(createReadStream(probe.imagePath)), duplex: 'half',
  });
  const image = await up.json();
  await measure('farm: POST /api/runs → passed', async () => {
    const started = performance.now();
    const run = await (await farm.api(`/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ imageId: image.id }) })).json();
    let status = run.status;
    await waitFor(async () => {
      status = (await (await farm.api(`/api/runs/${run.id}`)).json()).status;
      return status !== 'queued' && status !== 'running';
    }, 120_000);
    if (status !== 'passed') throw new Error(`farm run ${status}`);
    return performance.now() - started;
  });
  await measure('local sha256 + copy of the image (baseline)', async (i) => {
    const started = performance.now();
    createHash('sha256').update(readFileSync(probe.imagePath)).digest('hex');
    copyFileSync(probe.imagePath, join(scratch, `copy-${i}`));
    return performance.now() - started;
  });
  await measure('HTTP upload of the image (same bytes again)', async () => {
    const started = performance.now();
    const res = await farm.api(`/api/images?name=probe&format=raw`, {
      method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Readable.toWeb(createReadStream(probe.imagePath)), duplex: 'half',
    });
    if (!res.ok) throw new Error(`upload ${res.status}`);
    return performance.now() - started;
  });
} finally {
  await farm.stop();
  rmSync(scratch, { recursive: true, force: true });
}

const base = { boot: table[0].median, copy: table[3].median };
console.log(`spine bench: ${rounds} rounds each, probe image ${(readFileSync(probe.imagePath).length / 2 ** 20).toFixed(0)} MiB`);
for (const [i, row] of table.entries()) {
  const ratio = i < 3 ? row.median / base.boot : row.median / base.copy;
  console.log(`${row.name.padEnd(46)} median ${row.median.toFixed(0).padStart(6)} ms  (min ${row.min.toFixed(0)}, max ${row.max.toFixed(0)})  ×${ratio.toFixed(2)} of its baseline`);
}
