import { directConversationMembers, isDirectConversationId } from '../../../contract/conversations';
import type { Store } from '../store/types';
import { ChatError } from './errors';
import type { KnownUsers } from './known-users';

/**
 * The current members of a conversation the user belongs to; refused otherwise. A one-to-one
 * conversation's members follow from its id (it exists, empty, before its first message, and a
 * member's settings may have stored one row of it before then); the peer must exist.
 */
export async function conversationMembers(
  store: Store,
  users: KnownUsers,
  userId: string,
  conv: string,
): Promise<string[]> {
  if (isDirectConversationId(conv)) {
    const pair = directConversationMembers(conv);
    // Two spellings of one pair would be two sessions with one person: only the canonical one exists.
    if (!pair) {
      throw new ChatError(
        'bad_frame',
        `"${conv.slice(0, 80)}" is not a one-to-one conversation id: dm:<smaller id>:<larger id>`,
      );
    }
    if (!pair.includes(userId)) throw new ChatError('forbidden', `you are not a member of ${conv}`);
    const stored = await store.membersOf(conv);
    if (stored.length < 2) {
      const peer = pair[0] === userId ? pair[1] : pair[0];
      if (!(await users.exists(peer))) throw new ChatError('not_found', `no user ${peer}`);
    }
    return [...pair];
  }
  const members = await store.membersOf(conv);
  if (!members.includes(userId)) throw new ChatError('forbidden', `you are not a member of ${conv}`);
  return members;
}
