import { makeAutoObservable, observable } from 'mobx-miniprogram';
import {
  isDirectSession,
  type AnySessionEntry,
  type ChatMessage,
  type PublicUser,
  type SessionEntry,
} from '../../contract/frames';
import { badgeText, formatSessionTime, previewOf } from '../utils/format';
import { samePerson } from './me';

/** A session as the list shows it: the server's entry plus its display strings. */
export interface SessionItem extends SessionEntry {
  preview: string;
  time: string;
  badge: string;
  /** Pinned to the top of the list by this user (on this device). */
  pinned: boolean;
}

/**
 * The user's own arrangement of the list, kept on the device (not on the server): pinned
 * conversations (when pinned), and deleted ones (hidden until a message newer than `seq`).
 */
export interface SessionPrefs {
  pins: Record<string, number>;
  hidden: Record<string, number>;
}

/**
 * Sessions the list page renders at first, and adds each time it is scrolled to the bottom. A
 * message moves its conversation to the top, which shifts every entry above its old place, and
 * setData paths are by index: with the list windowed, a move rewrites at most the window.
 */
export const SESSION_PAGE = 30;

/** Pinned first, then by the time of the last message, newest first. */
function listOrder(a: SessionItem, b: SessionItem): number {
  if (a.pinned !== b.pinned) return a.pinned ? -1 : 1;
  return (b.last ? b.last.ts : 0) - (a.last ? a.last.ts : 0);
}

/**
 * One entry per conversation, newest first (however many messages a peer sent, one entry for them), with its
 * read `states`. Items are immutable; every change replaces the item and the list.
 */
export class SessionsStore {
  list: SessionItem[] = [];
  prefs: SessionPrefs = { pins: {}, hidden: {} };
  /** The server holds more sessions than the pages received so far (`sessions.more`). */
  more = false;
  /** A next page has been asked for and has not come yet. */
  loadingMore = false;
  /**
   * The last entry of the last page received, and its lastSeq then: where the next page starts
   * (`sessions {after}`), as long as it has not moved since. Hidden entries count: they were sent.
   */
  private pageEnd: { conv: string; lastSeq: number } | null = null;

  constructor() {
    makeAutoObservable(this, { list: observable.ref, prefs: observable.ref });
  }

  private present(entry: SessionEntry): SessionItem {
    return {
      ...entry,
      preview: previewOf(entry.last),
      time: formatSessionTime(entry.last ? entry.last.ts : 0),
      badge: badgeText(entry.unread),
      pinned: entry.conv in this.prefs.pins,
    };
  }

  /** Hidden by the user, and nothing newer has arrived since. */
  private isHidden(entry: SessionEntry): boolean {
    const hiddenAt = this.prefs.hidden[entry.conv];
    return hiddenAt !== undefined && entry.lastSeq <= hiddenAt;
  }

  /** Restores the user's pins and deletions (from storage). */
  setPrefs(prefs: SessionPrefs): void {
    this.prefs = prefs;
    this.list = this.list
      .filter((item) => !this.isHidden(item))
      .map((item) => this.present(item))
      .sort(listOrder);
  }

  /** Pins a conversation to the top, or unpins it. */
  pin(conv: string, pinned: boolean): void {
    const pins = { ...this.prefs.pins };
    if (pinned) pins[conv] = Date.now();
    else delete pins[conv];
    this.prefs = { ...this.prefs, pins };
    const index = this.list.findIndex((item) => item.conv === conv);
    if (index < 0) return;
    const next = this.list.slice();
    next[index] = { ...next[index], pinned };
    this.list = next.sort(listOrder);
  }

  /** Removes a conversation from the list until a newer message arrives (WeChat's 删除). */
  hide(conv: string): void {
    const item = this.find(conv);
    const pins = { ...this.prefs.pins };
    delete pins[conv];
    this.prefs = { pins, hidden: { ...this.prefs.hidden, [conv]: item ? item.lastSeq : 0 } };
    this.list = this.list.filter((other) => other.conv !== conv);
  }

  get totalUnread(): number {
    return this.list.reduce((sum, item) => sum + item.unread, 0);
  }

  find(conv: string): SessionItem | undefined {
    return this.list.find((item) => item.conv === conv);
  }

  /** The first page (or a list from storage) replaces the list; `more`: the server holds more. */
  replaceAll(entries: AnySessionEntry[], more = false): void {
    this.list = entries
      .filter(isDirectSession)
      .filter((entry) => !this.isHidden(entry))
      .map((entry) => this.present(entry))
      .sort(listOrder);
    this.endPage(entries, more);
  }

  /**
   * A next page: its entries are added, each conversation once (an entry held already stays,
   * unless the page's is newer). Returns how many entries it added to the list.
   */
  appendPage(entries: AnySessionEntry[], more: boolean): number {
    const held = new Map(this.list.map((item, index) => [item.conv, index]));
    const next = this.list.slice();
    let added = 0;
    // Groups are not listed yet; the page still ends where the server's did.
    for (const entry of entries.filter(isDirectSession)) {
      if (this.isHidden(entry)) continue;
      const index = held.get(entry.conv);
      if (index === undefined) {
        held.set(entry.conv, next.length);
        next.push(this.present(entry));
        added++;
      } else if (entry.lastSeq > next[index].lastSeq) {
        next[index] = this.present(entry);
      }
    }
    this.list = next.sort(listOrder);
    this.endPage(entries, more);
    return added;
  }

  /** A page was asked for (true), or the asking is over: it came, or it will not (false). */
  setLoadingMore(loading: boolean): void {
    this.loadingMore = loading;
  }

  /**
   * The conversation the next page starts after: the last one of the last page, or, when that
   * one has moved up since (a newer message), the last entry held in the server's order (last
   * activity, newest first, then conv). '' when there is nothing to page from.
   */
  nextPageAfter(): string {
    const end = this.pageEnd;
    if (!end) return '';
    const item = this.find(end.conv);
    if (!item || item.lastSeq <= end.lastSeq) return end.conv;
    let last: SessionItem | undefined;
    for (const other of this.list) {
      if (!other.last) continue;
      if (!last || !last.last) last = other;
      else if (other.last.ts < last.last.ts || (other.last.ts === last.last.ts && other.conv > last.conv)) last = other;
    }
    return last ? last.conv : '';
  }

  private endPage(entries: AnySessionEntry[], more: boolean): void {
    const end = entries[entries.length - 1];
    if (end) this.pageEnd = { conv: end.conv, lastSeq: end.lastSeq };
    else if (!more) this.pageEnd = null;
    this.more = more && this.pageEnd !== null;
    this.loadingMore = false;
  }

  /** A conversation opened before its first message (from the contacts page). */
  ensure(conv: string, peer: PublicUser): void {
    if (this.find(conv)) return;
    this.list = [
      ...this.list,
      this.present({ conv, peer, last: null, lastSeq: 0, readSeq: 0, peerReadSeq: 0, unread: 0 }),
    ].sort(listOrder);
  }

  /**
   * A new message, incoming or acknowledged. Returns false when its conversation is unknown and
   * no peer was given: the caller must fetch the session list.
   */
  applyMessage(message: ChatMessage, meId: string, active: boolean, peer?: PublicUser): boolean {
    const hiddenAt = this.prefs.hidden[message.conv];
    // Old news of a deleted conversation (a sync replay) does not bring it back.
    if (hiddenAt !== undefined && message.seq <= hiddenAt) return true;
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
    if (hiddenAt !== undefined) {
      // Something new in a deleted conversation brings it back.
      const hidden = { ...this.prefs.hidden };
      delete hidden[message.conv];
      this.prefs = { ...this.prefs, hidden };
    }
    // The server moves a sender's read cursor to the message they send: a reply from the peer
    // means they have read everything before it (已读 under one's own messages).
    const peerReadSeq = mine ? base.peerReadSeq : Math.max(base.peerReadSeq, message.seq);
    const item = this.present({ ...base, last: message, lastSeq: message.seq, readSeq, unread, peerReadSeq });
    this.list = [item, ...this.list.filter((other) => other.conv !== message.conv)].sort(listOrder);
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

  /** A user's new nickname or avatar, in every conversation with them. */
  updatePeer(user: PublicUser): void {
    const stale = (item: SessionItem) => item.peer.id === user.id && !samePerson(item.peer, user);
    if (!this.list.some(stale)) return;
    this.list = this.list.map((item) => (stale(item) ? { ...item, peer: user } : item));
  }

  /** Re-reads relative times (刚刚 → HH:mm → 昨天) when the list is shown again. */
  retime(now: number = Date.now()): void {
    let changed = false;
    const next = this.list.map((item) => {
      const time = formatSessionTime(item.last ? item.last.ts : 0, now);
      if (time === item.time) return item;
      changed = true;
      return { ...item, time };
    });
    if (changed) this.list = next;
  }

  clear(): void {
    this.list = [];
    this.more = false;
    this.loadingMore = false;
    this.pageEnd = null;
  }

  private update(conv: string, change: (item: SessionEntry) => SessionEntry): void {
    const index = this.list.findIndex((item) => item.conv === conv);
    if (index < 0) return;
    const next = this.list.slice();
    next[index] = this.present(change(this.list[index]));
    this.list = next;
  }
}

export type SessionsView = Pick<SessionsStore, 'list' | 'totalUnread' | 'find' | 'more' | 'loadingMore'>;
