import type { ConversationPrefsUpdate } from '../../contract/http';
import type { Stores } from '../stores/index';
import { ApiError, type Api } from './api';

/**
 * 消息免打扰 and 置顶 of a conversation, the same on every device of the user: set here at once,
 * then on the server (`PUT /api/conversations/:conv`), whose `conversation` frame tells the user's
 * other devices. The pins and mutes a device kept before they roamed go to the server once.
 */
export class ConversationSettings {
  private roaming = false;

  constructor(
    private readonly api: Api,
    private readonly stores: Stores,
    /** Writes the list's arrangement to storage. */
    private readonly save: () => void,
  ) {}

  /**
   * The user mutes or pins (or undoes it): shown at once and kept; sent to the server now, or at
   * the next sync when there is no network. A refusal undoes it with a plain word.
   */
  async set(conv: string, flags: ConversationPrefsUpdate): Promise<void> {
    const { sessions } = this.stores;
    const item = sessions.find(conv);
    const before: ConversationPrefsUpdate = {};
    if (flags.muted !== undefined) before.muted = item ? item.muted : !flags.muted;
    if (flags.pinned !== undefined) before.pinned = item ? item.pinned : !flags.pinned;
    sessions.setPending(conv, flags);
    sessions.setFlags(conv, flags);
    this.save();
    await this.send(conv, flags, before);
  }

  /** Sends what waits for the server (after a sync: it may have been set with no network). */
  async flush(): Promise<void> {
    const pending = this.stores.sessions.prefs.pending ?? {};
    for (const [conv, flags] of Object.entries(pending)) await this.send(conv, flags, null);
  }

  private async send(
    conv: string,
    flags: ConversationPrefsUpdate,
    before: ConversationPrefsUpdate | null,
  ): Promise<void> {
    const { sessions, errors } = this.stores;
    try {
      const answer = await this.api.updateConversation(conv, flags);
      sessions.setPending(conv, null);
      // Only what this request set: a switch flipped meanwhile has its own request under way.
      const answered: ConversationPrefsUpdate = {};
      if (flags.muted !== undefined) answered.muted = answer.muted;
      if (flags.pinned !== undefined) answered.pinned = answer.pinned;
      sessions.setFlags(conv, answered);
    } catch (error) {
      // No network (or the server down): it stays, and goes at the next sync.
      if (!(error instanceof ApiError) || error.status === 0 || error.status >= 500) return;
      sessions.setPending(conv, null);
      if (before) sessions.setFlags(conv, before);
      errors.tell(error.code, '设置失败：你已不在该聊天中');
    } finally {
      this.save();
    }
  }

  /**
   * Once per device, after a sync: the pins and mutes kept here before they roamed go to the
   * server, none lost. A conversation the server no longer lets the user set is skipped; no network
   * leaves the rest for the next sync.
   */
  async roam(): Promise<void> {
    const { sessions } = this.stores;
    const prefs = sessions.prefs;
    if (this.roaming) return;
    if (prefs.roamed) return this.flush();
    this.roaming = true;
    try {
      const mutes = prefs.mutes ?? {};
      for (const conv of new Set([...Object.keys(prefs.pins), ...Object.keys(mutes)])) {
        const flags: ConversationPrefsUpdate = {};
        if (conv in prefs.pins) flags.pinned = true;
        if (mutes[conv]) flags.muted = true;
        try {
          const answer = await this.api.updateConversation(conv, flags);
          sessions.setFlags(conv, { muted: answer.muted, pinned: answer.pinned });
        } catch (error) {
          if (!(error instanceof ApiError) || error.status === 0 || error.status >= 500) return;
        }
      }
      sessions.setRoamed();
      this.save();
    } finally {
      this.roaming = false;
    }
    await this.flush();
  }
}
