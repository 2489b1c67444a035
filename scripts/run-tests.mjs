// Runs every compiled spec with node's test runner against real PostgreSQL and Redis: the
// servers in DATABASE_URL / REDIS_URL when set, else private ones started here for the run.
// Each test file makes its own database and BullMQ prefix; fault-injection tests start their own servers.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useLocalServices } from '../packages/local-services/dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const filter = process.argv.slice(2);

function specs(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'generated') continue;
    if (statSync(path).isDirectory()) out.push(...specs(path));
    else if (name.endsWith('.spec.js') && path.includes(`${'/dist/'}`)) out.push(path);
  }
  return out;
}

const files = ['packages', 'apps', 'e2e']
  .flatMap((d) => specs(join(root, d)))
  .map((f) => relative(root, f))
  .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('run-tests: no spec files found (did the build run?)');
  process.exit(1);
}

const services = await useLocalServices();
console.log(`run-tests: ${files.length} spec files; postgres ${services.postgres.owned ? 'private' : 'from DATABASE_URL'}, redis ${services.redis.owned ? 'private' : 'from REDIS_URL'}`);
const child = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=600000', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, DATABASE_URL: services.postgres.url, REDIS_URL: services.redis.url },
});
const code = await new Promise((resolve) => child.once('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
await services.stop();
process.exit(code);
