// Nothing assumes one machine or a shared filesystem: a 2-image × 8-cell run completes on two
// worker processes, the second on its own "host" — a network namespace reaching the scheduler,
// Redis and PostgreSQL only over a veth link, with its own work and cache directories.
import type { ImageDto, MatrixSpec, RunDto } from '@bootfarm/contracts';
import { createPrismaClient } from '@bootfarm/db';
import { ensureFixture } from '@bootfarm/fixtures';
import { ensureProbeImage } from '@bootfarm/probe';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { processesMentioning, startFarm, waitFor, type Farm } from './farm.harness.js';
import { createSecondHost, type SecondHost } from './netns.helper.js';

// edk2 × {ACPI, DT} × {GICv2, GICv3} × {virtio-pci, virtio-mmio}: 8 cells per image.
const matrix: MatrixSpec = { axes: { hwDescription: ['acpi', 'dt'], gic: ['v2', 'v3'], disk: ['virtio-pci', 'virtio-mmio'] } };

async function upload(farm: Farm, path: string, name: string): Promise<ImageDto> {
  const res = await farm.api(`/api/images?name=${name}&format=raw`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: Readable.toWeb(createReadStream(path)) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  assert.ok(res.status === 201 || res.status === 200, `upload ${name}: ${res.status} ${await res.clone().text()}`);
  return (await res.json()) as ImageDto;
}

const canCreateNamespaces = process.getuid?.() === 0 && spawnSync('ip', ['netns', 'list']).status === 0;

describe('a second host', { skip: canCreateNamespaces ? false : 'needs root and iproute2 (ip netns)' }, () => {
  let farm: Farm;
  let host: SecondHost;
  const remoteDir = () => join(farm.dir, 'second-host');
  let run: RunDto;
  const images: ImageDto[] = [];

  before(async () => {
    farm = await startFarm();
    host = createSecondHost();
    const viaLink = async (url: string) => {
      const u = new URL(url);
      u.port = String(await host.forward({ host: u.hostname, port: Number(u.port) }));
      u.hostname = host.hostAddress;
      return u.toString().replace(/\/$/, '');
    };
    const env = {
      WORKER_ID: 'second-host',
      DATABASE_URL: await viaLink(farm.env.DATABASE_URL!),
      REDIS_URL: await viaLink(farm.env.REDIS_URL!),
      SCHEDULER_URL: await viaLink(farm.schedulerUrl),
      WORKER_WORK_DIR: join(remoteDir(), 'work'),
      WORKER_CACHE_DIR: join(remoteDir(), 'cache'),
    };
    // Inside, the farm's loopback addresses lead nowhere: the link is the only way out.
    const pgPort = new URL(farm.env.DATABASE_URL!).port;
    const loopback = spawnSync('ip', ['netns', 'exec', host.name, 'bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${pgPort}`], { stdio: 'ignore', timeout: 10_000 });
    assert.notEqual(loopback.status, 0, 'PostgreSQL on 127.0.0.1 is not reachable from the second host');
    farm.startWorker('second-host', env, { launchPrefix: host.launchPrefix });
    await waitFor(() => farm.log('second-host').includes('ready'), 180_000, () => farm.log('second-host'));
  });

  after(async () => {
    await farm?.stop();
    await host?.remove();
  });

  test('one run of two images × eight cells completes on both workers, with the right outcome per cell and a report per image', { timeout: 900_000 }, async () => {
    const probe = await ensureProbeImage();
    const notPe = await ensureFixture('neg-not-pe');
    images.push(await upload(farm, probe.imagePath, 'vmspec-probe'), await upload(farm, notPe.path, 'neg-not-pe'));
    const res = await farm.api('/api/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ imageIds: images.map((i) => i.id), matrix, timeoutSec: 240 }) });
    assert.equal(res.status, 201, await res.clone().text());
    run = (await res.json()) as RunDto;
    await waitFor(
      async () => {
        run = (await (await farm.api(`/api/runs/${run.id}`)).json()) as RunDto;
        return !['queued', 'running'].includes(run.status) && run.images.every((i) => i.compliance !== null);
      },
      840_000,
      () => `${farm.log('worker')}\n--- second host ---\n${farm.log('second-host')}`,
    );
    const [probeImage, negImage] = images as [ImageDto, ImageDto];
    assert.deepEqual(run.images.map((i) => i.id), [probeImage.id, negImage.id]);
    const probeCells = run.cells.filter((c) => c.imageId === probeImage.id);
    const negCells = run.cells.filter((c) => c.imageId === negImage.id);
    assert.equal(probeCells.length, 8);
    assert.equal(negCells.length, 8);
    assert.deepEqual(negCells.map((c) => c.key), probeCells.map((c) => c.key), 'both images on the same eight cells');
    for (const cell of probeCells) assert.equal(cell.status, 'passed', `${cell.key}: ${cell.result?.reason}`);
    for (const cell of negCells) {
      assert.equal(cell.status, 'failed', cell.key);
      assert.equal(cell.result?.failureClass, 'no_boot_device', `${cell.key}: ${cell.result?.reason}`);
    }
    assert.equal(run.status, 'failed', 'one image failing fails the run');
    // One report per image, each over its own eight cells.
    const junit = async (imageId: string) => (await farm.api(`/api/runs/${run.id}/compliance/junit?image=${imageId}`)).text();
    const [probeJunit, negJunit] = await Promise.all([junit(probeImage.id), junit(negImage.id)]);
    assert.match(probeJunit, /vmspec-probe/);
    assert.match(negJunit, /neg-not-pe/);
    assert.ok(!probeJunit.includes('neg-not-pe'), 'the probe image\'s report holds only its cells');
    assert.equal(run.images[1]!.compliance!['vmspec-1.0'].verdict, 'fail');
    const ambiguous = await farm.api(`/api/runs/${run.id}/compliance`);
    assert.equal(ambiguous.status, 400, 'a run of two images needs ?image=');
    assert.match(((await ambiguous.json()) as { message: string }).message, /choose one with \?image=/);
  });

  test('both workers booted cells, and the second host fetched the images by digest into its own cache', async () => {
    const prisma = createPrismaClient({ databaseUrl: farm.env.DATABASE_URL!, maxConnections: 1 });
    try {
      const cellIds = run.cells.map((c) => c.id);
      const results = await prisma.result.findMany({ where: { cellId: { in: cellIds } }, include: { attempt: { select: { workerId: true } } } });
      assert.equal(results.length, 16, 'one accepted result per cell');
      const remoteResults = results.filter((r) => r.attempt.workerId === 'second-host').length;
      assert.ok(remoteResults > 0, 'the second host booted cells');
      assert.ok(remoteResults < results.length, 'the first worker booted cells');
    } finally {
      await prisma.$disconnect();
    }
    const cached = existsSync(join(remoteDir(), 'cache')) ? readdirSync(join(remoteDir(), 'cache')) : [];
    assert.ok(cached.some((f) => /^[0-9a-f]{64}$/.test(f)), `the second host's cache holds images by digest: ${cached.join(', ')}`);
    assert.ok(host.bytes() > Math.min(...images.map((i) => i.sizeBytes)), 'an image (and the jobs and rows) came over the link');
    assert.deepEqual(processesMentioning(remoteDir()), [], 'no QEMU of the second host is left');
  });
});
