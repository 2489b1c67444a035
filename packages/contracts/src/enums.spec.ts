import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summariseRun } from './enums.js';
import { defaultProfile, profileKey, VmProfile } from './profile.js';

test('a run is settled only when every cell is terminal', () => {
  assert.equal(summariseRun([]), 'queued');
  assert.equal(summariseRun(['queued', 'queued']), 'queued');
  assert.equal(summariseRun(['passed', 'running']), 'running');
  assert.equal(summariseRun(['passed', 'queued']), 'running');
  assert.equal(summariseRun(['passed', 'passed']), 'passed');
  assert.equal(summariseRun(['passed', 'timeout']), 'failed');
  assert.equal(summariseRun(['failed', 'infrastructure_error']), 'error', 'the farm failing outranks the guest failing');
  assert.equal(summariseRun(['passed', 'canceled']), 'canceled');
});

test('the default profile is valid and has a stable key', () => {
  assert.deepEqual(VmProfile.parse(defaultProfile), defaultProfile);
  assert.equal(profileKey(defaultProfile), 'aarch64/edk2/acpi/gicv3/virtio-pci/1cpu/512M/tcg');
});
