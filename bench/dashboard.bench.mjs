// Dashboard page loads on the million-cell history database (history.seed.mjs): the real
// scheduler serving the built dashboard and its API, each page opened in headless Chromium as an
// admin and as the largest vendor, timed from navigation until the page shows its data (the
// element the Playwright specs wait for), p50/p95. Baseline in the same run: the dashboard's
// "not found" page (the app shell, its scripts and the sign-in check, no data), and under it the
// browser's own floor: a static page of the same size class with no script. Also prints the
// slowest API call of each page (server time to last byte, from Chromium's resource timing).
// Usage: npm run build && node bench/dashboard.bench.mjs [iterations]. Fails on nothing.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { chromium } from 'playwright-core';
import { freePort, useLocalServices } from '../packages/local-services/dist/index.js';
import { openHistoryDatabase } from './history.seed.mjs';

const iterations = Number(process.argv[2] ?? 10);
// PostgreSQL from DATABASE_URL (where the seeded database is kept), else a private one; Redis always private.
const services = await useLocalServices({ DATABASE_URL: process.env.DATABASE_URL });
const { dbUrl, sql } = await openHistoryDatabase(services.postgres.url);
const one = async (q, params = []) => (await sql.query(q, params)).rows[0];

// What the pages show: the largest vendor, its newest run with a failure, a failed cell with a
// console, the image with the most results, the most common signature, the newest night.
const vendor = await one(`SELECT vendor_id AS id FROM result GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`);
const failed = await one(
  `SELECT r.run_id, r.cell_id FROM result r JOIN console_chunk k ON k.attempt_id = r.attempt_id
   WHERE r.vendor_id = $1 AND r.outcome = 'failed' ORDER BY r.created_at DESC LIMIT 1`,
  [vendor.id],
);
const image = await one(`SELECT image_id AS id FROM result WHERE vendor_id = $1 GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`, [vendor.id]);
const signature = await one(`SELECT id FROM failure_signature ORDER BY occurrences DESC LIMIT 1`);
const night = await one(`SELECT max(nightly_date) AS d FROM run`);
await sql.end();

// The scheduler on the seeded database: no worker (nothing is booted), no nightly owner.
const dir = mkdtempSync(join(tmpdir(), 'bootfarm-bench-dashboard-'));
chmodSync(dir, 0o711); // the scheduler's unprivileged image inspector must reach the image store below
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const secret = () => `bft_${randomBytes(32).toString('base64url')}`;
const adminToken = secret();
const scheduler = spawn(process.execPath, ['apps/scheduler/dist/main.js'], {
  env: {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/',
    DATABASE_URL: dbUrl,
    REDIS_URL: services.redis.url,
    QUEUE_PREFIX: `bench-dashboard-${process.pid}`,
    SCHEDULER_PORT: String(port),
    SCHEDULER_URL: base,
    IMAGE_STORE_DIR: join(dir, 'images'),
    DASHBOARD_DIR: 'apps/dashboard/dist',
    BOOTFARM_ADMIN_TOKEN: adminToken,
    BOOTFARM_WORKER_TOKEN: secret(),
    RATE_LIMIT_REQUESTS: '1000000',
    CONSOLE_COMPACT_INTERVAL_MS: '0',
    LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
for (let i = 0; ; i++) {
  if (await fetch(`${base}/api/health`).then((r) => r.ok, () => false)) break;
  if (i > 600) throw new Error('the scheduler did not start');
  await new Promise((r) => setTimeout(r, 100));
}
const admin = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
const minted = await fetch(`${base}/api/vendors/${vendor.id}/tokens`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'bench', role: 'vendor' }) });
if (minted.status !== 201) throw new Error(`vendor token: ${minted.status} ${await minted.text()}`);
const vendorToken = (await minted.json()).token;

// The browser's floor: a page with no script, from a plain HTTP server on loopback.
const floor = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><p data-testid="static">static</p>'));
await new Promise((r) => floor.listen(0, '127.0.0.1', r));
const floorUrl = `http://127.0.0.1:${floor.address().port}`;

const pages = [
  ['baseline: not-found page (shell only)', '/no-such-page', 'not-found'],
  ['floor: static page, no script', `${floorUrl}/`, 'static'],
  ['runs list', '/', 'run-row'],
  ['run page (20 cells)', `/runs/${failed.run_id}`, 'matrix'],
  ['cell page (failed, console)', `/cells/${failed.cell_id}`, 'stage-mark'], // the console loaded, with its stage marks
  ['image page (history)', `/images/${image.id}`, 'history-cell'],
  ['failures (signatures)', '/failures', 'signature-row'],
  ['signature page', `/signatures/${signature.id}`, 'occurrence'],
  ['search: no filter', '/search', 'hit'],
  ['search: failed on xen', '/search?backend=xen&outcome=failed', 'hit'],
  ['search: console text', `/search?q=${encodeURIComponent('Kernel panic')}`, 'hit'],
  ['nightly trends', '/nightly', 'night-row'],
  ['one night', `/nightly/${night.d}`, 'night-vendor'],
];

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil(xs.length * q) - 1))];
const rows = [];
for (const [who, token] of [['admin', adminToken], ['vendor', vendorToken]]) {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 800 } });
  await ctx.addInitScript((t) => localStorage.setItem('bootfarm.token', t), token);
  for (const [name, path, testId] of pages) {
    const loads = [];
    const apiMs = [];
    for (let i = -1; i < iterations; i++) {
      const page = await ctx.newPage();
      const calls = [];
      page.on('requestfinished', (req) => {
        if (new URL(req.url()).pathname.startsWith('/api/')) calls.push(req.timing().responseEnd - req.timing().requestStart);
      });
      const t = performance.now();
      await page.goto(path.startsWith('http') ? path : `${base}${path}`, { waitUntil: 'commit' });
      await page.getByTestId(testId).first().waitFor({ timeout: 60_000 });
      const ms = performance.now() - t;
      if (i >= 0) {
        loads.push(ms); // the first load of each page only warms caches
        apiMs.push(Math.max(0, ...calls));
      }
      await page.close();
    }
    rows.push({ who, name, p50: quantile(loads, 0.5), p95: quantile(loads, 0.95), api: quantile(apiMs, 0.5) });
  }
  await ctx.close();
}
await browser.close();
floor.close();
scheduler.kill('SIGTERM');
await new Promise((r) => scheduler.once('exit', r));
rmSync(dir, { recursive: true, force: true });
await services.stop();

console.log(`\n${iterations} loads of each page, 1366×800, warm browser cache; ratio = p50 / the baseline's p50 (same user)`);
console.log('user'.padEnd(7), 'page'.padEnd(40), 'p50 ms'.padStart(8), 'p95 ms'.padStart(8), 'ratio'.padStart(7), 'slowest API p50 ms'.padStart(20));
for (const r of rows) {
  const baseline = rows.find((b) => b.who === r.who);
  console.log(r.who.padEnd(7), r.name.padEnd(40), r.p50.toFixed(0).padStart(8), r.p95.toFixed(0).padStart(8), (r.p50 / baseline.p50).toFixed(1).padStart(7), r.api.toFixed(0).padStart(20));
}
