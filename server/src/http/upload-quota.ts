import type { Store } from '../store/types';
import { HttpError } from './routes';

/**
 * What one user may upload: a number of uploads per minute (on this instance, in memory) and a
 * number of bytes per rolling 24 hours (from the uploads table, so it holds across instances).
 * Both are checked before the body is read.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

/** Buckets kept before full ones (users idle for a minute) are dropped; grows with the number in use. */
const PRUNE_FLOOR = 1000;

/** A refusal that tells the client when to try again (`Retry-After`, whole seconds). */
export class RetryLaterError extends HttpError {
  constructor(
    readonly retryAfterS: number,
    message: string,
  ) {
    super(429, 'rate_limited', message);
  }
}

export interface UploadQuotaOptions {
  /** Uploads per user per minute, saved up to as many (a burst of a minute's worth); 0 = no limit. */
  perMinute: number;
  /** Bytes per user per rolling 24 h; 0 = no limit. */
  bytesPerDay: number;
  clock?: () => number;
}

interface Bucket {
  tokens: number;
  last: number;
}

export class UploadQuota {
  private readonly buckets = new Map<string, Bucket>();
  private pruneAt = PRUNE_FLOOR;
  private readonly clock: () => number;

  constructor(
    private readonly store: Store,
    private readonly options: UploadQuotaOptions,
  ) {
    this.clock = options.clock ?? Date.now;
  }

  /** Takes one upload of the user's rate, or throws `429 rate_limited` with the seconds to wait. */
  takeUpload(userId: string): void {
    const { perMinute } = this.options;
    if (perMinute <= 0) return;
    const now = this.clock();
    const perMs = perMinute / 60_000;
    const bucket = this.buckets.get(userId) ?? { tokens: perMinute, last: now };
    bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.last) * perMs);
    bucket.last = now;
    this.buckets.set(userId, bucket);
    if (this.buckets.size >= this.pruneAt) this.prune(now);
    if (bucket.tokens < 1) {
      const retryAfterS = Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
      throw new RetryLaterError(retryAfterS, `at most ${perMinute} uploads a minute: try again in ${retryAfterS} s`);
    }
    bucket.tokens -= 1;
  }

  /**
   * Bytes the user stored in the last 24 hours; throws `413 quota_exceeded` when `incoming` more
   * would pass the daily bound (the declared length before the body is read, the file's size after).
   */
  async checkBytes(userId: string, incoming: number): Promise<number> {
    const { bytesPerDay } = this.options;
    if (bytesPerDay <= 0) return 0;
    const used = await this.store.uploadBytesSince(userId, this.clock() - DAY_MS);
    this.checkFits(used, incoming);
    return used;
  }

  /** Throws `413 quota_exceeded` when `incoming` bytes on top of `used` pass the daily bound. */
  checkFits(used: number, incoming: number): void {
    const { bytesPerDay } = this.options;
    if (bytesPerDay > 0 && used + incoming > bytesPerDay) {
      throw new HttpError(
        413,
        'quota_exceeded',
        `at most ${bytesPerDay} upload bytes a day: ${Math.max(0, bytesPerDay - used)} left`,
      );
    }
  }

  /** Drops the buckets that are full again: they hold nothing a new bucket would not. */
  private prune(now: number): void {
    const { perMinute } = this.options;
    for (const [userId, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.last) * (perMinute / 60_000) >= perMinute) this.buckets.delete(userId);
    }
    this.pruneAt = Math.max(PRUNE_FLOOR, this.buckets.size * 2);
  }
}
