import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserRouter, Link, RouterProvider } from 'react-router';
import { Layout } from './layout.js';
import './styles.css';

function NoSuchPage() {
  return (
    <div className="not-found" role="alert" data-testid="not-found">
      <h1>Not found</h1>
      <p>There is no such page. <Link to="/">Back to the runs</Link></p>
    </div>
  );
}

// Each page is its own chunk, loaded when its route is first visited: the first load compiles
// the shell (React, the router, the API client) and one page, not the whole dashboard.
const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { path: '/', lazy: () => import('./pages/runs-page.js').then((m) => ({ Component: m.RunsPage })) },
      { path: '/runs/:runId', lazy: () => import('./pages/run-page.js').then((m) => ({ Component: m.RunPage })) },
      { path: '/cells/:cellId', lazy: () => import('./pages/cell-page.js').then((m) => ({ Component: m.CellPage })) },
      { path: '/images/:imageId', lazy: () => import('./pages/image-page.js').then((m) => ({ Component: m.ImagePage })) },
      { path: '/fleet', lazy: () => import('./pages/fleet-page.js').then((m) => ({ Component: m.FleetPage })) },
      { path: '/submit', lazy: () => import('./pages/submit-page.js').then((m) => ({ Component: m.SubmitPage })) },
      { path: '/failures', lazy: () => import('./pages/failures-page.js').then((m) => ({ Component: m.FailuresPage })) },
      { path: '/signatures/:signatureId', lazy: () => import('./pages/signature-page.js').then((m) => ({ Component: m.SignaturePage })) },
      { path: '/search', lazy: () => import('./pages/search-page.js').then((m) => ({ Component: m.SearchPage })) },
      { path: '/compare', lazy: () => import('./pages/compare-page.js').then((m) => ({ Component: m.ComparePage })) },
      { path: '/nightly', lazy: () => import('./pages/nightly-page.js').then((m) => ({ Component: m.NightlyPage })) },
      { path: '/nightly/:date', lazy: () => import('./pages/nightly-page.js').then((m) => ({ Component: m.NightPage })) },
      { path: '*', element: <NoSuchPage /> },
    ],
  },
]);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <RouterProvider router={router} />
  </StrictMode>,
);
