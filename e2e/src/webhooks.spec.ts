// Webhooks through the whole farm: a vendor subscribes a local receiver, a real boot finishes,
// the receiver gets one `run.finished`, signed as documented; another vendor sees none of it.
import type { CreatedWebhookDto, RunDto, RunFinishedEvent, WebhookDeliveryDto, WebhookDto } from '@bootfarm/contracts';
import { ensureProbeImage } from '@bootfarm/probe';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { startFarm, waitFor, type Farm } from './farm.harness.js';

describe('webhooks', () => {
  let farm: Farm;
  let receiver: Server;
  let url: string;
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];

  before(async () => {
    // The receiver is on loopback, which a production farm refuses (WEBHOOK_ALLOW_PRIVATE_HOSTS).
    farm = await startFarm({ WEBHOOK_ALLOW_PRIVATE_HOSTS: 'true', WEBHOOK_RETRY_BASE_MS: '300' });
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    }).listen(0, '127.0.0.1');
    await new Promise((r) => receiver.once('listening', r));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/bootfarm`;
  });
  after(async () => {
    receiver?.close();
    await farm?.stop();
  });

  test('a finished run is delivered once to the vendor\'s webhook, signed with its secret', { timeout: 300_000 }, async () => {
    const json = { 'content-type': 'application/json' };
    const bad = await farm.api('/api/webhooks', { method: 'POST', headers: json, body: JSON.stringify({ url: 'file:///etc/passwd', events: ['run.finished'] }) });
    assert.equal(bad.status, 400);
    const created = await farm.api('/api/webhooks', { method: 'POST', headers: json, body: JSON.stringify({ url, events: ['run.finished'] }) });
    assert.equal(created.status, 201, await created.clone().text());
    const hook = (await created.json()) as CreatedWebhookDto;
    assert.match(hook.secret, /^bfwh_[\w-]{43}$/);
    const listed = (await (await farm.api('/api/webhooks')).json()) as WebhookDto[];
    assert.deepEqual(listed.map((h) => h.id), [hook.id]);
    assert.ok(!JSON.stringify(listed).includes(hook.secret), 'the secret is shown once, never listed');

    const probe = await ensureProbeImage();
    const up = await farm.api('/api/images?name=probe&format=raw', {
      method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Readable.toWeb(createReadStream(probe.imagePath)) as ReadableStream, duplex: 'half',
    } as RequestInit);
    const image = (await up.json()) as { id: string };
    let run = (await (await farm.api('/api/runs', { method: 'POST', headers: json, body: JSON.stringify({ imageId: image.id }) })).json()) as RunDto;
    await waitFor(async () => received.length > 0, 240_000, () => farm.log('scheduler').slice(-3000));
    run = (await (await farm.api(`/api/runs/${run.id}`)).json()) as RunDto;

    const [delivery] = received;
    const event = JSON.parse(delivery!.body) as RunFinishedEvent;
    assert.equal(event.event, 'run.finished');
    assert.equal(event.run.id, run.id);
    assert.equal(event.run.status, run.status);
    assert.equal(event.run.status, 'passed');
    assert.deepEqual(event.run.cells, { passed: 1 });
    assert.deepEqual(event.run.images.map((i) => i.id), [image.id]);
    assert.ok(event.run.images[0]!.compliance, 'the image\'s verdicts are in the event');
    // The documented scheme, computed here independently: t=<unix>,v1=hex(HMAC-SHA256(secret, "<t>.<body>")).
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(delivery!.headers['bootfarm-signature'])) ?? [];
    assert.ok(t && v1, String(delivery!.headers['bootfarm-signature']));
    assert.ok(Math.abs(Date.now() / 1000 - Number(t)) < 300);
    assert.equal(v1, createHmac('sha256', hook.secret).update(`${t}.${delivery!.body}`).digest('hex'));
    assert.notEqual(v1, createHmac('sha256', 'bfwh_guess').update(`${t}.${delivery!.body}`).digest('hex'));
    assert.equal(delivery!.headers['bootfarm-event'], 'run.finished');

    const log = (await (await farm.api(`/api/webhooks/${hook.id}/deliveries`)).json()) as WebhookDeliveryDto[];
    assert.equal(log.length, 1);
    assert.equal(log[0]!.status, 'delivered');
    assert.equal(log[0]!.eventKey, `run.finished:${run.id}`);
    assert.equal(log[0]!.id, delivery!.headers['bootfarm-delivery']);

    // Settling again (the API reads a finished run, the reconciler) delivers nothing more.
    await farm.api(`/api/runs/${run.id}/compliance`);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(received.length, 1, 'exactly one delivery');

    const other = await farm.createVendor('webhook-other');
    const as = (path: string, init: RequestInit = {}) => farm.api(path, { ...init, headers: { ...init.headers, authorization: `Bearer ${other.token}` } });
    assert.deepEqual(await (await as('/api/webhooks')).json(), []);
    const theirs = await as(`/api/webhooks/${hook.id}/deliveries`);
    const missing = await as('/api/webhooks/00000000-0000-4000-8000-000000000000/deliveries');
    assert.equal(theirs.status, 404);
    assert.equal((await theirs.text()).replaceAll(hook.id, '<id>'), (await missing.text()).replaceAll('00000000-0000-4000-8000-000000000000', '<id>'));
    assert.equal((await as(`/api/webhooks/${hook.id}`, { method: 'DELETE' })).status, 404);
    assert.equal((await farm.api(`/api/webhooks/${hook.id}`, { method: 'DELETE' })).status, 204);
  });
});
