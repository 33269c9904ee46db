import type { Platform } from './platform';
import type { AnySessionEntry, ChatMessage } from '../../contract/frames';

/** What is kept between launches so the first screen needs no network. */
export interface CacheSnapshot {
  /** The server epoch the snapshot belongs to; a snapshot of another epoch is void. */
  epoch: string;
  /** The user it belongs to: another user's cache is never shown. */
  userId: string;
  sessions: AnySessionEntry[];
  /** The newest stored messages of the most recent conversations, ascending. */
  messages: Record<string, ChatMessage[]>;
}

const KEY = 'chat.cache';
/** Conversations and messages per conversation kept: the first screen, not an archive. */
export const CACHE_LIMITS = { conversations: 50, messagesPerConversation: 20 } as const;
/** Writes are batched: a burst of frames costs one storage write. */
const WRITE_DELAY_MS = 300;

/** The session list and the latest page of each recent conversation, in wx storage. */
export class LocalCache {
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly platform: Platform) {}

  load(userId: string): CacheSnapshot | null {
    const snapshot = this.platform.getStorageSync<CacheSnapshot | ''>(KEY);
    if (!snapshot || snapshot.userId !== userId || !Array.isArray(snapshot.sessions)) return null;
    return snapshot;
  }

  /** Saves what `take()` returns a moment from now (once for any number of calls meanwhile). */
  saveSoon(take: () => CacheSnapshot | null): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.saveNow(take);
    }, WRITE_DELAY_MS);
  }

  saveNow(take: () => CacheSnapshot | null): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const snapshot = take();
    if (snapshot) this.platform.setStorageSync(KEY, snapshot);
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.platform.removeStorageSync(KEY);
  }
}
