import type { MeDto } from '@bootfarm/contracts';
import { useEffect, useState, type ReactNode } from 'react';
import { Link, NavLink, Outlet } from 'react-router';
import { api, ApiError } from './api.js';
import { clearToken, getToken, onTokenChange } from './auth.js';
import { SignIn } from './sign-in.js';

/** Page frame: header with navigation and the signed-in caller, then the page (or the sign-in form). */
export function Layout() {
  const [token, setTokenState] = useState(getToken);
  const [me, setMe] = useState<MeDto | null>(null);
  useEffect(() => onTokenChange(() => setTokenState(getToken())), []);
  useEffect(() => {
    setMe(null);
    if (token) api.me().then(setMe, () => {});
  }, [token]);
  return (
    <>
      <a href="#main" className="skip">Skip to content</a>
      <header className="top">
        <Link to="/" className="brand">Bootfarm</Link>
        <nav aria-label="main">
          <NavLink to="/" end>Runs</NavLink>
          <NavLink to="/failures">Failures</NavLink>
          <NavLink to="/search">Search</NavLink>
          <NavLink to="/nightly">Nightly</NavLink>
          <NavLink to="/submit">Submit</NavLink>
          <NavLink to="/fleet">Fleet</NavLink>
          <a href="/api/docs">API</a>
        </nav>
        {token && (
          <span className="caller">
            {me && <span data-testid="caller">{me.vendor.name} ({me.role})</span>}
            <button type="button" onClick={clearToken}>Sign out</button>
          </span>
        )}
      </header>
      <main id="main">{token ? <Outlet /> : <SignIn />}</main>
    </>
  );
}

/** A status word with its colour. */
export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`} data-testid="status">{status.replaceAll('_', ' ')}</span>;
}

/** Loading and error states shared by pages. */
export function Loading() {
  return <p className="muted" role="status">Loading…</p>;
}

/** An error; a 404 reads as not found (another vendor's run or cell is exactly that). */
export function ErrorNote({ error, what }: { error: Error; what?: string }) {
  if (error instanceof ApiError && error.status === 404) {
    return (
      <div className="not-found" role="alert" data-testid="not-found">
        <h1>Not found</h1>
        <p>{what ? `This ${what} does not exist, or is not yours to see.` : error.message}</p>
        <p><Link to="/">Back to the runs</Link></p>
      </div>
    );
  }
  return <p className="error" role="alert">{error.message}</p>;
}

/** A page-wide "nothing here" state. */
export function Empty({ children }: { children: ReactNode }) {
  return <p className="muted empty" data-testid="empty">{children}</p>;
}

/** Milliseconds as a short duration. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Bytes with a binary unit. */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
