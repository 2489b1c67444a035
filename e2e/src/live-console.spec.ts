// The live console end to end: a real Linux guest under QEMU TCG + edk2, followed over
// Server-Sent Events while it boots, with a disconnect and a resume in the middle.
import type { ConsoleDto, RunDto } from '@bootfarm/contracts';
import { ensureFixture } from '@bootfarm/fixtures';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { startFarm, waitFor, type Farm } from './farm.harness.js';
import { readSse, type SseEvent } from './sse.client.js';

type Line = { seq: number; offsetMs: number; text: string; attempt: number };

describe('live console stream', () => {
  let farm: Farm;
  let imageId: string;

  before(async () => {
    const guest = await ensureFixture('linux-uki');
    // Compaction runs often and at once here, so streams and pages are also read from chunks.
    farm = await startFarm({ CONSOLE_STREAM_MAX_PER_CELL: '3', CONSOLE_STREAM_HEARTBEAT_MS: '300', CONSOLE_COMPACT_INTERVAL_MS: '300', CONSOLE_COMPACT_GRACE_MS: '0' });
    const up = await farm.api('/api/images?name=linux-uki&format=raw', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Readable.toWeb(createReadStream(guest.path)) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    assert.equal(up.status, 201, await up.clone().text());
    imageId = ((await up.json()) as { id: string }).id;
  });

  after(async () => {
    await farm?.stop();
  });

  const newCell = async () => {
    const created = await farm.api('/api/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ imageId, timeoutSec: 180 }) });
    assert.equal(created.status, 201, await created.clone().text());
    const run = (await created.json()) as RunDto;
    return { runId: run.id, cellId: run.cells[0]!.id };
  };
  const cellOf = async (runId: string) => ((await (await farm.api(`/api/runs/${runId}`)).json()) as RunDto).cells[0]!;
  const open = (cellId: string, signal: AbortSignal, headers: Record<string, string> = {}, query = '') =>
    farm.api(`/api/cells/${cellId}/console/stream${query}`, { headers, signal });

  test('lines arrive while the guest boots, and a reconnect with Last-Event-ID resumes without gaps or duplicates', async () => {
    const { runId, cellId } = await newCell();
    const first = new AbortController();
    const res = await open(cellId, first.signal);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);

    const before: SseEvent[] = [];
    let statusAtFirstLine: { status: string; hasResult: boolean } | null = null;
    for await (const ev of readSse(res)) {
      before.push(ev);
      if (ev.event === 'message' && !statusAtFirstLine) {
        const cell = await cellOf(runId);
        statusAtFirstLine = { status: cell.status, hasResult: cell.result !== null && cell.result !== undefined };
        // The per-cell bound (3 here): two more streams fit, a fourth is refused.
        const extra = [new AbortController(), new AbortController()];
        const extras = await Promise.all(extra.map((c) => open(cellId, c.signal)));
        assert.deepEqual(extras.map((r) => r.status), [200, 200]);
        const refused = await farm.api(`/api/cells/${cellId}/console/stream`);
        assert.equal(refused.status, 429, await refused.text());
        for (const c of extra) c.abort();
        // A disconnected client's slot is released: two streams fit again.
        const again = [new AbortController(), new AbortController()];
        await waitFor(async () => {
          const res = await open(cellId, again[0]!.signal);
          if (res.status !== 200) return false;
          return (await open(cellId, again[1]!.signal)).status === 200;
        }, 10_000);
        for (const c of again) c.abort();
      }
      if (before.filter((e) => e.event === 'message').length >= 25 || ev.event === 'end') break;
    }
    first.abort();
    assert.deepEqual(statusAtFirstLine, { status: 'running', hasResult: false }, 'the first line reached the client while the cell was running, before its result');
    assert.equal(before[0]!.event, 'attempt', 'the stream announces the attempt it follows');
    assert.deepEqual(JSON.parse(before[0]!.data), { attempt: 1 });
    const firstLines = before.filter((e) => e.event === 'message');
    assert.equal(firstLines.length, 25, 'the guest printed at least 25 lines before the first stream stopped reading');
    const lastId = firstLines.at(-1)!.id!;
    assert.equal(lastId, `1:${(JSON.parse(firstLines.at(-1)!.data) as Line).seq}`);

    // Resume: everything after the last line received, then the end of the cell.
    const resumed = new AbortController();
    const res2 = await open(cellId, resumed.signal, { 'last-event-id': lastId });
    const afterEvents: SseEvent[] = [];
    for await (const ev of readSse(res2)) {
      afterEvents.push(ev);
      if (ev.event === 'end') break;
    }
    resumed.abort();
    const end = afterEvents.at(-1)!;
    assert.equal(end.event, 'end');
    assert.deepEqual(JSON.parse(end.data), { status: 'passed', attempt: 1 });
    assert.ok(!afterEvents.some((e) => e.event === 'attempt'), 'same attempt: nothing to announce on resume');

    const streamed = [...firstLines, ...afterEvents.filter((e) => e.event === 'message')].map((e) => JSON.parse(e.data) as Line);
    assert.deepEqual(streamed.map((l) => l.seq), streamed.map((_, i) => i), 'seq 0..n-1: no gap, no duplicate');
    assert.ok(streamed.every((l) => l.attempt === 1));
    const stored = (await (await farm.api(`/api/cells/${cellId}/console?limit=5000`)).json()) as ConsoleDto;
    assert.deepEqual(streamed.map(({ seq, offsetMs, text }) => ({ seq, offsetMs, text })), stored.lines, 'the stream carries exactly what is stored');
    assert.ok(stored.lines.some((l) => l.text.includes('VMSPEC-GUEST-READY')));
  });

  test('a finished, compacted cell replays from ?afterSeq= and ends at once; unknown cells are not found', async () => {
    const { runId, cellId } = await newCell();
    // While it waits or boots, an idle stream still carries keep-alive comments.
    const raw = new AbortController();
    const reader = (await open(cellId, raw.signal)).body!.getReader();
    let text = '';
    const decoder = new TextDecoder();
    while (!text.includes(': keep-alive')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    assert.match(text, /\n: keep-alive\n/, 'a keep-alive comment every CONSOLE_STREAM_HEARTBEAT_MS');
    raw.abort();
    assert.match(text, /^retry: 1000\n\n/, 'the stream tells EventSource to reconnect after a second');
    await waitFor(async () => !['queued', 'running'].includes((await cellOf(runId)).status), 180_000, () => farm.log('worker'));
    const db = new pg.Client({ connectionString: farm.env.DATABASE_URL });
    await db.connect();
    const forms = async () => (await db.query<{ rows: number; chunks: number }>(
      `SELECT (SELECT count(*)::int FROM console_line l JOIN attempt a ON a.id = l.attempt_id WHERE a.cell_id = $1) AS rows,
              (SELECT count(*)::int FROM console_chunk c JOIN attempt a ON a.id = c.attempt_id WHERE a.cell_id = $1) AS chunks`, [cellId])).rows[0]!;
    await waitFor(async () => (await forms()).rows === 0, 30_000);
    assert.ok((await forms()).chunks >= 1, 'the finished console was compacted into chunks');
    await db.end();
    const stored = (await (await farm.api(`/api/cells/${cellId}/console?limit=5000`)).json()) as ConsoleDto;
    const n = stored.lines.length;
    assert.ok(n > 100 && stored.lines.every((l, i) => l.seq === i), 'the whole console, read back from chunks');
    const events: SseEvent[] = [];
    for await (const ev of readSse(await open(cellId, AbortSignal.timeout(30_000), {}, `?attempt=1&afterSeq=${n - 3}`))) events.push(ev);
    assert.deepEqual(events.map((e) => e.event), ['message', 'message', 'end'], 'the two last lines, then the end; the server closed the stream');
    assert.deepEqual(events.slice(0, 2).map((e) => (JSON.parse(e.data) as Line).seq), [n - 2, n - 1]);
    // The same from the dashboard's origin, which is how a browser reaches it.
    const proxied: SseEvent[] = [];
    for await (const ev of readSse(await fetch(`${farm.dashboardUrl}/api/cells/${cellId}/console/stream?attempt=1&afterSeq=${n - 3}`, { signal: AbortSignal.timeout(30_000), headers: farm.token ? { authorization: `Bearer ${farm.token}` } : {} }))) proxied.push(ev);
    assert.deepEqual(proxied.map((e) => [e.event, e.id, e.data]), events.map((e) => [e.event, e.id, e.data]));

    const missing = await farm.api('/api/cells/00000000-0000-4000-8000-000000000000/console/stream');
    assert.equal(missing.status, 404);
    const badId = await farm.api(`/api/cells/${cellId}/console/stream`, { headers: { 'last-event-id': 'x' } });
    assert.equal(badId.status, 400);
  });
});
