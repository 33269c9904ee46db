import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { HttpError } from './errors';

export interface AdminPageDeps {
  /** ADMIN_TOKEN; unset: no console either (`/admin` answers 404 like every unknown path). */
  token?: string;
  /** PUBLIC_URL: the origin uploads are served from when it is not this one (images, voice). */
  publicUrl?: string;
  /** Where the bundle is (default: server/dist/admin, written by scripts/build-admin.js). */
  dir?: string;
}

/** server/dist/admin, seen from the compiled file (server/dist/server/src/http) or from the source. */
function defaultDir(): string {
  const candidates = [path.resolve(__dirname, '../../../admin'), path.resolve(__dirname, '../../dist/admin')];
  return candidates.find((dir) => existsSync(path.join(dir, 'index.html'))) ?? candidates[0];
}

/** The console's Content-Security-Policy: its own script and style only, no inline code, no framing. */
export function adminCsp(publicUrl?: string): string {
  const uploads = publicUrl ? ` ${new URL(publicUrl).origin}` : '';
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self'${uploads}`,
    `media-src 'self'${uploads}`,
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

const ASSETS: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'admin.js': 'text/javascript; charset=utf-8',
  'admin.css': 'text/css; charset=utf-8',
};

/**
 * The moderation console (`GET /admin`, its script and style): a static page that asks for the
 * ADMIN_TOKEN and calls `/api/admin/*` with it. The page itself holds no secret, but it is only
 * served where the API exists. Read once at start (the build writes it: `npm run build:server`).
 */
export function registerAdminPage(app: FastifyInstance, deps: AdminPageDeps): void {
  if (!deps.token) return;
  const dir = deps.dir ?? defaultDir();
  const files = new Map<string, Buffer>();
  for (const name of Object.keys(ASSETS)) {
    const file = path.join(dir, name);
    if (existsSync(file)) files.set(name, readFileSync(file));
  }
  if (!files.has('index.html')) app.log.warn({ dir }, 'the moderation console is not built (npm run build:server)');
  const csp = adminCsp(deps.publicUrl);
  const serve = (name: string) => async (_request: unknown, reply: FastifyReply) => {
    const body = files.get(name);
    if (!body) throw new HttpError(404, 'not_found', 'the console is not built (npm run build:server)');
    return reply
      .header('content-security-policy', csp)
      .header('cache-control', 'no-cache')
      .type(ASSETS[name])
      .send(body);
  };
  app.get('/admin', serve('index.html'));
  app.get('/admin/admin.js', serve('admin.js'));
  app.get('/admin/admin.css', serve('admin.css'));
}
