import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { imageHeaderProblems, qcow2HeaderProblems } from './image-header.guard.js';
import { defaultQemuPaths } from './qemu.launcher.js';
import { removeDir, scratchDir } from './testing.helpers.js';

let dir: string;
const qemuImg = (...args: string[]): void => {
  execFileSync(defaultQemuPaths.qemuImg, args, { stdio: 'ignore' });
};

before(async () => {
  dir = await scratchDir('bootfarm-emulator-guard-');
});
after(async () => {
  await removeDir(dir);
});

describe('qcow2 header guard', () => {
  it('accepts a plain qcow2 (v3 and v2) and any raw file', async () => {
    const v3 = path.join(dir, 'plain.qcow2');
    const v2 = path.join(dir, 'plain-v2.qcow2');
    qemuImg('create', '-f', 'qcow2', v3, '64M');
    qemuImg('create', '-f', 'qcow2', '-o', 'compat=0.10', v2, '64M');
    assert.deepEqual(await imageHeaderProblems(v3, 'qcow2'), []);
    assert.deepEqual(await imageHeaderProblems(v2, 'qcow2'), []);
    assert.deepEqual(await imageHeaderProblems(v3, 'raw'), [], 'a qcow2 booted as raw is just bytes to QEMU');
  });

  it('refuses a qcow2 that names a backing file', async () => {
    const base = path.join(dir, 'secret.raw');
    await writeFile(base, 'host secret');
    const evil = path.join(dir, 'backed.qcow2');
    qemuImg('create', '-f', 'qcow2', '-b', base, '-F', 'raw', evil, '64M');
    assert.deepEqual(await imageHeaderProblems(evil, 'qcow2'), ['the qcow2 image names a backing file']);
  });

  it('refuses a qcow2 with an external data file', async () => {
    const data = path.join(dir, 'scratch-data.raw'); // qemu-img zeroes it: a scratch file only
    const evil = path.join(dir, 'datafile.qcow2');
    qemuImg('create', '-f', 'qcow2', '-o', `data_file=${data}`, evil, '1M');
    assert.deepEqual(await imageHeaderProblems(evil, 'qcow2'), ['the qcow2 image uses an external data file']);
  });

  it('refuses truncated, foreign and odd headers', async () => {
    assert.deepEqual(qcow2HeaderProblems(Buffer.alloc(10)), ['the qcow2 header is truncated']);
    assert.deepEqual(qcow2HeaderProblems(Buffer.alloc(104)), ['the file is not qcow2 (bad magic)']);
    const h = Buffer.alloc(104);
    h.writeUInt32BE(0x514649fb, 0);
    h.writeUInt32BE(9, 4);
    assert.deepEqual(qcow2HeaderProblems(h), ['unsupported qcow2 version 9']);
    const notQcow = path.join(dir, 'not.qcow2');
    await writeFile(notQcow, 'hello');
    assert.deepEqual(await imageHeaderProblems(notQcow, 'qcow2'), ['the qcow2 header is truncated']);
  });
});
