import { timingSafeEqual, createHash } from 'node:crypto';
import helmet from '@fastify/helmet';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PrometheusMetrics } from '../metrics';
import { HttpError } from './errors';

/**
 * Security headers on every answer (`@fastify/helmet`), and `/metrics` behind a bearer token.
 * The answers are JSON and images, never pages: the policy allows nothing to load and nobody to
 * frame them. No HSTS here: the server may run on plain HTTP in development; the TLS proxy sends
 * it (deploy/nginx.conf).
 */
export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: false,
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
  // Uploaded images go into `<image src>` of pages served from elsewhere (the mini-program's
  // renderer, DevTools): a same-origin resource policy would block them there.
  app.addHook('onRequest', async (request, reply) => {
    if (request.url.startsWith('/uploads/')) reply.header('cross-origin-resource-policy', 'cross-origin');
  });
}

/** Whether an `Authorization` header carries exactly this bearer token (compared in constant time). */
export function carriesToken(request: FastifyRequest, token: string): boolean {
  const header = request.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) return false;
  // Hashes, so that the comparison neither fails on nor leaks a length difference.
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(match[1]), digest(token));
}

/**
 * `GET /metrics` for operators, with `Authorization: Bearer <METRICS_TOKEN>` (docs/deploy.md has
 * the Prometheus scrape config). Without a token configured there is no such route (404).
 */
export function registerMetricsRoute(app: FastifyInstance, metrics: PrometheusMetrics, token?: string): void {
  if (!token) return;
  app.get('/metrics', async (request, reply) => {
    if (!carriesToken(request, token)) {
      void reply.header('www-authenticate', 'Bearer realm="metrics"');
      throw new HttpError(401, 'unauthorized', 'metrics need Authorization: Bearer <METRICS_TOKEN>');
    }
    return reply.type(metrics.contentType).send(await metrics.render());
  });
}
