import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { repoRoot } from './farm.harness.js';

test('docker-compose.yml validates offline and names the five services', () => {
  // docker-compose 1.29 (Debian) validates the file against the compose schema without an engine.
  execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { cwd: repoRoot, stdio: 'pipe' });
  const services = execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '--services'], { cwd: repoRoot, encoding: 'utf8' });
  assert.deepEqual(services.trim().split('\n').sort(), ['dashboard', 'postgres', 'redis', 'scheduler', 'worker']);
});
