// The image cache authenticates to the scheduler with its token (the real scheduler is in
// e2e/tenancy.spec.ts; here a local HTTP server that checks the header the same way).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ImageCache, ImageFetchError } from './image.cache.js';

const token = `bft_${randomBytes(32).toString('base64url')}`;
const bytes = randomBytes(64 * 1024);
const image = { id: '8d7c3f4e-0000-4000-8000-000000000001', sha256: createHash('sha256').update(bytes).digest('hex') };
let server: Server;
let url: string;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bootfarm-image-cache-'));
  server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${token}`) return void res.writeHead(401).end('{}');
    res.end(bytes);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('without the token the fetch is refused as an infrastructure error; with it the verified image is cached', async () => {
  await assert.rejects(new ImageCache(join(dir, 'anonymous'), url).get(image), (err: Error) => err instanceof ImageFetchError && /401/.test(err.message));
  const path = await new ImageCache(join(dir, 'worker'), url, token).get(image);
  assert.deepEqual(readFileSync(path), bytes);
});
