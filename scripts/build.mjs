// Builds every workspace: the Prisma client, the TypeScript project graph, then the dashboard bundle.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const steps = [
  ['prisma client', 'node', ['scripts/prisma-generate.mjs']],
  ['typescript', 'npx', ['tsc', '-b']],
  ['dashboard', 'npm', ['run', 'build', '--workspace', '@bootfarm/dashboard']],
];
for (const [name, cmd, args] of steps) {
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(`build: ${name} failed\n${r.stdout}${r.stderr}`);
    process.exit(r.status ?? 1);
  }
  console.log(`build: ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
