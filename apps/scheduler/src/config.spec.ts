// The tenancy settings of the scheduler's configuration: token secrets are checked at start.
import { ConfigError } from '@bootfarm/config';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { loadSchedulerConfig } from './config.js';

const base = { DATABASE_URL: 'postgresql://u@127.0.0.1:5432/db', REDIS_URL: 'redis://127.0.0.1:6379' };
const secret = () => `bft_${randomBytes(32).toString('base64url')}`;

test('bootstrap secrets are optional, and an empty value means unset', () => {
  const config = loadSchedulerConfig({ ...base, BOOTFARM_ADMIN_TOKEN: '', BOOTFARM_WORKER_TOKEN: '' });
  assert.equal(config.BOOTFARM_ADMIN_TOKEN, undefined);
  assert.equal(config.BOOTFARM_WORKER_TOKEN, undefined);
  assert.equal(config.JSON_BODY_MAX_BYTES, 64 * 1024);
  assert.ok(config.RATE_LIMIT_UPLOADS < config.RATE_LIMIT_REQUESTS, 'uploads have the smaller budget');
});

test('well-formed secrets are accepted; malformed or shared ones refuse to start, without echoing them', () => {
  const admin = secret();
  assert.equal(loadSchedulerConfig({ ...base, BOOTFARM_ADMIN_TOKEN: admin }).BOOTFARM_ADMIN_TOKEN, admin);
  const weak = 'bft_password123';
  assert.throws(() => loadSchedulerConfig({ ...base, BOOTFARM_ADMIN_TOKEN: weak }), (err: Error) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /BOOTFARM_ADMIN_TOKEN/);
    assert.ok(!err.message.includes(weak), 'the secret is not in the error');
    return true;
  });
  assert.throws(() => loadSchedulerConfig({ ...base, BOOTFARM_ADMIN_TOKEN: admin, BOOTFARM_WORKER_TOKEN: admin }), /BOOTFARM_WORKER_TOKEN: must differ/);
});

test('limits must be positive numbers', () => {
  assert.throws(() => loadSchedulerConfig({ ...base, RATE_LIMIT_RUNS: '0' }), /RATE_LIMIT_RUNS/);
  assert.throws(() => loadSchedulerConfig({ ...base, VENDOR_STORAGE_QUOTA_BYTES: '-1' }), /VENDOR_STORAGE_QUOTA_BYTES/);
  assert.equal(loadSchedulerConfig({ ...base, VENDOR_STORAGE_QUOTA_BYTES: '1048576' }).VENDOR_STORAGE_QUOTA_BYTES, 1048576);
});
