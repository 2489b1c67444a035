import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding } from '../finding.js';
import { inspectDisk, type DiskInspection } from './index.js';
import { FileSource, fixtureDir } from './disk.testkit.js';

let dir = '';
before(() => {
  dir = fixtureDir('build-hostile-disk.sh');
});

/** What each hostile variant (reliability-and-security.md §5.1 B14–B26) must produce. */
interface Expect {
  /** Findings that must be present, as "IMG-n check level". */
  readonly findings: readonly string[];
  /** A typed error/problem code that must appear in some finding's evidence. */
  readonly code?: string;
  /** Extra assertions. */
  readonly more?: (r: DiskInspection) => void;
}

const ok5 = 'IMG-5 removable-path pass';
const EXPECTED: Record<string, Expect> = {
  'gpt-primary-crc': { findings: ['IMG-1 gpt-primary-corrupt fail', 'IMG-3 esp-found pass', ok5], code: 'header_crc', more: (r) => assert.equal(r.gpt?.used, 'backup') },
  'gpt-count-ffffffff': { findings: ['IMG-1 gpt-invalid fail', 'IMG-3 esp-missing fail'], code: 'gpt_entry_count' },
  'gpt-count-primary-only': { findings: ['IMG-1 gpt-primary-corrupt fail', ok5], code: 'gpt_entry_count' },
  'gpt-entry-size-0': { findings: ['IMG-1 gpt-invalid fail'], code: 'gpt_entry_size' },
  'gpt-entry-size-1': { findings: ['IMG-1 gpt-invalid fail'], code: 'gpt_entry_size' },
  'gpt-entry-size-127': { findings: ['IMG-1 gpt-invalid fail'], code: 'gpt_entry_size' },
  'gpt-entry-size-129': { findings: ['IMG-1 gpt-invalid fail'], code: 'gpt_entry_size' },
  'gpt-entry-beyond': { findings: ['IMG-1 gpt-entry-beyond-disk warn', 'IMG-1 gpt-primary pass', ok5], more: (r) => assert.equal(r.gpt?.partitions.length, 2) },
  'gpt-entry-overlap': { findings: ['IMG-1 gpt-entry-overlap warn', ok5] },
  'gpt-entry-reversed': { findings: ['IMG-1 gpt-entry-first-after-last warn', ok5] },
  'gpt-usable-reversed': { findings: ['IMG-1 gpt-invalid fail'], code: 'usable_range' },
  'mbr-ee-lba2': { findings: ['IMG-1 pmbr-ee-not-at-lba1 warn', ok5] },
  'mbr-ee-double': { findings: ['IMG-1 pmbr-ee-multiple warn', ok5] },
  'mbr-bootflag': { findings: ['IMG-1 pmbr-boot-flag warn', ok5] },
  'fat-chain-loop': { findings: ['IMG-6 pe-invalid fail', ok5], code: 'fat_chain_loop', more: (r) => assert.match(r.bootFiles[0]!.error!.message, /circular chain/) },
  'fat-chain-zero': { findings: ['IMG-6 pe-invalid fail'], code: 'fat_chain_range' },
  'fat-chain-one': { findings: ['IMG-6 pe-invalid fail'], code: 'fat_chain_range' },
  'fat-chain-past': { findings: ['IMG-6 pe-invalid fail'], code: 'fat_chain_range' },
  'fat-chain-bad': { findings: ['IMG-6 pe-invalid fail'], code: 'fat_chain_bad' },
  'fat-bpb-bps0': { findings: ['IMG-4 esp-not-fat fail', 'IMG-5 not-checked fail'], code: 'fat_bpb' },
  'fat-bpb-spc0': { findings: ['IMG-4 esp-not-fat fail'], code: 'fat_bpb' },
  'fat-bpb-spc3': { findings: ['IMG-4 esp-not-fat fail'], code: 'fat_bpb' },
  'fat-bpb-fatsz0': { findings: ['IMG-4 esp-not-fat fail'], code: 'fat_bpb' },
  'fat-bpb-reserved': { findings: ['IMG-4 esp-not-fat fail'], code: 'fat_bpb' },
  'fat-bpb-totsec': { findings: ['IMG-4 esp-not-fat fail'], code: 'fat_bpb' },
  'fat-dir-cycle-root': { findings: ['IMG-4 esp-fat-dir-cycle warn', 'IMG-4 esp-fat32 pass', ok5] },
  'fat-dir-cycle-parent': { findings: ['IMG-4 esp-fat-dir-cycle warn', ok5] },
  'fat-dir-deep': {
    findings: ['IMG-4 esp-fat-depth warn', ok5],
    more: (r) => assert.equal(Math.max(...r.espTree!.entries.map((e) => e.path.split('\\').length - 1)), 16),
  },
  'fat-lfn-names': {
    findings: [ok5, 'IMG-6 pe-uefi-app pass'],
    more: (r) => {
      const paths = r.espTree!.entries.map((e) => e.path);
      assert.ok(paths.includes('\\EFI\\..\\x2f..\\x2fetc\\x2fpasswd.txt'), paths.join('\n'));
      assert.ok(paths.includes('\\EFI\\\\x5cEFI\\x5cBOOT\\x2fevil\\x01\\x1b[31m.txt'));
      assert.ok(paths.includes('\\EFI\\nul'));
      assert.ok(paths.includes(`\\LONG\\${'L'.repeat(251)}.txt`));
      assert.ok(paths.includes('\\LONG2\\MMMMMM~1.TXT'), 'a 260-character LFN falls back to the 8.3 name');
      for (const p of paths) {
        assert.doesNotMatch(p, /[\u0000-\u001f\u007f\/]/);
        for (const c of p.split('\\').slice(1)) assert.ok(c.length <= 255 * 4);
      }
    },
  },
  'pe-lfanew': { findings: ['IMG-6 pe-invalid fail'], code: 'pe_truncated' },
  'pe-sections': { findings: ['IMG-6 pe-invalid fail'], code: 'pe_sections' },
  'pe-rawdata': { findings: ['IMG-6 pe-uefi-app pass', 'IMG-6 pe-malformed warn'] },
  control: { findings: ['IMG-1 gpt-primary pass', 'IMG-3 esp-found pass', 'IMG-4 esp-fat32 pass', ok5, 'IMG-6 pe-uefi-app pass'] },
};

const key = (f: Finding) => `${f.id} ${f.check} ${f.level}`;

test('the hostile build produced every expected variant', () => {
  const built = readFileSync(join(dir, 'manifest.txt'), 'utf8').trim().split('\n');
  assert.deepEqual([...built].sort(), Object.keys(EXPECTED).sort());
});

for (const [name, exp] of Object.entries(EXPECTED)) {
  test(`hostile ${name}`, async () => {
    const src = new FileSource(join(dir, `${name}.raw`));
    const t = performance.now();
    let r: DiskInspection;
    try {
      r = await inspectDisk(src);
    } finally {
      src.close();
    }
    const ms = performance.now() - t;
    assert.ok(ms < 1000, `took ${ms} ms`);
    assert.ok(r.bytesRead < 2 * 1024 * 1024, `read ${r.bytesRead} bytes`);
    const keys = r.findings.map(key);
    for (const want of exp.findings) assert.ok(keys.includes(want), `missing "${want}" in\n${keys.join('\n')}`);
    for (const f of r.findings) {
      assert.ok(!f.evidence.some((e) => e.value?.startsWith('internal_error')), `untyped error: ${f.message}`);
      assert.ok(!f.check.includes('inspection-error'), f.message);
    }
    if (exp.code) {
      const codes = r.findings.flatMap((f) => f.evidence.map((e) => e.value));
      assert.ok(codes.includes(exp.code), `no ${exp.code} in ${codes.join(', ')}`);
    }
    exp.more?.(r);
  });
}
