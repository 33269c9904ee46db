import { RetryLaterError } from './upload-quota';

/** Buckets kept before full ones (users idle for a minute) are dropped; grows with the number in use. */
const PRUNE_FLOOR = 1000;

interface Bucket {
  tokens: number;
  last: number;
}

/**
 * A per-user budget of one route on this instance, in memory: `perMinute` requests a minute, saved
 * up to a minute's worth; one more → `429 rate_limited` with `Retry-After` (as uploads answer).
 */
export class UserRate {
  private readonly buckets = new Map<string, Bucket>();
  private pruneAt = PRUNE_FLOOR;

  constructor(
    private readonly perMinute: number,
    /** What the refusal's message calls the action, e.g. "subscription reports". */
    private readonly what: string,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Takes one request of the user's budget, or throws `429 rate_limited` with the seconds to wait. */
  take(userId: string): void {
    const now = this.clock();
    const perMs = this.perMinute / 60_000;
    const bucket = this.buckets.get(userId) ?? { tokens: this.perMinute, last: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.last) * perMs);
    bucket.last = now;
    this.buckets.set(userId, bucket);
    if (this.buckets.size >= this.pruneAt) this.prune(now);
    if (bucket.tokens < 1) {
      const retryAfterS = Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
      throw new RetryLaterError(
        retryAfterS,
        `at most ${this.perMinute} ${this.what} a minute: try again in ${retryAfterS} s`,
      );
    }
    bucket.tokens -= 1;
  }

  /** Drops the buckets that are full again: they hold nothing a new bucket would not. */
  private prune(now: number): void {
    const perMs = this.perMinute / 60_000;
    for (const [userId, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.last) * perMs >= this.perMinute) this.buckets.delete(userId);
    }
    this.pruneAt = Math.max(PRUNE_FLOOR, this.buckets.size * 2);
  }
}
