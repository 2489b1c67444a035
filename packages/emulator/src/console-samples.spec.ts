/**
 * Pins what the console analyzer concludes on every real transcript in fixtures/console, twice:
 * from the `.tlog` (one line per console line, with its offset) and from the raw `.log` bytes
 * through the ConsoleLineSplitter (as the launcher sees them, no offsets). Plus hostile input.
 *
 * The expected table was written by reading each log (see fixtures/console/README.md).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BootConsoleAnalyzer, consoleSuccessMarkers, maxLogicalLineChars, type ConsoleAnalysis, type ConsoleEndCause } from './boot-console.analyzer.js';
import { phaseRank, stageRank } from './boot-stage.detector.js';
import { ConsoleLineSplitter } from './console-line.splitter.js';
import { ConsoleCapture } from './console.capture.js';
import { sanitizeConsoleText } from './console-text.sanitizer.js';
import { classifyBootEnd } from './boot-outcome.classifier.js';
import type { BootPhase, BootStage } from './boot.types.js';
import type { GuestFacts } from './guest-facts.extractor.js';
import { readSampleRaw, readSampleTimed, sampleNames } from './testing.helpers.js';

interface Pin {
  readonly stage: BootStage;
  readonly phase: BootPhase;
  readonly outcome: ConsoleAnalysis['outcome'];
  readonly signature: string | null;
  /** Offset (ms, from the .tlog) of the deciding line. */
  readonly decidedAtMs: number | null;
  /** How the capture ended when nothing on the console decided. */
  readonly end?: ConsoleEndCause;
  readonly facts?: (f: GuestFacts) => void;
}

const shellNotFound = 'no boot device: BdsDxe: failed to load Boot0001 "UEFI Misc Device": Not Found';
const ubootBootmgr = 'no boot device: EFI boot manager: Cannot load any image';
const vfsPanic = 'kernel panic: VFS: Unable to mount root fs on unknown-block(N,N)';
const edk2Shell = (decidedAtMs: number, signature = shellNotFound): Pin => ({ stage: 'boot_manager', phase: 'boot_manager', outcome: 'no_boot_device', signature, decidedAtMs });
const ubootPrompt = (decidedAtMs: number, signature = ubootBootmgr): Pin => ({ stage: 'boot_manager', phase: 'boot_manager', outcome: 'no_boot_device', signature, decidedAtMs });
const probe = (decidedAtMs: number): Pin => ({
  stage: 'bootloader',
  phase: 'ready',
  outcome: 'ready',
  signature: null,
  decidedAtMs,
  facts: (f) => assert.equal(f.efi, null, 'a probe run shows no Linux facts'),
});

/** The facts every Debian arm64 6.1 boot on QEMU virt (edk2, one vCPU, EL1) shows. */
function commonLinuxFacts(f: GuestFacts): void {
  assert.equal(f.psci?.value.version, '1.1');
  assert.equal(f.psciStandardFunctionIds?.value, true);
  assert.deepEqual(f.archTimer?.value, { mhz: 62.5, virtual: true });
  assert.deepEqual(f.cpusStartedAt?.value, { el: 1, consistent: true });
  assert.deepEqual(f.cpusBroughtUp?.value, { nodes: 1, cpus: 1 });
  assert.equal(f.gic?.value.version, 'v2');
}

function acpiEdk2Facts(f: GuestFacts): void {
  commonLinuxFacts(f);
  assert.deepEqual(f.efi?.value, { revision: '2.70', major: 2, minor: 70, vendor: 'EDK II' });
  assert.equal(f.efiConfigTables?.value.acpi20, true);
  assert.equal(f.efiConfigTables?.value.smbios3, true);
  assert.equal(f.efiConfigTables?.value.rtprop, false);
  assert.deepEqual(f.acpiRsdp?.value, { revision: 2, oemId: 'BOCHS' });
  assert.equal(f.spcrConsole?.value.type, 'pl011');
  assert.equal(f.psciConduitSource?.value, 'ACPI');
  assert.equal(f.uart?.value.kind, 'SBSA'); // ACPI ARMH0011 binds the SBSA flavour
  assert.equal(f.uart?.value.tty, 'ttyAMA0');
  assert.equal(f.rtcEfi?.value.rtc, 'rtc0');
  assert.equal(f.smbios?.value.version, '3.0.0');
  assert.equal(f.xen, null);
  assert.equal(f.hvc0, null);
}

function fdtEdk2Facts(f: GuestFacts): void {
  commonLinuxFacts(f);
  assert.equal(f.efi?.value.vendor, 'EDK II');
  assert.equal(f.efiConfigTables?.value.acpi20, false);
  assert.equal(f.acpiRsdp, null);
  assert.equal(f.spcrConsole, null);
  assert.equal(f.psciConduitSource?.value, 'DT');
  assert.equal(f.dtbSource?.value, 'configuration_table');
  assert.deepEqual(f.uart?.value, { tty: 'ttyAMA0', mmio: '0x9000000', kind: 'PL011', detail: 'PL011 rev1' });
}

function guestAgentFacts(f: GuestFacts, hwdesc: string, consoles: string): void {
  assert.equal(f.guest['uname']?.value, 'Linux 6.1.0-56-arm64 aarch64');
  assert.equal(f.guest['hwdesc']?.value, hwdesc);
  assert.equal(f.guest['cpus']?.value, '1');
  assert.equal(f.guest['consoles']?.value, consoles);
  assert.ok(f.guest['cmdline']?.value.includes('panic=-1'), 'cmdline keeps its own key=value words');
}

/** Per sample: what the console analysis must conclude. */
const pins: Record<string, Pin> = {
  'linux-bare-image-panic': {
    stage: 'os',
    phase: 'kernel',
    outcome: 'kernel_panic',
    signature: vfsPanic,
    decidedAtMs: 1787,
    facts: (f) => {
      acpiEdk2Facts(f);
      assert.equal(f.dtbSource?.value, 'empty');
      assert.equal(f.commandLine?.value.text, '');
    },
  },
  'linux-bare-image-panic-wait20s': { stage: 'os', phase: 'kernel', outcome: 'kernel_panic', signature: vfsPanic, decidedAtMs: 2282, facts: acpiEdk2Facts },
  'linux-grub-aavmf-acpi': {
    stage: 'os',
    phase: 'ready',
    outcome: 'ready',
    signature: null,
    decidedAtMs: 2454,
    facts: (f) => {
      acpiEdk2Facts(f);
      // GRUB passes the firmware's (dual ACPI+DT) tables on; the stub takes the DT config table.
      assert.equal(f.dtbSource?.value, 'configuration_table');
      assert.deepEqual(f.commandLine?.value.consoleArgs, ['ttyAMA0']);
      guestAgentFacts(f, 'acpi', 'ttyAMA0,');
    },
  },
  'linux-uki-aavmf-acpi': {
    stage: 'os',
    phase: 'ready',
    outcome: 'ready',
    signature: null,
    decidedAtMs: 2590,
    facts: (f) => {
      acpiEdk2Facts(f);
      assert.equal(f.dtbSource?.value, 'empty');
      guestAgentFacts(f, 'acpi', 'ttyAMA0,');
      assert.equal(f.guest['rtc']?.value, 'rtc-efi rtc-efi.0');
    },
  },
  'linux-uki-aavmf-fdt': {
    stage: 'os',
    phase: 'ready',
    outcome: 'ready',
    signature: null,
    decidedAtMs: 1821,
    facts: (f) => {
      fdtEdk2Facts(f);
      assert.equal(f.rtcEfi?.value.rtc, 'rtc0');
      guestAgentFacts(f, 'fdt', 'ttyAMA0,');
    },
  },
  'linux-uki-panic-noreboot-exit0': {
    stage: 'os',
    phase: 'kernel',
    outcome: 'kernel_panic',
    signature: vfsPanic,
    decidedAtMs: 2484,
    facts: (f) => {
      acpiEdk2Facts(f);
      assert.ok(f.commandLine?.value.text.includes('rdinit=/nonexistent'));
    },
  },
  'linux-uki-uboot': {
    stage: 'os',
    phase: 'ready',
    outcome: 'ready',
    signature: null,
    decidedAtMs: 1558,
    facts: (f) => {
      commonLinuxFacts(f);
      assert.deepEqual(f.efi?.value, { revision: '2.100', major: 2, minor: 100, vendor: 'Das U-Boot' });
      assert.deepEqual(
        { acpi20: f.efiConfigTables?.value.acpi20, smbios: f.efiConfigTables?.value.smbios, rtprop: f.efiConfigTables?.value.rtprop },
        { acpi20: false, smbios: true, rtprop: true },
      );
      assert.equal(f.dtbSource?.value, 'configuration_table');
      assert.equal(f.uart?.value.kind, 'PL011');
      assert.equal(f.rtcEfi, null, 'U-Boot: the kernel uses rtc-pl031, not rtc-efi (an OS-4 finding)');
      assert.equal(f.rtc?.value.driver, 'rtc-pl031');
      assert.equal(f.smbios?.value.version, '3.0');
      guestAgentFacts(f, 'fdt', 'ttyAMA0,');
    },
  },
  'neg-arm32-machine-01c4-aavmf32': edk2Shell(833, 'no boot device: BdsDxe: failed to load Boot0001 "UEFI Misc Device": Unsupported'),
  'neg-arm32-movt-reloc-uboot': ubootPrompt(2327, 'no boot device: EFI LOAD FAILED: continuing...'),
  'neg-arm32-on-aa64-aavmf': edk2Shell(620),
  'neg-arm32-on-aa64-uboot': ubootPrompt(466),
  'neg-empty-esp-uboot': ubootPrompt(344),
  'neg-gpt-both-crc-aavmf': edk2Shell(640),
  'neg-gpt-primary-crc-aavmf': probe(923), // edk2 boots it anyway (and would repair the GPT on a writable disk)
  'neg-gpt-primary-crc-aavmf-readonly': edk2Shell(866),
  'neg-gpt-primary-crc-uboot': probe(365),
  'neg-mbr-only-aavmf': probe(766),
  'neg-mbr-only-uboot': probe(306),
  'neg-not-esp-type-aavmf': probe(620),
  'neg-not-esp-type-uboot': probe(337),
  'neg-not-pe-aavmf': edk2Shell(631),
  'neg-x64-only-aavmf': edk2Shell(626),
  'neg-x64-only-aavmf-wait60s': edk2Shell(1109),
  'neg-x64-only-uboot': ubootPrompt(342),
  'probe-aa64-aavmf-acpi': probe(1022),
  'probe-aa64-aavmf-bootwait5s': probe(5799),
  'probe-aa64-aavmf-el2-gicv3': probe(638),
  'probe-aa64-aavmf-fdt': probe(619),
  'probe-aa64-aavmf-overlay': probe(616),
  'probe-aa64-aavmf-virtio-mmio': probe(602),
  'probe-aa64-uboot-bootdelay0': probe(514),
  'probe-arm32-aavmf32': probe(743),
  'probe-arm32-uboot-bootdelay0': probe(456),
  // Xen with a Linux dom0: dom0's guest agent prints VMSPEC-GUEST-READY, so it is ready. The
  // two virtio MSI WARNINGs come after the marker: kept as kernel reports, not a failure.
  'xen-dom0-aavmf-gicv3': {
    stage: 'os',
    phase: 'ready',
    outcome: 'ready',
    signature: null,
    decidedAtMs: 3366,
    facts: (f) => {
      assert.equal(f.efi, null);
      assert.equal(f.efiNotFound?.value, true, 'dom0 does not see UEFI');
      assert.equal(f.xen?.value.version, '4.17');
      assert.equal(f.hvc0?.value, true);
      assert.equal(f.console?.value.name, 'hvc0');
      assert.equal(f.gic?.value.version, 'v3');
      assert.equal(f.gic?.evidence.text.startsWith('(XEN)'), false, "the hypervisor's own lines are not guest facts");
      assert.equal(f.uart, null);
      assert.equal(f.psci?.value.version, '1.1');
      guestAgentFacts(f, 'fdt', 'hvc0,');
      assert.equal(f.guest['efi']?.value, 'no');
    },
  },
  // Xen's EFI loader runs, then nothing: the capture ended on the silence limit.
  'xen-with-acpi-hangs': {
    stage: 'bootloader',
    phase: 'loader',
    outcome: 'silence',
    signature: 'hang after bootloader: Using bootargs from Xen configuration file.',
    decidedAtMs: 655,
    end: 'silence',
    facts: (f) => assert.deepEqual(Object.values(f).filter((v) => v !== null && !(typeof v === 'object' && Object.keys(v).length === 0)), []),
  },
};

async function replayTimed(name: string): Promise<BootConsoleAnalyzer> {
  const a = new BootConsoleAnalyzer({ markers: consoleSuccessMarkers });
  (await readSampleTimed(name)).forEach((l, seq) =>
    a.feed({ seq, offsetMs: Math.round(l.seconds * 1000), text: sanitizeConsoleText(l.text), end: 'newline' }),
  );
  return a;
}

async function replayRaw(name: string, chunk = 61): Promise<BootConsoleAnalyzer> {
  const raw = await readSampleRaw(name);
  const a = new BootConsoleAnalyzer({ markers: consoleSuccessMarkers });
  const splitter = new ConsoleLineSplitter();
  let seq = 0;
  a.noteOutput(0, 0);
  for (let i = 0; i < raw.length; i += chunk) {
    for (const l of splitter.push(raw.subarray(i, i + chunk))) a.feed({ seq: seq++, offsetMs: 0, text: l.text, end: l.end });
  }
  for (const l of splitter.flush('eof')) a.feed({ seq: seq++, offsetMs: 0, text: l.text, end: l.end });
  return a;
}

function check(name: string, r: ConsoleAnalysis, pin: Pin, timed: boolean): void {
  assert.equal(r.stage, pin.stage, `${name}: stage`);
  assert.equal(r.phase, pin.phase, `${name}: phase`);
  assert.equal(r.outcome, pin.outcome, `${name}: outcome`);
  assert.equal(r.normalisedSignature, pin.signature, `${name}: signature`);
  if (timed) assert.equal(r.decidingLine?.offsetMs ?? null, pin.decidedAtMs, `${name}: deciding line offset`);
  if (pin.outcome === 'ready') assert.ok(r.marker && r.decidingLine?.text === r.marker.text);
  else assert.ok(r.decidingLine && r.decidingLine.text.length > 0, `${name}: a deciding line`);
  const stages = r.stages.map((s) => stageRank(s.stage));
  const phases = r.phases.map((p) => phaseRank(p.phase));
  for (let i = 1; i < stages.length; i++) assert.ok(stages[i]! > stages[i - 1]!, 'stages only move forward');
  for (let i = 1; i < phases.length; i++) assert.ok(phases[i]! > phases[i - 1]!, 'phases only move forward');
  assert.equal(r.phases[0]?.phase, 'firmware');
  pin.facts?.(r.guestFacts);
}

describe('console analysis pinned on every sample', () => {
  it('has a pin for every sample', async () => {
    assert.deepEqual(await sampleNames(), Object.keys(pins).sort());
  });

  for (const [name, pin] of Object.entries(pins)) {
    it(`${name} (.tlog with offsets)`, async () => {
      const a = await replayTimed(name);
      const r = a.result(pin.end ?? 'exited');
      check(name, r, pin, true);
      // The launcher's classifier agrees with the console's own verdict.
      const cause = a.decision ?? pin.end ?? 'exited';
      const v = classifyBootEnd({
        cause,
        stage: a.stage,
        consoleBytes: 1,
        marker: a.marker,
        signature: a.signature,
        exit: cause === 'exited' ? { code: 0, signal: null } : null,
        stderr: '',
        atMs: 0,
        timeoutMs: 60_000,
        silenceTimeoutMs: 30_000,
      });
      assert.equal(v.failureClass, r.failureClass, `${name}: classifier failure class`);
      assert.equal(a.reportExtras(v.failureClass).normalisedSignature, pin.signature);
    });

    it(`${name} (raw .log through the line splitter)`, async () => {
      check(name, (await replayRaw(name)).result(pin.end ?? 'exited'), pin, false);
    });
  }

  it('the raw replay through ConsoleCapture (the launcher path) ends the same way', async () => {
    for (const name of await sampleNames()) {
      const capture = new ConsoleCapture({ now: () => 0 });
      const a = new BootConsoleAnalyzer({ markers: consoleSuccessMarkers });
      for (const line of [...capture.write(await readSampleRaw(name)), ...capture.flush('eof')]) a.feed(line);
      assert.equal(a.result(pins[name]!.end ?? 'exited').outcome, pins[name]!.outcome, name);
    }
  });
});

describe('console analysis on hostile input', () => {
  const feedRaw = (bytes: Buffer, chunk = 4096): BootConsoleAnalyzer => {
    const capture = new ConsoleCapture({ now: () => 0 });
    const a = new BootConsoleAnalyzer({ markers: consoleSuccessMarkers });
    for (let i = 0; i < bytes.length; i += chunk) for (const l of capture.write(bytes.subarray(i, i + chunk))) a.feed(l);
    for (const l of capture.flush('eof')) a.feed(l);
    return a;
  };

  it('a fake marker mid-line after junk does not count; at line start after ANSI junk it does', () => {
    const fake = feedRaw(Buffer.from('\x1b[31mgarbage\x1b[0m VMSPEC-PROBE result=done\r\nxx VMSPEC-GUEST-READY\n'));
    assert.equal(fake.decision, null);
    assert.equal(fake.result().outcome, 'powered_off_without_marker');
    const real = feedRaw(Buffer.from('\x1b[2J\x1b[01;01H\x1b[=3hVMSPEC-PROBE result=done\r\n'));
    assert.equal(real.decision, 'marker');
  });

  it('a 1 MB line is cut, analysed by its head only, and a marker after it still counts', () => {
    const big = Buffer.concat([Buffer.from('VMSPEC-PROBE banner=x '), Buffer.alloc(1 << 20, 0x41), Buffer.from(' VMSPEC-PROBE result=done\nVMSPEC-PROBE result=done\n')]);
    const t0 = performance.now();
    const a = feedRaw(big, 65536);
    assert.ok(performance.now() - t0 < 2000, 'linear time');
    assert.equal(a.marker?.seq, Math.ceil((big.length - 26) / 4096), 'the marker on its own line decided');
    assert.equal(a.lineCount, 2);
    // A marker appended to a line already longer than the logical cap is never seen as a line start.
    const b = new BootConsoleAnalyzer({ markers: consoleSuccessMarkers });
    b.feed({ seq: 0, offsetMs: 0, text: 'x'.repeat(maxLogicalLineChars), end: 'length_cap' });
    assert.equal(b.feed({ seq: 1, offsetMs: 0, text: 'VMSPEC-PROBE result=done', end: 'newline' }), null);
    // A single 1 MB record fed directly (not through the splitter) is clipped too.
    const c = new BootConsoleAnalyzer({ markers: consoleSuccessMarkers });
    assert.equal(c.feed({ seq: 0, offsetMs: 0, text: `${'y'.repeat(1 << 20)}Kernel panic - not syncing: x`, end: 'newline' }), null);
  });

  it('invalid UTF-8 and control characters neither crash nor forge lines', () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x80, 0x1b, 0x5b]), Buffer.from('VMSPEC-PROBE result=done\n'), Buffer.from([0xe2, 0x80, 0xae]), Buffer.from('enod=tluser EBORP-CEPSMV\n')]);
    const a = feedRaw(bytes, 3);
    assert.equal(a.decision, null, 'text after invalid bytes is not at line start; bidi overrides are stripped');
    const ok = feedRaw(Buffer.concat([Buffer.from([0xff, 0x0a]), Buffer.from('VMSPEC-PROBE result=done\r\n')]));
    assert.equal(ok.decision, 'marker');
  });

  it('endless junk keeps memory bounded (facts, reports, evidence)', () => {
    const a = new BootConsoleAnalyzer({ markers: consoleSuccessMarkers });
    a.feed({ seq: 0, offsetMs: 0, text: '[    0.0] Booting Linux on physical CPU 0x0', end: 'newline' });
    for (let i = 1; i < 20_000; i++) {
      a.feed({ seq: i, offsetMs: i, text: `VMSPEC-GUEST k${i}=${'v'.repeat(2000)}`, end: 'newline' });
      a.feed({ seq: i, offsetMs: i, text: `[ 1.0] WARNING: CPU: 0 PID: ${i} at a.c:${i} f${i}+0x1/0x2`, end: 'newline' });
    }
    const r = a.result();
    assert.ok(Object.keys(r.guestFacts.guest).length <= 64);
    assert.ok(Object.values(r.guestFacts.guest).every((f) => f.value.length <= 512 && f.evidence.text.length <= 512));
    assert.ok(r.kernelReports.length <= 16);
    assert.equal(r.lineCount, 39_999);
  });
});
