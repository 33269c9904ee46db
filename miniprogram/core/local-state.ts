import { isDirectSession, type ChatMessage } from '../../contract/frames';
import { entryOf, type SessionPrefs } from '../stores/sessions';
import type { Stores } from '../stores/index';
import { CACHE_LIMITS, LocalCache, type CacheSnapshot } from './cache';
import type { Platform } from './platform';

const STORAGE = {
  epoch: 'chat.epoch',
  /** The user's pins and deletions on this device (SessionPrefs), with the user they belong to. */
  prefs: 'chat.prefs',
  /** Unsent text per conversation, with the user it belongs to. */
  drafts: 'chat.drafts',
  /** Keys of messages deleted on this device, per conversation, with the user. */
  deleted: 'chat.deleted',
  /** Keys of voice messages played on this device (the red dot), with the user. */
  voicePlayed: 'chat.voicePlayed',
} as const;

/**
 * What the app keeps on the phone between launches besides the session and the outbox: the
 * server epoch its data belongs to, the user's own arrangement of the list, and a cache of the
 * first screen (core/cache.ts) so it shows before any network.
 */
export class LocalState {
  private readonly cache: LocalCache;

  constructor(
    private readonly platform: Platform,
    private readonly stores: Stores,
  ) {
    this.cache = new LocalCache(platform);
  }

  /** The server epoch the local data belongs to ('' before the first sync). */
  get epoch(): string {
    return this.platform.getStorageSync<string>(STORAGE.epoch) || '';
  }

  set epoch(epoch: string) {
    this.platform.setStorageSync(STORAGE.epoch, epoch);
  }

  /** The first screen from storage: the user's arrangement, their session list and newest messages. */
  restore(): void {
    const { me, sessions, people, messages } = this.stores;
    const saved = this.platform.getStorageSync<(SessionPrefs & { userId: string }) | ''>(STORAGE.prefs);
    if (saved && saved.userId === me.id) {
      const { pins = {}, hidden = {}, mutes = {}, roamed = false, pending = {} } = saved;
      sessions.setPrefs({ pins, hidden, mutes, roamed, pending });
    }
    const drafts = this.platform.getStorageSync<{ userId: string; drafts: Record<string, string> } | ''>(
      STORAGE.drafts,
    );
    if (drafts && drafts.userId === me.id && drafts.drafts) sessions.setDrafts(drafts.drafts);
    const deleted = this.platform.getStorageSync<{ userId: string; deleted: Record<string, string[]> } | ''>(
      STORAGE.deleted,
    );
    if (deleted && deleted.userId === me.id && deleted.deleted) messages.setDeleted(deleted.deleted);
    const played = this.platform.getStorageSync<{ userId: string; keys: string[] } | ''>(STORAGE.voicePlayed);
    if (played && played.userId === me.id && Array.isArray(played.keys)) this.stores.voice.setPlayed(played.keys);
    const snapshot = me.id ? this.cache.load(me.id) : null;
    if (!snapshot || snapshot.epoch !== this.epoch) return;
    people.remember(snapshot.sessions.filter(isDirectSession).map((session) => session.peer));
    sessions.replaceAll(snapshot.sessions);
    for (const [conv, held] of Object.entries(snapshot.messages)) {
      if (held.length > 0) messages.addHistory(conv, held, held[0].seq > 1, me.id, true);
    }
  }

  /** Saves the user's pins and deletions, with whose they are. */
  savePrefs(): void {
    this.platform.setStorageSync(STORAGE.prefs, { userId: this.stores.me.id, ...this.stores.sessions.prefs });
  }

  /** Saves the drafts now (a kill right after typing keeps them). */
  saveDrafts(): void {
    this.platform.setStorageSync(STORAGE.drafts, { userId: this.stores.me.id, drafts: this.stores.sessions.drafts });
  }

  /** Saves which messages were deleted on this device, now. */
  saveDeleted(): void {
    this.platform.setStorageSync(STORAGE.deleted, {
      userId: this.stores.me.id,
      deleted: this.stores.messages.deleted(),
    });
  }

  /** Saves which voice messages were played here. */
  saveVoicePlayed(): void {
    this.platform.setStorageSync(STORAGE.voicePlayed, {
      userId: this.stores.me.id,
      keys: this.stores.voice.playedKeys(),
    });
  }

  /** Saves the first screen a moment from now (a burst of frames costs one write). */
  saveSoon(): void {
    this.cache.saveSoon(() => this.snapshot());
  }

  saveNow(): void {
    this.cache.saveNow(() => this.snapshot());
  }

  /** A new epoch: the cached first screen belongs to a store that is gone. */
  forgetCache(): void {
    this.cache.clear();
  }

  /** Logout: the epoch, the arrangement and the cache go with the user. */
  clear(): void {
    for (const key of Object.values(STORAGE)) {
      this.platform.removeStorageSync(key);
    }
    this.cache.clear();
  }

  /** What the cache keeps: see cache.ts. */
  private snapshot(): CacheSnapshot | null {
    const epoch = this.epoch;
    const userId = this.stores.me.id;
    if (!epoch || !userId) return null;
    const sessions = this.stores.sessions.list.slice(0, CACHE_LIMITS.conversations).map(entryOf);
    const messages: Record<string, ChatMessage[]> = {};
    for (const session of sessions) {
      // What was deleted on this device is not kept on it.
      const stored = this.stores.messages.view(session.conv).items.filter((item) => item.seq > 0 && !item.deleted);
      // The message as the server sent it (with its mentions, quote, duration), not how it is drawn.
      messages[session.conv] = stored
        .slice(-CACHE_LIMITS.messagesPerConversation)
        .map(
          ({ key: _key, mine: _mine, status: _status, progress: _progress, deleted: _deleted, ...message }) => message,
        );
    }
    return { epoch, userId, sessions, messages };
  }
}
