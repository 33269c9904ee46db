import { TokenBucket } from '../../../contract/token-bucket';

/** A token bucket's settings: tokens per second, and how many may be saved up. */
export interface Rate {
  perSecond: number;
  burst: number;
}

/** What one connection may ask for, each kind with its own bucket. */
export interface ConnectionRates {
  /** `send` frames. */
  sends: Rate;
  /** Frames of any kind (a flood guard well above normal use). */
  frames: Rate;
  /** `history` and `sync`: the frames whose answers cost the server a page to build. */
  requests: Rate;
  /** `typing` hints; the excess is dropped silently. */
  typing: Rate;
}

/** The budgets of one connection: spent by its frames, never shared with another connection. */
export class ConnectionBudgets {
  readonly sends: TokenBucket;
  readonly frames: TokenBucket;
  readonly requests: TokenBucket;
  readonly typing: TokenBucket;

  constructor(rates: ConnectionRates, now: () => number = Date.now) {
    const bucket = (rate: Rate) => new TokenBucket(rate.perSecond, rate.burst, now);
    this.sends = bucket(rates.sends);
    this.frames = bucket(rates.frames);
    this.requests = bucket(rates.requests);
    this.typing = bucket(rates.typing);
  }
}

/** What one user may ask for across all their connections on this instance. */
export interface UserLimits {
  /** `history` and `sync` frames per second, and the burst. */
  requests: Rate;
  /** Stored messages per minute, and the burst. */
  sends: { perMinute: number; burst: number };
  /** UTF-8 bytes of message bodies per rolling 24 hours. */
  bytesPerDay: number;
}

const HOUR_MS = 3600 * 1000;
const DAY_HOURS = 24;

/** One user's budgets; bytes are counted per clock hour, so the rolling day is 23–24 hours long. */
class UserBudget {
  lastUsed: number;
  readonly requests: TokenBucket;
  readonly sends: TokenBucket;
  /** Bytes stored per hour (hour = ms / HOUR_MS), oldest first; only hours with bytes. */
  private readonly hours: Array<{ hour: number; bytes: number }> = [];

  constructor(limits: UserLimits, now: () => number) {
    this.lastUsed = now();
    this.requests = new TokenBucket(limits.requests.perSecond, limits.requests.burst, now);
    this.sends = new TokenBucket(limits.sends.perMinute / 60, limits.sends.burst, now);
  }

  /** Bytes counted within the last day (older hours are forgotten on the way). */
  bytesToday(now: number): number {
    const first = Math.floor(now / HOUR_MS) - DAY_HOURS + 1;
    while (this.hours.length > 0 && this.hours[0].hour < first) this.hours.shift();
    return this.hours.reduce((sum, entry) => sum + entry.bytes, 0);
  }

  spendBytes(bytes: number, now: number): void {
    const hour = Math.floor(now / HOUR_MS);
    const last = this.hours[this.hours.length - 1];
    if (last && last.hour === hour) last.bytes += bytes;
    else this.hours.push({ hour, bytes });
  }
}

/** Why a send was refused: too many messages this minute, or the day's bytes are spent. */
export type SendRefusal = 'rate' | 'quota';

/**
 * Per-user budgets of this instance, in memory. Bounded: a user idle long enough for their
 * buckets to be full again and with no bytes counted in the last day is forgotten (nothing is
 * lost by that), and beyond `maxUsers` the least recently active user is forgotten even so.
 */
export class UserBudgets {
  private readonly users = new Map<string, UserBudget>();
  /** How long an idle user's buckets take to fill up again: after that they hold nothing. */
  private readonly refillMs: number;
  private readonly maxUsers: number;
  private readonly now: () => number;

  constructor(
    private readonly limits: UserLimits,
    options: { maxUsers?: number; now?: () => number } = {},
  ) {
    this.maxUsers = options.maxUsers ?? 100_000;
    this.now = options.now ?? Date.now;
    this.refillMs = Math.max(
      (limits.requests.burst / limits.requests.perSecond) * 1000,
      (limits.sends.burst / limits.sends.perMinute) * 60_000,
    );
  }

  /** Takes one `history`/`sync` from the user's budget; false when it is spent. */
  request(userId: string): boolean {
    return this.of(userId).requests.take();
  }

  /** Takes one message of `bytes` body bytes from the user's budgets; why not, when not. */
  send(userId: string, bytes: number): SendRefusal | undefined {
    const budget = this.of(userId);
    const now = this.now();
    // The daily quota first: a refusal for it must not also spend a token of the minute.
    if (budget.bytesToday(now) + bytes > this.limits.bytesPerDay) return 'quota';
    if (!budget.sends.take()) return 'rate';
    budget.spendBytes(bytes, now);
    return undefined;
  }

  /** Forgets users whose budgets hold nothing any more (called from the gateway's sweep). */
  sweep(): void {
    const now = this.now();
    for (const [userId, budget] of this.users) {
      if (now - budget.lastUsed > this.refillMs && budget.bytesToday(now) === 0) this.users.delete(userId);
    }
  }

  /** Users currently remembered. */
  get size(): number {
    return this.users.size;
  }

  private of(userId: string): UserBudget {
    let budget = this.users.get(userId);
    if (budget) {
      // Most recently active last: the map's order is the eviction order.
      this.users.delete(userId);
    } else {
      budget = new UserBudget(this.limits, this.now);
      if (this.users.size >= this.maxUsers) this.users.delete(this.users.keys().next().value as string);
    }
    budget.lastUsed = this.now();
    this.users.set(userId, budget);
    return budget;
  }
}
