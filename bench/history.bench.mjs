// History at scale: one million cells and a hundred thousand failures (seeded by history.seed.mjs),
// then the queries the dashboard's history views make and console full-text search, each timed
// through the repositories the API uses, p50/p95 server-side (PostgreSQL on loopback), beside a
// baseline measured in the same run: a primary-key lookup of one result. Targets: p95 ≤ 50 ms
// for history views, ≤ 300 ms for log search. Prints the query plans of the slowest three.
// Usage: npm run build && node bench/history.bench.mjs [iterations]. The seeded database
// (bootfarm_bench_history) is kept and reused on the server in DATABASE_URL (a private server
// starts empty each time); BENCH_RESEED=1 seeds it again. Fails on nothing.
import { performance } from 'node:perf_hooks';
import { PrismaPg } from '@prisma/adapter-pg';
import { useLocalServices } from '../packages/local-services/dist/index.js';
import { HistoryRepository, NightlyRepository, RunRepository, SearchRepository, SignatureRepository } from '../packages/db/dist/index.js';
import { PrismaClient } from '../packages/db/dist/generated/prisma/client.js';
import { openHistoryDatabase } from './history.seed.mjs';

const iterations = Number(process.argv[2] ?? 30);
const services = await useLocalServices();
const { dbUrl, sql } = await openHistoryDatabase(services.postgres.url);
const counts = (await sql.query(`SELECT (SELECT count(*) FROM cell) AS cells, (SELECT count(*) FROM result WHERE outcome <> 'passed') AS failures,
  (SELECT count(*) FROM console_chunk) AS consoles, (SELECT count(*) FROM failure_signature) AS signatures, pg_size_pretty(pg_database_size(current_database())) AS size`)).rows[0];
console.log(`database: ${counts.cells} cells, ${counts.failures} failures, ${counts.signatures} signatures, ${counts.consoles} consoles, ${counts.size}`);

// The repositories the scheduler uses, on a client that reports each query's SQL (for the plans).
const queries = [];
const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: dbUrl, max: 4 }), log: [{ emit: 'event', level: 'query' }] });
prisma.$on('query', (e) => queries.push({ sql: e.query, params: e.params }));
const signatures = new SignatureRepository(prisma);
const history = new HistoryRepository(prisma);
const search = new SearchRepository(prisma);
const nightly = new NightlyRepository(prisma);
const runs = new RunRepository(prisma);

const pick = async (q, params = []) => (await sql.query(q, params)).rows;
const vendors = await pick(`SELECT v.id, v.name, count(r.*) AS n FROM vendor v JOIN result r ON r.vendor_id = v.id GROUP BY v.id ORDER BY n DESC`);
const big = vendors[0];
const small = vendors.at(-1);
const topSigs = await pick(`SELECT id FROM failure_signature ORDER BY occurrences DESC LIMIT 20`);
const tailSigs = await pick(`SELECT id FROM failure_signature ORDER BY occurrences ASC LIMIT 20`);
const images = await pick(`SELECT image_id AS id FROM result GROUP BY image_id ORDER BY count(*) DESC LIMIT 20`);
const resultIds = await pick(`SELECT id FROM result TABLESAMPLE SYSTEM (1) LIMIT 50`);
const nights = await pick(`SELECT DISTINCT nightly_date AS d FROM run WHERE nightly_date IS NOT NULL ORDER BY 1 DESC LIMIT 20`);
const ALL = { allVendors: true };
const at = (list, i) => list[i % list.length];

/** Each case: a name, its kind (view or search) and one call (i varies the parameters). */
const cases = [
  ['baseline: one result by primary key', 'baseline', (i) => prisma.result.findUnique({ where: { id: at(resultIds, i).id }, select: { id: true, outcome: true } })],
  ['signatures list (admin)', 'view', () => signatures.list(ALL, { limit: 50 })],
  ['signatures list (largest vendor)', 'view', () => signatures.list(big.id, { limit: 50 })],
  ['signatures list, product, title filter', 'view', () => signatures.list(ALL, { kind: 'product', q: 'panic', limit: 50 })],
  ['signature page (a common one)', 'view', (i) => signatures.find(ALL, at(topSigs, i).id)],
  ['signature page (a rare one, vendor)', 'view', (i) => signatures.find(small.id, at(tailSigs, i).id)],
  ['signature occurrences page', 'view', (i) => signatures.occurrences(ALL, at(topSigs, i).id, { limit: 50 })],
  ['image history (30 results per cell)', 'view', (i) => history.imageHistory(ALL, at(images, i).id, { perCell: 30 })],
  ['regressions list', 'view', () => history.regressions(ALL, { limit: 50 })],
  ['regressions list (vendor, confirmed)', 'view', () => history.regressions(big.id, { state: 'confirmed', limit: 50 })],
  ['runs list (vendor)', 'view', () => runs.list(big.id, { limit: 25 })],
  ['nightly trends, 30 nights', 'view', () => nightly.trends(ALL, 30, new Date(`${nights[0].d}T12:00:00Z`))],
  ['nightly summary (one night)', 'view', (i) => nightly.summary(ALL, at(nights, i).d)],
  ['search: failed, newest first', 'view', () => search.search(ALL, { outcome: 'failed', limit: 50 })],
  ['search: vendor + failure class + 90 days', 'view', () => search.search(big.id, { failureClass: 'firmware_exception', from: new Date(Date.now() - 90 * 86_400_000).toISOString(), limit: 50 })],
  ['search: xen + acpi + timeout', 'view', () => search.search(ALL, { backend: 'xen', hwDescription: 'acpi', outcome: 'timeout', limit: 50 })],
  ['search: a rare signature', 'view', (i) => search.search(ALL, { signature: at(tailSigs, i).id, limit: 50 })],
  ['log search: common text ("Kernel panic")', 'search', () => search.search(ALL, { q: 'Kernel panic', limit: 50 })],
  ['log search: rare text (one address)', 'search', (i) => search.search(ALL, { q: `ffff8000${(0x10000 + i * 7919).toString(16)}`, limit: 50 })],
  ['log search: mid text + vendor', 'search', () => search.search(big.id, { q: 'Synchronous Exception', limit: 50 })],
  ['log search: text + filters', 'search', () => search.search(ALL, { q: 'VFS: Unable to mount', backend: 'qemu-kvm', limit: 50 })],
];

const rows = [];
for (const [name, kind, call] of cases) {
  await call(0); // warm: plans cached, pages in memory
  const ms = [];
  let lastSql = null;
  for (let i = 0; i < iterations; i++) {
    queries.length = 0;
    const t = performance.now();
    await call(i);
    ms.push(performance.now() - t);
    lastSql = [...queries];
  }
  ms.sort((a, b) => a - b);
  rows.push({ name, kind, p50: ms[Math.floor(ms.length / 2)], p95: ms[Math.min(ms.length - 1, Math.ceil(ms.length * 0.95) - 1)], sql: lastSql });
}
const baseline = rows.find((r) => r.kind === 'baseline');
console.log(`\n${iterations} calls each; ratio = p50 / baseline p50 (${baseline.p50.toFixed(2)} ms)`);
console.log('query'.padEnd(46), 'p50 ms'.padStart(8), 'p95 ms'.padStart(8), 'ratio'.padStart(8), ' target');
for (const r of rows) {
  const target = r.kind === 'view' ? 50 : r.kind === 'search' ? 300 : null;
  const verdict = target === null ? '' : `≤ ${target} ms: ${r.p95 <= target ? 'met' : 'MISSED'}`;
  console.log(r.name.padEnd(46), r.p50.toFixed(1).padStart(8), r.p95.toFixed(1).padStart(8), (r.p50 / baseline.p50).toFixed(1).padStart(8), ' ' + verdict);
}

// Plans of the slowest three (their most expensive statement), with actual times.
const slowest = rows.filter((r) => r.kind !== 'baseline').sort((a, b) => b.p95 - a.p95).slice(0, 3);
for (const r of slowest) {
  let worst = null;
  for (const q of r.sql ?? []) {
    if (!/^\s*SELECT/i.test(q.sql)) continue;
    const params = JSON.parse(q.params);
    const t = performance.now();
    const plan = await sql.query(`EXPLAIN (ANALYZE, BUFFERS) ${q.sql}`, params).catch(() => null);
    const took = performance.now() - t;
    if (plan && (!worst || took > worst.took)) worst = { took, plan: plan.rows.map((p) => p['QUERY PLAN']).join('\n') };
  }
  console.log(`\n--- plan: ${r.name} (p95 ${r.p95.toFixed(1)} ms)\n${worst?.plan ?? '(no plan captured)'}`);
}

await prisma.$disconnect();
await sql.end();
await services.stop();
