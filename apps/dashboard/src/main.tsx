import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserRouter, Link, RouterProvider } from 'react-router';
import { Layout } from './layout.js';
import { CellPage } from './pages/cell-page.js';
import { ComparePage } from './pages/compare-page.js';
import { FailuresPage } from './pages/failures-page.js';
import { FleetPage } from './pages/fleet-page.js';
import { ImagePage } from './pages/image-page.js';
import { NightlyPage, NightPage } from './pages/nightly-page.js';
import { RunPage } from './pages/run-page.js';
import { RunsPage } from './pages/runs-page.js';
import { SearchPage } from './pages/search-page.js';
import { SignaturePage } from './pages/signature-page.js';
import { SubmitPage } from './pages/submit-page.js';
import './styles.css';

function NoSuchPage() {
  return (
    <div className="not-found" role="alert" data-testid="not-found">
      <h1>Not found</h1>
      <p>There is no such page. <Link to="/">Back to the runs</Link></p>
    </div>
  );
}

const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { path: '/', element: <RunsPage /> },
      { path: '/runs/:runId', element: <RunPage /> },
      { path: '/cells/:cellId', element: <CellPage /> },
      { path: '/images/:imageId', element: <ImagePage /> },
      { path: '/fleet', element: <FleetPage /> },
      { path: '/submit', element: <SubmitPage /> },
      { path: '/failures', element: <FailuresPage /> },
      { path: '/signatures/:signatureId', element: <SignaturePage /> },
      { path: '/search', element: <SearchPage /> },
      { path: '/compare', element: <ComparePage /> },
      { path: '/nightly', element: <NightlyPage /> },
      { path: '/nightly/:date', element: <NightPage /> },
      { path: '*', element: <NoSuchPage /> },
    ],
  },
]);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <RouterProvider router={router} />
  </StrictMode>,
);
