import { defaultProfile as contractsDefault, VmProfile } from '@bootfarm/contracts';
import { defaultProfile as emulatorDefault } from '@bootfarm/emulator';
import assert from 'node:assert/strict';
import { test } from 'node:test';

// The emulator core imports nothing internal, so it declares its own profile type; the worker is
// where the two meet, and this keeps them the same shape and the same default.
test("the emulator's profile is the contracts' profile", () => {
  assert.deepEqual(VmProfile.parse(emulatorDefault), emulatorDefault);
  assert.deepEqual(emulatorDefault, contractsDefault);
});

test("the emulator's backend capabilities are the contracts' queue capabilities", async () => {
  const { Capability } = await import('@bootfarm/contracts');
  const { backendCapabilities } = await import('@bootfarm/emulator');
  assert.deepEqual([...backendCapabilities], Capability.options);
});
