/**
 * 转发 (forward): which messages of a conversation can be sent again as the user's own, and the
 * one line the confirmation shows for them. Pure functions: the picker page and the client share them.
 */
import type { MessageItem } from '../stores/messages';
import { previewOf } from '../utils/format';

/** A message to forward: a text, or an image by its uploaded url (reused, never uploaded again). */
export interface ForwardItem {
  kind: 'text' | 'image';
  body: string;
}

/** An image the server holds; a bubble still showing the phone's own file has no url to reuse yet. */
const UPLOADED_URL = /^https?:\/\//;

/** What can be forwarded of a message, or null: system tips, recalled and deleted ones, unsent images. */
export function forwardItemOf(item: MessageItem): ForwardItem | null {
  if (item.deleted) return null;
  if (item.kind === 'text') return item.body.trim() ? { kind: 'text', body: item.body } : null;
  if (item.kind === 'image' && item.seq > 0 && UPLOADED_URL.test(item.body)) return { kind: 'image', body: item.body };
  return null;
}

/**
 * The messages picked by key, in the conversation's order (as 逐条转发 sends them, whatever order
 * they were ticked in), without those that cannot be forwarded.
 */
export function forwardItems(items: readonly MessageItem[], keys: readonly string[]): ForwardItem[] {
  const picked = new Set(keys);
  const out: ForwardItem[] = [];
  for (const item of items) {
    if (!picked.has(item.key)) continue;
    const forwarded = forwardItemOf(item);
    if (forwarded) out.push(forwarded);
  }
  return out;
}

/** The confirmation's content: the text's excerpt or `[图片]` for one message, a count for several. */
export function forwardPreview(items: readonly ForwardItem[]): string {
  if (items.length === 1) return previewOf(items[0]);
  return `[逐条转发] 共${items.length}条消息`;
}
