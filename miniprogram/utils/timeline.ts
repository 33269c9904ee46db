import type { MessageItem } from '../stores/messages';

/** A message as the message page draws it. */
export interface TimelineItem extends MessageItem {
  /** The time separator above it ('' for none): after a gap of more than five minutes. */
  timeLabel: string;
  /** The own message up to which the peer has read: "已读" shows under it. */
  readMark: boolean;
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

/**
 * Decorates messages for display, reusing the decorated object of every message whose inputs
 * did not change, so the page's path-update binding sees an append as an append.
 */
export function createTimeline(now: () => number = Date.now) {
  const cache = new WeakMap<MessageItem, TimelineItem>();
  return (items: readonly MessageItem[], peerReadSeq: number): TimelineItem[] => {
    let readUpTo = 0;
    for (const item of items) {
      if (item.mine && item.seq > 0 && item.seq <= peerReadSeq) readUpTo = item.seq;
    }
    return items.map((item, index) => {
      const previous = index > 0 ? items[index - 1] : null;
      const timeLabel = !previous || item.ts - previous.ts > GAP_MS ? formatMessageTime(item.ts, now()) : '';
      const readMark = readUpTo > 0 && item.seq === readUpTo;
      const cached = cache.get(item);
      if (cached && cached.timeLabel === timeLabel && cached.readMark === readMark) return cached;
      const decorated = { ...item, timeLabel, readMark };
      cache.set(item, decorated);
      return decorated;
    });
  };
}
