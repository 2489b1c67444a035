import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { defaultProfile } from './vm.profile.js';
import { parseTranscript, ReplayLauncher } from './replay.launcher.js';
import type { BootRequest, ConsoleLine } from './boot.types.js';
import { samplesDir } from './testing.helpers.js';

const transcript = (name: string) => path.join(samplesDir, `${name}.tlog`);

function request(over: Partial<BootRequest> = {}): BootRequest {
  return { image: { path: '/nonexistent', format: 'raw' }, profile: defaultProfile, workDir: '/nonexistent/work', timeoutMs: 120_000, ...over };
}

describe('ReplayLauncher: recorded consoles through the real analyzer', () => {
  it('a probe transcript passes at its verdict line, every line delivered with its offset', async () => {
    const lines: ConsoleLine[] = [];
    const launcher = new ReplayLauncher({ transcriptFor: () => transcript('probe-aa64-aavmf-acpi') });
    const report = await launcher.boot(request({ onLine: (l) => lines.push(l) }));
    assert.equal(report.outcome, 'passed');
    assert.match(report.marker?.text ?? '', /VMSPEC-PROBE/);
    assert.ok(lines.some((l) => l.text.startsWith('VMSPEC-PROBE banner=')));
    assert.deepEqual(report.command.argv.slice(0, 1), ['bootfarm-replay'], 'a replay never passes for a real boot');
    assert.match(report.warnings.join(' '), /no guest ran/);
  });

  it('a panic transcript fails as a kernel panic with its normalised signature', async () => {
    const launcher = new ReplayLauncher({ transcriptFor: () => transcript('linux-bare-image-panic') });
    const report = await launcher.boot(request());
    assert.equal(report.outcome, 'failed');
    assert.equal(report.failureClass, 'kernel_panic');
    assert.match(report.normalisedSignature ?? '', /VFS: Unable to mount root fs/);
  });

  it('a firmware that falls into its shell is a no-boot-device failure; an aborted replay is canceled', async () => {
    const launcher = new ReplayLauncher({ transcriptFor: () => transcript('neg-not-pe-aavmf') });
    assert.equal((await launcher.boot(request())).failureClass, 'no_boot_device');
    const aborted = new AbortController();
    aborted.abort();
    const slow = new ReplayLauncher({ transcriptFor: () => transcript('probe-aa64-aavmf-acpi'), timeScale: 1 });
    assert.equal((await slow.boot(request({ signal: aborted.signal }))).outcome, 'canceled');
  });

  it('refuses a transcript that is not one', () => {
    assert.throws(() => parseTranscript('hello\n'), /not "\[seconds\] text"/);
    assert.deepEqual(parseTranscript('[   1.500] a^[[0m\n'), [{ atMs: 1500, text: 'a\x1b[0m' }]);
  });
});
