import { type DynamicModule, Module } from '@nestjs/common';
import { ServeStaticModule } from '@nestjs/serve-static';
import type { Response } from 'express';
import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';

// The page that renders guest console text: scripts and connections only from this origin.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/**
 * Serves the built dashboard (DASHBOARD_DIR) from the scheduler's own origin: files as they are
 * (content type by extension; `send` refuses paths that leave the directory), and index.html
 * for every other GET outside /api and /metrics, so the single-page app's routes load directly.
 * Registered after the API's routes, which always win.
 */
@Module({})
export class DashboardModule {
  static forRoot(dir: string): DynamicModule {
    if (!existsSync(join(dir, 'index.html'))) {
      throw new Error(`DASHBOARD_DIR ${dir} holds no index.html: build the dashboard first (npm run build --workspace @bootfarm/dashboard)`);
    }
    const assets = `${join(dir, 'assets')}${sep}`;
    return {
      module: DashboardModule,
      imports: [
        ServeStaticModule.forRoot({
          rootPath: dir,
          exclude: ['/api{/*path}', '/metrics'],
          serveStaticOptions: {
            redirect: false,
            dotfiles: 'deny',
            setHeaders: (res: Response, path: string) => {
              res.setHeader('x-content-type-options', 'nosniff');
              // Vite names assets by their content hash: they never change. index.html always revalidates.
              if (path.startsWith(assets)) res.setHeader('cache-control', 'public, max-age=31536000, immutable');
              else res.setHeader('cache-control', 'no-cache');
              if (path.endsWith('.html')) {
                res.setHeader('content-security-policy', CSP);
                res.setHeader('x-frame-options', 'DENY');
              }
            },
          },
        }),
      ],
    };
  }
}
