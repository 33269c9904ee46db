import { makeAutoObservable, observable } from 'mobx-miniprogram';
import { isGroupConversationId } from '../../contract/conversations';
import {
  isDirectSession,
  type AnySessionEntry,
  type ChatMessage,
  type GroupSessionEntry,
  type PublicUser,
} from '../../contract/frames';
import { badgeText, formatSessionTime, previewOf } from '../utils/format';
import { recalledSeq } from './messages';
import { recallTip, systemTip, type NameOf, type RecallContext } from '../utils/system-tip';
import { samePerson } from './me';

/** A group as its session entry names it. */
export type GroupSummary = GroupSessionEntry['group'];

/**
 * A session as the list shows it: the server's entry (a dm's `peer` or a group's `group`) plus
 * its display strings, so the page draws either kind from the same fields.
 */
export interface SessionItem {
  conv: string;
  /** A one-to-one conversation's other member; absent in a group. */
  peer?: PublicUser;
  /** A group's summary; absent in a dm. */
  group?: GroupSummary;
  last: ChatMessage | null;
  lastSeq: number;
  readSeq: number;
  /** How far the peer has read (dm only; a group's receipts come over HTTP). */
  peerReadSeq: number;
  unread: number;
  /** An unread message mentions the user or everyone: `[有人@我]`. */
  mentioned: boolean;
  /** The user is no longer in the group (left, removed, or dismissed). */
  left: boolean;
  isGroup: boolean;
  /** The peer's nickname, or the group's name. */
  title: string;
  /** The peer's avatar, or the group's own ('' to draw `faces` or an initial). */
  avatar: string;
  /** A group without its own avatar: up to nine members' avatars for the grid ('' for one without). */
  faces: string[];
  preview: string;
  time: string;
  badge: string;
  /** Pinned to the top of the list by this user (on this device). */
  pinned: boolean;
  /** 消息免打扰: a grey dot instead of a count, nothing added to the tab badge (on this device). */
  muted: boolean;
  /** Text typed in the conversation and not sent ('' for none): the list shows `[草稿] …`. */
  draft: string;
}

/**
 * The user's own arrangement of the list, kept on the device (not on the server): pinned
 * conversations (when pinned), muted ones, and deleted ones (hidden until a message newer than `seq`).
 */
export interface SessionPrefs {
  pins: Record<string, number>;
  hidden: Record<string, number>;
  mutes?: Record<string, true>;
  /**
   * The pins and mutes kept on this device before they roamed have been sent to the server (once,
   * `PUT /api/conversations/:conv`); from then on the server's word is the one that counts.
   */
  roamed?: boolean;
  /** Mutes and pins set here that the server has not confirmed yet (no network): sent at the next sync. */
  pending?: Record<string, { muted?: boolean; pinned?: boolean }>;
}

/** What a list item is made from: an entry of either kind, before display. */
type Entry = Pick<SessionItem, 'conv' | 'peer' | 'group' | 'last' | 'lastSeq' | 'readSeq' | 'peerReadSeq' | 'unread'> &
  Partial<Pick<SessionItem, 'mentioned' | 'left' | 'muted' | 'pinned'>>;

/** The server's shape of an item again (for the cache), without the display fields. */
export function entryOf(item: SessionItem): AnySessionEntry {
  const { conv, last, lastSeq, readSeq, unread, mentioned, left, muted, pinned } = item;
  if (item.group) return { conv, group: item.group, last, lastSeq, readSeq, unread, mentioned, left, muted, pinned };
  const peer = item.peer ?? { id: '', nickname: '', avatar: '' };
  return { conv, peer, last, lastSeq, readSeq, peerReadSeq: item.peerReadSeq, unread, mentioned, left, muted, pinned };
}

function fromServer(entry: AnySessionEntry): Entry {
  if (!isDirectSession(entry)) return { ...entry, peerReadSeq: 0 };
  // Presence lives in the people store, where `presence` frames keep it current.
  const { online: _online, ...direct } = entry;
  return direct;
}

/** What a group's entry needs from the other stores to be drawn. */
export interface SessionsContext {
  meId(): string;
  /** A user's nickname for a group's previews (`昵称: 内容`) and tips; '' when unknown. */
  nameOf: NameOf;
  /** The member avatars of a group without its own, once the app has its members. */
  facesOf(conv: string): string[];
  /** For a recall's tip: the sender of a held message, a member's role. */
  recallOf?(conv: string): RecallContext;
}

/** One empty grid for every item without one: an unchanged field costs no setData path. */
const NO_FACES: string[] = [];

const NO_CONTEXT: SessionsContext = { meId: () => '', nameOf: () => '', facesOf: () => [] };

/** Whether a message mentions the user (by id, or everyone). */
export function mentions(message: ChatMessage, meId: string): boolean {
  return message.from !== meId && !!message.mentions && message.mentions.some((id) => id === meId || id === 'all');
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
  /** Unsent text per conversation, kept on the device (`[草稿]` in the list, the input restored). */
  drafts: Record<string, string> = {};
  /** The server holds more sessions than the pages received so far (`sessions.more`). */
  more = false;
  /** A next page has been asked for and has not come yet. */
  loadingMore = false;
  /**
   * The last entry of the last page received, and its lastSeq then: where the next page starts
   * (`sessions {after}`), as long as it has not moved since. Hidden entries count: they were sent.
   */
  private pageEnd: { conv: string; lastSeq: number } | null = null;

  constructor(private readonly context: SessionsContext = NO_CONTEXT) {
    makeAutoObservable<SessionsStore, 'context'>(this, {
      list: observable.ref,
      prefs: observable.ref,
      drafts: observable.ref,
      context: false,
    });
  }

  private present(entry: Entry): SessionItem {
    // The server's word (an entry of a `sessions` frame, or an item already drawn) before the
    // device's own record of it (a list from the cache, or made here before the server spoke).
    const pending = this.prefs.pending?.[entry.conv];
    const muted = pending?.muted ?? entry.muted ?? !!this.prefs.mutes?.[entry.conv];
    const pinned = pending?.pinned ?? entry.pinned ?? entry.conv in this.prefs.pins;
    const group = entry.group;
    return {
      ...entry,
      mentioned: entry.mentioned ?? false,
      left: entry.left ?? false,
      isGroup: !!group,
      title: group ? group.name : (entry.peer?.nickname ?? ''),
      avatar: group ? group.avatar : (entry.peer?.avatar ?? ''),
      faces: group && !group.avatar ? this.context.facesOf(entry.conv) : NO_FACES,
      preview: this.previewOf(entry),
      time: formatSessionTime(entry.last ? entry.last.ts : 0),
      // Muted: a dot instead of a count (the page draws it for a muted item with unread).
      badge: muted ? '' : badgeText(entry.unread),
      pinned,
      muted,
      draft: this.drafts[entry.conv] ?? '',
    };
  }

  /** A dm's last message as it is; a group's with its sender (`昵称: 内容`), a system one as its tip. */
  private previewOf(entry: Entry): string {
    const last = entry.last;
    if (!last) return '';
    const meId = this.context.meId();
    if (last.kind === 'system') {
      const recall = this.context.recallOf?.(entry.conv) ?? {};
      return systemTip(last.body, last.from, meId, this.context.nameOf, recall);
    }
    if (last.kind === 'recalled') return recallTip(last.from, last.from, meId, this.context.nameOf);
    if (!entry.group || last.from === meId) return previewOf(last);
    const name = this.context.nameOf(last.from);
    return name ? `${name}: ${previewOf(last)}` : previewOf(last);
  }

  /** Re-draws every group's preview, title and grid (names or members became known). */
  refreshGroups(): void {
    if (!this.list.some((item) => item.isGroup)) return;
    this.list = this.list.map((item) => (item.isGroup ? this.present(item) : item));
  }

  /** Hidden by the user, and nothing newer has arrived since. */
  private isHidden(entry: Pick<Entry, 'conv' | 'lastSeq'>): boolean {
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
    this.setFlags(conv, { pinned });
  }

  /**
   * Muted and/or pinned, as the user set it here or the server says (a `conversation` frame from
   * another device): the item, and the device's record of it (for the list from the cache).
   */
  setFlags(conv: string, flags: { muted?: boolean; pinned?: boolean }): void {
    const pins = { ...this.prefs.pins };
    const mutes = { ...this.prefs.mutes };
    if (flags.pinned === true) pins[conv] = pins[conv] ?? Date.now();
    if (flags.pinned === false) delete pins[conv];
    if (flags.muted === true) mutes[conv] = true;
    if (flags.muted === false) delete mutes[conv];
    this.prefs = { ...this.prefs, pins, mutes };
    const index = this.list.findIndex((item) => item.conv === conv);
    if (index < 0) return;
    const next = this.list.slice();
    next[index] = this.present({ ...next[index], ...flags });
    this.list = next.sort(listOrder);
  }

  /** Removes a conversation from the list until a newer message arrives (WeChat's 删除). */
  hide(conv: string): void {
    const item = this.find(conv);
    const pins = { ...this.prefs.pins };
    delete pins[conv];
    this.prefs = { ...this.prefs, pins, hidden: { ...this.prefs.hidden, [conv]: item ? item.lastSeq : 0 } };
    this.list = this.list.filter((other) => other.conv !== conv);
  }

  /** The tab badge: muted conversations add nothing. */
  get totalUnread(): number {
    return this.list.reduce((sum, item) => sum + (item.muted ? 0 : item.unread), 0);
  }

  find(conv: string): SessionItem | undefined {
    return this.list.find((item) => item.conv === conv);
  }

  /** The first page (or a list from storage) replaces the list; `more`: the server holds more. */
  replaceAll(entries: AnySessionEntry[], more = false): void {
    this.list = entries
      .filter((entry) => !this.isHidden(entry))
      .map((entry) => this.present(fromServer(entry)))
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
    for (const entry of entries) {
      if (this.isHidden(entry)) continue;
      const index = held.get(entry.conv);
      if (index === undefined) {
        held.set(entry.conv, next.length);
        next.push(this.present(fromServer(entry)));
        added++;
      } else if (entry.lastSeq > next[index].lastSeq) {
        next[index] = this.present(fromServer(entry));
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

  /** A group the user just created, listed before its first message arrives. */
  ensureGroup(conv: string, group: GroupSummary): void {
    if (this.find(conv)) return;
    const entry: Entry = { conv, group, last: null, lastSeq: 0, readSeq: 0, peerReadSeq: 0, unread: 0 };
    this.list = [...this.list, this.present(entry)].sort(listOrder);
  }

  /**
   * A new message, incoming or acknowledged. Returns false when its conversation is unknown and
   * no peer was given (a group is never made up here): the caller must fetch the session list.
   */
  applyMessage(message: ChatMessage, meId: string, active: boolean, peer?: PublicUser): boolean {
    const hiddenAt = this.prefs.hidden[message.conv];
    // Old news of a deleted conversation (a sync replay) does not bring it back.
    if (hiddenAt !== undefined && message.seq <= hiddenAt) return true;
    const existing = this.find(message.conv);
    if (!existing && (!peer || isGroupConversationId(message.conv))) return false;
    const base: Entry = existing ?? {
      conv: message.conv,
      peer,
      last: null,
      lastSeq: 0,
      readSeq: 0,
      peerReadSeq: 0,
      unread: 0,
    };
    if (message.seq <= base.lastSeq && base.last) return true;
    const mine = message.from === meId;
    const readSeq = mine || active ? Math.max(base.readSeq, message.seq) : base.readSeq;
    // A group's system tips are read in passing, as in WeChat: they count for no badge.
    const counts = message.seq > base.readSeq && message.kind !== 'system';
    // A recalled message counts for no badge: one the user had not read comes off the count.
    const recalled = recalledSeq(message);
    const uncounts =
      recalled > base.readSeq && this.context.recallOf?.(message.conv).senderOf?.(recalled) !== meId ? 1 : 0;
    const unread = mine || active ? 0 : Math.max(0, base.unread + (counts ? 1 : 0) - uncounts);
    const mentioned = unread > 0 && (!!base.mentioned || mentions(message, meId));
    if (hiddenAt !== undefined) {
      // Something new in a deleted conversation brings it back.
      const hidden = { ...this.prefs.hidden };
      delete hidden[message.conv];
      this.prefs = { ...this.prefs, hidden };
    }
    // The server moves a sender's read cursor to the message they send: a reply from the peer
    // means they have read everything before it (已读 under one's own messages).
    const peerReadSeq = mine || base.group ? base.peerReadSeq : Math.max(base.peerReadSeq, message.seq);
    const item = this.present({
      ...base,
      last: message,
      lastSeq: message.seq,
      readSeq,
      unread,
      peerReadSeq,
      mentioned,
    });
    this.list = [item, ...this.list.filter((other) => other.conv !== message.conv)].sort(listOrder);
    return true;
  }

  /** The user has read the conversation up to `seq`. */
  markRead(conv: string, seq: number): void {
    this.update(conv, (item) => {
      const readSeq = Math.max(item.readSeq, seq);
      const all = readSeq >= item.lastSeq;
      return { ...item, readSeq, unread: all ? 0 : item.unread, mentioned: all ? false : item.mentioned };
    });
  }

  /** The peer has read up to `seq` (for "已读"). */
  setPeerRead(conv: string, seq: number): void {
    this.update(conv, (item) => ({ ...item, peerReadSeq: Math.max(item.peerReadSeq, seq) }));
  }

  /** A group's name, avatar or size changed (a system message, or its details fetched). */
  updateGroup(conv: string, change: Partial<GroupSummary>): void {
    this.update(conv, (item) => (item.group ? { ...item, group: { ...item.group, ...change } } : item));
  }

  /** The user is no longer in the group: its entry stays, marked. */
  setLeft(conv: string): void {
    this.update(conv, (item) => ({ ...item, left: true }));
  }

  /**
   * The message the list shows as the last one, when the last one was deleted on this device: the
   * one before it that is still here (null: none), the counts unchanged.
   */
  showLast(conv: string, message: ChatMessage | null): void {
    this.update(conv, (item) => ({ ...item, last: message }));
  }

  /** The text typed in a conversation and not sent, or ''. */
  draftOf(conv: string): string {
    return this.drafts[conv] ?? '';
  }

  /** Keeps (or, empty, drops) the unsent text of a conversation. */
  setDraft(conv: string, text: string): void {
    if (this.draftOf(conv) === text) return;
    const drafts = { ...this.drafts };
    if (text) drafts[conv] = text;
    else delete drafts[conv];
    this.drafts = drafts;
    this.update(conv, (item) => item);
  }

  /** Every draft at once (restored from storage). */
  setDrafts(drafts: Record<string, string>): void {
    this.drafts = drafts;
    this.list = this.list.map((item) => this.present(item));
  }

  /** The device's pins and mutes went to the server: they are kept on it from now on. */
  setRoamed(): void {
    this.prefs = { ...this.prefs, roamed: true };
  }

  /** A mute or pin set here waits for the server (`flags`), or no longer does (null). */
  setPending(conv: string, flags: { muted?: boolean; pinned?: boolean } | null): void {
    const pending = { ...this.prefs.pending };
    if (flags) pending[conv] = { ...pending[conv], ...flags };
    else delete pending[conv];
    this.prefs = { ...this.prefs, pending };
  }

  /** Mutes a conversation on this device (消息免打扰), or unmutes it. */
  mute(conv: string, muted: boolean): void {
    this.setFlags(conv, { muted });
  }

  /** A user's new nickname or avatar, in every conversation with them (and groups' previews). */
  updatePeer(user: PublicUser): void {
    const stale = (item: SessionItem) => !!item.peer && item.peer.id === user.id && !samePerson(item.peer, user);
    if (this.list.some(stale)) {
      this.list = this.list.map((item) => (stale(item) ? this.present({ ...item, peer: user }) : item));
    }
    this.refreshGroups();
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

  private update(conv: string, change: (item: SessionItem) => Entry): void {
    const index = this.list.findIndex((item) => item.conv === conv);
    if (index < 0) return;
    const next = this.list.slice();
    next[index] = this.present(change(this.list[index]));
    this.list = next;
  }
}

export type SessionsView = Pick<
  SessionsStore,
  'list' | 'totalUnread' | 'find' | 'more' | 'loadingMore' | 'prefs' | 'draftOf'
>;
