import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors';

/**
 * `POST /api/login` per client address (LOGIN_RATE per minute, LOGIN_BURST at once), with
 * `@fastify/rate-limit`: its hook runs in `onRequest`, before the body is even read, so before any
 * call to WeChat and before any account is made. The address is Fastify's `request.ip` (the
 * socket's peer, or X-Forwarded-For of a proxy named in TRUST_PROXY); an IPv6 client is counted
 * by its /64, as the plugin does.
 *
 * The plugin's own store counts fixed windows, which lets twice the burst through across a
 * window's edge; this store is a token bucket per address instead (as every other limit here), so
 * at most LOGIN_BURST go through at once and LOGIN_RATE a minute after that.
 */

/** Addresses remembered at most; beyond, the least recently seen is forgotten (a full bucket again). */
const MAX_ADDRESSES = 50_000;

interface Bucket {
  tokens: number;
  at: number;
}

type Result = { current: number; ttl: number };

/** The store interface of `@fastify/rate-limit` (`incr`, `child`), as a token bucket per key. */
function tokenBucketStore(perMinute: number, burst: number, now: () => number = Date.now) {
  const perMs = perMinute / 60_000;
  const buckets = new Map<string, Bucket>();
  return class LoginBuckets {
    child(): LoginBuckets {
      return this;
    }

    incr(key: string, callback: (error: Error | null, result?: Result) => void): void {
      const at = now();
      const bucket = buckets.get(key);
      let tokens = bucket ? Math.min(burst, bucket.tokens + (at - bucket.at) * perMs) : burst;
      // Most recently seen last, so the first one is the one to forget.
      buckets.delete(key);
      let result: Result;
      if (tokens >= 1) {
        tokens -= 1;
        // `current` ≤ max (= burst) lets the request through; max - current is what remains.
        result = { current: burst - Math.floor(tokens), ttl: perMs > 0 ? (burst - tokens) / perMs : 0 };
      } else {
        // Over the limit: the wait is until the next whole token (the Retry-After).
        result = { current: burst + 1, ttl: perMs > 0 ? (1 - tokens) / perMs : 24 * 3600_000 };
      }
      if (tokens < burst) buckets.set(key, { tokens, at });
      if (buckets.size > MAX_ADDRESSES) buckets.delete(buckets.keys().next().value as string);
      callback(null, result);
    }
  };
}

export interface LoginRate {
  perMinute: number;
  burst: number;
}

/** Registers the plugin (for routes that ask for it only) with the login bucket as its store. */
export async function registerLoginLimit(app: FastifyInstance, rate: LoginRate): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    store: tokenBucketStore(rate.perMinute, rate.burst),
    errorResponseBuilder: (_request, context) =>
      new HttpError(429, 'rate_limited', `too many logins from this address; try again in ${context.after}`),
  });
}

/** The route config of `POST /api/login`; the bucket's size is its `max`. */
export function loginLimit(rate: LoginRate): { max: number; timeWindow: number } {
  return { max: rate.burst, timeWindow: 60_000 };
}
