import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The dashboard talks to the scheduler's API only; in dev and preview /api is proxied to it.
const scheduler = process.env.SCHEDULER_URL ?? 'http://127.0.0.1:8080';
const port = Number(process.env.DASHBOARD_PORT ?? 5173);
const host = process.env.DASHBOARD_HOST ?? '127.0.0.1';

export default defineConfig({
  plugins: [react()],
  server: { host, port, strictPort: true, proxy: { '/api': scheduler } },
  preview: { host, port, strictPort: true, proxy: { '/api': scheduler } },
  build: { outDir: 'dist', sourcemap: true },
});
