import type { ChatMessage } from '../../contract/frames';

function pad(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

/** The session list's time: 刚刚, HH:mm today, 昨天, or MM-DD (YYYY-MM-DD in another year). */
export function formatSessionTime(ts: number, now: number = Date.now()): string {
  if (!ts) return '';
  const date = new Date(ts);
  const today = new Date(now);
  if (now - ts >= 0 && now - ts < 60_000) return '刚刚';
  const startOfToday = new Date(today.getFullYear(), today.getMonth(), today.getDate()).getTime();
  if (ts >= startOfToday) return `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  if (ts >= startOfToday - 86_400_000) return '昨天';
  const day = `${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  return date.getFullYear() === today.getFullYear() ? day : `${date.getFullYear()}-${day}`;
}

/** One line of a message for the session list. */
export function previewOf(message: Pick<ChatMessage, 'kind' | 'body'> | null): string {
  if (!message) return '';
  if (message.kind === 'voice') return '[语音]';
  return message.kind === 'image' ? '[图片]' : message.body.replace(/\s+/g, ' ').slice(0, 60);
}

/** The unread badge: nothing at 0, 99+ above 99. */
export function badgeText(unread: number): string {
  if (unread <= 0) return '';
  return unread > 99 ? '99+' : String(unread);
}
