// Static inspection of a 16 GiB disk (raw and qcow2): wall time and bytes read by the inspector,
// beside the classic tool chain on the same file in the same run — `qemu-img info` + `sgdisk -v`
// + `mdir` of the ESP — printed as a ratio. Usage: node bench/inspect.bench.mjs [rounds]
// (after `npm run build`). Prints; never fails on timing.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectImage } from '../packages/inspect/dist/image.inspector.js';
import { ensureProbeImage } from '../packages/probe/dist/index.js';

const rounds = Number(process.argv[2] ?? 10);
const dir = mkdtempSync(join(tmpdir(), 'bootfarm-inspect-bench-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// A 16 GiB sparse raw disk whose first 64 MiB are the probe image (GPT + FAT32 ESP), GPT relocated to the end.
const probe = await ensureProbeImage();
const raw = join(dir, 'disk16g.raw');
execFileSync('cp', ['--sparse=always', probe.imagePath, raw]);
execFileSync('truncate', ['-s', '16G', raw]);
execFileSync('sgdisk', ['-e', raw], { stdio: 'ignore' }); // move the backup GPT to the new end
const qcow2 = join(dir, 'disk16g.qcow2');
execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);

const results = [];
for (const [name, path, format] of [['raw', raw, 'raw'], ['qcow2', qcow2, 'qcow2']]) {
  const ours = [];
  let bytesRead = 0;
  let findings = 0;
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    const report = await inspectImage(path, { declaredFormat: format, policy: { maxVirtualBytes: 32 * 1024 ** 3 } });
    ours.push(performance.now() - t);
    bytesRead = report.bytesRead;
    findings = report.findings.length;
  }
  const tools = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    execFileSync('qemu-img', ['info', '-f', format, '--output=json', '-U', path], { stdio: 'ignore' });
    // sgdisk and mdir need the raw guest view: for qcow2 they cannot read the file at all, which
    // is part of the point; run them on the raw twin so the chain is comparable.
    execFileSync('sgdisk', ['-v', raw], { stdio: 'ignore' });
    execFileSync('mdir', ['-i', `${raw}@@1M`, '-/', '::/EFI'], { stdio: 'ignore' });
    tools.push(performance.now() - t);
  }
  results.push({ name, ours: median(ours), tools: median(tools), bytesRead, findings });
}
rmSync(dir, { recursive: true, force: true });

console.log(`inspect bench: 16 GiB virtual disk, ${rounds} rounds, medians`);
for (const r of results) {
  console.log(`${r.name.padEnd(6)} inspectImage ${r.ours.toFixed(1).padStart(7)} ms, ${(r.bytesRead / 1024).toFixed(0)} KiB read, ${r.findings} findings | qemu-img info + sgdisk -v + mdir ${r.tools.toFixed(1).padStart(7)} ms | ratio ×${(r.ours / r.tools).toFixed(2)}`);
}
