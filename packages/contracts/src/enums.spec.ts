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
  assert.equal(summariseRun(['passed', 'not_applicable']), 'passed', 'a cell that cannot exist does not decide the run');
  assert.equal(summariseRun(['running', 'not_applicable']), 'running');
});

test('the default profile is valid and has a stable key', () => {
  assert.deepEqual(VmProfile.parse(defaultProfile), defaultProfile);
  assert.equal(profileKey(defaultProfile), 'aarch64/edk2/acpi/gicv3/virtio-pci/1cpu/512M/tcg');
});

test('each profile maps to one capability queue, named without BullMQ\'s forbidden colon', async () => {
  const { bootQueueName, capabilityFor } = await import('./farm.js');
  assert.equal(capabilityFor(defaultProfile), 'qemu-tcg:aarch64');
  assert.equal(capabilityFor({ ...defaultProfile, arch: 'arm', accel: 'kvm' }), 'qemu-kvm:arm');
  assert.equal(capabilityFor({ ...defaultProfile, accel: 'xen', disk: 'xen-pv' }), 'xen:aarch64');
  assert.equal(bootQueueName('qemu-tcg:aarch64'), 'boot.qemu-tcg.aarch64');
  const { Capability } = await import('./farm.js');
  assert.equal(Capability.safeParse(capabilityFor({ ...defaultProfile, arch: 'arm', accel: 'xen' })).success, false, 'Xen runs AArch64 guests only');
});
