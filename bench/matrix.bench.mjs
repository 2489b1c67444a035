// Matrix expansion of a 10,000-cell matrix (validation, product, exclude/include, sort, one
// explainProfile per cell) against building the same 10,000 plain profile objects with the
// cartesian product alone. Both run in the same process, alternately; median of the rounds.
// Prints the ratio measured in this run; fails on nothing.
//
//   npx tsc -b packages/matrix && node bench/matrix.bench.mjs [rounds]
import { expandMatrix, MATRIX_MAX_CELLS } from '@bootfarm/matrix';
import { performance } from 'node:perf_hooks';

const rounds = Number(process.argv[2] ?? 21);
const range = (n, from, step = 1) => Array.from({ length: n }, (_, i) => from + i * step);
// 2 × 2 × 2 × 2 × 25 × 25 = 10,000 cells (disk, accel: the default profile's).
const axes = {
  arch: ['aarch64', 'arm'],
  firmware: ['edk2', 'u-boot'],
  hwDescription: ['acpi', 'dt'],
  gic: ['v2', 'v3'],
  cpus: range(25, 1),
  memoryMiB: range(25, 128, 128),
};
const spec = { axes };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function baseline() {
  const out = [];
  for (const arch of axes.arch)
    for (const firmware of axes.firmware)
      for (const hwDescription of axes.hwDescription)
        for (const gic of axes.gic)
          for (const cpus of axes.cpus)
            for (const memoryMiB of axes.memoryMiB) out.push({ arch, firmware, hwDescription, gic, disk: 'virtio-pci', cpus, memoryMiB, accel: 'tcg' });
  return out;
}

let sink = 0;
const time = (fn) => {
  const t = performance.now();
  sink += fn().length;
  return performance.now() - t;
};
for (let i = 0; i < 3; i++) {
  time(baseline);
  time(() => expandMatrix(spec)); // warm-up
}
const base = [];
const expand = [];
for (let i = 0; i < rounds; i++) {
  base.push(time(baseline));
  expand.push(time(() => expandMatrix(spec)));
}
const cells = expandMatrix(spec);
if (cells.length !== 10_000 || baseline().length !== 10_000) throw new Error(`expected 10000 cells, got ${cells.length}`);
const applicable = cells.filter((c) => c.applicable).length;
const b = median(base);
const e = median(expand);
console.log(`matrix: ${cells.length} cells (${applicable} applicable, ${cells.length - applicable} not; cap ${MATRIX_MAX_CELLS}), ${rounds} rounds, node ${process.version}`);
console.log(`cartesian product, plain objects (baseline): ${b.toFixed(2)} ms median  (${((b / cells.length) * 1e6).toFixed(0)} ns/cell)`);
console.log(`expandMatrix (full):                         ${e.toFixed(2)} ms median  (${((e / cells.length) * 1e6).toFixed(0)} ns/cell)`);
console.log(`expandMatrix/baseline ratio:                 ${(e / b).toFixed(1)}`);
if (sink === 0) console.log('');
