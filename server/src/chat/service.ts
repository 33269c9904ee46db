import { LIMITS } from '../../../contract/limits';
import {
  directConversationId,
  directConversationMembers,
  isGroupConversationId,
} from '../../../contract/conversations';
import {
  isDirectSession,
  type AnySessionEntry,
  type ChatMessage,
  type HistoryFrame,
  type ReadFrame,
  type RecallFrame,
  type SendFrame,
  type ServerFrame,
  type SessionsRequestFrame,
  type SyncFrame,
  type TypingFrame,
} from '../../../contract/frames';
import type { Store } from '../store/types';
import { ChatError } from './errors';
import { KnownUsers } from './known-users';
import { conversationMembers } from './membership';
import type { Fanout } from './ports';
import { Recalls } from './recall';
import { replyTo } from './replies';

export { ChatError };

/** Who is asking: the authenticated user, and which of their connections asked. */
export interface Caller {
  userId: string;
  connectionId: string;
  /**
   * `<scheme>://<host>` the connection reached us at (its upgrade request's Host), the base of
   * upload URLs when the server has no PUBLIC_URL; absent when that Host was no plain host.
   */
  origin?: string;
}

/** The answer of a voice body's check: the URL to store, or why the send is refused (`bad_frame`). */
export type VoiceCheck = { url: string } | { refused: string };

/** What the domain reports for the server's metrics. */
export interface ChatMetrics {
  messageStored(): void;
}

export interface ChatOptions {
  metrics?: ChatMetrics;
  /**
   * The canonical URL of the upload an image message's body names (marked as used), or null when
   * it names none of ours. Absent: any body is taken as it is.
   */
  imageUrl?: (body: string, origin: string | undefined) => Promise<string | null>;
  /**
   * A voice message's body: the canonical URL of the audio upload it names (marked as used) when
   * `durationS` matches the recording's length, or why not. Absent: any body and duration are
   * taken as they are.
   */
  voiceUrl?: (body: string, origin: string | undefined, durationS: number) => Promise<VoiceCheck>;
  clock?: () => number;
  /** Which users exist (shared with the token check); absent, one of its own over the store. */
  users?: KnownUsers;
  /** How long after its `ts` a message's sender may recall it, in seconds (RECALL_WINDOW_S; default 120). */
  recallWindowS?: number;
  /**
   * Told of each new message once it is acked and delivered, with its conversation's members (the
   * reminders of users whose app is closed). Must not wait or throw: it only queues.
   */
  stored?: (message: ChatMessage, members: readonly string[]) => void;
  /** Whether a user has a connection on any instance: a dm entry of `sessions` says if its peer is online. */
  isOnline?: (userId: string) => Promise<boolean>;
  /** WeChat's content check (content-check.ts); absent: nothing is checked. */
  contentCheck?: ContentCheckPort;
}

/** What the send path needs of the content check (content-check.ts `ContentCheck`). */
export interface ContentCheckPort {
  /** A chat text's verdict, before it is stored: refused, or stored (flagged or not). */
  text(userId: string, content: string, kind: 'chat'): Promise<{ refused: boolean; flag?: string }>;
  /** A new message was stored: flags it, starts an image's or voice message's check. Never throws. */
  stored(message: ChatMessage, flag: string | undefined): Promise<void>;
}

/**
 * Hands one answer to the asking connection. A promise means the answer waits for room in the
 * connection's send buffer (the gateway paces long answers such as a sync replay): await it.
 */
export type Reply = (frame: ServerFrame) => void | Promise<void>;

/** The chat domain: sends with gap-free seq and idempotent cid, history, sync, read cursors. */
export class ChatService {
  private readonly metrics: ChatMetrics;
  private readonly imageUrl: (body: string, origin: string | undefined) => Promise<string | null>;
  private readonly voiceUrl: (body: string, origin: string | undefined, durationS: number) => Promise<VoiceCheck>;
  private readonly clock: () => number;
  private readonly isOnline?: (userId: string) => Promise<boolean>;
  private readonly users: KnownUsers;
  private readonly recalls: Recalls;
  private readonly stored: (message: ChatMessage, members: readonly string[]) => void;
  private readonly contentCheck?: ContentCheckPort;

  constructor(
    private readonly store: Store,
    private readonly fanout: Fanout,
    options: ChatOptions = {},
  ) {
    this.metrics = options.metrics ?? { messageStored() {} };
    this.imageUrl = options.imageUrl ?? (async (body) => body);
    this.voiceUrl = options.voiceUrl ?? (async (body) => ({ url: body }));
    this.clock = options.clock ?? Date.now;
    this.isOnline = options.isOnline;
    this.users = options.users ?? new KnownUsers(store);
    this.stored = options.stored ?? (() => {});
    this.contentCheck = options.contentCheck;
    this.recalls = new Recalls(store, fanout, this.users, {
      windowMs: (options.recallWindowS ?? 120) * 1000,
      clock: this.clock,
      metrics: this.metrics,
    });
  }

  async send(caller: Caller, frame: SendFrame, reply: Reply): Promise<void> {
    // A plain text (most sends) needs no look at its body: not awaited, one turn of promises less.
    const body = frame.kind === 'text' && frame.duration === undefined ? frame.body : await this.bodyOf(caller, frame);
    const { conv, members } = await this.destination(caller.userId, frame);
    const mentions =
      frame.mentions === undefined ? [] : await this.mentions(caller.userId, conv, members, frame.mentions);
    const quote = frame.reply === undefined ? undefined : await this.quote(caller.userId, conv, frame.cid, frame.reply);
    // Last, once everything else let the send through: WeChat is asked only about what would be stored.
    const flag = this.contentCheck ? await this.checkText(caller.userId, frame) : undefined;
    const { message, duplicate } = await this.store.appendMessage({
      conv,
      members,
      from: caller.userId,
      cid: frame.cid,
      kind: frame.kind,
      body,
      ts: this.clock(),
      ...(mentions.length > 0 ? { mentions } : {}),
      ...(quote ? { reply: quote } : {}),
      ...(frame.kind === 'voice' ? { duration: frame.duration } : {}),
    });
    if (!duplicate) this.metrics.messageStored();
    const acked = reply({ type: 'ack', cid: message.cid, conv: message.conv, seq: message.seq, ts: message.ts });
    if (acked) await acked;
    // A resent cid was delivered when it was first stored; a client that missed it gets it by sync.
    if (duplicate) return;
    this.fanout.deliver(members, { type: 'message', ...message }, caller.connectionId);
    // Storing it moved the sender's read cursor to its seq (the conversation's last, so always
    // forward): their other devices hear of that read as of any other. The sending connection has
    // the ack, the peer the message itself (its sender has read everything up to it).
    this.fanout.deliver(
      [caller.userId],
      { type: 'states', conv: message.conv, user: caller.userId, readSeq: message.seq },
      caller.connectionId,
    );
    this.stored(message, members);
    if (this.contentCheck) void this.contentCheck.stored(message, flag);
  }

  /**
   * A text's content check (content-check.ts): `risky` (or no answer, failing closed) refuses it
   * with `content_refused`, nothing stored; the flag a stored one gets. A resend of a stored cid is
   * not checked again.
   */
  private async checkText(userId: string, frame: SendFrame): Promise<string | undefined> {
    if (!this.contentCheck || frame.kind !== 'text') return undefined;
    if (await this.store.messageByCid(userId, frame.cid)) return undefined;
    const verdict = await this.contentCheck.text(userId, frame.body, 'chat');
    if (verdict.refused) {
      throw new ChatError('content_refused', "the message was not sent: WeChat's content check refused it");
    }
    return verdict.flag;
  }

  /**
   * The body a send stores. An image or a voice message is stored under our own URL of its upload,
   * whatever host the client wrote; a voice message's upload must be audio whose length (read when
   * it was uploaded) is within `voiceDurationSlackSeconds` of `duration`. Refusals are `bad_frame`.
   */
  private async bodyOf(caller: Caller, frame: SendFrame): Promise<string> {
    if (frame.kind === 'voice') {
      if (frame.duration === undefined) {
        throw new ChatError(
          'bad_frame',
          `send: a voice message needs "duration", whole seconds from ${LIMITS.voiceMinSeconds} to ${LIMITS.voiceMaxSeconds}`,
        );
      }
      const check = await this.voiceUrl(frame.body, caller.origin, frame.duration);
      if ('refused' in check) throw new ChatError('bad_frame', `send: ${check.refused}`);
      return check.url;
    }
    if (frame.duration !== undefined) throw new ChatError('bad_frame', 'send: "duration" is for voice messages only');
    if (frame.kind === 'text') return frame.body;
    const url = await this.imageUrl(frame.body, caller.origin);
    if (url === null) {
      throw new ChatError('bad_frame', 'send: an image message\'s "body" must be the url POST /api/upload answered');
    }
    return url;
  }

  /**
   * What a reply quotes (replies.ts). A resend of a stored reply is not checked again: it is
   * answered as stored, even once the quoted message was recalled.
   */
  private async quote(userId: string, conv: string, cid: string, seq: number) {
    if (await this.store.messageByCid(userId, cid)) return undefined;
    return replyTo(this.store, userId, conv, seq);
  }

  /** A moderator's recall (recall.ts `moderate`): the stored `recalled` event. */
  moderatorRecall(conv: string, seq: number, cid: string) {
    return this.recalls.moderate(conv, seq, cid);
  }

  /** A recall (recall.ts): acked with the seq of its `recalled` system message. */
  recall(caller: Caller, frame: RecallFrame, reply: Reply): Promise<void> {
    return this.recalls.recall(caller, frame, reply);
  }

  async history(caller: Caller, frame: HistoryFrame, reply: Reply): Promise<void> {
    const limit = frame.limit ?? LIMITS.historyDefault;
    if (isGroupConversationId(frame.conv)) {
      const page = await this.groupHistory(caller.userId, frame.conv, frame.before, limit);
      await reply({ type: 'history', conv: frame.conv, ...page });
      return;
    }
    await this.membersFor(caller.userId, frame.conv);
    const page = await this.store.history(frame.conv, frame.before, limit);
    await reply({ type: 'history', conv: frame.conv, messages: page.messages, hasMore: page.hasMore });
  }

  /**
   * A group's history as a member sees it: from the message that added them, up to the one that
   * said they left (a former member still reads that far); refused to anyone never a member.
   */
  private async groupHistory(userId: string, conv: string, before: number | undefined, limit: number) {
    const membership = await this.store.groupMembership(conv.slice(2), userId);
    if (!membership) throw new ChatError('forbidden', `you are not a member of ${conv}`);
    const { joinedSeq, leftSeq } = membership;
    const upper = leftSeq === null ? before : Math.min(before ?? Number.MAX_SAFE_INTEGER, leftSeq + 1);
    if (upper !== undefined && upper <= joinedSeq) return { messages: [], hasMore: false };
    const page = await this.store.history(conv, upper, limit);
    const messages = page.messages.filter((message) => message.seq >= joinedSeq);
    const first = messages[0]?.seq ?? 0;
    return { messages, hasMore: page.hasMore && messages.length === page.messages.length && first > joinedSeq };
  }

  /**
   * The first page of sessions, then the messages missed after each cursor, then `synced`. The
   * replay covers the first page's conversations and those the client names in `cursors` (it
   * holds them): at most `syncPerConversation` each (the newest), at most `syncMessages` in all;
   * a conversation that got less than it missed is listed as truncated.
   */
  async sync(caller: Caller, frame: SyncFrame, reply: Reply): Promise<void> {
    const epoch = await this.store.epoch();
    // A cursor from another epoch describes a store that no longer exists: trust none of them.
    const cursors = frame.epoch === undefined || frame.epoch === epoch ? frame.cursors : {};
    const page = await this.store.sessionsPage(caller.userId);
    await reply({ type: 'sessions', sessions: await this.withPresence(caller.userId, page.sessions), more: page.more });
    const onPage = new Set(page.sessions.map((session) => session.conv));
    // The conversations the client holds off the page, and the page's groups (for where each
    // member's view of a group begins).
    const ranges = await this.store.lastSeqs(caller.userId, [
      ...Object.keys(cursors).filter((conv) => !onPage.has(conv)),
      ...page.sessions.filter((session) => isGroupConversationId(session.conv)).map((session) => session.conv),
    ]);
    const firstSeqs = new Map(ranges.map((range) => [range.conv, range.firstSeq ?? 1]));
    const held = ranges.filter((range) => !onPage.has(range.conv));
    const truncated: string[] = [];
    let budget: number = LIMITS.syncMessages;
    for (const { conv, lastSeq } of [...page.sessions, ...held]) {
      // A group member added later is owed nothing before the message that added them.
      const cursor = Math.max(Math.min(cursors[conv] ?? 0, lastSeq), (firstSeqs.get(conv) ?? 1) - 1);
      const missing = lastSeq - cursor;
      if (missing === 0) continue;
      const count = Math.min(missing, LIMITS.syncPerConversation, budget);
      if (count < missing) truncated.push(conv);
      if (count === 0) continue;
      budget -= count;
      const messages = await this.store.messagesAfter(conv, lastSeq - count, count);
      for (const message of messages) await reply({ type: 'message', ...message });
    }
    await reply({ type: 'synced', epoch, truncated });
  }

  /** The page of sessions after the conversation `after` (the last one the client holds). */
  async sessions(caller: Caller, frame: SessionsRequestFrame, reply: Reply): Promise<void> {
    if (isGroupConversationId(frame.after)) {
      // A group the caller left stays in their list (left: true): the next page may follow it.
      if (!(await this.store.groupMembership(frame.after.slice(2), caller.userId))) {
        throw new ChatError('forbidden', `you are not a member of ${frame.after}`);
      }
      const page = await this.store.sessionsPage(caller.userId, { after: frame.after });
      const sessions = await this.withPresence(caller.userId, page.sessions);
      await reply({ type: 'sessions', sessions, more: page.more, after: frame.after });
      return;
    }
    const members = await this.store.membersOf(frame.after);
    if (members.length === 0) {
      // Not stored: one the caller could be in (a dm naming them) is unknown, anything else not theirs.
      const pair = directConversationMembers(frame.after);
      if (pair && pair.includes(caller.userId)) throw new ChatError('not_found', `no conversation ${frame.after}`);
      throw new ChatError('forbidden', `you are not a member of ${frame.after}`);
    }
    if (!members.includes(caller.userId)) throw new ChatError('forbidden', `you are not a member of ${frame.after}`);
    const page = await this.store.sessionsPage(caller.userId, { after: frame.after });
    await reply({
      type: 'sessions',
      sessions: await this.withPresence(caller.userId, page.sessions),
      more: page.more,
      after: frame.after,
    });
  }

  /**
   * A page's dm entries with whether each peer is online now (the app's bars and dots start from
   * it); someone the user blocked shows offline, as their `presence` frames are not sent either.
   */
  private async withPresence(userId: string, sessions: AnySessionEntry[]): Promise<AnySessionEntry[]> {
    const isOnline = this.isOnline;
    if (!isOnline || !sessions.some(isDirectSession)) return sessions;
    const blocked = new Set((await this.store.safety.blockList(userId)).map((user) => user.id));
    return Promise.all(
      sessions.map(async (session) =>
        isDirectSession(session)
          ? { ...session, online: !blocked.has(session.peer.id) && (await isOnline(session.peer.id)) }
          : session,
      ),
    );
  }

  async read(caller: Caller, frame: ReadFrame): Promise<void> {
    const members = await this.membersFor(caller.userId, frame.conv);
    const readSeq = await this.store.advanceRead(frame.conv, caller.userId, frame.seq);
    if (readSeq === null) return;
    // In a group the cursor is told to the reader's other devices only; a blocker hears nothing of
    // the one they blocked.
    const blockers = isGroupConversationId(frame.conv) ? [] : await this.store.safety.blockersOf(caller.userId);
    this.fanout.deliver(
      isGroupConversationId(frame.conv) ? [caller.userId] : members.filter((member) => !blockers.includes(member)),
      { type: 'states', conv: frame.conv, user: caller.userId, readSeq },
      caller.connectionId,
    );
  }

  /**
   * Relayed only within a stored conversation the typist belongs to: never to a stranger, and not
   * before a dm's first message. Dropped without an error otherwise (a hint, not data).
   */
  async typing(caller: Caller, frame: TypingFrame): Promise<void> {
    // Not relayed in groups (no error either).
    if (isGroupConversationId(frame.conv)) return;
    const members = await this.store.membersOf(frame.conv);
    if (!members.includes(caller.userId)) return;
    const blockers = new Set(await this.store.safety.blockersOf(caller.userId));
    const others = members.filter((member) => member !== caller.userId && !blockers.has(member));
    this.fanout.deliver(others, { type: 'typing', conv: frame.conv, user: caller.userId });
  }

  /**
   * A group send's `mentions` as stored: current members other than the sender, each once (the
   * sender's own id dropped), or exactly `["all"]`, which only the owner and admins may send.
   * Mentions outside a group, `all` beside ids, or someone not a current member are `bad_frame`.
   */
  private async mentions(
    userId: string,
    conv: string,
    members: readonly string[],
    requested: readonly string[],
  ): Promise<string[]> {
    if (!isGroupConversationId(conv)) throw new ChatError('bad_frame', 'send: "mentions" is for group messages only');
    const unique = [...new Set(requested)];
    if (unique.includes('all')) {
      if (unique.length > 1) throw new ChatError('bad_frame', 'send: "mentions" is either ["all"] or member ids');
      const membership = await this.store.groupMembership(conv.slice(2), userId);
      if (membership?.role !== 'owner' && membership?.role !== 'admin') {
        throw new ChatError('forbidden', 'only the owner and admins may mention all');
      }
      return ['all'];
    }
    const current = new Set(members);
    const stranger = unique.find((id) => !current.has(id));
    if (stranger !== undefined) {
      throw new ChatError('bad_frame', `send: "mentions" names ${stranger.slice(0, 80)}, not a member of ${conv}`);
    }
    return unique.filter((id) => id !== userId);
  }

  /** The conversation a send goes into, and its members; refused unless the sender is one. */
  private async destination(userId: string, frame: SendFrame): Promise<{ conv: string; members: string[] }> {
    if ((frame.to === undefined) === (frame.conv === undefined)) {
      throw new ChatError('bad_frame', 'send needs exactly one of "to" and "conv"');
    }
    if (frame.to !== undefined) {
      if (frame.to === userId) throw new ChatError('bad_frame', 'a message needs another user in "to"');
      if (!this.users.known(frame.to) && !(await this.users.exists(frame.to))) {
        throw new ChatError('not_found', `no user ${frame.to}`);
      }
      const conv = directConversationId(userId, frame.to);
      await this.refuseIfBlocked(userId, frame.to);
      return { conv, members: [userId, frame.to].sort() };
    }
    const conv = frame.conv as string;
    const members = await this.membersFor(userId, conv);
    if (!isGroupConversationId(conv)) {
      const peer = members.find((member) => member !== userId);
      if (peer !== undefined) await this.refuseIfBlocked(userId, peer);
    }
    return { conv, members };
  }

  /** A dm to someone who blocked the sender: `blocked`, nothing stored or delivered (groups are not affected). */
  private async refuseIfBlocked(userId: string, peer: string): Promise<void> {
    if (await this.store.safety.isBlocked(peer, userId)) {
      throw new ChatError('blocked', 'the message was not delivered: the recipient does not accept your messages');
    }
  }

  /** Members of a conversation the user belongs to (membership.ts). */
  private membersFor(userId: string, conv: string): Promise<string[]> {
    return conversationMembers(this.store, this.users, userId, conv);
  }
}
