import { makeAutoObservable, observable } from 'mobx-miniprogram';
import type { ChatMessage, PublicUser, SessionEntry } from '../core/protocol';
import { badgeText, formatSessionTime, previewOf } from '../utils/format';

/** A session as the list shows it: the server's entry plus its display strings. */
export interface SessionItem extends SessionEntry {
  preview: string;
  time: string;
  badge: string;
}

function present(entry: SessionEntry): SessionItem {
  return {
    ...entry,
    preview: previewOf(entry.last),
    time: formatSessionTime(entry.last ? entry.last.ts : 0),
    badge: badgeText(entry.unread),
  };
}

function newestFirst(a: SessionItem, b: SessionItem): number {
  return (b.last ? b.last.ts : 0) - (a.last ? a.last.ts : 0);
}

/**
 * One entry per conversation, newest first: the seeds' chat list deduped by `fromId`, with its
 * read `states`. Items are immutable; every change replaces the item and the list.
 */
export class SessionsStore {
  list: SessionItem[] = [];

  constructor() {
    makeAutoObservable(this, { list: observable.ref });
  }

  get totalUnread(): number {
    return this.list.reduce((sum, item) => sum + item.unread, 0);
  }

  find(conv: string): SessionItem | undefined {
    return this.list.find((item) => item.conv === conv);
  }

  replaceAll(entries: SessionEntry[]): void {
    this.list = entries.map(present).sort(newestFirst);
  }

  /** A conversation opened before its first message (from the contacts page). */
  ensure(conv: string, peer: PublicUser): void {
    if (this.find(conv)) return;
    this.list = [...this.list, present({ conv, peer, last: null, lastSeq: 0, readSeq: 0, peerReadSeq: 0, unread: 0 })];
  }

  /**
   * A new message, incoming or acknowledged. Returns false when its conversation is unknown and
   * no peer was given: the caller must fetch the session list.
   */
  applyMessage(message: ChatMessage, meId: string, active: boolean, peer?: PublicUser): boolean {
    const existing = this.find(message.conv);
    if (!existing && !peer) return false;
    const base: SessionEntry = existing ?? {
      conv: message.conv,
      peer: peer as PublicUser,
      last: null,
      lastSeq: 0,
      readSeq: 0,
      peerReadSeq: 0,
      unread: 0,
    };
    if (message.seq <= base.lastSeq && base.last) return true;
    const mine = message.from === meId;
    const readSeq = mine || active ? Math.max(base.readSeq, message.seq) : base.readSeq;
    const unread = mine || active ? 0 : base.unread + (message.seq > base.readSeq ? 1 : 0);
    const item = present({ ...base, last: message, lastSeq: message.seq, readSeq, unread });
    this.list = [item, ...this.list.filter((other) => other.conv !== message.conv)].sort(newestFirst);
    return true;
  }

  /** The user has read the conversation up to `seq`. */
  markRead(conv: string, seq: number): void {
    this.update(conv, (item) => {
      const readSeq = Math.max(item.readSeq, seq);
      return { ...item, readSeq, unread: readSeq >= item.lastSeq ? 0 : item.unread };
    });
  }

  /** The peer has read up to `seq` (for "已读"). */
  setPeerRead(conv: string, seq: number): void {
    this.update(conv, (item) => ({ ...item, peerReadSeq: Math.max(item.peerReadSeq, seq) }));
  }

  clear(): void {
    this.list = [];
  }

  private update(conv: string, change: (item: SessionEntry) => SessionEntry): void {
    const index = this.list.findIndex((item) => item.conv === conv);
    if (index < 0) return;
    const next = this.list.slice();
    next[index] = present(change(this.list[index]));
    this.list = next;
  }
}
