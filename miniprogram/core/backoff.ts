export interface BackoffOptions {
  /** Delay bound of the first retry, in ms. */
  baseMs: number;
  /** Upper bound of any delay, in ms. */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000 };

/**
 * Exponential backoff with full jitter: a uniform delay in [0, min(cap, base·2^attempt)].
 * Full jitter spreads reconnecting clients out after a server restart instead of having them
 * arrive in waves. `attempt` counts from 0.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
