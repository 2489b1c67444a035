// Medium tests: real PostgreSQL, a fresh migrated database per file.
import { migratedDatabase } from '../testing/migrated-database.js';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PrismaClient } from '../client.js';
import { ImageRepository, StorageQuotaExceededError } from './image.repository.js';
import { RunRepository } from './run.repository.js';
import { ALL_VENDORS } from './scope.js';
import { hashTokenSecret, newTokenSecret, TOKEN_PATTERN, TokenRepository } from './token.repository.js';
import { VendorExistsError, VendorRepository } from './vendor.repository.js';
import { defaultProfile } from '@bootfarm/contracts';

describe('tokens, vendors and scoping on PostgreSQL', () => {
  let close: (() => Promise<void>) | undefined;
  let db: PrismaClient;
  let tokens: TokenRepository;
  let vendors: VendorRepository;
  let images: ImageRepository;
  let runs: RunRepository;

  before(async () => {
    ({ db, close } = await migratedDatabase());
    tokens = new TokenRepository(db);
    vendors = new VendorRepository(db);
    images = new ImageRepository(db);
    runs = new RunRepository(db);
  });

  after(async () => {
    await close?.();
  });

  test('a new secret has the documented shape and only its sha256 is stored', async () => {
    const acme = await vendors.create('acme');
    const created = await tokens.create({ vendorId: acme.id, role: 'vendor', name: 'ci' });
    assert.match(created.token, TOKEN_PATTERN);
    assert.equal(created.token.length, 4 + 43);
    assert.ok(created.token.startsWith(created.prefix));
    const row = await db.apiToken.findUniqueOrThrow({ where: { id: created.id } });
    assert.equal(row.tokenHash, hashTokenSecret(created.token));
    assert.match(row.tokenHash, /^[0-9a-f]{64}$/);
    const stored = JSON.stringify(row);
    assert.ok(!stored.includes(created.token), 'the secret itself is nowhere in the row');
    assert.notEqual(newTokenSecret(), newTokenSecret());
  });

  test('authenticate: the caller for a live token; null for unknown, malformed and revoked ones', async () => {
    const v = await vendors.create('beta');
    const { id, token } = await tokens.create({ vendorId: v.id, role: 'vendor', name: 'ci' });
    assert.deepEqual(await tokens.authenticate(token), { tokenId: id, role: 'vendor', vendorId: v.id, vendorName: 'beta' });
    const used = await db.apiToken.findUniqueOrThrow({ where: { id } });
    assert.ok(used.lastUsedAt, 'last use is recorded');

    assert.equal(await tokens.authenticate(newTokenSecret()), null, 'unknown');
    assert.equal(await tokens.authenticate(`${token}x`), null, 'too long');
    assert.equal(await tokens.authenticate(token.replace('bft_', 'xyz_')), null, 'wrong prefix');
    assert.equal(await tokens.authenticate(''), null, 'empty');

    assert.equal(await tokens.revoke(ALL_VENDORS, id), true);
    assert.equal(await tokens.authenticate(token), null, 'revoked');
    assert.equal(await tokens.revoke(ALL_VENDORS, id), true, 'revoking twice is a no-op');
    assert.equal(await tokens.revoke(ALL_VENDORS, '8d7c3f4e-0000-4000-8000-000000000000'), false);
  });

  test('an expired token is refused like a revoked one; a future expiry is not', async () => {
    const v = await vendors.create('kappa');
    const expired = await tokens.create({ vendorId: v.id, role: 'vendor', name: 'old', expiresAt: new Date(Date.now() - 1000) });
    const later = await tokens.create({ vendorId: v.id, role: 'vendor', name: 'new', expiresAt: new Date(Date.now() + 3600_000) });
    assert.equal(await tokens.authenticate(expired.token), null);
    assert.equal((await tokens.authenticate(later.token))?.tokenId, later.id);
    assert.ok(later.expiresAt && later.expiresAt.getTime() > Date.now());
  });

  test("a vendor-scoped revoke cannot reach another vendor's token", async () => {
    const a = await vendors.create('gamma');
    const b = await vendors.create('delta');
    const bToken = await tokens.create({ vendorId: b.id, role: 'vendor', name: 'ci' });
    assert.equal(await tokens.revoke(a.id, bToken.id), false);
    assert.ok(await tokens.authenticate(bToken.token), 'still valid');
    assert.deepEqual((await tokens.list(a.id)).map((t) => t.id), []);
    assert.deepEqual((await tokens.list(b.id)).map((t) => t.id), [bToken.id]);
  });

  test('operator secrets are registered idempotently and a revoked one stays revoked', async () => {
    const ops = await vendors.ensure('operators');
    assert.equal((await vendors.ensure('operators')).id, ops.id);
    const secret = newTokenSecret();
    const first = await tokens.ensureSecret({ vendorId: ops.id, role: 'admin', name: 'bootstrap-admin', secret });
    const second = await tokens.ensureSecret({ vendorId: ops.id, role: 'admin', name: 'bootstrap-admin', secret });
    assert.equal(first.id, second.id);
    assert.equal((await tokens.authenticate(secret))?.role, 'admin');
    await tokens.revoke(ALL_VENDORS, first.id);
    assert.equal((await tokens.ensureSecret({ vendorId: ops.id, role: 'admin', name: 'bootstrap-admin', secret })).revoked, true);
    assert.equal(await tokens.authenticate(secret), null);
    await assert.rejects(tokens.ensureSecret({ vendorId: ops.id, role: 'admin', name: 'x', secret: 'short' }), TypeError);
  });

  test('vendor names are unique', async () => {
    await vendors.create('epsilon');
    await assert.rejects(vendors.create('epsilon'), VendorExistsError);
  });

  test("scoped finds: another vendor's image and run are null, the admin scope sees both", async () => {
    const a = await vendors.create('zeta');
    const b = await vendors.create('eta');
    const img = (await images.record({ vendorId: b.id, name: 'b', format: 'raw', sha256: 'b'.repeat(64), sizeBytes: 10 })).image;
    const run = await runs.create({ vendorId: b.id, imageIds: [img.id], profiles: [defaultProfile], timeoutMs: 60_000 });
    assert.equal(await images.find(a.id, img.id), null);
    assert.equal(await runs.find(a.id, run.id), null);
    assert.equal(await runs.complianceSources(run.id, a.id), null);
    assert.deepEqual((await runs.list(a.id, { limit: 10 })).items, []);
    assert.equal((await images.find(b.id, img.id))?.id, img.id);
    assert.equal((await images.find(ALL_VENDORS, img.id))?.id, img.id);
    assert.equal((await runs.find(ALL_VENDORS, run.id))?.id, run.id);
    assert.equal((await runs.complianceSources(run.id, ALL_VENDORS))?.runId, run.id);
    assert.ok((await runs.list(ALL_VENDORS, { limit: 100 })).items.some((r) => r.id === run.id));
  });

  test('the storage quota counts stored bytes per vendor and holds under concurrent uploads', async () => {
    const v = await vendors.create('theta');
    const other = await vendors.create('iota');
    const quotaBytes = 1000;
    await images.record({ vendorId: v.id, name: 'a', format: 'raw', sha256: '1'.repeat(64), sizeBytes: 600 }, { quotaBytes });
    assert.equal(await images.storedBytes(v.id), 600);
    // The same bytes again are not new storage.
    assert.equal((await images.record({ vendorId: v.id, name: 'a', format: 'raw', sha256: '1'.repeat(64), sizeBytes: 600 }, { quotaBytes })).created, false);
    // Five concurrent 300-byte uploads: only one fits in the remaining 400 bytes.
    const results = await Promise.allSettled(
      [2, 3, 4, 5, 6].map((d) => images.record({ vendorId: v.id, name: `c${d}`, format: 'raw', sha256: String(d).repeat(64), sizeBytes: 300 }, { quotaBytes })),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof StorageQuotaExceededError && r.reason.code === 'quota_exceeded');
    assert.equal(await images.storedBytes(v.id), 900);
    // Another vendor's quota is its own.
    assert.equal((await images.record({ vendorId: other.id, name: 'o', format: 'raw', sha256: '7'.repeat(64), sizeBytes: 900 }, { quotaBytes })).created, true);
  });
});
