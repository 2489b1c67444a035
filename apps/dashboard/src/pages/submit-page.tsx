import { PresetName, type ImageFormat } from '@bootfarm/contracts';
import { useRef, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { api, uploadImage } from '../api.js';
import { bytes } from '../layout.js';

const presets: Record<PresetName | '', string> = {
  '': 'The reference platform only (1 cell: aarch64, edk2, ACPI, GICv3, TCG)',
  quick: 'quick — the reference cell (1 cell)',
  'vm-spec-platforms': 'vm-spec-platforms — the platforms the compliance checks tell apart (6 cells)',
  'vm-spec-full': 'vm-spec-full — every axis (192 cells, 100 can run)',
  xen: 'xen — Xen domUs (8 cells; needs a Xen worker)',
};

/** A name the API accepts, from a file name. */
const nameFrom = (file: string) => file.replace(/\.(img|raw|qcow2)$/i, '').replace(/[^\w .+@-]+/g, '_').replace(/^[ ]+/, '').slice(0, 200) || 'image';

type Phase = { step: 'idle' } | { step: 'uploading'; sent: number; total: number } | { step: 'inspecting' } | { step: 'creating' } | { step: 'failed'; message: string };

/** Upload an image (with progress), pick a matrix, start the run, then follow it on its page. */
export function SubmitPage() {
  const navigate = useNavigate();
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [format, setFormat] = useState<ImageFormat>('raw');
  const [preset, setPreset] = useState<PresetName | ''>('');
  const [timeoutSec, setTimeoutSec] = useState(120);
  const [phase, setPhase] = useState<Phase>({ step: 'idle' });
  const abort = useRef<AbortController | null>(null);
  const busy = phase.step === 'uploading' || phase.step === 'inspecting' || phase.step === 'creating';

  const pick = (f: File | null) => {
    setFile(f);
    if (f) {
      setName(nameFrom(f.name));
      setFormat(/\.qcow2$/i.test(f.name) ? 'qcow2' : 'raw');
    }
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    abort.current = new AbortController();
    setPhase({ step: 'uploading', sent: 0, total: file.size });
    try {
      const image = await uploadImage(file, name.trim(), format, (sent, total) => {
        // Once every byte is sent the scheduler inspects the image before it answers.
        setPhase(sent >= total ? { step: 'inspecting' } : { step: 'uploading', sent, total });
      }, abort.current.signal);
      setPhase({ step: 'creating' });
      const run = await api.createRun({ imageId: image.id, timeoutSec, ...(preset && { matrix: { preset } }) });
      void navigate(`/runs/${run.id}`);
    } catch (err) {
      setPhase({ step: 'failed', message: (err as Error).message });
    }
  };

  return (
    <section>
      <h1>Submit an image</h1>
      <form className="submit" onSubmit={(e) => void submit(e)}>
        <label htmlFor="image-file">Disk image (raw or qcow2)</label>
        <input id="image-file" type="file" onChange={(e) => pick(e.target.files?.[0] ?? null)} disabled={busy} required />
        <label htmlFor="image-name">Name</label>
        <input id="image-name" value={name} onChange={(e) => setName(e.target.value)} maxLength={200} pattern="[\w.+@\-][\w .+@\-]*" title="letters, digits, space and . _ + @ - only" disabled={busy} required />
        <label htmlFor="image-format">Format</label>
        <select id="image-format" value={format} onChange={(e) => setFormat(e.target.value as ImageFormat)} disabled={busy}>
          <option value="raw">raw</option>
          <option value="qcow2">qcow2</option>
        </select>
        <label htmlFor="matrix">Matrix</label>
        <select id="matrix" value={preset} onChange={(e) => setPreset(e.target.value as PresetName | '')} disabled={busy}>
          {(['', ...PresetName.options] as const).map((p) => <option key={p} value={p}>{presets[p]}</option>)}
        </select>
        <label htmlFor="timeout">Boot timeout per cell (seconds)</label>
        <input id="timeout" type="number" min={5} max={3600} value={timeoutSec} onChange={(e) => setTimeoutSec(Number(e.target.value))} disabled={busy} required />
        <div className="actions">
          <button type="submit" disabled={busy || !file}>Upload and run</button>
          {phase.step === 'uploading' && <button type="button" onClick={() => abort.current?.abort()}>Cancel</button>}
        </div>
      </form>
      <div aria-live="polite" data-testid="submit-status">
        {phase.step === 'uploading' && (
          <p>
            <label htmlFor="upload-progress">Uploading {bytes(phase.sent)} of {bytes(phase.total)}</label>{' '}
            <progress id="upload-progress" max={phase.total || 1} value={phase.sent} />
          </p>
        )}
        {phase.step === 'inspecting' && <p>Uploaded; the farm is inspecting the image…</p>}
        {phase.step === 'creating' && <p>Accepted; starting the run…</p>}
        {phase.step === 'failed' && <p className="error" role="alert">{phase.message}</p>}
      </div>
    </section>
  );
}
