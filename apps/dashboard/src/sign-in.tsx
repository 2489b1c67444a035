import { useState, type FormEvent } from 'react';
import { api } from './api.js';
import { setToken } from './auth.js';

/** Paste an API token (an admin creates them with POST /api/vendors/:id/tokens). */
export function SignIn() {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const token = value.trim();
    setBusy(true);
    setError(null);
    try {
      await api.me(token);
      setToken(token);
    } catch {
      setError('That token was not accepted.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="sign-in" onSubmit={(e) => void submit(e)}>
      <h1>Sign in</h1>
      <p className="muted">Paste your Bootfarm API token. It is kept in this browser only.</p>
      <label htmlFor="token">API token</label>
      <input id="token" type="password" autoComplete="off" spellCheck={false} value={value} onChange={(e) => setValue(e.target.value)} placeholder="bft_…" required />
      <button type="submit" disabled={busy || value.trim() === ''}>Sign in</button>
      {error && <p className="error" role="alert">{error}</p>}
    </form>
  );
}
