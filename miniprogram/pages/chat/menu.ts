import { LIMITS } from '../../../contract/limits';
import { RecallError } from '../../core/recalls';
import type { TimelineItem } from '../../utils/timeline';

/** An action of the long-press menu above a message. */
export interface MenuEntry {
  action: 'copy' | 'forward' | 'reply' | 'recall' | 'delete' | 'select' | 'report';
  label: string;
}

/** How long after sending it the user may recall a message (the server's default RECALL_WINDOW_S). */
export const RECALL_WINDOW_MS = 120_000;

/** What decides the menu besides the message: the clock, and whether the user manages the group. */
export interface MenuContext {
  now: number;
  /** The user is the group's owner or an admin: any member's message may be recalled. */
  manager: boolean;
}

/**
 * What the long-press menu offers for a message, in WeChat's order: 复制 (a text), 转发 (a stored
 * text or picture), 引用 (those and voice), 撤回 (one's own within the window; anyone's for a group's managers),
 * 删除 and 多选 (any stored message), then 举报 (someone else's stored message: the report form).
 */
export function menuFor(item: TimelineItem, context: MenuContext): MenuEntry[] {
  const entries: MenuEntry[] = [];
  const stored = item.seq > 0;
  const content = item.kind === 'text' || item.kind === 'image' || item.kind === 'voice';
  if (item.kind === 'text') entries.push({ action: 'copy', label: '复制' });
  if (!stored || !content) return entries;
  // A voice message is not forwarded, as in WeChat.
  if (item.kind !== 'voice') entries.push({ action: 'forward', label: '转发' });
  entries.push({ action: 'reply', label: '引用' });
  if (context.manager || (item.mine && context.now - item.ts < RECALL_WINDOW_MS)) {
    entries.push({ action: 'recall', label: '撤回' });
  }
  entries.push({ action: 'delete', label: '删除' });
  entries.push({ action: 'select', label: '多选' });
  if (!item.mine) entries.push({ action: 'report', label: '举报' });
  return entries;
}

/** What a failed recall tells the user, by the reason (and, for a refusal, the message's age). */
export function recallFailure(error: unknown, item: Pick<TimelineItem, 'mine' | 'ts'>, now: number): string {
  const code = error instanceof RecallError ? error.code : '';
  if (code === 'offline') return '网络不可用，撤回失败，请稍后重试';
  if (code === 'not_found') return '该消息不存在或已被删除';
  if (code === 'forbidden' && item.mine && now - item.ts >= RECALL_WINDOW_MS)
    return '发送时间超过2分钟的消息，不能被撤回';
  return '撤回失败：该消息已被撤回，或你没有撤回它的权限';
}

/** What a quote says of a message: its text's start, or what kind of message it is. */
export function excerptOf(item: TimelineItem): string {
  if (item.kind === 'image') return '[图片]';
  if (item.kind === 'voice') return '[语音]';
  return item.body.replace(/\s+/g, ' ').slice(0, LIMITS.excerptLength);
}
