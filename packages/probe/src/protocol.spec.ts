import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import * as protocol from './protocol.js';
import {
  MAX_VALUE_LENGTH,
  PROBE_PREFIX,
  allRecords,
  lastRecord,
  probeFactsFromRecords,
  probeTimeToEpochMs,
  readProbeRecords,
  splitProbeFacts,
} from './protocol.js';

const lines = (...texts: string[]) => texts.map((text, seq) => ({ seq, offsetMs: seq * 10, text }));

describe('readProbeRecords', () => {
  it('reads facts interleaved with firmware output, with their line', () => {
    const records = readProbeRecords(
      lines(
        'UEFI firmware (version  built at 01:23:45 on Nov 25 2026)',
        '\x1b[2J\x1b[01;01HVMSPEC-PROBE banner=vmspec-probe/2 arch=aarch64\r',
        'BdsDxe: loading Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x1,0x0)',
        `[   0.616] ${PROBE_PREFIX} fdt=absent   \r\n`,
        'VMSPEC-PROBE result=done',
      ),
    );
    assert.deepEqual(
      records.map(({ key, value, seq, offsetMs }) => ({ key, value, seq, offsetMs })),
      [
        { key: 'banner', value: 'vmspec-probe/2 arch=aarch64', seq: 1, offsetMs: 10 },
        { key: 'fdt', value: 'absent', seq: 3, offsetMs: 30 },
        { key: 'result', value: 'done', seq: 4, offsetMs: 40 },
      ],
    );
    assert.equal(records[1]!.text, `[   0.616] ${PROBE_PREFIX} fdt=absent   \r\n`, 'the whole line, as evidence');
  });

  it('reads two facts that lost the line break between them, each on the same line', () => {
    const records = readProbeRecords(lines('VMSPEC-PROBE fdt=presentVMSPEC-PROBE acpi20=absent'));
    assert.deepEqual(
      records.map((r) => [r.key, r.value, r.seq]),
      [
        ['fdt', 'present', 0],
        ['acpi20', 'absent', 0],
      ],
    );
  });

  it('ignores junk: no prefix, no "=", bad or long keys, non-line entries', () => {
    const junk = [
      ...lines('fdt=present', 'VMSPEC-PROBEfdt=present', 'VMSPEC-PROBE fdt', 'VMSPEC-PROBE =x', 'VMSPEC-PROBE bad key=x', 'VMSPEC-PROBE ', ''),
      { seq: 1, offsetMs: 1, text: `VMSPEC-PROBE ${'k'.repeat(129)}=x` },
      { seq: Number.NaN, offsetMs: 0, text: 'VMSPEC-PROBE fdt=present' },
      { seq: 1, offsetMs: Infinity, text: 'VMSPEC-PROBE fdt=present' },
      { seq: 1, offsetMs: 0, text: 42 },
      null,
      'VMSPEC-PROBE fdt=present',
    ] as unknown as Parameters<typeof readProbeRecords>[0];
    assert.deepEqual(readProbeRecords(junk), []);
    assert.deepEqual(readProbeRecords(null as unknown as []), []);
    assert.deepEqual(readProbeRecords({ length: 3 } as unknown as []), []);
  });

  it('caps values and stored line text, and keeps "__proto__" harmless', () => {
    const long = 'x'.repeat(1_000_000);
    const records = readProbeRecords(lines(`VMSPEC-PROBE fw.vendor=${long}`, 'VMSPEC-PROBE __proto__=polluted'));
    assert.equal(records[0]!.value.length, MAX_VALUE_LENGTH);
    assert.ok(records[0]!.text.length <= protocol.MAX_LINE_TEXT);
    const facts = probeFactsFromRecords(records);
    assert.deepEqual(Object.getOwnPropertyDescriptor(facts.raw, '__proto__')?.value, ['polluted']);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  it('never throws on random input (seeded fuzz)', () => {
    let seed = 0x1234567;
    const next = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    const alphabet = ['VMSPEC-PROBE ', 'VMSPEC-PROBE', '=', ' ', '\r', '\n', '\x1b[0m', '.', 'rt.gettime.1', 'done', '\u0000', '\ud800', 'a', '9'];
    const input = Array.from({ length: 3000 }, (_, seq) => {
      let text = '';
      for (let j = next() % 24; j > 0; j--) text += alphabet[next() % alphabet.length];
      return { seq, offsetMs: seq, text };
    });
    const records = readProbeRecords(input);
    for (const r of records) assert.match(r.key, /^[A-Za-z0-9_.-]+$/);
    assert.doesNotThrow(() => probeFactsFromRecords(records));
  });

  it('lastRecord and allRecords pick by key', () => {
    const records = readProbeRecords(lines('VMSPEC-PROBE cfgtable.guid=a', 'VMSPEC-PROBE x=1', 'VMSPEC-PROBE cfgtable.guid=b', 'VMSPEC-PROBE x=2'));
    assert.equal(lastRecord(records, 'x')?.value, '2');
    assert.equal(lastRecord(records, 'x')?.seq, 3);
    assert.equal(lastRecord(records, 'missing'), undefined);
    assert.deepEqual(
      allRecords(records, 'cfgtable.guid').map((r) => r.value),
      ['a', 'b'],
    );
    assert.deepEqual(allRecords([], 'x'), []);
  });

  it('splitProbeFacts gives nothing for non-strings', () => {
    for (const v of [undefined, null, 1, {}, ['VMSPEC-PROBE a=b']]) assert.deepEqual(splitProbeFacts(v), []);
  });
});

describe('probeFactsFromRecords', () => {
  it('types the v2 keys', () => {
    const f = probeFactsFromRecords(
      readProbeRecords(
        lines(
          'VMSPEC-PROBE banner=vmspec-probe/2 arch=aarch64',
          'VMSPEC-PROBE rtprop=present',
          'VMSPEC-PROBE rtprop.supported=0x000005b0',
          'VMSPEC-PROBE acpi.xsdt.tables=FACP,APIC,GTDT,SPCR',
          'VMSPEC-PROBE acpi.fadt.hw_reduced=yes',
          'VMSPEC-PROBE acpi.fadt.arm_boot_arch=0x0003',
          'VMSPEC-PROBE acpi.fadt.psci_hvc=no',
          'VMSPEC-PROBE acpi.madt.gicd.version=3',
          'VMSPEC-PROBE acpi.spcr.base=0x0000000009000000',
          'VMSPEC-PROBE fdt.psci.compatible=arm,psci-1.0 arm,psci-0.2 arm,psci',
          'VMSPEC-PROBE fdt.pcie=present',
          'VMSPEC-PROBE fdt.memory.bytes=17179869184',
          'VMSPEC-PROBE rt.gettime.1=EFI_SUCCESS',
          'VMSPEC-PROBE rt.gettime.1.time=2026-11-25T04:03:05',
          'VMSPEC-PROBE rt.gettime.2=EFI_UNSUPPORTED',
          'VMSPEC-PROBE rt.settime=missing',
          'VMSPEC-PROBE var.previous=0000000009eadb04',
          'VMSPEC-PROBE var.readback.match=no',
          'VMSPEC-PROBE result=done',
        ),
      ),
    );
    assert.equal(f.protocolVersion, 2);
    assert.equal(f.arch, 'aarch64');
    assert.equal(f.rtpropPresent, true);
    assert.equal(f.rtpropSupported, 0x5b0);
    assert.deepEqual(f.acpiTables, ['FACP', 'APIC', 'GTDT', 'SPCR']);
    assert.equal(f.acpiHwReduced, true);
    assert.equal(f.acpiArmBootArch, 3);
    assert.equal(f.acpiPsciHvc, false);
    assert.equal(f.acpiGicdVersion, 3);
    assert.equal(f.acpiSpcrBase, '0x0000000009000000');
    assert.deepEqual(f.fdtPsciCompatible, ['arm,psci-1.0', 'arm,psci-0.2', 'arm,psci']);
    assert.equal(f.fdtPcie, true);
    assert.equal(f.fdtMemoryBytes, 16 * 2 ** 30);
    assert.equal(f.getTime, 'EFI_SUCCESS');
    assert.equal(f.getTimeValue, '2026-11-25T04:03:05');
    assert.equal(f.getTime2, 'EFI_UNSUPPORTED');
    assert.equal(f.getTime2Value, undefined);
    assert.equal(f.setTime, 'missing');
    assert.equal(f.varPrevious, '0000000009eadb04');
    assert.equal(f.varReadbackMatch, false);
    assert.equal(f.done, true);
    assert.equal(f.fdtGicVersion, undefined, 'keys not printed stay undefined');
  });

  it('still reads version 1 (rt.gettime, rt.gettime.time)', () => {
    const f = probeFactsFromRecords(
      readProbeRecords(
        lines(
          'VMSPEC-PROBE banner=vmspec-probe/1 arch=arm',
          'VMSPEC-PROBE cpu.cpsr_mode=0x00000013',
          'VMSPEC-PROBE rt.gettime.status=0x00000000',
          'VMSPEC-PROBE rt.gettime=EFI_SUCCESS',
          'VMSPEC-PROBE rt.gettime.time=2026-11-25T04:03:05',
          'VMSPEC-PROBE result=done',
        ),
      ),
    );
    assert.equal(f.protocolVersion, 1);
    assert.equal(f.arch, 'arm');
    assert.equal(f.cpsrMode, 0x13);
    assert.equal(f.getTime, 'EFI_SUCCESS');
    assert.equal(f.getTimeValue, '2026-11-25T04:03:05');
    assert.equal(f.done, true);
  });

  it('keeps malformed values out of the typed fields', () => {
    const f = probeFactsFromRecords(
      readProbeRecords(
        lines(
          'VMSPEC-PROBE banner=vmspec-probe/x',
          'VMSPEC-PROBE fdt.cpus=-1',
          'VMSPEC-PROBE acpi.fadt.hw_reduced=maybe',
          'VMSPEC-PROBE rtprop.supported=0x1ffffffff',
          'VMSPEC-PROBE mem.ram_bytes=99999999999999999999',
        ),
      ),
    );
    assert.equal(f.protocolVersion, undefined);
    assert.equal(f.fdtCpus, undefined);
    assert.equal(f.acpiHwReduced, undefined);
    assert.equal(f.rtpropSupported, undefined);
    assert.equal(f.memRamBytes, undefined);
    assert.deepEqual(f.raw['fdt.cpus'], ['-1']);
  });
});

describe('probeTimeToEpochMs', () => {
  it('reads the probe time as UTC and refuses malformed ones', () => {
    assert.equal(probeTimeToEpochMs('2026-11-25T04:03:05'), Date.UTC(2026, 10, 25, 4, 3, 5));
    for (const bad of [undefined, '', '2026-11-25 04:03:05', '2026-13-01T00:00:00', '2026-11-25T24:00:00', '2026-11-25T04:03:05Z']) {
      assert.equal(probeTimeToEpochMs(bad), undefined, String(bad));
    }
  });
});

describe('@bootfarm/probe/protocol is pure', () => {
  it('imports nothing (no node: built-ins, no packages)', async () => {
    const { readFile } = await import('node:fs/promises');
    const source = await readFile(new URL('./protocol.js', import.meta.url), 'utf8');
    assert.doesNotMatch(source, /^\s*import\s/m);
    assert.doesNotMatch(source, /\brequire\(|\bimport\(/);
  });
});
