import type { GroupRole } from '../../contract/http';
import { recalledSeq, type MessageItem } from '../stores/messages';
import { recallTip, systemTip } from './system-tip';

/** A message as the message page draws it. */
export interface TimelineItem extends MessageItem {
  /** The time separator above it ('' for none): after a gap of more than five minutes. */
  timeLabel: string;
  /** The own message up to which the peer has read: "已读" shows under it (dm). */
  readMark: boolean;
  /** A system message's grey tip, written from the reader's side ('' for other kinds). */
  tip: string;
  /** In a group, above someone else's bubble: the sender's nickname ('' in a dm and for one's own). */
  senderName: string;
  /** In a group, the sender's avatar ('' to draw `senderInitial`). */
  senderAvatar: string;
  senderInitial: string;
  /** The message mentions the user, or everyone. */
  mentionsMe: boolean;
  /** Under the user's own last message in a group: `N人未读` or `全部已读` ('' elsewhere). */
  receiptLabel: string;
  /** A reply's quote under its bubble, `张三：excerpt` ('' for a message that replies to nothing). */
  quote: string;
  /** A text the user recalled a moment ago: `重新编辑` follows its tip. */
  reedit: boolean;
}

/** Someone the group page draws: a member's current profile as the app knows it. */
export interface Sender {
  nickname: string;
  avatar: string;
}

/** What a group's page adds to its timeline. */
export interface GroupContext {
  meId: string;
  /** A sender's profile ('' fields, or undefined, while the app does not know them). */
  senderOf(userId: string): Sender | undefined;
  /** How many have read the user's message `seq`, once asked (`groups.receipt(conv)`). */
  receipt?: { seq: number; read: number; unread: number };
  /** A member's role (for `群主撤回了一条成员消息`), once the members are known. */
  roleOf?: (userId: string) => GroupRole | null | undefined;
}

export interface TimelineContext {
  /** How far the peer has read (a dm; 0 in a group). */
  peerReadSeq: number;
  /** Set for a group conversation. */
  group?: GroupContext;
  /** The user's id and anyone's nickname ('' when unknown): quotes and recall tips name people. */
  meId?: string;
  nameOf?(userId: string): string;
  /** Whether the user may still put recalled message `seq` back in the input (重新编辑). */
  canReedit?(seq: number): boolean;
}

const GAP_MS = 5 * 60 * 1000;

function pad(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

/** WeChat's separator: HH:mm today, 昨天 HH:mm, M月D日 HH:mm this year, else with the year. */
export function formatMessageTime(ts: number, now: number = Date.now()): string {
  const date = new Date(ts);
  const today = new Date(now);
  const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  const startOfToday = new Date(today.getFullYear(), today.getMonth(), today.getDate()).getTime();
  if (ts >= startOfToday) return clock;
  if (ts >= startOfToday - 86_400_000) return `昨天 ${clock}`;
  const day = `${date.getMonth() + 1}月${date.getDate()}日 ${clock}`;
  return date.getFullYear() === today.getFullYear() ? day : `${date.getFullYear()}年${day}`;
}

/** `N人未读` / `全部已读` for a receipt count; '' when nothing is known yet. */
export function receiptLabel(receipt: { read: number; unread: number } | undefined): string {
  if (!receipt) return '';
  return receipt.unread > 0 ? `${receipt.unread}人未读` : '全部已读';
}

/**
 * The seq of the user's own last stored message that receipts are about (texts and pictures,
 * not system messages); 0 when there is none among `items`.
 */
export function ownLastSeq(items: readonly MessageItem[]): number {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i];
    if (item.mine && item.seq > 0 && item.kind !== 'system' && item.kind !== 'recalled') return item.seq;
  }
  return 0;
}

const FIELDS = [
  'timeLabel',
  'readMark',
  'tip',
  'senderName',
  'senderAvatar',
  'senderInitial',
  'mentionsMe',
  'receiptLabel',
  'quote',
  'reedit',
] as const;

type Decoration = Pick<TimelineItem, (typeof FIELDS)[number]>;

function sameDecoration(a: Decoration, b: Decoration): boolean {
  return FIELDS.every((field) => a[field] === b[field]);
}

/** What a quote says of the message it replies to: `张三：excerpt`. */
function quoteOf(item: MessageItem, nameOf: (userId: string) => string): string {
  if (!item.reply) return '';
  const name = nameOf(item.reply.from);
  return name ? `${name}：${item.reply.excerpt}` : item.reply.excerpt;
}

/**
 * Decorates messages for display, reusing the decorated object of every message whose inputs
 * did not change, so the page's path-update binding sees an append as an append. Messages deleted
 * on this device are left out, and so are recalls' own system messages: the recalled message
 * shows the tip in its place, as in WeChat.
 */
export function createTimeline(now: () => number = Date.now) {
  const cache = new WeakMap<MessageItem, TimelineItem>();
  return (all: readonly MessageItem[], context: TimelineContext): TimelineItem[] => {
    const { peerReadSeq, group } = context;
    const recallers = new Map<number, string>();
    const items: MessageItem[] = [];
    for (const item of all) {
      const target = recalledSeq(item);
      if (target > 0) recallers.set(target, item.from);
      else if (!item.deleted) items.push(item);
    }
    let readUpTo = 0;
    if (!group) {
      for (const item of items) {
        if (item.mine && item.seq > 0 && item.seq <= peerReadSeq && item.kind !== 'recalled') readUpTo = item.seq;
      }
    }
    // The receipt line goes under the user's last message, once its count is known for that seq.
    const lastOwn = group ? ownLastSeq(items) : 0;
    const receipt = group && group.receipt && group.receipt.seq === lastOwn ? receiptLabel(group.receipt) : '';
    const meId = group?.meId ?? context.meId ?? '';
    const nameOf = (userId: string): string => group?.senderOf(userId)?.nickname || context.nameOf?.(userId) || '';
    return items.map((item, index) => {
      const previous = index > 0 ? items[index - 1] : null;
      const shown = item.kind !== 'system' && item.kind !== 'recalled';
      const sender = group && !item.mine && shown ? group.senderOf(item.from) : undefined;
      const senderName = sender?.nickname ?? '';
      const recalled = item.kind === 'recalled';
      let tip = '';
      if (item.kind === 'system') tip = systemTip(item.body, item.from, item.mine ? item.from : meId, nameOf);
      else if (recalled) tip = recallTip(recallers.get(item.seq) ?? item.from, item.from, meId, nameOf, group?.roleOf);
      const decoration: Decoration = {
        timeLabel: !previous || item.ts - previous.ts > GAP_MS ? formatMessageTime(item.ts, now()) : '',
        readMark: readUpTo > 0 && item.seq === readUpTo,
        tip,
        senderName,
        senderAvatar: sender?.avatar ?? '',
        senderInitial: senderName.slice(0, 1),
        mentionsMe:
          !!group && !item.mine && !!item.mentions && item.mentions.some((id) => id === group.meId || id === 'all'),
        receiptLabel: lastOwn > 0 && item.seq === lastOwn ? receipt : '',
        quote: quoteOf(item, nameOf),
        reedit: recalled && item.mine && context.canReedit?.(item.seq) === true,
      };
      const cached = cache.get(item);
      if (cached && sameDecoration(cached, decoration)) return cached;
      const decorated = { ...item, ...decoration };
      cache.set(item, decorated);
      return decorated;
    });
  };
}
