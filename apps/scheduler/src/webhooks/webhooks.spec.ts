// Webhooks: the URL policy and the signature (small), and delivery with retries against a local
// receiver on real PostgreSQL and Redis (medium).
import 'reflect-metadata';
import { WEBHOOK_HEADERS } from '@bootfarm/contracts';
import { createPrismaClient, ImageRepository, migrateDeploy, RunRepository, WebhookRepository, type PrismaClient } from '@bootfarm/db';
import { useLocalServices, type LocalServices } from '@bootfarm/local-services';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { SchedulerConfig } from '../config.js';
import { BootQueue } from '../queue/boot.queue.js';
import { assertDeliverableUrl } from './webhook-url.policy.js';
import { WebhookDispatcher } from './webhook.dispatcher.js';
import { signWebhook, verifyWebhookSignature } from './webhook.signature.js';

describe('webhook URL policy', () => {
  const strict = { allowPrivate: false };
  for (const url of [
    'http://127.0.0.1:6379/', 'http://localhost.:80/', 'http://10.1.2.3/', 'http://172.20.0.1/', 'http://192.168.1.1/',
    'http://169.254.169.254/latest/meta-data/', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://[fe80::1]/', 'http://0.0.0.0/',
    'http://100.64.0.1/',
  ]) {
    test(`refuses ${url}: the farm's own networks`, async () => {
      await assert.rejects(assertDeliverableUrl(url, strict), /private, loopback or link-local|does not resolve/);
    });
  }
  test('refuses other schemes and credentials in the URL; accepts a public address', async () => {
    await assert.rejects(assertDeliverableUrl('ftp://93.184.216.34/', strict), /only http and https/);
    await assert.rejects(assertDeliverableUrl('file:///etc/passwd', strict), /only http and https/);
    await assert.rejects(assertDeliverableUrl('https://user:pw@93.184.216.34/', strict), /credentials/);
    await assert.rejects(assertDeliverableUrl('not a url', strict), /not a URL/);
    assert.equal((await assertDeliverableUrl('https://93.184.216.34/hook', strict)).pathname, '/hook');
    assert.equal((await assertDeliverableUrl('http://127.0.0.1:9/', { allowPrivate: true })).port, '9', 'an operator may allow private hosts');
  });
});

describe('webhook signature', () => {
  const body = '{"event":"run.finished"}';
  test('verifies what was signed, and only that, while it is fresh', () => {
    const header = signWebhook('s3cret', body, 1_000_000);
    assert.match(header, /^t=1000000,v1=[0-9a-f]{64}$/);
    assert.equal(verifyWebhookSignature('s3cret', header, body, 1_000_100), true);
    assert.equal(verifyWebhookSignature('s3cret', header, body.replace('finished', 'started'), 1_000_100), false, 'a changed body');
    assert.equal(verifyWebhookSignature('other', header, body, 1_000_100), false, 'another secret');
    assert.equal(verifyWebhookSignature('s3cret', header, body, 1_000_400), false, 'a replay after the tolerance');
    assert.equal(verifyWebhookSignature('s3cret', header.replace('t=1000000', 't=1000050'), body, 1_000_100), false, 'a moved timestamp');
    for (const bad of [undefined, '', 'v1=zz', 't=abc,v1=00', `t=1000000,v1=${'0'.repeat(63)}`]) assert.equal(verifyWebhookSignature('s3cret', bad, body, 1_000_000), false, String(bad));
  });
});

describe('webhook delivery (PostgreSQL, Redis, a local receiver)', () => {
  let services: LocalServices;
  let db: PrismaClient;
  let hooks: WebhookRepository;
  let dispatcher: WebhookDispatcher;
  let queue: BootQueue;
  let config: SchedulerConfig;
  let receiver: Server | undefined;
  let port: number;
  const got: { headers: IncomingMessage['headers']; body: string; answered: number }[] = [];

  before(async () => {
    services = await useLocalServices();
    const url = await services.createDatabase('bootfarm_webhooks');
    await migrateDeploy({ databaseUrl: url });
    db = createPrismaClient({ databaseUrl: url });
    hooks = new WebhookRepository(db);
    config = {
      DATABASE_URL: url, REDIS_URL: services.redis.url, QUEUE_PREFIX: `webhook-spec-${process.pid}-${Date.now().toString(36)}`,
      RECONCILE_INTERVAL_MS: 60_000, RECONCILE_GRACE_MS: 0,
      WEBHOOK_MAX_ATTEMPTS: 6, WEBHOOK_RETRY_BASE_MS: 200, WEBHOOK_TIMEOUT_MS: 2_000, WEBHOOK_ALLOW_PRIVATE_HOSTS: true,
    } as SchedulerConfig;
    queue = new BootQueue(config);
    dispatcher = new WebhookDispatcher(config, hooks, new RunRepository(db), queue);
    Logger.overrideLogger(['error']);
    // A port nothing listens on yet: the receiver is "down" at first.
    const probe = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => probe.once('listening', r));
    port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
  });

  after(async () => {
    await dispatcher.onApplicationShutdown();
    receiver?.close();
    const redis = new Redis(services.redis.url);
    const keys = await redis.keys(`${config.QUEUE_PREFIX}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await queue.onApplicationShutdown();
    await db.$disconnect();
    await services.stop();
  });

  const until = async (check: () => Promise<boolean>, what: string, ms = 30_000) => {
    const end = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  test('an event is recorded once per webhook, retried while the receiver is down, then delivered signed', async () => {
    const images = new ImageRepository(db);
    const acme = await images.ensureVendor('acme');
    const globex = await images.ensureVendor('globex');
    const hook = await hooks.create({ vendorId: acme, url: `http://127.0.0.1:${port}/hook`, events: ['run.finished'], secret: 'bfwh_test' });
    await hooks.create({ vendorId: acme, url: `http://127.0.0.1:${port}/other`, events: ['regression'], secret: 'x' });
    await hooks.create({ vendorId: globex, url: `http://127.0.0.1:${port}/globex`, events: ['run.finished'], secret: 'y' });

    const payload = { event: 'run.finished', run: { id: 'r1' } };
    const first = await dispatcher.emit(acme, 'run.finished', 'run.finished:r1', payload);
    const again = await dispatcher.emit(acme, 'run.finished', 'run.finished:r1', payload);
    assert.equal(first.length, 1, 'only the webhook subscribed to the event, only the vendor\'s');
    assert.deepEqual(again, [], 'the same event raised again is not recorded twice');

    dispatcher.onApplicationBootstrap();
    await until(async () => ((await hooks.deliveries(acme, hook.id, 10))![0]!.attempts >= 2), 'two failed attempts');
    const down = (await hooks.deliveries(acme, hook.id, 10))![0]!;
    assert.equal(down.status, 'pending');
    assert.equal(down.lastStatusCode, null);
    assert.match(down.lastError ?? '', /ECONNREFUSED|fetch failed/);

    // The receiver comes up: it answers 503 once, then accepts only correctly signed bodies.
    let answered = 0;
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const ok = verifyWebhookSignature('bfwh_test', req.headers[WEBHOOK_HEADERS.signature] as string, body, Math.floor(Date.now() / 1000));
        const status = answered++ === 0 ? 503 : ok ? 204 : 401;
        got.push({ headers: req.headers, body, answered: status });
        res.writeHead(status).end();
      });
    }).listen(port, '127.0.0.1');
    await until(async () => (await hooks.deliveries(acme, hook.id, 10))![0]!.status === 'delivered', 'the delivery');
    const done = (await hooks.deliveries(acme, hook.id, 10))![0]!;
    assert.equal(done.lastStatusCode, 204);
    assert.equal(done.lastError, null);
    assert.ok(done.attempts >= 4, `${done.attempts} attempts: refused twice, 503 once, then delivered`);
    assert.ok(done.deliveredAt);
    assert.deepEqual(got.map((g) => g.answered), [503, 204], 'retried after the 503, and delivered exactly once');
    const delivered = got.at(-1)!;
    assert.deepEqual(JSON.parse(delivered.body), payload);
    assert.equal(delivered.headers[WEBHOOK_HEADERS.event], 'run.finished');
    assert.equal(delivered.headers[WEBHOOK_HEADERS.delivery], done.id);
    assert.equal(await hooks.deliveries(globex, hook.id, 10), null, 'another vendor cannot read the log');

    // A forged delivery (wrong secret) is what the receiver turns away.
    const forged = await fetch(`http://127.0.0.1:${port}/hook`, {
      method: 'POST', body: delivered.body, headers: { [WEBHOOK_HEADERS.signature]: signWebhook('guessed', delivered.body, Math.floor(Date.now() / 1000)) },
    });
    assert.equal(forged.status, 401);
  });

  test('a receiver that never answers 2xx ends failed after the attempts, with its last status', async () => {
    const vendor = await new ImageRepository(db).ensureVendor('initech');
    let calls = 0;
    const gone = createServer((_req, res) => {
      calls++;
      res.writeHead(410).end();
    }).listen(0, '127.0.0.1');
    await new Promise((r) => gone.once('listening', r));
    try {
      const hook = await hooks.create({ vendorId: vendor, url: `http://127.0.0.1:${(gone.address() as AddressInfo).port}/`, events: ['run.finished'], secret: 's' });
      await dispatcher.emit(vendor, 'run.finished', 'run.finished:r2', { event: 'run.finished' });
      await until(async () => (await hooks.deliveries(vendor, hook.id, 10))![0]!.status === 'failed', 'the delivery to give up', 60_000);
      const d = (await hooks.deliveries(vendor, hook.id, 10))![0]!;
      assert.equal(d.attempts, config.WEBHOOK_MAX_ATTEMPTS);
      assert.equal(d.lastStatusCode, 410);
      assert.equal(d.lastError, 'HTTP 410');
      assert.equal(calls, config.WEBHOOK_MAX_ATTEMPTS);
    } finally {
      gone.close();
    }
  });

  test('a pending delivery Redis lost is queued again by the sweep', async () => {
    const vendor = await new ImageRepository(db).ensureVendor('umbrella');
    let bodies = 0;
    const ok = createServer((_req, res) => {
      bodies++;
      res.writeHead(200).end();
    }).listen(0, '127.0.0.1');
    await new Promise((r) => ok.once('listening', r));
    try {
      const hook = await hooks.create({ vendorId: vendor, url: `http://127.0.0.1:${(ok.address() as AddressInfo).port}/`, events: ['run.finished'], secret: 's' });
      // Recorded while the queue was unreachable: in PostgreSQL only.
      const [id] = await hooks.recordEvent(vendor, 'run.finished', 'run.finished:r3', { event: 'run.finished' });
      assert.ok(id);
      // The row's timestamp is PostgreSQL's clock rounded to the millisecond: let this one pass it.
      await new Promise((r) => setTimeout(r, 20));
      assert.ok((await dispatcher.resendPending()) >= 1);
      await until(async () => (await hooks.deliveries(vendor, hook.id, 10))![0]!.status === 'delivered', 'the swept delivery');
      await dispatcher.resendPending();
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(bodies, 1, 'a delivered event is not swept again');
    } finally {
      ok.close();
    }
  });
});
