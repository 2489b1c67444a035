import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { VmProfile } from '@bootfarm/contracts';
import { evaluateCell } from './verdicts.js';
import type { BootInput, GuestFactsInput } from './inputs.js';
import {
  cellOf, edk2AcpiGicv3, edk2DtGicv2, failedBoot, finding, goodInspection, guestAcpi, guestDt, guestXen, line, passedBoot, prof, req, st, ubootDt, xenArmVirtXen,
} from './testing.fixtures.js';

const acpiCell = (guest: GuestFactsInput | null, boot: BootInput | null = passedBoot(), extra: Parameters<typeof cellOf>[1] = {}) =>
  evaluateCell(cellOf(edk2AcpiGicv3().profile, { platform: edk2AcpiGicv3(), guest, boot, ...extra }));
const dtCell = (guest: GuestFactsInput | null, boot: BootInput | null = passedBoot(), extra: Parameters<typeof cellOf>[1] = {}) =>
  evaluateCell(cellOf(edk2DtGicv2().profile, { platform: edk2DtGicv2(), guest, boot, ...extra }));
const fact = <T>(value: T, text: string, seq = 500) => ({ value, evidence: line(seq, 3000, text) });

describe('OS-1 and the boot-based verdicts', () => {
  it('passes with the marker line as evidence, fails with the deciding line', () => {
    const ok = req(acpiCell(guestAcpi()), 'OS-1');
    assert.deepEqual(st(ok), ['pass', 'pass', 'pass']);
    assert.equal(ok.evidence[0]!.line, 'VMSPEC-GUEST-READY');
    const panic = req(acpiCell(null, failedBoot('kernel_panic', 'kernel panic: VFS: Unable to mount root fs on unknown-block(0,0)', 'os', 'Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)')), 'OS-1');
    assert.deepEqual(st(panic), ['fail', 'fail', 'fail']);
    assert.equal(panic.evidence[0]!.seq, 300);
    assert.match(panic.evidence[0]!.line!, /Kernel panic/);
    const cancel = req(acpiCell(null, { outcome: 'canceled', reason: 'run canceled', stage: 'firmware', failureClass: null }), 'OS-1');
    assert.deepEqual(st(cancel), ['not_tested', 'not_tested', 'not_tested']);
  });
  it('FW-11: the boot manager reached the loader; a no-boot-device end with a valid image fails it', () => {
    assert.deepEqual(st(req(acpiCell(guestAcpi()), 'FW-11')), ['pass', 'pass', 'pass']);
    const shell = failedBoot('no_boot_device', 'no boot device: BdsDxe: failed to load Boot0001', 'boot_manager', 'BdsDxe: failed to load Boot0001 "UEFI Misc Device": Not Found');
    assert.deepEqual(st(req(acpiCell(null, shell), 'FW-11')), ['fail', 'fail', 'fail']);
    const noBootFile = goodInspection({ replace: ['IMG-5', 'IMG-6'], findings: [finding('IMG-5', 'removable-path-missing', 'fail', 'no removable-media boot file'), finding('IMG-6', 'pe-none', 'fail', 'no ARM removable-media boot file to check')] });
    assert.deepEqual(st(req(acpiCell(null, shell, { inspection: noBootFile }), 'FW-11')), ['not_applicable', 'not_applicable', 'not_applicable']);
  });
});

describe('OS-2: console drivers per profile', () => {
  it('ACPI cell: the SBSA driver counts for v2.0/bbr; v1.0 does not name SBSA', () => {
    const r = req(acpiCell(guestAcpi()), 'OS-2');
    assert.deepEqual(st(r), ['not_applicable', 'pass', 'pass']);
    assert.ok(r.evidence.some((e) => e.value === 'SBSA' && e.line?.includes('is a SBSA')));
  });
  it('DT cell: pl011', () => {
    assert.deepEqual(st(req(dtCell(guestDt()), 'OS-2')), ['pass', 'pass', 'pass']);
  });
  it('the platform offers a pl011 the guest never bound: fail', () => {
    const g = guestDt({ uart: null }, { uart: '' });
    const r = req(dtCell(g), 'OS-2');
    assert.deepEqual(st(r), ['fail', 'fail', 'fail']);
    assert.match(r.verdicts['vmspec-2.0'].reason, /offers pl011/);
  });
  it('Xen: hvc0 is the Xen PV console, a v1.0 driver', () => {
    const c = evaluateCell(cellOf(xenArmVirtXen().profile, { platform: xenArmVirtXen(), guest: guestXen() }));
    assert.deepEqual(st(req(c, 'OS-2')), ['pass', 'not_applicable', 'not_applicable']);
  });
});

describe('OS-4: the guest\'s wall clock is the UEFI RTC', () => {
  it('rtc-efi passes', () => {
    const r = req(acpiCell(guestAcpi()), 'OS-4');
    assert.deepEqual(st(r), ['pass', 'pass', 'pass']);
    assert.equal(r.evidence.at(-1)!.line, '[    0.627234] rtc-efi rtc-efi.0: registered as rtc0');
  });
  it('U-Boot: the guest falls back to rtc-pl031 — fail, and bbr does not apply (no GetTime claimed)', () => {
    const g = guestDt({ rtcEfi: null, rtc: fact({ driver: 'rtc-pl031', rtc: 'rtc0' }, '[    0.445630] rtc-pl031 9010000.pl031: registered as rtc0') }, { 'rtc0.name': 'rtc-pl031' });
    const r = req(evaluateCell(cellOf(ubootDt().profile, { platform: ubootDt(), guest: g })), 'OS-4');
    assert.deepEqual(st(r), ['fail', 'fail', 'not_applicable']);
  });
  it('a kernel not booted through UEFI has no UEFI RTC', () => {
    const g = guestXen();
    const r = req(acpiCell({ ...g, efi: null, efiNotFound: fact(true as const, '[    0.000000] efi: UEFI not found.'), guest: {} }), 'OS-4');
    assert.deepEqual(st(r), ['fail', 'fail', 'warn'], 'should under bbr (EBBR: RTC optional)');
  });
});

describe('OS-5 .. OS-12', () => {
  it('OS-5: a block device on the cell\'s transport', () => {
    assert.deepEqual(st(req(acpiCell(guestAcpi()), 'OS-5')), ['pass', 'pass', 'pass']);
    assert.deepEqual(st(req(acpiCell(guestAcpi({}, { block: '' })), 'OS-5')), ['warn', 'warn', 'warn']);
  });
  it('OS-6 per cell: the description the probe saw decides which profiles it counts for', () => {
    const a = req(acpiCell(guestAcpi()), 'OS-6');
    assert.deepEqual(st(a), ['not_applicable', 'pass', 'pass']);
    assert.ok(a.evidence.some((e) => e.what === 'hardware description presented' && e.value === 'acpi'));
    const x = req(evaluateCell(cellOf(xenArmVirtXen().profile, { platform: xenArmVirtXen(), guest: guestXen() })), 'OS-6');
    assert.deepEqual(st(x), ['pass', 'pass', 'not_applicable']);
  });
  it('OS-7: firmware description used; a command-line DTB or a fixed devicetree warns', () => {
    assert.deepEqual(st(req(acpiCell(guestAcpi()), 'OS-7')), ['pass', 'pass', 'pass']);
    assert.deepEqual(st(req(dtCell(guestDt()), 'OS-7')), ['pass', 'pass', 'pass']);
    const cl = guestDt({ dtbSource: fact('command_line' as const, 'EFI stub: Using DTB from command line') });
    assert.deepEqual(st(req(dtCell(cl), 'OS-7')), ['warn', 'warn', 'warn']);
    const grub = goodInspection({ replace: ['IMG-9'], findings: [finding('IMG-9', 'fixed-dtb', 'warn', '\\EFI\\debian\\grub.cfg line 12 hard-codes the platform (a fixed device tree)', [{ what: 'loader config line', value: '\\EFI\\debian\\grub.cfg:12: devicetree /boot/dtb' }])] });
    assert.deepEqual(st(req(dtCell(guestDt(), passedBoot(), { inspection: grub }), 'OS-7')), ['warn', 'warn', 'warn']);
    const odd = guestDt({ dtbSource: fact('empty' as const, 'EFI stub: Generating empty DTB') });
    assert.deepEqual(st(req(dtCell(odd), 'OS-7')), ['warn', 'warn', 'warn'], 'the stub ignored a firmware DT');
  });
  it('OS-8: CPUs, memory and a disk', () => {
    assert.deepEqual(st(req(acpiCell(guestAcpi()), 'OS-8')), ['pass', 'pass', 'pass']);
    const r = req(acpiCell(guestAcpi({ cpusBroughtUp: fact({ nodes: 1, cpus: 1 }, '[    0.05] smp: Brought up 1 node, 1 CPU') }, { memtotal_kb: '500000' })), 'OS-8');
    assert.deepEqual(st(r), ['fail', 'fail', 'fail']);
    assert.match(r.verdicts.bbr.reason, /1 of 2 vCPUs online; MemTotal 488 MiB for a 1024 MiB VM/);
  });
  it('OS-9: PSCI ≥ 0.2 and all CPUs; absent from v1.0', () => {
    assert.deepEqual(st(req(acpiCell(guestAcpi()), 'OS-9')), ['not_applicable', 'pass', 'pass']);
    const old = guestAcpi({ psci: fact({ version: '0.1', major: 0, minor: 1 }, 'psci: PSCIv0.1 detected in firmware.') });
    assert.deepEqual(st(req(acpiCell(old), 'OS-9')), ['not_applicable', 'fail', 'fail']);
  });
  it('OS-10: efivarfs write; bbr does not ask when runtime SetVariable is not claimed', () => {
    assert.deepEqual(st(req(acpiCell(guestAcpi()), 'OS-10')), ['pass', 'pass', 'pass']);
    assert.deepEqual(st(req(acpiCell(guestAcpi({}, { 'efivars.write': 'unavailable' })), 'OS-10')), ['warn', 'warn', 'warn']);
    const u = evaluateCell(cellOf(ubootDt().profile, { platform: ubootDt(), guest: guestDt({}, { 'efivars.write': 'failed' }) }));
    assert.deepEqual(st(req(u, 'OS-10')), ['warn', 'warn', 'not_applicable']);
    assert.deepEqual(st(req(acpiCell(guestAcpi({ guest: {} })), 'OS-10')), ['not_tested', 'not_tested', 'not_tested']);
  });
  it('OS-12: console= on the command line warns; none passes; ttyAMA on Xen without a UART warns', () => {
    assert.deepEqual(st(req(acpiCell(guestAcpi()), 'OS-12')), ['pass', 'pass', 'pass']);
    const withArg = guestAcpi({ commandLine: fact({ text: 'console=ttyAMA0 earlycon panic=-1', consoleArgs: ['ttyAMA0'] }, '[    0.000000] Kernel command line: console=ttyAMA0 earlycon panic=-1') });
    const r = req(acpiCell(withArg), 'OS-12');
    assert.deepEqual(st(r), ['warn', 'warn', 'warn']);
    assert.match(r.verdicts['vmspec-2.0'].reason, /console=ttyAMA0/);
    const xenQuiet: GuestFactsInput = { guest: { cmdline: { value: 'console=ttyAMA0 panic=-1', evidence: line(900, 5000, 'VMSPEC-GUEST cmdline=console=ttyAMA0 panic=-1') } } };
    const x = req(evaluateCell(cellOf(xenArmVirtXen().profile, { platform: xenArmVirtXen(), guest: xenQuiet })), 'OS-12');
    assert.deepEqual(st(x), ['warn', 'warn', 'warn']);
    assert.match(x.verdicts['vmspec-1.0'].reason, /without a UART/);
  });
  it('console-based requirements are not tested when no guest facts were recorded', () => {
    const c = acpiCell(null);
    for (const id of ['OS-2', 'OS-4', 'OS-5', 'OS-7', 'OS-8', 'OS-10', 'OS-12']) {
      assert.equal(req(c, id).verdicts['vmspec-2.0'].status, 'not_tested', id);
    }
  });
});

// ---- the real console samples through the emulator's own extractor (spec-only dependency) ------

const SAMPLES = fileURLToPath(new URL('../../../fixtures/console/', import.meta.url));

interface Emulator {
  extractGuestFacts(lines: Iterable<{ seq: number; offsetMs: number; text: string }>): GuestFactsInput;
  sanitizeConsoleText(text: string): string;
}

async function sampleGuest(name: string): Promise<{ guest: GuestFactsInput; boot: BootInput }> {
  // A computed specifier keeps tsc from needing a project reference to the emulator.
  const emu = (await import(String('@bootfarm/emulator'))) as Emulator;
  const body = await readFile(`${SAMPLES}${name}.tlog`, 'utf8');
  const lines = body.split('\n').filter(Boolean).map((l, i) => {
    const m = /^\[\s*([\d.]+)\] ?(.*)$/.exec(l)!;
    return { seq: i, offsetMs: Math.round(Number(m[1]) * 1000), text: emu.sanitizeConsoleText(m[2]!.replaceAll('^[', '\x1b')) };
  });
  const marker = lines.find((l) => l.text === 'VMSPEC-GUEST-READY') ?? null;
  return { guest: JSON.parse(JSON.stringify(emu.extractGuestFacts(lines))) as GuestFactsInput, boot: { outcome: marker ? 'passed' : 'failed', reason: marker ? 'marker' : 'no marker', stage: 'os', failureClass: null, marker, decidingLine: marker } };
}

describe('real guest transcripts through the extractor', () => {
  it('linux-uki-aavmf-acpi: empty stub DTB does not pass FW-3; rtc-efi passes OS-4; SBSA bound', async () => {
    const { guest, boot } = await sampleGuest('linux-uki-aavmf-acpi');
    const p: VmProfile = prof({ hwDescription: 'acpi', gic: 'v3', cpus: 2, memoryMiB: 1024 });
    const c = evaluateCell(cellOf(p, { platform: edk2AcpiGicv3(), guest, boot }));
    assert.deepEqual(st(req(c, 'FW-3')), ['fail', 'fail', 'not_applicable']);
    assert.ok(req(c, 'FW-3').evidence.some((e) => e.line === 'EFI stub: Generating empty DTB'));
    assert.deepEqual(st(req(c, 'OS-4')), ['pass', 'pass', 'pass']);
    assert.deepEqual(st(req(c, 'OS-7')), ['pass', 'pass', 'pass']);
    assert.deepEqual(st(req(c, 'OS-2')), ['not_applicable', 'pass', 'pass']);
    assert.deepEqual(st(req(c, 'OS-12')), ['warn', 'warn', 'warn'], 'the sample boots with console=ttyAMA0');
  });
  it('linux-uki-uboot: rtc-pl031 instead of rtc-efi fails OS-4 (v1.0/v2.0)', async () => {
    const { guest, boot } = await sampleGuest('linux-uki-uboot');
    const c = evaluateCell(cellOf(ubootDt().profile, { platform: ubootDt(), guest, boot }));
    assert.deepEqual(st(req(c, 'OS-4')), ['fail', 'fail', 'not_applicable']);
    assert.match(req(c, 'OS-4').verdicts['vmspec-1.0'].reason, /rtc-pl031/);
    assert.deepEqual(st(req(c, 'OS-7')), ['pass', 'pass', 'pass']);
    assert.deepEqual(st(req(c, 'OS-9')), ['not_applicable', 'pass', 'pass']);
  });
  it('xen-dom0-aavmf-gicv3: not booted through UEFI, hvc0 console', async () => {
    const { guest, boot } = await sampleGuest('xen-dom0-aavmf-gicv3');
    const c = evaluateCell(cellOf(xenArmVirtXen().profile, { platform: xenArmVirtXen(), guest, boot }));
    assert.deepEqual(st(req(c, 'OS-4')), ['fail', 'fail', 'warn']);
    assert.match(req(c, 'OS-4').verdicts['vmspec-1.0'].reason, /UEFI not found/);
    assert.deepEqual(st(req(c, 'OS-2')), ['pass', 'not_applicable', 'not_applicable']);
    assert.deepEqual(st(req(c, 'OS-3')), ['pass', 'pass', 'pass']);
  });
});
