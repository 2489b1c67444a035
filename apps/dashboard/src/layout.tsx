import { Link, Outlet } from 'react-router';

/** Page frame: header with navigation, then the page. */
export function Layout() {
  return (
    <>
      <header className="top">
        <Link to="/" className="brand">Bootfarm</Link>
        <nav>
          <Link to="/">Runs</Link>
          <a href="/api/docs">API</a>
        </nav>
      </header>
      <main>
        <Outlet />
      </main>
    </>
  );
}

/** A status word with its colour. */
export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`} data-testid="status">{status.replace('_', ' ')}</span>;
}

/** Loading and error states shared by pages. */
export function Loading() {
  return <p className="muted" role="status">Loading…</p>;
}

export function ErrorNote({ error }: { error: Error }) {
  return <p className="error" role="alert">{error.message}</p>;
}
