import { isGroupConversationId } from '../../../contract/conversations';
import type { ConversationPrefs, ConversationPrefsUpdate } from '../../../contract/http';
import type { Store } from '../store/types';
import { ChatError } from './errors';
import type { KnownUsers } from './known-users';
import { conversationMembers } from './membership';
import type { Fanout } from './ports';

/**
 * A user's own settings of a conversation, the same on every device: mute and pin
 * (`PUT /api/conversations/:conv`). A change is pushed to all of the user's connections as a
 * `conversation` frame; `sessions` entries carry both.
 */
export class ConversationPrefsService {
  constructor(
    private readonly store: Store,
    private readonly fanout: Fanout,
    private readonly users: KnownUsers,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Sets what `update` names, for a member of the conversation (a dm's two users, before its first
   * message too; a group's members, present or past: a group one left stays in their list).
   */
  async update(userId: string, conv: string, update: ConversationPrefsUpdate): Promise<ConversationPrefs> {
    if (isGroupConversationId(conv)) {
      if (!(await this.store.groupMembership(conv.slice(2), userId))) {
        throw new ChatError('forbidden', `you are not a member of ${conv}`);
      }
    } else {
      // A dm (its id names the user, its peer exists), or a conversation the user is in.
      await conversationMembers(this.store, this.users, userId, conv);
    }
    const stored = await this.store.setConversationPrefs(conv, userId, update, this.clock());
    const prefs: ConversationPrefs = { conv, ...stored };
    this.fanout.deliver([userId], { type: 'conversation', ...prefs });
    return prefs;
  }
}
