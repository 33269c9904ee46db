import { makeAutoObservable, observable } from 'mobx-miniprogram';
import type { ChatMessage, MessageKind, ReplyRef } from '../../contract/frames';
import { parseSystemEvent } from '../../contract/system-events';

export type SendStatus = 'sending' | 'sent' | 'failed';

/** A message as the page shows it. `seq` is 0 while a send waits for its ack. */
export interface MessageItem extends ChatMessage {
  /** Stable across the ack, so the bubble is replaced in place: the cid. */
  key: string;
  mine: boolean;
  status: SendStatus;
  /** An image send's upload progress, 0–100 (absent once uploaded). */
  progress?: number;
  /**
   * Why a failed send failed for good, as the notice under its bubble says (a refusal the server
   * gives for the message itself: `blocked`, `content_refused`); absent for other failures.
   */
  failReason?: string;
  /** Deleted on this device (WeChat's 删除): kept for the seq order, its body gone, never drawn. */
  deleted?: boolean;
}

export interface ConversationView {
  /** Stored messages ascending by seq, then pending sends in the order they were made. */
  items: MessageItem[];
  /** Older messages exist on the server than the first one held. */
  hasMore: boolean;
  /** The newest page has been fetched or synced at least once. */
  loaded: boolean;
}

export interface PendingMessage {
  conv: string;
  cid: string;
  from: string;
  kind: MessageKind;
  body: string;
  ts: number;
  /** What a reply quotes, shown at once (the server answers with the same). */
  reply?: ReplyRef;
  /** A voice message's length, whole seconds. */
  duration?: number;
}

const EMPTY: ConversationView = { items: [], hasMore: false, loaded: false };

function toItem(message: ChatMessage, meId: string): MessageItem {
  return {
    ...message,
    key: message.cid || `${message.conv}#${message.seq}`,
    mine: message.from === meId,
    status: 'sent',
  };
}

/** A message deleted on this device: what it said is dropped, its place in the order kept. */
function asDeleted(item: MessageItem): MessageItem {
  const { mentions: _mentions, ...rest } = item;
  return { ...rest, body: '', deleted: true };
}

/** A recalled message as every device shows it: who sent it and when, nothing of what it said. */
function asRecalled(item: MessageItem): MessageItem {
  const { mentions: _mentions, reply: _reply, duration: _duration, ...rest } = item;
  return { ...rest, kind: 'recalled', body: '' };
}

/** The seq a `recalled` system message recalls, or 0 for any other message. */
export function recalledSeq(message: Pick<ChatMessage, 'kind' | 'body'>): number {
  if (message.kind !== 'system') return 0;
  const event = parseSystemEvent(message.body);
  return event && event.event === 'recalled' ? event.seq : 0;
}

/** Index of the first stored item whose seq is greater than `seq` (pending items sort last). */
function insertionIndex(items: MessageItem[], seq: number): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    const other = items[mid].seq;
    if (other !== 0 && other <= seq) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * Messages per conversation: each stored message once (by seq, and by cid for one's own sends),
 * pending sends after them. Views are immutable; every change replaces the conversation's view.
 */
export class MessagesStore {
  private readonly views = observable.map<string, ConversationView>({}, { deep: false });
  /** Keys of messages deleted on this device, by conversation: they stay deleted when they come again. */
  private readonly deletedKeys = new Map<string, Set<string>>();
  /** Texts the user recalled here a moment ago, by `conv#seq`: `重新编辑` puts them back in the input. */
  private readonly recalledTexts = observable.map<string, string>({}, { deep: false });

  constructor() {
    makeAutoObservable<MessagesStore, 'deletedKeys'>(this, { deletedKeys: false });
  }

  view(conv: string): ConversationView {
    return this.views.get(conv) ?? EMPTY;
  }

  conversations(): string[] {
    return [...this.views.keys()];
  }

  /**
   * The highest seq held with nothing missing between it and the first held message: what
   * `sync` asks the server to continue from.
   */
  cursor(conv: string): number {
    let cursor = 0;
    for (const item of this.view(conv).items) {
      if (item.seq === 0) break;
      if (cursor !== 0 && item.seq !== cursor + 1) break;
      cursor = item.seq;
    }
    return cursor;
  }

  /** Adds stored messages; anything already held (same seq, or one's own pending cid) is merged. */
  addStored(messages: ChatMessage[], meId: string): void {
    const byConv = new Map<string, ChatMessage[]>();
    for (const message of messages) {
      const list = byConv.get(message.conv);
      if (list) list.push(message);
      else byConv.set(message.conv, [message]);
    }
    for (const [conv, list] of byConv) {
      const view = this.view(conv);
      const items = view.items.slice();
      for (const message of list) this.merge(items, message, meId);
      this.views.set(conv, { ...view, items, loaded: true });
    }
  }

  /** A page of older (or the newest) messages from `history`. */
  addHistory(conv: string, messages: ChatMessage[], hasMore: boolean, meId: string, older: boolean): void {
    const view = this.view(conv);
    const items = view.items.slice();
    for (const message of messages) this.merge(items, message, meId);
    // The newest page says nothing of what lies before the oldest held message; an older page does.
    const more = older || !view.loaded ? hasMore : view.hasMore;
    this.views.set(conv, { items, hasMore: more, loaded: true });
  }

  /**
   * A sync replayed only the newest messages of `conv` (or none: its total was spent), so a hole
   * may lie between them and what was held before. The held messages through `heldThrough` (the
   * cursor the sync was sent with) are dropped when something newer came: the newest run stays,
   * and older pages come from `history` when scrolled to. When nothing came, every stored message
   * is dropped and the conversation is no longer loaded: opening it fetches its newest page.
   * Pending sends stay.
   */
  truncated(conv: string, heldThrough: number): void {
    const view = this.view(conv);
    const stored = view.items.filter((item) => item.seq > 0);
    const pending = view.items.filter((item) => item.seq === 0);
    const newest = stored[stored.length - 1];
    if (!newest || newest.seq <= heldThrough) {
      this.views.set(conv, { items: pending, hasMore: false, loaded: false });
      return;
    }
    let start = stored.length - 1;
    while (start > 0 && stored[start - 1].seq === stored[start].seq - 1) start--;
    this.views.set(conv, { items: [...stored.slice(start), ...pending], hasMore: true, loaded: true });
  }

  /** A send the user just made, shown at once. */
  addPending(message: PendingMessage): void {
    const view = this.view(message.conv);
    if (view.items.some((item) => item.key === message.cid)) return;
    const item: MessageItem = { ...message, seq: 0, key: message.cid, mine: true, status: 'sending' };
    this.views.set(message.conv, { ...view, items: [...view.items, item] });
  }

  /** The ack of a send: the pending bubble becomes the stored message, in place. */
  confirm(conv: string, cid: string, seq: number, ts: number, meId: string, body?: string): void {
    const view = this.view(conv);
    const pending = view.items.find((item) => item.key === cid && item.seq === 0);
    const base = pending ?? null;
    if (!base) return;
    const items = view.items.slice();
    const message: ChatMessage = { conv, seq, cid, from: base.from, kind: base.kind, body: body ?? base.body, ts };
    if (base.reply) message.reply = base.reply;
    if (base.mentions) message.mentions = base.mentions;
    if (base.duration !== undefined) message.duration = base.duration;
    this.merge(items, message, meId);
    this.views.set(conv, { ...view, items });
  }

  /** A pending send's status, and why it failed when the server refused it for good (else none). */
  setStatus(conv: string, cid: string, status: SendStatus, failReason?: string): void {
    const view = this.view(conv);
    const index = view.items.findIndex((item) => item.key === cid && item.seq === 0);
    if (index < 0) return;
    const items = view.items.slice();
    const { failReason: _old, ...item } = items[index];
    items[index] = status === 'failed' && failReason ? { ...item, status, failReason } : { ...item, status };
    this.views.set(conv, { ...view, items });
  }

  /** A pending reply goes as a plain message (its quote was recalled meanwhile): no quote on its bubble. */
  dropReply(conv: string, cid: string): void {
    const view = this.view(conv);
    const index = view.items.findIndex((item) => item.key === cid && item.seq === 0);
    if (index < 0 || !view.items[index].reply) return;
    const items = view.items.slice();
    const { reply: _reply, ...plain } = items[index];
    items[index] = plain;
    this.views.set(conv, { ...view, items });
  }

  /** An image upload's progress for a pending send. */
  setProgress(conv: string, cid: string, progress: number | undefined): void {
    const view = this.view(conv);
    const index = view.items.findIndex((item) => item.key === cid && item.seq === 0);
    if (index < 0 || view.items[index].progress === progress) return;
    const items = view.items.slice();
    items[index] = { ...items[index], progress };
    this.views.set(conv, { ...view, items });
  }

  /** Deletes stored messages from this device only (by key): the server and the peer keep them. */
  deleteLocally(conv: string, keys: readonly string[]): void {
    const set = this.deletedKeys.get(conv) ?? new Set<string>();
    for (const key of keys) set.add(key);
    this.deletedKeys.set(conv, set);
    const view = this.view(conv);
    if (!view.items.some((item) => set.has(item.key) && !item.deleted)) return;
    const items = view.items.map((item) => (set.has(item.key) && !item.deleted ? asDeleted(item) : item));
    this.views.set(conv, { ...view, items });
  }

  /** Whether the message with `key` was deleted on this device. */
  isDeleted(conv: string, key: string): boolean {
    return this.deletedKeys.get(conv)?.has(key) === true;
  }

  /** The keys deleted on this device, by conversation (for storage). */
  deleted(): Record<string, string[]> {
    const all: Record<string, string[]> = {};
    for (const [conv, keys] of this.deletedKeys) all[conv] = [...keys];
    return all;
  }

  /** Restores what was deleted on this device (from storage), before any message is added. */
  setDeleted(all: Record<string, string[]>): void {
    this.deletedKeys.clear();
    for (const [conv, keys] of Object.entries(all)) this.deleteLocally(conv, keys);
  }

  /** Keeps a text the user recalled, for `重新编辑` (in memory only: a few minutes' offer). */
  keepRecalledText(conv: string, seq: number, text: string): void {
    this.recalledTexts.set(`${conv}#${seq}`, text);
  }

  /** The offer to edit a recalled text again has passed. */
  forgetRecalledText(conv: string, seq: number): void {
    this.recalledTexts.delete(`${conv}#${seq}`);
  }

  /** The text of message `seq` the user recalled here, while `重新编辑` is offered ('' otherwise). */
  recalledText(conv: string, seq: number): string {
    return this.recalledTexts.get(`${conv}#${seq}`) ?? '';
  }

  clear(): void {
    this.views.clear();
    this.recalledTexts.clear();
  }

  private merge(items: MessageItem[], message: ChatMessage, meId: string): void {
    const pendingIndex =
      message.from === meId ? items.findIndex((item) => item.seq === 0 && item.key === message.cid) : -1;
    if (pendingIndex >= 0) items.splice(pendingIndex, 1);
    const index = insertionIndex(items, message.seq);
    const held = index > 0 && items[index - 1].seq === message.seq ? items[index - 1] : null;
    if (held) {
      // Held before its recall, now coming (history, a sync from nothing) as recalled.
      if (message.kind === 'recalled' && held.kind !== 'recalled') items[index - 1] = asRecalled(held);
      return;
    }
    const item = toItem(message, meId);
    items.splice(index, 0, this.deletedKeys.get(message.conv)?.has(item.key) ? asDeleted(item) : item);
    // A recall's own message: the message it recalls, if held, is recalled here too.
    const target = recalledSeq(message);
    if (target > 0) recallHeld(items, target);
  }
}

/** Recalls the held message `seq` among `items` (in place); nothing when it is not held. */
function recallHeld(items: MessageItem[], seq: number): void {
  const index = insertionIndex(items, seq) - 1;
  if (index >= 0 && items[index].seq === seq && items[index].kind !== 'recalled')
    items[index] = asRecalled(items[index]);
}

export type MessagesView = Pick<MessagesStore, 'view' | 'conversations' | 'cursor' | 'isDeleted' | 'recalledText'>;
