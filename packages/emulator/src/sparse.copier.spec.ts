import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SparseCopier } from './sparse.copier.js';
import { removeDir, scratchDir } from './testing.helpers.js';

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('SparseCopier: vars copies with the template\'s bytes and its holes', () => {
  let dir: string;
  before(async () => (dir = await scratchDir()));
  after(() => removeDir(dir));

  it('copies the real AAVMF vars template byte for byte, without writing its zeros', { skip: !existsSync('/usr/share/AAVMF/AAVMF_VARS.fd') && 'no AAVMF' }, async () => {
    const template = '/usr/share/AAVMF/AAVMF_VARS.fd';
    const copy = path.join(dir, 'vars.fd');
    await new SparseCopier().copy(template, copy);
    assert.equal(sha(copy), sha(template));
    assert.equal(statSync(copy).size, statSync(template).size);
    assert.equal(statSync(copy).mode & 0o777, 0o600);
    assert.ok(statSync(copy).blocks * 512 <= statSync(template).blocks * 512, 'no more disk than the template');
  });

  it('keeps non-zero chunks at their offsets, a short last chunk and the exact size', async () => {
    const template = path.join(dir, 'template.bin');
    const bytes = Buffer.alloc(3 * 65536 + 123);
    bytes.write('header', 0);
    bytes.fill(0xff, 65536 + 10, 65536 + 20);
    bytes.write('tail', bytes.length - 4);
    writeFileSync(template, bytes);
    const copier = new SparseCopier();
    for (const name of ['a', 'b']) {
      const copy = path.join(dir, name);
      await copier.copy(template, copy);
      assert.ok(readFileSync(copy).equals(bytes), name);
    }
    // A changed template (new mtime/size) is scanned again.
    bytes.write('again', 2 * 65536);
    writeFileSync(template, bytes);
    await copier.copy(template, path.join(dir, 'c'));
    assert.ok(readFileSync(path.join(dir, 'c')).equals(bytes));
  });

  it('exclusive: never overwrites an existing store; plain copies replace the old content', async () => {
    const template = path.join(dir, 'small.bin');
    writeFileSync(template, Buffer.from('template'));
    const store = path.join(dir, 'store.fd');
    writeFileSync(store, Buffer.from('variables written by an earlier boot'));
    await assert.rejects(new SparseCopier().copy(template, store, { exclusive: true }), { code: 'EEXIST' });
    assert.equal(readFileSync(store, 'utf8'), 'variables written by an earlier boot');
    await new SparseCopier().copy(template, store);
    assert.equal(readFileSync(store, 'utf8'), 'template');
  });
});
