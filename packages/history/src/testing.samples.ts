/** For specs (`@bootfarm/history/testing`): a real console capture from fixtures/console, analysed as a worker would. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BootConsoleAnalyzer, consoleSuccessMarkers, sanitizeConsoleText, type ConsoleAnalysis } from '@bootfarm/emulator';
import type { ComparedLine } from './console-compare.js';

const samplesDir = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/console');

export interface Sample {
  lines: ComparedLine[];
  analysis: ConsoleAnalysis;
}

/** The `.tlog` of a capture, its lines as stored (sanitised, with offsets) and the analyzer's verdict. */
export function sample(name: string, edit: (text: string) => string = (t) => t): Sample {
  const lines = readFileSync(join(samplesDir, `${name}.tlog`), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l, seq) => {
      const m = /^\[\s*([\d.]+)\] ?(.*)$/.exec(l)!;
      return { seq, offsetMs: Math.round(Number(m[1]) * 1000), text: edit(sanitizeConsoleText(m[2]!.replaceAll('^[', '\x1b'))) };
    });
  const a = new BootConsoleAnalyzer({ markers: consoleSuccessMarkers });
  for (const l of lines) a.feed({ ...l, end: 'newline' });
  return { lines, analysis: a.result('exited') };
}
