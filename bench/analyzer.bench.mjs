// Console analyzer throughput vs bare line splitting, on the real samples.
// Build first: `npx tsc -b packages/emulator`; run: `node packages/emulator/bench/analyzer.bench.mjs [MB]`.
// Every sample is replayed as its own boot (fresh splitter, fresh analyzer), in 4 KiB chunks,
// round-robin over all samples until ~50 MB (or the MB given) went through. Both paths run in
// the same process, alternately, best of 3.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { ConsoleLineSplitter } from '../packages/emulator/dist/console-line.splitter.js';
import { BootConsoleAnalyzer, consoleSuccessMarkers } from '../packages/emulator/dist/boot-console.analyzer.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const samplesDir = path.resolve(here, '../fixtures/console');
const samples = readdirSync(samplesDir).filter((f) => f.endsWith('.log')).sort().map((f) => readFileSync(path.join(samplesDir, f)));
const oneRound = samples.reduce((n, b) => n + b.length, 0);
const targetBytes = Number(process.argv[2] ?? 50) * 1024 * 1024;
const rounds = Math.max(1, Math.round(targetBytes / oneRound));
const totalBytes = rounds * oneRound;
const CHUNK = 4096;

function run(analyze) {
  let lines = 0;
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (const buf of samples) {
      const splitter = new ConsoleLineSplitter();
      const analyzer = analyze ? new BootConsoleAnalyzer({ markers: consoleSuccessMarkers }) : null;
      let seq = 0;
      const feed = (out) => {
        for (const l of out) {
          lines++;
          if (analyzer) analyzer.feed({ seq: seq++, offsetMs: seq, text: l.text, end: l.end });
        }
      };
      for (let i = 0; i < buf.length; i += CHUNK) feed(splitter.push(buf.subarray(i, i + CHUNK)));
      feed(splitter.flush('eof'));
      if (analyzer) analyzer.result('exited');
    }
  }
  return { ms: performance.now() - t0, lines };
}

run(false);
run(true); // warm-up
const best = { split: Infinity, analyze: Infinity };
let lines = 0;
for (let i = 0; i < 3; i++) {
  best.split = Math.min(best.split, run(false).ms);
  const a = run(true);
  best.analyze = Math.min(best.analyze, a.ms);
  lines = a.lines;
}
const mb = totalBytes / (1024 * 1024);
const rate = (ms) => mb / (ms / 1000);
console.log(`input: ${samples.length} samples x ${rounds} rounds = ${mb.toFixed(1)} MiB, ${lines} lines, ${CHUNK}-byte chunks, node ${process.version}`);
console.log(`split only (ConsoleLineSplitter):       ${rate(best.split).toFixed(1)} MiB/s  (${best.split.toFixed(0)} ms)`);
console.log(`split + BootConsoleAnalyzer (full):      ${rate(best.analyze).toFixed(1)} MiB/s  (${best.analyze.toFixed(0)} ms)`);
console.log(`analyzer/split throughput ratio:         ${(rate(best.analyze) / rate(best.split)).toFixed(2)}  (analysis costs ${((best.analyze - best.split) / lines * 1e6).toFixed(0)} ns/line)`);
