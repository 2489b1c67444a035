import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { repoRoot } from './farm.harness.js';

type Service = {
  build?: { target?: string; dockerfile?: string };
  command?: string[];
  devices?: string[];
  deploy?: { replicas?: number };
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  volumes?: (string | { type: string; source?: string; target: string })[];
  stop_grace_period?: string;
  environment?: Record<string, string>;
};

/** The resolved configuration, as docker-compose 1.29 (Debian) prints it offline, without an engine. */
function resolved(...files: string[]): { services: Record<string, Service> } {
  const args = files.flatMap((f) => ['-f', f]);
  execFileSync('docker-compose', [...args, 'config', '-q'], { cwd: repoRoot, stdio: 'pipe' });
  return parse(execFileSync('docker-compose', [...args, 'config'], { cwd: repoRoot, encoding: 'utf8' })) as { services: Record<string, Service> };
}

test('docker-compose.yml validates offline and names the five services', () => {
  const services = execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '--services'], { cwd: repoRoot, encoding: 'utf8' });
  assert.deepEqual(services.trim().split('\n').sort(), ['dashboard', 'postgres', 'redis', 'scheduler', 'worker']);
  resolved('docker-compose.yml');
});

test('redis runs as BullMQ requires; postgres and redis keep their data in volumes', () => {
  const { services } = resolved('docker-compose.yml');
  const cmd = services.redis!.command!.join(' ');
  assert.match(cmd, /--maxmemory-policy noeviction/);
  assert.match(cmd, /--appendonly yes/);
  assert.match(cmd, /--appendfsync everysec/);
  const mounts = (s: Service) => (s.volumes ?? []).map((v) => (typeof v === 'string' ? v : `${v.source ?? ''}:${v.target}`));
  assert.ok(mounts(services.postgres!).some((m) => m.startsWith('postgres-data:') && m.includes('/var/lib/postgresql/data')));
  assert.ok(mounts(services.redis!).some((m) => m.startsWith('redis-data:') && m.includes('/data')));
});

test('the scheduler is health-checked on /api/health, and workers wait for it, drain before SIGKILL and scale', () => {
  const { services } = resolved('docker-compose.yml');
  assert.match(services.scheduler!.healthcheck!.test.join(' '), /\/api\/health/);
  assert.deepEqual(services.scheduler!.depends_on, { postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
  const worker = services.worker!;
  assert.deepEqual(worker.depends_on, { scheduler: { condition: 'service_healthy' } });
  assert.ok((worker.deploy?.replicas ?? 0) >= 1);
  const drainMs = Number(/WORKER_DRAIN_TIMEOUT_MS=(\d+)/.exec(readFileSync(join(repoRoot, '.env.example'), 'utf8'))![1]);
  assert.ok(Number.parseInt(worker.stop_grace_period!, 10) * 1000 > drainMs, 'the grace period outlasts the drain timeout');
  assert.equal(worker.devices, undefined, 'no device in the base file: compose refuses a missing one');
});

test('the KVM override passes /dev/kvm to the workers only', () => {
  const { services } = resolved('docker-compose.yml', 'docker-compose.kvm.yml');
  assert.deepEqual(services.worker!.devices, ['/dev/kvm:/dev/kvm']);
  assert.deepEqual(Object.entries(services).filter(([, s]) => s.devices).map(([n]) => n), ['worker']);
});

test('every build target exists in the Dockerfile, and the dashboard image carries the proxy template', () => {
  const { services } = resolved('docker-compose.yml');
  const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
  const stages = [...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);
  for (const [name, s] of Object.entries(services)) {
    if (!s.build) continue;
    assert.ok(stages.includes(s.build.target!), `${name}: target ${s.build.target} is a Dockerfile stage`);
  }
  for (const copied of [...dockerfile.matchAll(/^COPY (?!--from)(\S+) /gm)].map((m) => m[1]!)) {
    if (copied !== '.') assert.ok(existsSync(join(repoRoot, copied)), `${copied} exists`);
  }
  const template = readFileSync(join(repoRoot, 'deploy/nginx/dashboard.conf.template'), 'utf8');
  assert.match(template, /proxy_pass \$\{SCHEDULER_URL\}/);
  assert.match(template, /proxy_buffering off/, 'live console streams pass unbuffered');
  assert.equal(services.dashboard!.environment!.SCHEDULER_URL, 'http://scheduler:8080');
});
