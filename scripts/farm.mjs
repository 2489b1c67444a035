// Runs the whole farm on this machine. PostgreSQL and Redis come from DATABASE_URL / REDIS_URL
// or are private instances under .bootfarm/ (loopback only, kept between runs). Ctrl-C stops
// everything this script started. `--once` stops after the probe run (for scripts).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ensureDatabase, startPostgres, startRedis } from '../packages/local-services/dist/index.js';
import { ensureProbeImage } from '../packages/probe/dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const state = join(root, '.bootfarm');
const once = process.argv.includes('--once');
mkdirSync(join(state, 'logs'), { recursive: true });
const say = (m) => console.log(`farm: ${m}`);

const owned = [];
let databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  const server = await startPostgres({ dataDir: join(state, 'postgres') });
  owned.push(server);
  databaseUrl = await ensureDatabase(server.url, 'bootfarm');
  say(`private PostgreSQL at ${databaseUrl} (data in .bootfarm/postgres)`);
}
let redisUrl = process.env.REDIS_URL;
if (!redisUrl) {
  const server = await startRedis({ dataDir: join(state, 'redis') });
  owned.push(server);
  redisUrl = server.url;
  say(`private Redis at ${redisUrl} (data in .bootfarm/redis)`);
}

// The operator's bootstrap secrets: from the environment, else generated once and kept in
// .bootfarm/tokens.json (owner-only), so restarts do not pile up tokens.
const tokensFile = join(state, 'tokens.json');
const newSecret = () => `bft_${randomBytes(32).toString('base64url')}`;
const kept = existsSync(tokensFile) ? JSON.parse(readFileSync(tokensFile, 'utf8')) : {};
const generated = { admin: kept.admin ?? newSecret(), worker: kept.worker ?? newSecret() };
writeFileSync(tokensFile, JSON.stringify(generated), { mode: 0o600 });
const adminToken = process.env.BOOTFARM_ADMIN_TOKEN ?? generated.admin;
const workerToken = process.env.BOOTFARM_WORKER_TOKEN ?? generated.worker;

const schedulerPort = process.env.SCHEDULER_PORT ?? '8080';
const schedulerUrl = `http://127.0.0.1:${schedulerPort}`;
// The scheduler serves the built dashboard itself: one origin for the pages and the API.
const dashboardUrl = schedulerUrl;
const env = {
  ...process.env,
  DATABASE_URL: databaseUrl,
  REDIS_URL: redisUrl,
  SCHEDULER_PORT: schedulerPort,
  SCHEDULER_URL: schedulerUrl,
  DASHBOARD_DIR: process.env.DASHBOARD_DIR ?? join(root, 'apps/dashboard/dist'),
  IMAGE_STORE_DIR: process.env.IMAGE_STORE_DIR ?? join(state, 'images'),
  WORKER_WORK_DIR: process.env.WORKER_WORK_DIR ?? join(state, 'work'),
  WORKER_CACHE_DIR: process.env.WORKER_CACHE_DIR ?? join(state, 'cache', 'images'),
  BOOTFARM_ADMIN_TOKEN: adminToken,
  BOOTFARM_WORKER_TOKEN: workerToken,
  SCHEDULER_TOKEN: process.env.SCHEDULER_TOKEN ?? workerToken,
};

const children = [];
function start(name, args, cwd = root) {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(join(state, 'logs', `${name}.log`), { flags: 'a' });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  child.once('exit', (code, signal) => {
    if (!stopping) {
      console.error(`farm: ${name} exited (${code ?? signal}); see .bootfarm/logs/${name}.log`);
      void stop(1);
    }
  });
  children.push(child);
}

let stopping = false;
async function stop(code) {
  stopping = true;
  await Promise.all(children.map((c) => new Promise((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    c.once('exit', resolve);
    c.kill('SIGTERM');
  })));
  for (const server of owned) await server.stop();
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

async function until(check, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {}
    if (Date.now() > deadline) {
      console.error(`farm: ${what} did not come up in ${ms / 1000} s; see .bootfarm/logs/`);
      await stop(1);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

start('scheduler', ['apps/scheduler/dist/main.js']);
await until(async () => (await fetch(`${schedulerUrl}/api/health`)).ok, 60_000, 'the scheduler');
start('worker', ['apps/worker/dist/main.js']);
await until(async () => (await fetch(dashboardUrl)).ok, 30_000, 'the dashboard');
say(`scheduler ${schedulerUrl} (API docs ${schedulerUrl}/api/docs), dashboard ${dashboardUrl}, logs in .bootfarm/logs/`);

// A vendor for this machine's user, with a fresh token for the API and the dashboard.
const admin = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
const vendorName = process.env.BOOTFARM_VENDOR ?? 'local';
const known = await fetch(`${schedulerUrl}/api/vendors`, { headers: admin });
if (!known.ok) {
  console.error(`farm: the admin token was refused (${known.status}); was it revoked? delete .bootfarm/tokens.json or set BOOTFARM_ADMIN_TOKEN`);
  await stop(1);
}
let vendor = (await known.json()).find((v) => v.name === vendorName);
if (!vendor) vendor = await (await fetch(`${schedulerUrl}/api/vendors`, { method: 'POST', headers: admin, body: JSON.stringify({ name: vendorName }) })).json();
const issued = await fetch(`${schedulerUrl}/api/vendors/${vendor.id}/tokens`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'farm.sh', role: 'vendor' }) });
const { token } = await issued.json();
if (!issued.ok || !token) {
  console.error('farm: could not create a vendor token');
  await stop(1);
}
const auth = { authorization: `Bearer ${token}` };
say(`vendor "${vendorName}" API token (paste it into the dashboard; shown once): ${token}`);

const probe = await ensureProbeImage();
say(`submitting the probe image ${probe.imagePath} (sha256 ${probe.sha256.slice(0, 12)}…)`);
const up = await fetch(`${schedulerUrl}/api/images?name=vmspec-probe&format=raw`, {
  method: 'POST',
  headers: { 'content-type': 'application/octet-stream', ...auth },
  body: Readable.toWeb(createReadStream(probe.imagePath)),
  duplex: 'half',
});
const image = await up.json();
if (!up.ok) {
  console.error(`farm: upload refused: ${image.message}`);
  await stop(1);
}
const created = await fetch(`${schedulerUrl}/api/runs`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', ...auth },
  body: JSON.stringify({ imageId: image.id }),
});
let run = await created.json();
if (!created.ok) {
  console.error(`farm: run refused: ${run.message}`);
  await stop(1);
}
say(`run ${run.id} queued; booting under QEMU TCG + edk2…`);
await until(async () => {
  run = await (await fetch(`${schedulerUrl}/api/runs/${run.id}`, { headers: auth })).json();
  return !['queued', 'running'].includes(run.status);
}, 300_000, `run ${run.id}`);
for (const cell of run.cells) {
  const r = cell.result;
  say(`cell ${cell.key}: ${cell.status} at stage ${r?.stage} in ${((r?.durationMs ?? 0) / 1000).toFixed(2)} s: ${r?.reason}`);
  const facts = r?.facts?.probe;
  if (facts) say(`probe: UEFI ${facts.uefiRevision}, firmware ${facts.firmwareVendor}, ACPI 2.0 ${facts.acpi20Present ? 'present' : 'absent'}, FDT ${facts.fdtPresent ? 'present' : 'absent'}`);
}
say(`run ${run.status.toUpperCase()} — ${dashboardUrl}/runs/${run.id}`);
if (once) await stop(run.status === 'passed' ? 0 : 1);
say('serving; Ctrl-C stops the farm');
