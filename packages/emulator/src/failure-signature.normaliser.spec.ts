import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { failureSignatureOf, frameOf, maxSignatureChars, normaliseConsoleText } from './failure-signature.normaliser.js';
import { BootConsoleAnalyzer, consoleSuccessMarkers } from './boot-console.analyzer.js';

const panic = (line: string) => failureSignatureOf({ failureClass: 'kernel_panic', line });

describe('failure signature normaliser', () => {
  it('names a VFS panic like syzbot would', () => {
    assert.equal(
      panic('[    0.872744] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)'),
      'kernel panic: VFS: Unable to mount root fs on unknown-block(N,N)',
    );
  });

  it('gives the same signature when only addresses, numbers, timestamps, CPUs or PIDs differ', () => {
    assert.equal(
      panic('[    0.872744] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)'),
      panic('[ 1234.000001] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(8,3)'),
    );
    assert.equal(
      panic('Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b'),
      panic('[    2.1] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100'),
    );
    const oops = (addr: string, off: string) =>
      failureSignatureOf({ failureClass: 'kernel_oops', line: `[    1.5] Unable to handle kernel NULL pointer dereference at virtual address ${addr}`, frame: frameOf(`[ 1.6] pc : virtblk_probe+${off}/0x960 [virtio_blk]`) });
    assert.equal(oops('0000000000000008', '0xec'), oops('0000000000000010', '0x1f0'));
    assert.equal(oops('0000000000000008', '0xec'), 'oops: Unable to handle kernel NULL pointer dereference in virtblk_probe');
    assert.equal(normaliseConsoleText('CPU: 3 PID: 96 Comm: insmod at 0xffff80000827b290 deadbeef12345678'), 'CPU PID Comm: insmod at ADDR ADDR');
  });

  it('gives different signatures for different reasons', () => {
    const a = panic('Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)');
    const b = panic('Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b');
    const c = panic('Kernel panic - not syncing: No working init found.  Try passing init= option to kernel.');
    assert.equal(new Set([a, b, c]).size, 3);
    assert.notEqual(
      failureSignatureOf({ failureClass: 'no_boot_device', line: 'BdsDxe: failed to load Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x1,0x0): Not Found' }),
      failureSignatureOf({ failureClass: 'no_boot_device', line: 'BdsDxe: failed to load Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x1,0x0): Unsupported' }),
    );
  });

  it('keeps identifiers with digits, strips device paths and GUIDs, clips to 120 chars', () => {
    assert.equal(normaliseConsoleText('ttyAMA0 virtio_blk arm64 Boot0001 at drivers/pci/msi/msi.h:17'), 'ttyAMA0 virtio_blk arm64 Boot0001 at drivers/pci/msi/msi.h:LINE');
    assert.equal(normaliseConsoleText('BdsDxe: loading Boot0002 "EFI Internal Shell" from Fv(64074AFE-340A-4BE6-94BA-91B5B4D0F71E)/FvFile(7C04A583-9E3E-4F1C-AD65-E05268D0B4D1)'), 'BdsDxe: loading Boot0002 "EFI Internal Shell"');
    assert.equal(normaliseConsoleText('part GUID 57BE9E8B-797D-4B61-8201-828175C4539C'), 'part GUID GUID');
    const long = panic(`Kernel panic - not syncing: ${'word '.repeat(60)}`)!;
    assert.ok(long.length <= maxSignatureChars, `${long.length}`);
  });

  it('uses the oops as the title of a generic "Fatal exception" panic, and skips generic frames', () => {
    assert.equal(
      failureSignatureOf({ failureClass: 'kernel_panic', line: 'Kernel panic - not syncing: Oops: Fatal exception', cause: 'Internal error: Oops in foo_bar' }),
      'kernel panic: Oops: Fatal exception: Internal error: Oops in foo_bar',
    );
    assert.equal(frameOf('[    0.897304]  dump_backtrace+0xe4/0x140'), null);
    assert.equal(frameOf('[    0.897848]  mount_block_root+0x1fc/0x21c'), 'mount_block_root');
    assert.equal(frameOf('  el0_svc_common.constprop.0+0x4c/0xf4'), 'el0_svc_common');
  });

  it('names WARNINGs by function, hangs by stage and last line', () => {
    assert.equal(
      failureSignatureOf({ failureClass: 'kernel_oops', line: '[    1.129892] WARNING: CPU: 0 PID: 96 at drivers/pci/msi/msi.h:17 pci_msi_setup_msi_irqs+0x1c/0x4c' }),
      'oops: WARNING in pci_msi_setup_msi_irqs',
    );
    assert.equal(failureSignatureOf({ failureClass: 'silence', line: 'vmlinuz: 0x000000007a387000-0x000000007c2f4fc0', stage: 'bootloader' }), 'hang after bootloader: vmlinuz: ADDR-ADDR');
    assert.equal(failureSignatureOf({ failureClass: 'no_console_output', line: null }), 'no console output');
    assert.equal(failureSignatureOf({ failureClass: 'qemu_crashed', line: 'x' }), 'qemu_crashed');
  });

  it('the analyzer finds the guilty frame of an oops that follows the header', () => {
    const a = new BootConsoleAnalyzer({ markers: consoleSuccessMarkers });
    const lines = [
      '[    0.000000] Booting Linux on physical CPU 0x0000000000 [0x411fd070]',
      '[    1.1] Unable to handle kernel NULL pointer dereference at virtual address 0000000000000008',
      '[    1.1] Mem abort info:',
      '[    1.1] Internal error: Oops: 0000000096000005 [#1] SMP',
      '[    1.1] CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.1.0 #1',
      '[    1.1] pc : foo_probe+0x10/0x20',
      '[    1.1] lr : really_probe+0xc8/0x3e0',
    ];
    lines.forEach((text, seq) => a.feed({ seq, offsetMs: seq, text, end: 'newline' }));
    const r = a.result('silence');
    assert.equal(r.outcome, 'kernel_oops');
    assert.equal(r.normalisedSignature, 'oops: Unable to handle kernel NULL pointer dereference in foo_probe');
    assert.equal(r.decidingLine?.seq, 1);
    assert.equal(r.kernelReports.length, 1, 'the Internal error line belongs to the same report');
    a.feed({ seq: 7, offsetMs: 7, text: '[    1.2] Kernel panic - not syncing: Oops: Fatal exception', end: 'newline' });
    assert.equal(a.decision, 'signature');
    assert.equal(a.result().normalisedSignature, 'kernel panic: Oops: Fatal exception: Unable to handle kernel NULL pointer dereference in foo_probe');
  });
});
