import type { HistoryFrame } from '../../contract/frames';

/**
 * `history` requests, one at a time per conversation: a second request for a conversation
 * whose page is on its way waits for that page instead of asking again.
 */
export class HistoryRequests {
  private readonly waiters = new Map<string, Array<() => void>>();

  constructor(private readonly transmit: (frame: HistoryFrame) => boolean) {}

  /**
   * Asks for the page below `before` (the newest when absent); resolves when it has arrived, or at
   * once when no connection is ready (the message page asks again after the next sync).
   */
  request(conv: string, before?: number, limit?: number): Promise<void> {
    return new Promise((resolve) => {
      const waiting = this.waiters.get(conv);
      if (waiting) {
        waiting.push(resolve);
        return;
      }
      this.waiters.set(conv, [resolve]);
      const frame: HistoryFrame = { type: 'history', conv };
      if (before !== undefined) frame.before = before;
      if (limit !== undefined) frame.limit = limit;
      if (!this.transmit(frame)) this.arrived(conv);
    });
  }

  /** The connection is gone: a page asked for on it will not come, so nobody waits for it any longer. */
  connectionLost(): void {
    for (const conv of [...this.waiters.keys()]) this.arrived(conv);
  }

  /** A page of `conv` has been applied to the store. */
  arrived(conv: string): void {
    const waiting = this.waiters.get(conv) ?? [];
    this.waiters.delete(conv);
    for (const resolve of waiting) resolve();
  }
}
