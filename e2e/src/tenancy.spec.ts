// Tenancy and API security on real processes (reliability-and-security §4, §5.2 R1–R9): every
// route needs a token, another vendor's objects answer exactly like missing ones, roles are
// enforced, and the limits (rate, storage quota, JSON body size) answer 429 / 413.
import type { CreatedTokenDto, ErrorDto, ImageDto, MeDto, RunDto, RunListDto } from '@bootfarm/contracts';
import { ensureProbeImage } from '@bootfarm/probe';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { newSecret, startFarm, waitFor, type Farm } from './farm.harness.js';

const MISSING = '8d7c3f4e-0000-4000-8000-000000000000';
const RUNS_PER_WINDOW = 12;
const UPLOADS_PER_WINDOW = 6;

type Call = { status: number; text: string; headers: Headers };

describe('tenancy: tokens, roles, vendor isolation and limits', () => {
  let farm: Farm;
  let probePath: string;
  let probeSha: string;
  let quota: number;
  /** Vendor A (the farm's own vendor) and vendor B, each with an image; B also has a finished run. */
  let a: { vendorId: string; token: string };
  let b: { vendorId: string; token: string };
  let bImage: ImageDto;
  let bRun: RunDto;

  const call = async (token: string | null, path: string, init: RequestInit & { duplex?: 'half' } = {}): Promise<Call> => {
    const headers = new Headers(init.headers);
    if (token) headers.set('authorization', `Bearer ${token}`);
    const res = await fetch(`${farm.schedulerUrl}${path}`, { ...init, headers });
    return { status: res.status, text: await res.text(), headers: res.headers };
  };
  const postJson = (token: string | null, path: string, body: unknown) =>
    call(token, path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const upload = (token: string, body: Uint8Array | Readable, name: string, headers: Record<string, string> = {}) =>
    call(token, `/api/images?name=${name}&format=raw`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', ...headers },
      body: body instanceof Readable ? (Readable.toWeb(body) as ReadableStream) : (body as RequestInit['body']),
      duplex: 'half',
    });
  const json = <T>(c: Call) => JSON.parse(c.text) as T;

  before(async () => {
    const probe = await ensureProbeImage();
    probePath = probe.imagePath;
    probeSha = createHash('sha256').update(readFileSync(probePath)).digest('hex');
    quota = statSync(probePath).size + 1024 * 1024;
    farm = await startFarm({
      RATE_LIMIT_RUNS: String(RUNS_PER_WINDOW),
      RATE_LIMIT_UPLOADS: String(UPLOADS_PER_WINDOW),
      VENDOR_STORAGE_QUOTA_BYTES: String(quota),
    });
    a = { vendorId: json<MeDto>(await call(farm.token, '/api/me')).vendor.id, token: farm.token! };
    b = await farm.createVendor('vendor-b');
    const up = await upload(b.token, createReadStream(probePath), 'b-probe');
    assert.equal(up.status, 201, up.text);
    bImage = json<ImageDto>(up);
    const created = await postJson(b.token, '/api/runs', { imageId: bImage.id, timeoutSec: 120 });
    assert.equal(created.status, 201, created.text);
    bRun = json<RunDto>(created);
    await waitFor(async () => {
      bRun = json<RunDto>(await call(b.token, `/api/runs/${bRun.id}`));
      return bRun.status !== 'queued' && bRun.status !== 'running';
    }, 240_000, () => farm.log('worker'));
    assert.equal(bRun.status, 'passed', 'the worker fetched the image with its worker token and booted it');
  });

  after(async () => {
    await farm?.stop();
  });

  test('GET /api/me names the vendor and role of each kind of token', async () => {
    const me = json<MeDto>(await call(a.token, '/api/me'));
    assert.deepEqual([me.vendor.name, me.role], ['e2e', 'vendor']);
    const admin = json<MeDto>(await call(farm.adminToken, '/api/me'));
    assert.deepEqual([admin.vendor.name, admin.role], ['operators', 'admin']);
    const worker = json<MeDto>(await call(farm.env.SCHEDULER_TOKEN!, '/api/me'));
    assert.deepEqual([worker.vendor.name, worker.role], ['operators', 'worker']);
  });

  test('R6: missing, malformed, unknown and revoked tokens get one identical 401', async () => {
    const victim = await farm.createVendor('vendor-revoked');
    const live = await call(victim.token, '/api/runs');
    assert.equal(live.status, 200);
    const tokenId = json<MeDto>(await call(victim.token, '/api/me')).tokenId;
    const revoked = await call(farm.adminToken, `/api/tokens/${tokenId}`, { method: 'DELETE' });
    assert.equal(revoked.status, 204);

    const variants: Record<string, Record<string, string>> = {
      missing: {},
      'empty bearer': { authorization: 'Bearer ' },
      'wrong scheme': { authorization: `Basic ${Buffer.from(`x:${a.token}`).toString('base64')}` },
      malformed: { authorization: 'Bearer bft_short' },
      'right shape, unknown': { authorization: `Bearer ${newSecret()}` },
      'token with a trailing byte': { authorization: `Bearer ${a.token}x` },
      revoked: { authorization: `Bearer ${victim.token}` },
    };
    const answers = await Promise.all(Object.entries(variants).map(async ([what, headers]) => ({ what, res: await call(null, '/api/runs', { headers }) })));
    const reference = answers[0]!.res;
    assert.equal(reference.status, 401);
    assert.equal(reference.headers.get('www-authenticate'), 'Bearer');
    for (const { what, res } of answers) {
      assert.equal(res.status, 401, what);
      assert.equal(res.text, reference.text, `${what}: the body says nothing about why`);
    }
    assert.ok(!/revok|unknown|malformed|expired/i.test(reference.text), reference.text);
    // Revoking is idempotent; an unknown token id is a 404.
    assert.equal((await call(farm.adminToken, `/api/tokens/${tokenId}`, { method: 'DELETE' })).status, 204);
    assert.equal((await call(farm.adminToken, `/api/tokens/${MISSING}`, { method: 'DELETE' })).status, 404);
  });

  test('every documented route needs a token, except health, readiness, metrics and the API docs', async () => {
    const doc = json<{ paths: Record<string, Record<string, unknown>> }>(await call(null, '/api/openapi.json'));
    assert.equal((await call(null, '/api/docs')).status, 200);
    assert.equal((await call(null, '/api/health')).status, 200);
    // Operations endpoints: liveness, readiness and Prometheus scrapes carry no tenant data.
    const publicPaths = new Set(['/api/health', '/api/ready', '/metrics']);
    let checked = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      if (publicPaths.has(path)) continue;
      for (const method of Object.keys(methods)) {
        const res = await call(null, path.replace(/\{[^}]+\}/g, MISSING), { method: method.toUpperCase() });
        assert.equal(res.status, 401, `${method.toUpperCase()} ${path} answers ${res.status} without a token`);
        checked++;
      }
    }
    assert.ok(checked >= 12, `routes checked: ${checked}`);
  });

  test("R1: another vendor's run, cell, image, content and reports are 404, byte-identical to missing ones", async () => {
    const bCell = bRun.cells[0]!.id;
    const routes: [string, (id: string) => string, string][] = [
      ['run', (id) => `/api/runs/${id}`, bRun.id],
      ['image', (id) => `/api/images/${id}`, bImage.id],
      ['image content', (id) => `/api/images/${id}/content`, bImage.id],
      ['console', (id) => `/api/cells/${id}/console`, bCell],
      // B's cell is finished: the stream replays it and ends, so the whole body can be compared.
      ['live console', (id) => `/api/cells/${id}/console/stream`, bCell],
      ['compliance', (id) => `/api/runs/${id}/compliance`, bRun.id],
      ['junit', (id) => `/api/runs/${id}/compliance/junit`, bRun.id],
      ['html', (id) => `/api/runs/${id}/compliance/html`, bRun.id],
    ];
    for (const [what, path, bId] of routes) {
      const owner = await call(b.token, path(bId));
      assert.equal(owner.status, 200, `${what}: the owner reads it`);
      const admin = await call(farm.adminToken, path(bId));
      assert.equal(admin.status, 200, `${what}: an admin reads every vendor's`);
      const other = await call(a.token, path(bId));
      const missing = await call(a.token, path(MISSING));
      assert.equal(other.status, 404, `${what}: vendor A gets ${other.status}`);
      assert.equal(missing.status, 404);
      assert.equal(other.text.replaceAll(bId, '<id>'), missing.text.replaceAll(MISSING, '<id>'), `${what}: same body as a missing id`);
      assert.equal(other.headers.get('content-type'), missing.headers.get('content-type'));
      assert.ok(!other.text.includes(probeSha) && !other.text.includes('vendor-b'), `${what}: nothing of B leaks`);
    }
  });

  test('R2: a run of another vendor\'s image is refused like a missing image, and nothing is created', async () => {
    const before = json<RunListDto>(await call(a.token, '/api/runs?limit=100')).items.length;
    const other = await postJson(a.token, '/api/runs', { imageId: bImage.id });
    const missing = await postJson(a.token, '/api/runs', { imageId: MISSING });
    assert.equal(other.status, 404);
    assert.equal(other.text.replaceAll(bImage.id, '<id>'), missing.text.replaceAll(MISSING, '<id>'));
    assert.equal(json<RunListDto>(await call(a.token, '/api/runs?limit=100')).items.length, before);
    assert.deepEqual(json<RunListDto>(await call(b.token, '/api/runs?limit=100')).items.map((r) => r.id), [bRun.id]);
  });

  test('R3: lists are scoped to the caller; a vendor filter or a huge limit is refused', async () => {
    const aRuns = json<RunListDto>(await call(a.token, '/api/runs'));
    assert.ok(!aRuns.items.some((r) => r.id === bRun.id));
    assert.equal((await call(a.token, `/api/runs?vendorId=${b.vendorId}`)).status, 400, 'unknown query keys are refused, not applied');
    assert.equal((await call(a.token, '/api/runs?limit=1000000')).status, 400, 'limit is capped');
    assert.equal((await call(a.token, '/api/runs?limit=100')).status, 200);
    assert.equal((await call(a.token, `/api/cells/${bRun.cells[0]!.id}/console?limit=1000000`)).status, 400);
    const all = json<RunListDto>(await call(farm.adminToken, '/api/runs?limit=100'));
    assert.ok(all.items.some((r) => r.id === bRun.id), 'an admin lists every vendor');
  });

  test('R4: ownership and status fields cannot be set by the client', async () => {
    const aImage = json<ImageDto>(await upload(a.token, createReadStream(probePath), 'a-probe'));
    const forged = await postJson(a.token, '/api/runs', { imageId: aImage.id, vendorId: b.vendorId, status: 'passed', priority: 999, workerId: 'w1', verdict: 'pass' });
    assert.equal(forged.status, 400);
    assert.match(forged.text, /vendorId/, 'the answer names the refused field');
    for (const field of ['vendorId', 'status']) {
      const one = await postJson(a.token, '/api/runs', { imageId: aImage.id, [field]: field === 'vendorId' ? b.vendorId : 'passed' });
      assert.equal(one.status, 400, field);
    }
    // B's image cannot ride along with one of A's own in a run of several images (R2 again).
    const mixed = await postJson(a.token, '/api/runs', { imageIds: [aImage.id, bImage.id] });
    const mixedMissing = await postJson(a.token, '/api/runs', { imageIds: [aImage.id, MISSING] });
    assert.equal(mixed.status, 404);
    assert.equal(mixed.text.replaceAll(bImage.id, '<id>'), mixedMissing.text.replaceAll(MISSING, '<id>'));
    assert.equal((await postJson(a.token, '/api/runs', { imageId: aImage.id, imageIds: [aImage.id] })).status, 400, 'imageId or imageIds, not both');
    assert.equal((await postJson(a.token, '/api/runs', { imageIds: [aImage.id, aImage.id] })).status, 400, 'images are distinct');
    const vendorForged = await postJson(farm.adminToken, '/api/vendors', { name: 'x', id: MISSING });
    assert.equal(vendorForged.status, 400);
    assert.deepEqual(json<RunListDto>(await call(b.token, '/api/runs?limit=100')).items.map((r) => r.id), [bRun.id], "nothing was created in B's name");
  });

  test('R5: vendor and worker tokens get 403 on admin routes', async () => {
    for (const token of [a.token, farm.env.SCHEDULER_TOKEN!]) {
      assert.equal((await call(token, '/api/vendors')).status, 403);
      assert.equal((await postJson(token, '/api/vendors', { name: 'intruder' })).status, 403);
      assert.equal((await postJson(token, `/api/vendors/${a.vendorId}/tokens`, { name: 'more', role: 'admin' })).status, 403);
      assert.equal((await call(token, `/api/tokens/${MISSING}`, { method: 'DELETE' })).status, 403);
    }
    const body = json<ErrorDto>(await postJson(a.token, '/api/vendors', { name: 'intruder' }));
    assert.equal(body.statusCode, 403);
    // What an admin can do: list vendors; vendors are unique, tokens belong to existing vendors.
    const vendors = json<{ name: string }[]>(await call(farm.adminToken, '/api/vendors')).map((v) => v.name);
    for (const name of ['operators', 'e2e', 'vendor-b']) assert.ok(vendors.includes(name), vendors.join(','));
    assert.equal((await postJson(farm.adminToken, '/api/vendors', { name: 'vendor-b' })).status, 409);
    assert.equal((await postJson(farm.adminToken, `/api/vendors/${MISSING}/tokens`, { name: 'x' })).status, 404);
    const created = await postJson(farm.adminToken, `/api/vendors/${b.vendorId}/tokens`, { name: 'second' });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('cache-control'), 'no-store');
    const second = json<CreatedTokenDto>(created);
    assert.match(second.token, /^bft_[A-Za-z0-9_-]{43}$/);
    assert.equal(second.expiresAt, null, 'no expiry unless asked');
    const expiring = json<CreatedTokenDto>(await postJson(farm.adminToken, `/api/vendors/${b.vendorId}/tokens`, { name: 'ci-30d', expiresInDays: 30 }));
    assert.ok(Date.parse(expiring.expiresAt!) > Date.now() + 29 * 86_400_000, String(expiring.expiresAt));
    assert.equal((await call(expiring.token, '/api/me')).status, 200);
    assert.equal(json<MeDto>(await call(second.token, '/api/me')).vendor.id, b.vendorId);
  });

  test("R7: a worker token only fetches image content (any vendor's); a vendor token not another vendor's", async () => {
    const worker = farm.env.SCHEDULER_TOKEN!;
    const content = await fetch(`${farm.schedulerUrl}/api/images/${bImage.id}/content`, { headers: { authorization: `Bearer ${worker}` } });
    assert.equal(content.status, 200);
    assert.equal(createHash('sha256').update(Buffer.from(await content.arrayBuffer())).digest('hex'), probeSha);
    for (const [method, path] of [['GET', '/api/runs'], ['GET', `/api/runs/${bRun.id}`], ['GET', `/api/images/${bImage.id}`], ['GET', `/api/cells/${bRun.cells[0]!.id}/console`], ['GET', `/api/runs/${bRun.id}/compliance`], ['POST', '/api/runs']] as const) {
      const res = await call(worker, path, { method, headers: { 'content-type': 'application/json' }, ...(method === 'POST' && { body: JSON.stringify({ imageId: bImage.id }) }) });
      assert.equal(res.status, 403, `${method} ${path}`);
    }
    assert.equal((await upload(worker, new Uint8Array(16), 'w')).status, 403);
    assert.equal((await call(a.token, `/api/images/${bImage.id}/content`)).status, 404);
  });

  test('R8: run creation is rate limited per caller with Retry-After; another vendor is unaffected', async () => {
    const c = await farm.createVendor('vendor-burst');
    const d = await farm.createVendor('vendor-calm');
    let limited: Call | null = null;
    let sent = 0;
    // Fixed windows: the limit is reached within two windows' budget at most.
    while (!limited && sent <= 2 * RUNS_PER_WINDOW + 1) {
      const res = await postJson(c.token, '/api/runs', { imageId: MISSING });
      sent++;
      if (res.status === 429) limited = res;
      else assert.equal(res.status, 404);
    }
    assert.ok(limited, `no 429 after ${sent} run creations`);
    assert.ok(sent > RUNS_PER_WINDOW, `limited after ${sent}`);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1, 'Retry-After is given');
    assert.equal(json<ErrorDto>(limited).statusCode, 429);
    // Other budgets of the same caller, and other callers, are untouched.
    assert.equal((await call(c.token, '/api/runs')).status, 200, 'reads are a separate budget');
    assert.equal((await postJson(d.token, '/api/runs', { imageId: MISSING })).status, 404, 'vendor D is not limited');
  });

  test('uploads have their own rate budget', async () => {
    const e = await farm.createVendor('vendor-uploads');
    const statuses: number[] = [];
    for (let i = 0; i <= 2 * UPLOADS_PER_WINDOW + 1 && !statuses.includes(429); i++) statuses.push((await upload(e.token, new Uint8Array(0), `u${i}`)).status);
    assert.ok(statuses.includes(429), statuses.join(','));
    assert.ok(statuses.slice(0, UPLOADS_PER_WINDOW).every((s) => s === 422), 'empty images are refused until the budget is spent');
    assert.equal((await postJson(e.token, '/api/runs', { imageId: MISSING })).status, 404, 'run creation is a separate budget');
  });

  test('an unauthenticated upload is answered 401 and not read to its end', async () => {
    const limit = 200 * 1024 * 1024;
    const outcome = await new Promise<{ status: number; sent: number; closed: boolean }>((resolve) => {
      const req = request(`${farm.schedulerUrl}/api/images?name=anonymous&format=raw`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' } });
      let status = 0;
      let sent = 0;
      const chunk = new Uint8Array(1024 * 1024);
      const finish = (closed: boolean) => {
        clearTimeout(stuck);
        resolve({ status, sent, closed });
      };
      // Without a lingering close the connection would stay open, stalled, for ever.
      const stuck = setTimeout(() => {
        finish(false);
        req.destroy();
      }, 60_000);
      req.on('response', (res) => {
        status = res.statusCode ?? 0;
        res.resume();
      });
      req.on('error', () => finish(true));
      req.on('close', () => finish(true));
      const pump = () => {
        while (sent < limit) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
        finish(false);
      };
      pump();
    });
    assert.equal(outcome.status, 401);
    assert.ok(outcome.closed && outcome.sent < limit, `the server read ${outcome.sent} bytes of an anonymous upload`);
  });

  test('R9: a JSON body over the limit is a 413, on normal and admin routes', async () => {
    const big = JSON.stringify({ imageId: MISSING, pad: 'x'.repeat(2 * 1024 * 1024) });
    const res = await call(a.token, '/api/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    assert.equal(res.status, 413);
    assert.equal(json<ErrorDto>(res).statusCode, 413);
    const justOver = JSON.stringify({ name: 'x'.repeat(65 * 1024) });
    assert.equal((await call(farm.adminToken, '/api/vendors', { method: 'POST', headers: { 'content-type': 'application/json' }, body: justOver })).status, 413);
    const normal = await postJson(a.token, '/api/runs', { imageId: MISSING });
    assert.equal(normal.status, 404, 'a normal body still works');
  });

  test('the storage quota: an upload that would exceed it is a 413 quota_exceeded, the same bytes again are free', async () => {
    const q = await farm.createVendor('vendor-quota');
    assert.equal((await upload(q.token, createReadStream(probePath), 'first')).status, 201, 'fits the quota');
    assert.equal((await upload(q.token, createReadStream(probePath), 'again')).status, 200, 'known bytes take no new space');
    // Counted while streaming (no Content-Length).
    const streamed = await upload(q.token, Readable.from([new Uint8Array(2 * 1024 * 1024)]), 'more');
    assert.equal(streamed.status, 413, streamed.text);
    assert.equal(json<ErrorDto>(streamed).error, 'quota_exceeded');
    // Refused from a truthful Content-Length before the body is read.
    const declared = await new Promise<{ status: number; body: ErrorDto }>((resolve, reject) => {
      const req = request(`${farm.schedulerUrl}/api/images?name=declared&format=raw`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(2 * 1024 * 1024), authorization: `Bearer ${q.token}` },
      });
      let answered = false;
      req.on('response', (res) => {
        answered = true;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as ErrorDto }));
      });
      req.on('error', (err) => {
        if (!answered) reject(err);
      });
      req.write(new Uint8Array(64 * 1024)); // then wait for the answer
    });
    assert.equal(declared.status, 413);
    assert.equal(declared.body.error, 'quota_exceeded');
    // Another vendor's quota is its own: the same bytes reach inspection (and are refused as not a disk).
    const fresh = await farm.createVendor('vendor-roomy');
    assert.equal((await upload(fresh.token, new Uint8Array(2 * 1024 * 1024), 'more')).status, 422);
  });
});
