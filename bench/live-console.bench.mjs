// Live console latency: how long after the worker reads a guest's console line does a client hold it?
//   1. the SSE stream GET /api/cells/:id/console/stream (woken by LISTEN/NOTIFY)
//   2. baseline: polling GET /api/cells/:id/console?afterSeq= every POLL_MS (what a page without the stream does)
// A line's print time is QEMU's start (from /proc/<pid>/stat, on the clock of /proc/uptime, 10 ms
// resolution) plus the line's offsetMs. Both clients follow the same boots of the Linux fixture.
// A third client LISTENs on the console channel itself, which splits the stream's latency into
// print → NOTIFY (the worker's batching and insert) and NOTIFY → client (the scheduler's fan-out).
// Usage: node bench/live-console.bench.mjs [rounds] (after `npm run build`). Prints, never fails on timing.
import { readdirSync, readFileSync, createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import pg from 'pg';
import { ensureFixture } from '../packages/fixtures/dist/index.js';
import { startFarm, waitFor } from '../e2e/dist/farm.harness.js';
import { readSse } from '../e2e/dist/sse.client.js';

const rounds = Number(process.argv[2] ?? 3);
const POLL_MS = 500;
const TICK_MS = 10; // CLK_TCK 100 on Linux

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (xs) => `p50 ${pct(xs, 50).toFixed(0)} ms, p95 ${pct(xs, 95).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms (${xs.length} lines)`;

/** Epoch ms minus ms since boot (the clock /proc/<pid>/stat's starttime counts in). */
function bootEpochOffset() {
  const samples = [];
  for (let i = 0; i < 9; i++) {
    const before = Date.now();
    const up = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
    samples.push((before + Date.now()) / 2 - up);
  }
  return samples.sort((a, b) => a - b)[4];
}

/** Start time (epoch ms) of the first QEMU process whose command line mentions `needle`. */
function qemuStartEpoch(needle, offset) {
  let best = null;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes(needle) || !cmd.includes('qemu-system')) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const starttime = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
      const at = offset + starttime * TICK_MS;
      if (best === null || at < best) best = at;
    } catch {
      // exited meanwhile
    }
  }
  return best;
}

const guest = await ensureFixture('linux-uki');
const farm = await startFarm();
try {
  const up = await farm.api('/api/images?name=linux-uki&format=raw', {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: Readable.toWeb(createReadStream(guest.path)),
    duplex: 'half',
  });
  const imageId = (await up.json()).id;
  const listener = new pg.Client({ connectionString: farm.env.DATABASE_URL });
  await listener.connect();
  await listener.query('LISTEN bootfarm_console');
  const notified = new Map(); // lastSeq -> epoch ms, for the cell being booted
  let watching = null;
  listener.on('notification', (msg) => {
    const n = JSON.parse(msg.payload);
    if (n.cellId === watching) notified.set(n.lastSeq, Date.now());
  });
  const sse = [];
  const polled = [];
  const toNotify = [];
  const fanOut = [];
  for (let round = 0; round < rounds; round++) {
    const run = await (await farm.api('/api/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ imageId, timeoutSec: 180 }) })).json();
    const cellId = run.cells[0].id;
    watching = cellId;
    notified.clear();
    let qemuAt = null;
    const watcher = setInterval(() => {
      qemuAt ??= qemuStartEpoch(farm.dir, bootEpochOffset());
    }, 20);
    const seenSse = [];
    const seenPoll = [];
    const streaming = (async () => {
      for await (const ev of readSse(await farm.api(`/api/cells/${cellId}/console/stream`))) {
        if (ev.event === 'end') return;
        if (ev.event === 'message') {
          const line = JSON.parse(ev.data);
          seenSse.push({ at: performance.timeOrigin + ev.receivedAt, offsetMs: line.offsetMs, seq: line.seq });
        }
      }
    })();
    let afterSeq = -1;
    let done = false;
    const polling = (async () => {
      while (!done) {
        const page = await (await farm.api(`/api/cells/${cellId}/console?afterSeq=${afterSeq}&limit=5000`)).json();
        const at = Date.now();
        for (const l of page.lines) seenPoll.push({ at, offsetMs: l.offsetMs });
        if (page.lines.length) afterSeq = page.lines.at(-1).seq;
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    })();
    await streaming;
    done = true;
    await polling;
    clearInterval(watcher);
    await waitFor(async () => (await (await farm.api(`/api/runs/${run.id}`)).json()).status !== 'running', 60_000);
    if (qemuAt === null) throw new Error('QEMU was never seen in /proc');
    sse.push(...seenSse.map((l) => l.at - (qemuAt + l.offsetMs)));
    if (process.env.BENCH_DEBUG) console.log(seenSse.map((l) => `${l.offsetMs}:${(l.at - (qemuAt + l.offsetMs)).toFixed(0)}`).join(" "));
    polled.push(...seenPoll.map((l) => l.at - (qemuAt + l.offsetMs)));
    // Per batch (its last seq is in the NOTIFY): print of that line → NOTIFY → SSE client.
    for (const l of seenSse) {
      const at = notified.get(l.seq);
      if (at === undefined) continue;
      toNotify.push(at - (qemuAt + l.offsetMs));
      fanOut.push(l.at - at);
    }
    console.log(`round ${round + 1}: ${seenSse.length} lines streamed`);
  }
  console.log(`guest print → client, SSE stream:          ${fmt(sse)}`);
  console.log(`guest print → client, polling every ${POLL_MS} ms: ${fmt(polled)}`);
  console.log(`  of which print → NOTIFY (worker batch + insert): ${fmt(toNotify).replace('lines', 'batches')}`);
  console.log(`  and NOTIFY → SSE client (scheduler):           ${fmt(fanOut).replace('lines', 'batches')}`);
  await listener.end();
  console.log(`ratio (poll / SSE) at p50: ${(pct(polled, 50) / pct(sse, 50)).toFixed(2)}×; the worker batches every 250 ms, so ~125 ms is the floor of the median`);
} finally {
  await farm.stop();
}
