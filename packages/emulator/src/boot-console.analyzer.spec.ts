import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BootConsoleAnalyzer, type ConsoleDecision } from './boot-console.analyzer.js';
import { BootStageDetector, stageRank } from './boot-stage.detector.js';
import { failureSignatures, matchFailureSignature } from './boot-failure.signatures.js';
import { ConsoleCapture } from './console.capture.js';
import { sanitizeConsoleText } from './console-text.sanitizer.js';
import { defaultSuccessMarkers } from './qemu.launcher.js';
import type { BootStage, ConsoleLine } from './boot.types.js';
import { readSampleTimed, readSampleRaw, sampleNames } from './testing.helpers.js';

interface Expect {
  stage: BootStage;
  decision: ConsoleDecision | null;
  /** Signature id of the decision (or of the hint when there is no decision). */
  signature?: string;
}

const shell: Expect = { stage: 'boot_manager', decision: 'signature', signature: 'edk2.shell_fallback' };
const ubootPrompt: Expect = { stage: 'boot_manager', decision: 'signature', signature: 'uboot.prompt' };
const panic: Expect = { stage: 'os', decision: 'signature', signature: 'linux.panic' };
const probe: Expect = { stage: 'bootloader', decision: 'marker' };
// U-Boot's `EFI boot manager: Cannot load any image` hint goes stale once a loader runs.
const probeUboot: Expect = { stage: 'bootloader', decision: 'marker' };

/** What each real transcript must produce, replayed through the launcher's own analysis. */
const expectations: Record<string, Expect> = {
  'linux-bare-image-panic': panic,
  'linux-bare-image-panic-wait20s': panic,
  'linux-grub-aavmf-acpi': { stage: 'os', decision: 'marker' },
  'linux-uki-aavmf-acpi': { stage: 'os', decision: 'marker' },
  'linux-uki-aavmf-fdt': { stage: 'os', decision: 'marker' },
  'linux-uki-panic-noreboot-exit0': panic,
  'linux-uki-uboot': { stage: 'os', decision: 'marker' },
  'neg-arm32-machine-01c4-aavmf32': shell,
  'neg-arm32-movt-reloc-uboot': ubootPrompt,
  'neg-arm32-on-aa64-aavmf': shell,
  'neg-arm32-on-aa64-uboot': ubootPrompt,
  'neg-empty-esp-uboot': ubootPrompt,
  'neg-gpt-both-crc-aavmf': shell,
  'neg-gpt-primary-crc-aavmf': probe, // edk2 boots it anyway (and would repair the GPT on a writable disk)
  'neg-gpt-primary-crc-aavmf-readonly': shell,
  'neg-gpt-primary-crc-uboot': probeUboot,
  'neg-mbr-only-aavmf': probe,
  'neg-mbr-only-uboot': probeUboot,
  'neg-not-esp-type-aavmf': probe,
  'neg-not-esp-type-uboot': probeUboot,
  'neg-not-pe-aavmf': shell,
  'neg-x64-only-aavmf': shell,
  'neg-x64-only-aavmf-wait60s': shell,
  'neg-x64-only-uboot': ubootPrompt,
  'probe-aa64-aavmf-acpi': probe,
  'probe-aa64-aavmf-bootwait5s': probe,
  'probe-aa64-aavmf-el2-gicv3': probe,
  'probe-aa64-aavmf-fdt': probe,
  'probe-aa64-aavmf-overlay': probe,
  'probe-aa64-aavmf-virtio-mmio': probe,
  'probe-aa64-uboot-bootdelay0': probeUboot,
  'probe-arm32-aavmf32': probe,
  'probe-arm32-uboot-bootdelay0': probeUboot,
  'xen-dom0-aavmf-gicv3': { stage: 'os', decision: 'marker' },
  'xen-with-acpi-hangs': { stage: 'bootloader', decision: null }, // hangs: silence/timeout decides
};

async function replay(name: string, stopOnFailureSignature = true) {
  const raw = await readSampleRaw(name);
  const analyzer = new BootConsoleAnalyzer({ markers: defaultSuccessMarkers, stopOnFailureSignature });
  const capture = new ConsoleCapture({ now: () => 0 });
  let decision: ConsoleDecision | null = null;
  let decidedAtSeq = -1;
  analyzer.noteOutput(0, 0);
  for (const line of [...capture.write(raw), ...capture.flush('eof')]) {
    const d = analyzer.feed(line);
    if (d) {
      decision = d;
      decidedAtSeq = line.seq;
    }
  }
  return { analyzer, decision, decidedAtSeq, lines: capture.lineCount };
}

describe('console analysis replayed on the real samples', () => {
  it('covers every sample', async () => {
    assert.deepEqual(await sampleNames(), Object.keys(expectations).sort());
  });

  for (const [name, want] of Object.entries(expectations)) {
    it(name, async () => {
      const { analyzer, decision } = await replay(name);
      assert.equal(analyzer.stage, want.stage, 'stage');
      assert.equal(decision, want.decision, 'decision');
      assert.equal(analyzer.signature?.pattern, want.signature, 'signature');
      if (want.decision === 'marker') assert.ok(analyzer.marker && defaultSuccessMarkers.some((m) => m.test(analyzer.marker!.text)));
      const stages = analyzer.stages.map((s) => s.stage);
      assert.equal(stages[0], 'firmware');
      for (let i = 1; i < stages.length; i++) assert.ok(stageRank(stages[i]!) > stageRank(stages[i - 1]!), 'stages only move forward');
    });
  }

  it('stops at the UEFI-shell fallback long before the 5 s startup.nsh countdown ends', async () => {
    const timed = await readSampleTimed('neg-x64-only-aavmf');
    const analyzer = new BootConsoleAnalyzer({ markers: defaultSuccessMarkers });
    const decidedAt = timed.findIndex((l, seq) => analyzer.feed({ seq, offsetMs: l.seconds * 1000, text: sanitizeConsoleText(l.text), end: 'newline' }));
    assert.equal(analyzer.decision, 'signature');
    assert.ok(timed[decidedAt]!.seconds < 1, `decided at ${timed[decidedAt]!.seconds} s`);
    assert.ok(timed.at(-1)!.seconds > 5);
  });

  it('with stopOnFailureSignature=false keeps the first definitive signature as the failure class but does not decide', async () => {
    const { analyzer, decision } = await replay('neg-x64-only-aavmf', false);
    assert.equal(decision, null);
    assert.equal(analyzer.signature?.pattern, 'edk2.shell_fallback');
    assert.equal(analyzer.signature?.failureClass, 'no_boot_device');
  });

  it('takes the probe marker at the probe verdict line', async () => {
    const { analyzer } = await replay('probe-aa64-aavmf-acpi');
    assert.equal(analyzer.marker?.text, 'VMSPEC-PROBE result=done');
    assert.equal(analyzer.marker?.pattern, defaultSuccessMarkers[0]!.source);
  });
});

describe('BootConsoleAnalyzer', () => {
  const line = (seq: number, text: string, end: ConsoleLine['end'] = 'newline'): ConsoleLine => ({ seq, offsetMs: seq * 10, text, end });

  it('matches a marker printed across a pause mid-line (idle flush) or a length cut', () => {
    for (const end of ['idle', 'length_cap'] as const) {
      const a = new BootConsoleAnalyzer({ markers: defaultSuccessMarkers });
      assert.equal(a.feed(line(0, 'VMSPEC-PROBE result=do', end)), null);
      assert.equal(a.feed(line(1, 'ne')), 'marker');
      assert.deepEqual(a.marker, { seq: 1, offsetMs: 10, text: 'VMSPEC-PROBE result=done', pattern: defaultSuccessMarkers[0]!.source });
    }
  });

  it('does not join lines that ended with a newline', () => {
    const a = new BootConsoleAnalyzer({ markers: [/^ab$/] });
    assert.equal(a.feed(line(0, 'a')), null);
    assert.equal(a.feed(line(1, 'b')), null);
  });

  it('matches a login prompt delivered by the idle flush', () => {
    const a = new BootConsoleAnalyzer({ markers: defaultSuccessMarkers });
    assert.equal(a.feed(line(0, 'Debian GNU/Linux 12 debian ttyAMA0')), null);
    assert.equal(a.feed(line(1, '')), null);
    assert.equal(a.feed(line(2, 'debian login: ', 'idle')), 'marker');
  });

  it('takes only the first decision, but keeps tracking the stage', () => {
    const a = new BootConsoleAnalyzer({ markers: defaultSuccessMarkers });
    assert.equal(a.feed(line(0, 'VMSPEC-PROBE result=done')), 'marker');
    assert.equal(a.feed(line(1, '[    0.87] Kernel panic - not syncing: x')), null);
    assert.equal(a.feed(line(2, '[    0.000000] Booting Linux on physical CPU 0x0')), null);
    assert.equal(a.decision, 'marker');
    assert.equal(a.signature, null);
    assert.equal(a.stage, 'os');
  });

  it('uses global regexes safely (no lastIndex state between lines)', () => {
    const a = new BootConsoleAnalyzer({ markers: [/READY/g] });
    assert.equal(a.feed(line(0, 'x READY')), 'marker');
    const b = new BootConsoleAnalyzer({ markers: [/READY/g] });
    assert.equal(b.feed(line(0, 'nope')), null);
    assert.equal(b.feed(line(1, 'READY')), 'marker');
  });
});

describe('BootStageDetector', () => {
  it('moves only forward', () => {
    const d = new BootStageDetector();
    assert.equal(d.feed('VMSPEC-PROBE banner=vmspec-probe/1'), 'bootloader');
    assert.equal(d.feed('UEFI firmware (version  built at ...)'), null);
    assert.equal(d.stage, 'bootloader');
    assert.equal(d.feed('[    0.000000] Booting Linux on physical CPU 0x0'), 'os');
  });

  it('counts any output as firmware', () => {
    const d = new BootStageDetector();
    assert.equal(d.noteOutput(), 'firmware');
    assert.equal(d.noteOutput(), null);
    assert.equal(d.feed('random text'), null);
  });
});

describe('failure signatures', () => {
  it('have unique ids', () => {
    assert.equal(new Set(failureSignatures.map((s) => s.id)).size, failureSignatures.length);
  });

  it('match edk2 and Linux failure lines', () => {
    assert.equal(matchFailureSignature('BdsDxe: failed to load Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x1,0x0): Not Found')?.id, 'edk2.load_failed');
    assert.equal(matchFailureSignature('BdsDxe: starting Boot0002 "EFI Internal Shell" from Fv(...)')?.id, 'edk2.shell_fallback');
    assert.equal(matchFailureSignature('[    0.87] Kernel panic - not syncing: VFS: Unable to mount root fs')?.id, 'linux.panic');
    assert.equal(matchFailureSignature('=> '), failureSignatures.find((s) => s.id === 'uboot.prompt'));
    assert.equal(matchFailureSignature('BdsDxe: loading Boot0001 "UEFI Misc Device"'), null);
    assert.equal(matchFailureSignature('x => y'), null);
  });
});

describe('BootConsoleAnalyzer: phases, new failure classes and hints', () => {
  const run = (texts: string[], end: 'exited' | 'silence' | 'timeout' = 'exited') => {
    const a = new BootConsoleAnalyzer({ markers: defaultSuccessMarkers });
    texts.forEach((text, seq) => a.feed({ seq, offsetMs: seq * 10, text, end: 'newline' }));
    return { a, r: a.result(end) };
  };

  it('tracks the finer phase next to the coarse stage', () => {
    const { a, r } = run(['U-Boot 2023.01', 'Booting /efi\\boot\\bootaa64.efi', 'EFI stub: Booting Linux Kernel...', '[ 0.0] Booting Linux on physical CPU 0x0', '[ 1.0] Run /init as init process', 'VMSPEC-GUEST-READY']);
    assert.deepEqual(r.phases.map((p) => p.phase), ['firmware', 'boot_manager', 'loader', 'kernel', 'init', 'ready']);
    assert.deepEqual(a.stages.map((s) => s.stage), ['firmware', 'boot_manager', 'bootloader', 'os']);
    assert.equal(r.phases[4]!.text, '[ 1.0] Run /init as init process');
    assert.equal(r.outcome, 'ready');
  });

  it('decides firmware exceptions, GRUB rescue and the edk2 boot menu', () => {
    const ex = run(['UEFI firmware (version  built at 13:10:49 on Nov  5 2024)', 'Synchronous Exception at 0x000000005C7D1234', 'PC 0x00005C7D1234 (0x00005C7C0000+0x00011234) [ 1] ArmCpuDxe.dll']);
    assert.equal(ex.a.decision, 'signature');
    assert.equal(ex.r.failureClass, 'firmware_exception');
    assert.equal(ex.r.normalisedSignature, 'firmware exception: Synchronous Exception at ADDR in ArmCpuDxe.dll');
    const grub = run(['Welcome to GRUB!', "error: file `/vmlinuz' not found.", 'grub rescue> ']);
    assert.equal(grub.r.failureClass, 'loader_error');
    assert.equal(grub.r.normalisedSignature, "loader error: error: file `/vmlinuz' not found.");
    const menu = run(['BdsDxe: loading Boot0000 "UiApp" from Fv(x)']);
    assert.equal(menu.r.failureClass, 'no_boot_device');
  });

  it("drops firmware hints once a loader runs: a kernel hang is a hang, not 'no boot device'", () => {
    const { a, r } = run(['EFI boot manager: Cannot load any image', 'Booting /efi\\boot\\bootaa64.efi', 'EFI stub: Booting Linux Kernel...', '[ 0.1] Booting Linux on physical CPU 0x0', '[ 0.2] smp: Bringing up secondary CPUs ...'], 'silence');
    assert.equal(a.signature, null);
    assert.equal(r.failureClass, 'silence');
    assert.equal(r.normalisedSignature, 'hang after os: smp: Bringing up secondary CPUs ...');
    // GRUB's `error:` only counts before the kernel.
    assert.equal(run(['[ 0.1] Booting Linux on physical CPU 0x0', 'error: something']).r.failureClass, 'powered_off_without_marker');
  });

  it('keeps the first oops as the class when the console then goes quiet; a panic outranks it', () => {
    const oops = run(['[ 0.0] Linux version 6.1.0', '[ 1.0] BUG: kernel NULL pointer dereference, address: 0000000000000000', '[ 1.0] BUG: scheduling while atomic'], 'silence');
    assert.equal(oops.r.failureClass, 'kernel_oops');
    assert.equal(oops.r.decidingLine?.seq, 1);
    assert.equal(oops.a.signature?.pattern, 'linux.oops');
    assert.equal(run(['BUG: not a kernel yet']).r.failureClass, 'powered_off_without_marker');
  });

  it('reports no console output, timeouts and cancellation', () => {
    assert.equal(new BootConsoleAnalyzer({ markers: [] }).result('timeout').outcome, 'no_console_output');
    assert.equal(run(['UEFI firmware (version'], 'timeout').r.normalisedSignature, 'timeout at firmware: UEFI firmware (version');
    assert.equal(run(['x']).a.result('aborted').outcome, 'canceled');
  });
});
