import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { extractGuestFacts, GuestFactsExtractor, maxGuestKeys } from './guest-facts.extractor.js';

const facts = (...texts: string[]) => extractGuestFacts(texts.map((text, seq) => ({ seq, offsetMs: seq * 10, text })));

describe('guest facts', () => {
  it('reads the §3 regexes with their evidence line', () => {
    const f = facts(
      'EFI stub: Using DTB from command line',
      '[    0.000000] efi: EFI v2.7 by EDK II',
      '[    0.000000] efi: ACPI 2.0=0x5c430018 SMBIOS 3.0=0x5fed0000 RTPROP=0x5dda6040 ',
      '[    0.000000] psci: PSCIv1.0 detected in firmware.',
      '[    0.000000] arch_timer: cp15 timer(s) running at 24.00MHz (phys).',
      '[    0.064329] CPU: All CPU(s) started at EL2',
      '[    0.062551] smp: Brought up 1 node, 4 CPUs',
      '[    0.000000] GICv3: 256 SPIs implemented',
      '[    0.1] 9000000.pl011: ttyAMA0 at MMIO 0x9000000 (irq = 13, base_baud = 0) is a PL011 rev1',
    );
    assert.equal(f.dtbSource?.value, 'command_line');
    assert.equal(f.dtbSource?.evidence.seq, 0);
    assert.deepEqual(f.efi?.value, { revision: '2.7', major: 2, minor: 7, vendor: 'EDK II' });
    assert.deepEqual(f.efiConfigTables?.value, { names: ['ACPI 2.0', 'SMBIOS 3.0', 'RTPROP'], acpi20: true, smbios3: true, smbios: false, rtprop: true });
    assert.equal(f.psci?.value.version, '1.0');
    assert.deepEqual(f.archTimer?.value, { mhz: 24, virtual: false });
    assert.deepEqual(f.cpusStartedAt?.value, { el: 2, consistent: true });
    assert.equal(f.cpusBroughtUp?.value.cpus, 4);
    assert.equal(f.gic?.value.version, 'v3');
    assert.equal(f.gic?.evidence.offsetMs, 70);
    assert.equal(f.uart?.value.detail, 'PL011 rev1');
  });

  it('lets a GICv3 line win over a GICv2 hint, first occurrence otherwise', () => {
    const f = facts('[ 0] GIC: Using split EOI/Deactivate mode', '[ 0] GICv3: CPU0: found redistributor', '[ 0] GIC: again');
    assert.equal(f.gic?.value.version, 'v3');
    assert.equal(facts('[ 0] smp: Brought up 1 node, 2 CPUs', '[ 0] smp: Brought up 1 node, 8 CPUs').cpusBroughtUp?.value.cpus, 2);
  });

  it('parses VMSPEC-GUEST key=value lines, keeping whole-line values', () => {
    const f = facts(
      'VMSPEC-GUEST cmdline=BOOT_IMAGE=/vmlinuz console=ttyAMA0 panic=-1',
      'VMSPEC-GUEST rtc=rtc-efi rtc-efi.0 time=Wed Nov 25 04:03:34 2026',
      'VMSPEC-GUEST cpus=1 cpu_part=0xd07',
      'VMSPEC-GUEST dmesg: [    0.000000] psci: PSCIv1.1 detected in firmware.',
      'VMSPEC-GUEST-READY',
    );
    assert.equal(f.guest['cmdline']?.value, 'BOOT_IMAGE=/vmlinuz console=ttyAMA0 panic=-1');
    assert.equal(f.guest['rtc']?.value, 'rtc-efi rtc-efi.0');
    assert.equal(f.guest['time']?.value, 'Wed Nov 25 04:03:34 2026');
    assert.equal(f.guest['cpu_part']?.value, '0xd07');
    assert.equal(f.psci?.value.version, '1.1', "the guest's dmesg replay is read too");
    assert.equal(Object.keys(f.guest).length, 5);
  });

  it('ignores Xen hypervisor lines and bounds guest keys', () => {
    assert.equal(facts('(XEN) GICv3: 256 lines, (IID 0000043b).').gic, null);
    const x = new GuestFactsExtractor();
    for (let i = 0; i < 1000; i++) x.feed(i, i, `VMSPEC-GUEST k${i}=v`);
    assert.equal(Object.keys(x.value.guest).length, maxGuestKeys);
    assert.equal(facts('VMSPEC-GUEST __proto__=x').guest['__proto__']?.value, 'x');
  });
});
