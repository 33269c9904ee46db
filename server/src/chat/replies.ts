import type { ChatMessage, ReplyRef } from '../../../contract/frames';
import { isGroupConversationId } from '../../../contract/conversations';
import { excerpt } from '../store/rows';
import type { Store } from '../store/types';
import { ChatError } from './errors';

/** What a reply quotes of a message of each kind (a text: its excerpt). */
const QUOTED: Record<string, string> = { image: '[图片]', voice: '[语音]' };

/** The quote of a message, as a reply to it stores and carries it. */
export function quoteOf(message: ChatMessage): ReplyRef {
  const text = message.kind === 'text' ? excerpt(message.body) : (QUOTED[message.kind] ?? '');
  return { seq: message.seq, from: message.from, kind: message.kind, excerpt: text };
}

/**
 * The quote a `send` with `reply: seq` stores, the sender already known to be a current member of
 * `conv`. Refused: `not_found` when the conversation has no message `seq` the sender may see (a
 * group member added later sees nothing before the message that added them); `forbidden` for a
 * recalled one; `bad_frame` for a system message (a tip is never quoted).
 */
export async function replyTo(store: Store, userId: string, conv: string, seq: number): Promise<ReplyRef> {
  const message = await store.message(conv, seq);
  let visible = message !== null;
  if (message && isGroupConversationId(conv)) {
    const membership = await store.groupMembership(conv.slice(2), userId);
    visible = membership !== null && seq >= membership.joinedSeq;
  }
  if (!message || !visible) throw new ChatError('not_found', `send: "reply" names no message ${seq} of ${conv}`);
  if (message.kind === 'recalled') throw new ChatError('forbidden', `send: message ${seq} was recalled`);
  if (message.kind === 'system') throw new ChatError('bad_frame', 'send: "reply" may not name a system message');
  return quoteOf(message);
}
