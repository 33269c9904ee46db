import { isGroupConversationId } from '../../../contract/conversations';
import type { ChatMessage, RecallFrame } from '../../../contract/frames';
import type { SystemEvent } from '../../../contract/system-events';
import type { Store } from '../store/types';
import { ChatError } from './errors';
import type { KnownUsers } from './known-users';
import { conversationMembers } from './membership';
import type { Fanout } from './ports';
import type { Caller, ChatMetrics, Reply } from './service';

export interface RecallOptions {
  /** How long after its `ts` a message's sender may recall it (RECALL_WINDOW_S), in ms. */
  windowMs: number;
  clock: () => number;
  metrics: ChatMetrics;
}

/**
 * Recalls (docs/protocol.md, "Message actions"): the sender of a message within the window, or a
 * group's owner or an admin for any message of the group. Stored as a `recalled` system message
 * with its own seq, in the transaction that rewrites the recalled message (store `recall`).
 */
export class Recalls {
  constructor(
    private readonly store: Store,
    private readonly fanout: Fanout,
    private readonly users: KnownUsers,
    private readonly options: RecallOptions,
  ) {}

  async recall(caller: Caller, frame: RecallFrame, reply: Reply): Promise<void> {
    const { conv, seq, cid } = frame;
    const members = await conversationMembers(this.store, this.users, caller.userId, conv);
    // The same cid again: the same answer, whatever happened since.
    const earlier = await this.store.messageByCid(caller.userId, cid);
    if (earlier) {
      await reply({ type: 'ack', cid, conv: earlier.conv, seq: earlier.seq, ts: earlier.ts });
      return;
    }
    await this.check(caller.userId, conv, seq);
    const event: SystemEvent = { event: 'recalled', seq };
    const now = this.options.clock();
    const result = await this.store.recall(
      { conv, members, from: caller.userId, cid, kind: 'system', body: JSON.stringify(event), ts: now },
      seq,
    );
    // Recalled meanwhile (by another device, another manager, another instance).
    if (!result) throw new ChatError('forbidden', `message ${seq} may not be recalled`);
    const { message, duplicate } = result;
    if (!duplicate) this.options.metrics.messageStored();
    await reply({ type: 'ack', cid, conv: message.conv, seq: message.seq, ts: message.ts });
    if (duplicate) return;
    this.fanout.deliver(members, { type: 'message', ...message }, caller.connectionId);
    this.fanout.deliver(
      [caller.userId],
      { type: 'states', conv, user: caller.userId, readSeq: message.seq },
      caller.connectionId,
    );
  }

  /**
   * A moderator's recall (`POST /api/admin/recall`): any message but a system one, at any age,
   * through the same store path as a member's. The `recalled` event is stored in the name of the
   * message's sender (docs/protocol.md, "Safety": every client's tip then reads as for a sender's
   * own recall, and no member is named for what a moderator did), with a cid of the moderator's
   * own (`mod:…`) and no read cursor moved; delivered to every member's connections. `not_found`
   * when there is no such message, `forbidden` when it is a system message or recalled already.
   */
  async moderate(conv: string, seq: number, cid: string): Promise<{ message: ChatMessage; sender: string }> {
    const target = await this.store.message(conv, seq);
    if (!target) throw new ChatError('not_found', `${conv} has no message ${seq}`);
    if (target.kind === 'system') throw new ChatError('forbidden', 'a system message is not recalled');
    if (target.kind === 'recalled') throw new ChatError('forbidden', `message ${seq} was recalled already`);
    const event: SystemEvent = { event: 'recalled', seq };
    const result = await this.store.recall(
      {
        conv,
        members: [],
        from: target.from,
        cid,
        kind: 'system',
        body: JSON.stringify(event),
        ts: this.options.clock(),
      },
      seq,
      false,
    );
    if (!result) throw new ChatError('forbidden', `message ${seq} was recalled already`);
    if (!result.duplicate) {
      this.options.metrics.messageStored();
      this.fanout.deliver(await this.store.membersOf(conv), { type: 'message', ...result.message });
    }
    return { message: result.message, sender: target.from };
  }

  /** Whether the user may recall message `seq` of `conv` (a member of it); refused otherwise. */
  private async check(userId: string, conv: string, seq: number): Promise<void> {
    const message = await this.store.message(conv, seq);
    if (!message) throw new ChatError('not_found', `${conv} has no message ${seq}`);
    if (message.kind === 'system') throw new ChatError('forbidden', 'a system message is not recalled');
    if (message.kind === 'recalled') throw new ChatError('forbidden', `message ${seq} was recalled already`);
    if (isGroupConversationId(conv)) {
      const membership = await this.store.groupMembership(conv.slice(2), userId);
      if (membership && membership.leftSeq === null && membership.role !== 'member') return;
    }
    if (message.from !== userId) throw new ChatError('forbidden', 'only its sender (or a group manager) may recall it');
    if (this.options.clock() - message.ts > this.options.windowMs) {
      throw new ChatError('forbidden', `a message may be recalled within ${this.options.windowMs / 1000} s`);
    }
  }
}
