import { LIMITS } from '../../../contract/limits';
import { directConversationId, directConversationMembers } from '../../../contract/conversations';
import type { HistoryFrame, ReadFrame, SendFrame, ServerFrame, SyncFrame, TypingFrame } from '../../../contract/frames';
import type { Store } from '../store/types';
import { KnownUsers } from './known-users';
import type { Fanout } from './ports';

/** Who is asking: the authenticated user, and which of their connections asked. */
export interface Caller {
  userId: string;
  connectionId: string;
}

/** What the domain reports for the server's metrics. */
export interface ChatMetrics {
  messageStored(): void;
}

export interface ChatOptions {
  metrics?: ChatMetrics;
  /** Whether an image message's body names an image this server holds. */
  isImageUrl?: (body: string) => boolean;
  clock?: () => number;
  /** Which users exist (shared with the token check); absent, one of its own over the store. */
  users?: KnownUsers;
}

/**
 * Hands one answer to the asking connection. A promise means the answer waits for room in the
 * connection's send buffer (the gateway paces long answers such as a sync replay): await it.
 */
export type Reply = (frame: ServerFrame) => void | Promise<void>;

/** A refusal the client is told about as an `error` frame. */
export class ChatError extends Error {
  constructor(
    readonly code: 'bad_frame' | 'forbidden' | 'not_found',
    message: string,
  ) {
    super(message);
  }
}

/** The chat domain: sends with gap-free seq and idempotent cid, history, sync, read cursors. */
export class ChatService {
  private readonly metrics: ChatMetrics;
  private readonly isImageUrl: (body: string) => boolean;
  private readonly clock: () => number;
  private readonly users: KnownUsers;

  constructor(
    private readonly store: Store,
    private readonly fanout: Fanout,
    options: ChatOptions = {},
  ) {
    this.metrics = options.metrics ?? { messageStored() {} };
    this.isImageUrl = options.isImageUrl ?? (() => true);
    this.clock = options.clock ?? Date.now;
    this.users = options.users ?? new KnownUsers(store);
  }

  async send(caller: Caller, frame: SendFrame, reply: Reply): Promise<void> {
    if (frame.kind === 'image' && !this.isImageUrl(frame.body)) {
      throw new ChatError('bad_frame', 'send: an image message\'s "body" must be the url POST /api/upload answered');
    }
    const { conv, members } = await this.destination(caller.userId, frame);
    const { message, duplicate } = await this.store.appendMessage({
      conv,
      members,
      from: caller.userId,
      cid: frame.cid,
      kind: frame.kind,
      body: frame.body,
      ts: this.clock(),
    });
    if (!duplicate) this.metrics.messageStored();
    await reply({ type: 'ack', cid: message.cid, conv: message.conv, seq: message.seq, ts: message.ts });
    // A resent cid was delivered when it was first stored; a client that missed it gets it by sync.
    if (!duplicate) this.fanout.deliver(members, { type: 'message', ...message }, caller.connectionId);
  }

  async history(caller: Caller, frame: HistoryFrame, reply: Reply): Promise<void> {
    await this.membersFor(caller.userId, frame.conv);
    const page = await this.store.history(frame.conv, frame.before, frame.limit ?? LIMITS.historyDefault);
    await reply({ type: 'history', conv: frame.conv, messages: page.messages, hasMore: page.hasMore });
  }

  /** Sessions, then every message after each cursor (bounded per conversation), then `synced`. */
  async sync(caller: Caller, frame: SyncFrame, reply: Reply): Promise<void> {
    const epoch = await this.store.epoch();
    // A cursor from another epoch describes a store that no longer exists: trust none of them.
    const cursors = frame.epoch === undefined || frame.epoch === epoch ? frame.cursors : {};
    const sessions = await this.store.sessionsOf(caller.userId);
    await reply({ type: 'sessions', sessions });
    const truncated: string[] = [];
    for (const session of sessions) {
      const cursor = Math.min(cursors[session.conv] ?? 0, session.lastSeq);
      if (cursor >= session.lastSeq) continue;
      const missing = session.lastSeq - cursor;
      const from = missing > LIMITS.syncPerConversation ? session.lastSeq - LIMITS.syncPerConversation : cursor;
      if (from > cursor) truncated.push(session.conv);
      const messages = await this.store.messagesAfter(session.conv, from, LIMITS.syncPerConversation);
      for (const message of messages) await reply({ type: 'message', ...message });
    }
    await reply({ type: 'synced', epoch, truncated });
  }

  async read(caller: Caller, frame: ReadFrame): Promise<void> {
    const members = await this.membersFor(caller.userId, frame.conv);
    const readSeq = await this.store.advanceRead(frame.conv, caller.userId, frame.seq);
    if (readSeq === null) return;
    this.fanout.deliver(
      members,
      { type: 'states', conv: frame.conv, user: caller.userId, readSeq },
      caller.connectionId,
    );
  }

  /**
   * Relayed only within a stored conversation the typist belongs to: never to a stranger, and not
   * before a dm's first message. Dropped without an error otherwise (a hint, not data).
   */
  async typing(caller: Caller, frame: TypingFrame): Promise<void> {
    const members = await this.store.membersOf(frame.conv);
    if (!members.includes(caller.userId)) return;
    const others = members.filter((member) => member !== caller.userId);
    this.fanout.deliver(others, { type: 'typing', conv: frame.conv, user: caller.userId });
  }

  /** The conversation a send goes into, and its members; refused unless the sender is one. */
  private async destination(userId: string, frame: SendFrame): Promise<{ conv: string; members: string[] }> {
    if ((frame.to === undefined) === (frame.conv === undefined)) {
      throw new ChatError('bad_frame', 'send needs exactly one of "to" and "conv"');
    }
    if (frame.to !== undefined) {
      if (frame.to === userId) throw new ChatError('bad_frame', 'a message needs another user in "to"');
      if (!(await this.users.exists(frame.to))) throw new ChatError('not_found', `no user ${frame.to}`);
      const conv = directConversationId(userId, frame.to);
      return { conv, members: [userId, frame.to].sort() };
    }
    const conv = frame.conv as string;
    return { conv, members: await this.membersFor(userId, conv) };
  }

  /**
   * Members of a conversation the user belongs to. A one-to-one conversation exists, empty,
   * before its first message, so its members follow from its id.
   */
  private async membersFor(userId: string, conv: string): Promise<string[]> {
    let members = await this.store.membersOf(conv);
    if (members.length === 0) {
      const pair = directConversationMembers(conv);
      if (pair && pair.includes(userId)) {
        const peer = pair[0] === userId ? pair[1] : pair[0];
        if (!(await this.users.exists(peer))) throw new ChatError('not_found', `no user ${peer}`);
        members = [...pair];
      }
    }
    if (!members.includes(userId)) throw new ChatError('forbidden', `you are not a member of ${conv}`);
    return members;
  }
}
