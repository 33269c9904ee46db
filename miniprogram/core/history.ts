import type { HistoryFrame } from '../../contract/frames';

/** A refused request goes again after 1–2 s (the server's request budget refills 10 per second). */
const RETRY_MS = 1000;
/** Refusals in a row after which the waiters stop waiting (the page asks again when opened). */
const MAX_TRIES = 3;

interface Pending {
  frame: HistoryFrame;
  waiters: Array<() => void>;
  tries: number;
  retry: ReturnType<typeof setTimeout> | null;
}

/**
 * `history` requests, one at a time per conversation: a second request for a conversation
 * whose page is on its way waits for that page instead of asking again. A request the server
 * refused for its budget (`rate_limited`) is asked again a little later, never left hanging.
 */
export class HistoryRequests {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly transmit: (frame: HistoryFrame) => boolean,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * Asks for the page below `before` (the newest when absent); resolves when it has arrived, or at
   * once when no connection is ready (the message page asks again after the next sync).
   */
  request(conv: string, before?: number, limit?: number): Promise<void> {
    return new Promise((resolve) => {
      const waiting = this.pending.get(conv);
      if (waiting) {
        waiting.waiters.push(resolve);
        return;
      }
      const frame: HistoryFrame = { type: 'history', conv };
      if (before !== undefined) frame.before = before;
      if (limit !== undefined) frame.limit = limit;
      this.pending.set(conv, { frame, waiters: [resolve], tries: 1, retry: null });
      if (!this.transmit(frame)) this.arrived(conv);
    });
  }

  /**
   * The server refused a request of `conv` for its budget: asked again after a short delay, or
   * given up after a few tries. False when no request of `conv` was waiting (not ours to handle).
   */
  refused(conv: string): boolean {
    const pending = this.pending.get(conv);
    if (!pending) return false;
    if (pending.retry) return true;
    if (pending.tries >= MAX_TRIES) {
      this.arrived(conv);
      return true;
    }
    pending.retry = setTimeout(
      () => {
        pending.retry = null;
        pending.tries++;
        if (!this.transmit(pending.frame)) this.arrived(conv);
      },
      RETRY_MS + this.random() * RETRY_MS,
    );
    return true;
  }

  /** The connection is gone: a page asked for on it will not come, so nobody waits for it any longer. */
  connectionLost(): void {
    for (const conv of [...this.pending.keys()]) this.arrived(conv);
  }

  /** A page of `conv` has been applied to the store. */
  arrived(conv: string): void {
    const pending = this.pending.get(conv);
    if (!pending) return;
    this.pending.delete(conv);
    if (pending.retry) clearTimeout(pending.retry);
    for (const resolve of pending.waiters) resolve();
  }
}
