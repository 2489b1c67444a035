import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateCell } from './verdicts.js';
import { OBS } from './context.js';
import { cellOf, failedBoot, finding, goodInspection, passedBoot, prof, req, st } from './testing.fixtures.js';

const run = (parts: Parameters<typeof cellOf>[1], p = prof()) => evaluateCell(cellOf(p, parts));

describe('IMG evaluators (intake findings)', () => {
  it('passes a compliant image and cites the bytes', () => {
    const c = run({});
    for (const id of ['IMG-1', 'IMG-3', 'IMG-4', 'IMG-5', 'IMG-6', 'IMG-8', 'IMG-9']) assert.deepEqual(st(req(c, id)), ['pass', 'pass', 'pass'], id);
    const ev = req(c, 'IMG-1').evidence;
    assert.ok(ev.some((e) => e.source === 'image' && e.offset === 450 && e.bytes === 'ee' && e.expected === 'ee'));
    assert.ok(ev.some((e) => e.offset === 510 && e.bytes === '55aa'));
    assert.ok(req(c, 'IMG-8').evidence.length > 0, 'a pass finding without evidence still cites the finding');
  });

  it('maps a fail finding to fail under must, a warn finding to warn', () => {
    const c = run({ inspection: goodInspection({ replace: ['IMG-4', 'IMG-5'], findings: [
      finding('IMG-4', 'esp-not-fat32', 'warn', 'the ESP is FAT16 (4000 clusters), not FAT32', [{ what: 'ESP filesystem', value: 'FAT16' }]),
      finding('IMG-5', 'vendor-path-only', 'fail', 'no \\EFI\\BOOT\\BOOTAA64.EFI; only vendor paths such as \\EFI\\debian\\grubaa64.efi', [{ what: 'vendor boot file', value: '\\EFI\\debian\\grubaa64.efi' }]),
    ] }) });
    assert.deepEqual(st(req(c, 'IMG-4')), ['warn', 'warn', 'warn']);
    assert.deepEqual(st(req(c, 'IMG-5')), ['fail', 'fail', 'fail']);
    assert.match(req(c, 'IMG-5').verdicts['vmspec-2.0'].reason, /vendor paths/);
    assert.ok(req(c, 'IMG-5').evidence.some((e) => e.value === '\\EFI\\debian\\grubaa64.efi'));
  });

  it('turns a fail finding of a should requirement into warn', () => {
    const c = run({ inspection: goodInspection({ replace: ['IMG-8'], findings: [finding('IMG-8', 'firmware-shipped', 'fail', 'QEMU_EFI.fd on the ESP', [{ what: 'firmware file', value: '\\QEMU_EFI.fd' }])] }) });
    assert.deepEqual(st(req(c, 'IMG-8')), ['warn', 'warn', 'warn']);
  });

  it('reports not-checked findings and a missing inspection as not tested', () => {
    const c = run({ inspection: goodInspection({ replace: ['IMG-9'], findings: [finding('IMG-9', 'not-checked', 'info', 'not checked: the ESP is not readable')] }) });
    assert.deepEqual(st(req(c, 'IMG-9')), ['not_tested', 'not_tested', 'not_tested']);
    const none = run({ inspection: null });
    for (const id of ['IMG-1', 'IMG-2', 'IMG-3', 'IMG-10']) assert.equal(req(none, id).verdicts.bbr.status, 'not_tested', id);
    assert.match(req(none, 'IMG-1').verdicts.bbr.reason, /not inspected/);
  });

  it('IMG-2: any container opened as a disk passes; an unreadable file warns (informative)', () => {
    const c = run({});
    assert.deepEqual(st(req(c, 'IMG-2')), ['pass', 'pass', 'pass']);
    assert.ok(req(c, 'IMG-2').evidence.some((e) => e.value?.startsWith('qcow2')));
    const bad = run({ inspection: goodInspection({ replace: ['IMG-1'], findings: [finding('IMG-1', 'inspection-error', 'fail', 'inspection stopped: read past end', [{ what: 'error', value: 'io_error' }])] }) });
    assert.deepEqual(st(req(bad, 'IMG-2')), ['warn', 'warn', 'warn']);
  });

  it('IMG-7 is dynamic: the empty-NVRAM boot reached its marker', () => {
    const ok = req(run({ boot: passedBoot(812, 2590) }), 'IMG-7');
    assert.deepEqual(st(ok), ['pass', 'pass', 'pass']);
    assert.deepEqual({ ...ok.evidence[0] }, { source: 'boot', what: 'image boot outcome', value: 'passed at stage os', seq: 812, offsetMs: 2590, line: 'VMSPEC-GUEST-READY' });
    const shell = req(run({ boot: failedBoot('no_boot_device', 'no boot device: BdsDxe: failed to load Boot0001', 'boot_manager', 'BdsDxe: failed to load Boot0001 "UEFI Misc Device": Not Found') }), 'IMG-7');
    assert.deepEqual(st(shell), ['fail', 'fail', 'fail']);
    assert.equal(shell.evidence[0]!.line, 'BdsDxe: failed to load Boot0001 "UEFI Misc Device": Not Found');
    const infra = req(run({ boot: { outcome: 'infrastructure_error', reason: 'qemu could not start', stage: 'none', failureClass: 'qemu_start_failed' } }), 'IMG-7');
    assert.deepEqual(st(infra), ['not_tested', 'not_tested', 'not_tested']);
    assert.equal(req(run({ boot: null }), 'IMG-7').verdicts['vmspec-1.0'].status, 'not_tested');
  });

  it('IMG-10: the declared state, a machine mismatch, and cells of another architecture', () => {
    const c = run({});
    assert.deepEqual(st(req(c, 'IMG-10')), ['pass', 'pass', 'pass']);
    assert.ok(req(c, 'IMG-10').evidence.some((e) => e.what === OBS.declaredArchitectures && e.value === 'aarch64'));
    const mism = run({ inspection: goodInspection({ findings: [finding('IMG-10', 'execution-state-mismatch', 'warn', 'a removable-media boot file carries a different machine type than its name declares', [{ what: '\\EFI\\BOOT\\BOOTARM.EFI', value: '0x01c4', expected: '0x01c2' }])] }) });
    assert.deepEqual(st(req(mism, 'IMG-10')), ['warn', 'warn', 'warn']);
    // An AArch32-only image on an AArch64 cell: the boot-based verdicts do not apply.
    const a32 = run({ inspection: goodInspection({ architectures: ['arm'] }), boot: failedBoot('no_boot_device', 'no boot device', 'boot_manager', 'BdsDxe: failed to load Boot0001') });
    assert.deepEqual(st(req(a32, 'IMG-10')), ['not_applicable', 'not_applicable', 'not_applicable']);
    for (const id of ['IMG-7', 'FW-11', 'OS-1', 'OS-3', 'OS-6']) {
      assert.equal(req(a32, id).verdicts['vmspec-2.0'].status, 'not_applicable', id);
      assert.match(req(a32, id).verdicts['vmspec-2.0'].reason, /declares AArch32 only; this cell is AArch64/);
    }
  });
});
