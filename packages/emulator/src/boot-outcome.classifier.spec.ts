import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { classifyBootEnd, stderrSummary, type BootEndFacts, type SignatureHit } from './boot-outcome.classifier.js';

const base: BootEndFacts = {
  cause: 'exited',
  stage: 'bootloader',
  consoleBytes: 1000,
  marker: null,
  signature: null,
  exit: { code: 0, signal: null },
  stderr: '',
  atMs: 1234,
  timeoutMs: 60_000,
  silenceTimeoutMs: 30_000,
};

const shellHit: SignatureHit = {
  seq: 2, offsetMs: 620, text: 'BdsDxe: loading Boot0002 "EFI Internal Shell"', pattern: 'edk2.shell_fallback',
  failureClass: 'no_boot_device', definitive: true, description: 'edk2 found no bootable image on the disk and fell back to its UEFI shell',
};
const loadFailedHint: SignatureHit = { ...shellHit, pattern: 'edk2.load_failed', definitive: false, description: 'edk2 could not load the boot option' };

function verdict(f: Partial<BootEndFacts>) {
  const v = classifyBootEnd({ ...base, ...f });
  return [v.outcome, v.failureClass] as const;
}

describe('classifyBootEnd', () => {
  it('passes only on a marker', () => {
    const v = classifyBootEnd({ ...base, cause: 'marker', marker: { seq: 50, offsetMs: 1022, text: 'VMSPEC-PROBE result=done', pattern: 'VMSPEC-PROBE result=done' } });
    assert.equal(v.outcome, 'passed');
    assert.equal(v.failureClass, null);
    assert.match(v.reason, /VMSPEC-PROBE result=done.*1\.02 s/);
  });

  it('does not take QEMU exit status 0 as success', () => {
    assert.deepEqual(verdict({ cause: 'exited' }), ['failed', 'powered_off_without_marker']);
    assert.deepEqual(verdict({ cause: 'exited', consoleBytes: 0 }), ['failed', 'powered_off_without_marker']);
    assert.deepEqual(verdict({ cause: 'exited', signature: { ...shellHit, pattern: 'linux.panic', failureClass: 'kernel_panic' } }), ['failed', 'kernel_panic']);
  });

  it('fails at once on a definitive signature', () => {
    const v = classifyBootEnd({ ...base, cause: 'signature', signature: shellHit, stage: 'boot_manager' });
    assert.equal(v.outcome, 'failed');
    assert.equal(v.failureClass, 'no_boot_device');
    assert.match(v.reason, /^edk2 found no bootable image.*0\.62 s/);
  });

  it('tells silence, timeout and no output apart', () => {
    assert.deepEqual(verdict({ cause: 'silence' }), ['timeout', 'silence']);
    assert.deepEqual(verdict({ cause: 'timeout' }), ['timeout', 'timeout']);
    assert.deepEqual(verdict({ cause: 'silence', consoleBytes: 0, stage: 'none' }), ['timeout', 'no_console_output']);
    assert.deepEqual(verdict({ cause: 'timeout', consoleBytes: 0, stage: 'none' }), ['timeout', 'no_console_output']);
    assert.deepEqual(verdict({ cause: 'silence', signature: loadFailedHint }), ['timeout', 'no_boot_device']);
    assert.match(classifyBootEnd({ ...base, cause: 'silence', silenceTimeoutMs: 2000 }).reason, /silent for 2\.00 s/);
  });

  it('classifies QEMU trouble as infrastructure, with its stderr in the reason', () => {
    const start = classifyBootEnd({ ...base, consoleBytes: 0, stage: 'none', exit: { code: 1, signal: null }, stderr: 'qemu-system-aarch64: device requires 67108864 bytes, block backend provides 1024 bytes\n' });
    assert.equal(start.outcome, 'infrastructure_error');
    assert.equal(start.failureClass, 'qemu_start_failed');
    assert.match(start.reason, /device requires 67108864 bytes/);
    assert.deepEqual(verdict({ exit: { code: 1, signal: null }, stderr: 'qemu: fatal: x' }), ['infrastructure_error', 'qemu_crashed']);
    assert.deepEqual(verdict({ exit: { code: null, signal: 'SIGSEGV' } }), ['infrastructure_error', 'qemu_crashed']);
    assert.deepEqual(verdict({ exit: { code: null, signal: 'SIGSEGV' }, consoleBytes: 0 }), ['infrastructure_error', 'qemu_crashed']);
    assert.deepEqual(verdict({ setupFailure: { failureClass: 'host_setup_failed', message: 'disk full' }, cause: 'setup_failed' }), ['infrastructure_error', 'host_setup_failed']);
  });

  it('reports cancellation without a failure class', () => {
    assert.deepEqual(verdict({ cause: 'aborted' }), ['canceled', null]);
  });

  it('summarises stderr on one bounded line', () => {
    assert.equal(stderrSummary('a\n\n  b  \n'), 'a | b');
    assert.equal(stderrSummary('x'.repeat(1000)).length, 301);
  });
});
