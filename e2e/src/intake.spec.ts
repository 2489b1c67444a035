// Intake over HTTP on real processes: good images come back with their IMG-* findings; the
// hostile corpus (reliability-and-security §5.1) is refused with typed reasons or flagged, the
// inspector runs out of process, and a canary file referenced by hostile images never leaks.
import type { ErrorDto, FindingDto, ImageDto } from '@bootfarm/contracts';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { repoRoot, startFarm, type Farm } from './farm.harness.js';

const scripts = join(repoRoot, 'packages/inspect/scripts');

async function upload(farm: Farm, path: string, format: string, name = 'img') {
  const res = await farm.api(`/api/images?name=${encodeURIComponent(name)}&format=${format}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: Readable.toWeb(createReadStream(path)) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as ImageDto & ErrorDto };
}

const levels = (findings: FindingDto[], id: string) => findings.filter((f) => f.id === id).map((f) => f.level);

describe('image intake', () => {
  let farm: Farm;
  let dir: string;
  let canary: string;
  const responses: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bootfarm-intake-'));
    canary = `CANARY-${randomBytes(12).toString('hex')}`;
    writeFileSync(join(dir, 'canary'), `${canary}\n`);
    execFileSync('bash', [join(scripts, 'build-fixture-images.sh'), join(dir, 'good'), 'aa64', 'arm32', 'fat16', '4kn', 'x64only', 'grubdtb', 'vendoronly'], { stdio: 'ignore' });
    execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', join(dir, 'good', 'aa64.raw'), join(dir, 'good', 'aa64.qcow2')]);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'good', 'big16g.qcow2'), '16G']);
    execFileSync('bash', [join(scripts, 'build-hostile-container.sh'), join(dir, 'hostile'), join(dir, 'canary')], { stdio: 'ignore' });
    execFileSync('bash', [join(scripts, 'build-hostile-disk.sh'), join(dir, 'hostile-disk')], { stdio: 'ignore' });
    farm = await startFarm({ INSPECT_MAX_VIRTUAL_BYTES: String(64 * 1024 ** 3) });
  });

  after(async () => {
    await farm?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('good images are accepted with the facts and findings the spec expects', async () => {
    const good = async (file: string, format = 'raw') => {
      const r = await upload(farm, join(dir, 'good', file), format, file);
      responses.push(r.text);
      assert.equal(r.status, 201, `${file}: ${r.text}`);
      assert.ok(r.body.inspection, file);
      return r.body.inspection!;
    };
    const aa64 = await good('aa64.raw');
    assert.deepEqual(aa64.architectures, ['aarch64']);
    for (const id of ['IMG-1', 'IMG-3', 'IMG-4', 'IMG-5', 'IMG-6']) assert.ok(levels(aa64.findings, id).includes('pass'), `${id}: ${JSON.stringify(aa64.findings)}`);
    assert.equal(aa64.qemuImg?.format, 'raw');
    const gpt = aa64.findings.find((f) => f.check === 'gpt-primary');
    assert.ok(gpt?.evidence.some((e) => e.offset === 512 + 16 && /^0x[0-9A-F]{8}$/.test(e.value ?? '')), 'the GPT finding cites the header CRC32 and its offset');

    const qcow2 = await good('aa64.qcow2', 'qcow2');
    assert.deepEqual(qcow2.findings.filter((f) => f.id !== 'IMG-2').map((f) => [f.id, f.check, f.level]), aa64.findings.filter((f) => f.id !== 'IMG-2').map((f) => [f.id, f.check, f.level]), 'the guest view of a qcow2 gives the same findings as its raw twin');

    assert.deepEqual((await good('arm32.raw')).architectures, ['arm']);
    assert.ok(levels((await good('fat16.raw')).findings, 'IMG-4').includes('warn'));
    assert.ok(levels((await good('4kn.raw')).findings, 'IMG-1').includes('pass'));
    const x64 = await good('x64only.raw');
    assert.ok(levels(x64.findings, 'IMG-5').includes('fail'));
    assert.ok(levels((await good('grubdtb.raw')).findings, 'IMG-9').includes('warn'));
    assert.ok(levels((await good('vendoronly.raw')).findings, 'IMG-5').includes('fail'));
    const big = await good('big16g.qcow2', 'qcow2');
    assert.equal(big.virtualSize, 16 * 1024 ** 3);
    assert.equal(big.qemuImg?.virtualSize, 16 * 1024 ** 3, 'qemu-img agrees with the inspector');
    assert.ok(levels(big.findings, 'IMG-1').includes('fail'), 'an empty disk has no GPT');

    const again = await upload(farm, join(dir, 'good', 'aa64.raw'), 'raw', 'again');
    assert.equal(again.status, 200, 'a duplicate is recognised by digest');
  });

  test('the hostile container corpus is refused with the right typed reason', async () => {
    const manifest = readFileSync(join(dir, 'hostile', 'manifest.tsv'), 'utf8').trim().split('\n').map((l) => l.split('\t'));
    let checked = 0;
    for (const [id, file, format, code, policy] of manifest) {
      // A few corrupt tables are only found when the guest view is read (e.g. an L2 entry past EOF).
      if (policy !== String(64 * 1024 ** 3) || code === 'ok') continue; // cases written for another size policy
      const r = await upload(farm, join(dir, 'hostile', file!), format!);
      responses.push(r.text);
      assert.equal(r.status, 422, `${id} ${file}: ${r.text}`);
      assert.equal(r.body.error, `image_rejected:${code}`, `${id} ${file}: ${r.text}`);
      checked++;
    }
    assert.ok(checked >= 30, `checked ${checked} cases`);
  });

  test('hostile partition tables, filesystems and PE files are flagged, never a server error', async () => {
    const variants = readFileSync(join(dir, 'hostile-disk', 'manifest.txt'), 'utf8').trim().split('\n');
    for (const variant of variants) {
      const r = await upload(farm, join(dir, 'hostile-disk', `${variant}.raw`), 'raw', variant);
      responses.push(r.text);
      assert.ok(r.status === 201 || r.status === 422, `${variant}: ${r.status} ${r.text}`);
      // The control image is clean, and hostile long names are data to escape, not a defect to flag.
      if (r.status === 201 && variant !== 'control' && variant !== 'fat-lfn-names') {
        const bad = r.body.inspection!.findings.filter((f) => f.level === 'fail' || f.level === 'warn');
        assert.ok(bad.length > 0, `${variant} should be flagged: ${JSON.stringify(r.body.inspection!.findings.map((f) => [f.id, f.level]))}`);
      }
    }
  });

  test('nothing leaks the canary and refused uploads leave nothing behind', async () => {
    for (const text of responses) assert.ok(!text.includes(canary));
    for (const name of ['scheduler', 'worker']) assert.ok(!farm.log(name).includes(canary), `${name} log`);
    const store = join(farm.env.IMAGE_STORE_DIR!, 'sha256');
    for (const blob of readdirSync(store)) assert.ok(!readFileSync(join(store, blob)).includes(canary), blob);
    assert.deepEqual(readdirSync(join(farm.env.IMAGE_STORE_DIR!, 'quarantine')), []);
    const dump = execFileSync('pg_dump', ['--data-only', farm.env.DATABASE_URL!], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    assert.ok(!dump.includes(canary), 'the database');
    assert.ok(dump.includes('IMG-1'), 'the findings are stored');
  });
});
