import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BudgetedSource, crc32, escapeText, formatGuid, readAt } from './bytes.util.js';
import { isDiskInspectionError } from './disk.errors.js';
import { MemorySource } from './disk.testkit.js';

test('crc32 matches the IEEE check value', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

test('formatGuid decodes the mixed-endian ESP GUID', () => {
  const b = Uint8Array.from(Buffer.from('28732ac11ff8d211ba4b00a0c93ec93b', 'hex'));
  assert.equal(formatGuid(b), 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
});

test('escapeText: control characters, separators and bidi overrides are escaped', () => {
  assert.equal(escapeText('a/b\\c\0d\u001b[31m'), 'a\\x2fb\\x5cc\\x00d\\x1b[31m');
  assert.equal(escapeText('x\u202ey'), 'x\\u{202e}y');
  assert.equal(escapeText('é ok'), 'é ok');
  assert.equal(escapeText('z'.repeat(400)).length, 301);
});

test('readAt zero-fills past the end; BudgetedSource stops at its budget with a typed error', async () => {
  const src = new MemorySource(Uint8Array.from([1, 2, 3]));
  assert.deepEqual([...(await readAt(src, 1, 4))], [2, 3, 0, 0]);
  assert.deepEqual([...(await readAt(src, 10, 2))], [0, 0]);
  const b = new BudgetedSource(src, 4);
  await b.read(0, 3);
  await assert.rejects(b.read(0, 3), (e) => isDiskInspectionError(e, 'read_budget'));
});
