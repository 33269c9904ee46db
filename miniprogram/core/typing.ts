import type { TypingFrame } from '../../contract/frames';
import type { PeopleStore } from '../stores/people';

/** A `typing` hint goes out at most this often while the user types, and shows this long. */
const SEND_INTERVAL_MS = 3000;
export const TYPING_SHOW_MS = 5000;

/**
 * "对方正在输入…" both ways: the user's typing is told to the peer at most every few seconds; the
 * peer's shows for a few seconds (or until their message arrives, see incoming.ts).
 */
export class Typing {
  private readonly sentAt = new Map<string, number>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly people: PeopleStore,
    private readonly transmit: (frame: TypingFrame) => boolean,
  ) {}

  /** The user is typing in a conversation. */
  userTyping(conv: string): void {
    const now = Date.now();
    if (now - (this.sentAt.get(conv) ?? 0) < SEND_INTERVAL_MS) return;
    if (this.transmit({ type: 'typing', conv })) this.sentAt.set(conv, now);
  }

  /** The peer's hint was just applied to the store: it goes away by itself after its time. */
  expireLater(conv: string): void {
    const previous = this.timers.get(conv);
    if (previous) clearTimeout(previous);
    this.timers.set(
      conv,
      setTimeout(() => {
        this.timers.delete(conv);
        this.people.stopTyping(conv);
      }, TYPING_SHOW_MS),
    );
  }

  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
