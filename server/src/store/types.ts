import type { GroupRole } from '../../../contract/http';
import type { AnySessionEntry, ChatMessage, MessageKind, PublicUser, ReplyRef } from '../../../contract/frames';
import type { SafetyStore } from './safety-types';

/** How a person proved who they are: a development device id, or a WeChat openid. */
export interface Identity {
  provider: 'dev' | 'wechat';
  externalId: string;
}

export interface NewMessage {
  conv: string;
  /** Both members of the conversation; it is created with them on its first message. */
  members: readonly string[];
  from: string;
  cid: string;
  kind: MessageKind;
  body: string;
  ts: number;
  /**
   * A group message's mentions, already checked (current members other than the sender, each
   * once), or exactly `["all"]`; absent or empty when it mentions nobody.
   */
  mentions?: readonly string[];
  /** What the message quotes of the one it replies to, already checked; absent when none. */
  reply?: ReplyRef;
  /** A voice message's length in whole seconds, already checked; absent for other kinds. */
  duration?: number;
}

export interface AppendResult {
  message: ChatMessage;
  /** True when (from, cid) was stored before: nothing new was written. */
  duplicate: boolean;
}

/** What of a conversation a user may see: up to `lastSeq`, from `firstSeq` (absent: from 1). */
export interface SeqRange {
  conv: string;
  lastSeq: number;
  firstSeq?: number;
}

export type { GroupRole };

/** A stored group (`memberCount`: its current members). */
export interface GroupRecord {
  id: string;
  name: string;
  avatar: string;
  notice: string;
  owner: string;
  dismissed: boolean;
  memberCount: number;
}

/** A current member of a group, with their role and the seq of the message that added them. */
export interface GroupMemberRecord {
  id: string;
  nickname: string;
  avatar: string;
  role: GroupRole;
  joinedSeq: number;
  /** Their read cursor in the group's conversation. */
  readSeq: number;
}

/** A user's place in a group, present (`leftSeq` null) or past. */
export interface GroupMembership {
  role: GroupRole;
  joinedSeq: number;
  leftSeq: number | null;
}

/**
 * What one group change does, in the transaction that stores its system message (whose seq the
 * joins and leaves record). Applied in this order: create, leave, join, roles, update, dismiss.
 */
export interface GroupChange {
  /** A new group: its row and its conversation are made (the message is then seq 1). */
  create?: { name: string; avatar: string; notice: string; owner: string; createdAt: number };
  leave?: readonly string[];
  join?: ReadonlyArray<{ userId: string; role: GroupRole }>;
  roles?: ReadonlyArray<{ userId: string; role: GroupRole }>;
  update?: { name?: string; avatar?: string; notice?: string; owner?: string };
  /** The group ends: marked dismissed, every current member left at this message. */
  dismiss?: boolean;
}

/** A user's own settings of one conversation (`PUT /api/conversations/:conv`). */
export interface ConversationPrefs {
  muted: boolean;
  pinned: boolean;
}

/** A member a message may remind (a WeChat subscription message): their openid and credits. */
export interface NotifyTarget {
  userId: string;
  openid: string;
  credits: number;
}

/** A page of a user's session list. */
export interface SessionsPage {
  sessions: AnySessionEntry[];
  /** More entries follow the last one. */
  more: boolean;
}

export interface HistoryPage {
  messages: ChatMessage[];
  hasMore: boolean;
}

/** One stored upload (an image or an audio file in the uploads folder). */
export interface UploadRecord {
  /** The file's name in the uploads folder (`<random>.<ext>`). */
  name: string;
  /** The user who uploaded it ('' for files adopted from before uploads were recorded). */
  owner: string;
  bytes: number;
  /** When it was stored, in ms. */
  createdAt: number;
  /** Whether a message or an avatar uses it; an unreferenced one is removed after a grace period. */
  referenced: boolean;
  /** An audio upload's real length in ms, read from the file when it was stored; absent for images. */
  durationMs?: number;
}

/**
 * Everything the chat domain keeps. Asynchronous so that a networked database can stand in for
 * the embedded one without touching the domain.
 */
export interface Store {
  /** Names this message store; a new one means every client cursor is void. */
  epoch(): Promise<string>;
  /** The user behind an identity, created on first sight with a default nickname. */
  userFor(identity: Identity, defaults: { nickname: string }): Promise<PublicUser>;
  getUser(id: string): Promise<PublicUser | null>;
  updateProfile(id: string, update: { nickname?: string; avatar?: string }): Promise<PublicUser | null>;
  /** Users whose nickname contains `query` (all when empty), the asker excluded, by nickname. */
  searchUsers(query: string, excludeId: string, limit: number): Promise<PublicUser[]>;
  /** Stores a message with the next seq of its conversation, or returns the one stored for its cid. */
  appendMessage(message: NewMessage): Promise<AppendResult>;
  /** Message `seq` of the conversation, null when it has none. */
  message(conv: string, seq: number): Promise<ChatMessage | null>;
  /** The message `from` stored with this cid (any conversation), null when none. */
  messageByCid(from: string, cid: string): Promise<ChatMessage | null>;
  /**
   * Recalls message `seq` of `event.conv` in one transaction: stores `event` (the `recalled`
   * system message; `event.members` is ignored, the conversation exists) with the next seq, moves
   * its sender's read cursor there, and rewrites message `seq` as `recalled` (body `""`, no
   * mentions, no reply). A cid stored before answers that message (`duplicate`), nothing written;
   * null when message `seq` is missing, a system message or recalled already (nothing written).
   * `moveRead` false (a moderator's recall, in the name of the message's sender) leaves every read
   * cursor where it was.
   */
  recall(event: NewMessage, seq: number, moveRead?: boolean): Promise<AppendResult | null>;
  /**
   * Sets the user's mute and pin of a conversation (an absent one stays) and answers both. The
   * caller checked the user may: a dm before its first message gets its conversation row and the
   * user's member row (the peer's comes with the first message).
   */
  setConversationPrefs(
    conv: string,
    userId: string,
    prefs: Partial<ConversationPrefs>,
    ts: number,
  ): Promise<ConversationPrefs>;
  /** Messages below `before` (newest page when absent), returned ascending by seq. */
  history(conv: string, before: number | undefined, limit: number): Promise<HistoryPage>;
  /** Up to `limit` messages after `afterSeq`, ascending. */
  messagesAfter(conv: string, afterSeq: number, limit: number): Promise<ChatMessage[]>;
  /**
   * A page of the user's session list: one entry per conversation, most recent first (a keyset on
   * last activity desc, then conv), at most `limit` (default `LIMITS.sessionsPage`), those after
   * the conversation `after` when given (empty if it is not stored). A text's `last.body` is an
   * excerpt of at most `LIMITS.excerptLength` UTF-16 units.
   */
  sessionsPage(userId: string, options?: { after?: string; limit?: number }): Promise<SessionsPage>;
  /**
   * Of the listed conversations, those the user is or was a member of, with the last seq they may
   * see (a group they left: the message that said so), most recent first; `firstSeq` for a group:
   * the seq of the message that added them (they see nothing before it).
   */
  lastSeqs(userId: string, convs: readonly string[]): Promise<SeqRange[]>;
  /** Everyone who shares a conversation with the user (whom their presence and profile concern). */
  peersOf(userId: string): Promise<string[]>;
  /** Member ids of a conversation; empty when it does not exist yet. */
  membersOf(conv: string): Promise<string[]>;
  /** Moves a read cursor forward only (capped at the last seq); the new value, or null if unchanged. */
  advanceRead(conv: string, userId: string, seq: number): Promise<number | null>;
  /**
   * Stores a group's system message (`message.members` is ignored: the group's rows are its
   * members) with the next seq of the group's conversation, and applies `change` in the same
   * transaction.
   */
  changeGroup(groupId: string, message: NewMessage, change: GroupChange): Promise<ChatMessage>;
  /**
   * Runs `work` (a group change: its checks, then `changeGroup`) while no other change to the
   * same group runs on any instance sharing this store. PostgreSQL: a session advisory lock on a
   * connection of its own; SQLite: one process owns the file, so the caller's own queue suffices.
   */
  withGroupLock<T>(groupId: string, work: () => Promise<T>): Promise<T>;
  getGroup(groupId: string): Promise<GroupRecord | null>;
  /** The current members, longest-standing first. */
  groupMembers(groupId: string): Promise<GroupMemberRecord[]>;
  /** The user's place in the group, null when they were never a member. */
  groupMembership(groupId: string, userId: string): Promise<GroupMembership | null>;
  /** Records an upload; a name recorded before is left as it is. */
  addUpload(upload: UploadRecord): Promise<void>;
  /** The recorded upload of that name, null when none. */
  getUpload(name: string): Promise<UploadRecord | null>;
  /** Whether any upload is recorded at all. */
  hasUploads(): Promise<boolean>;
  /** Bytes of the owner's uploads made at or after `since` (ms) that are still kept. */
  uploadBytesSince(owner: string, since: number): Promise<number>;
  /** Marks an upload referenced; false when no upload of that name is recorded. */
  claimUpload(name: string): Promise<boolean>;
  /** Removes up to `limit` unreferenced uploads made before `before` (ms); their names, for the files to go. */
  deleteStaleUploads(before: number, limit: number): Promise<string[]>;
  /** One more reminder credit for the template (at most `max` kept); the credits now. */
  addNotifyCredit(userId: string, templateId: string, max: number): Promise<number>;
  /** The user's reminder credits for the template (0 when none). */
  notifyCredits(userId: string, templateId: string): Promise<number>;
  /**
   * Spends one credit and records a reminder at `now`, atomically across instances: only when the
   * user has a credit and no reminder was recorded after `notBefore`. Whether it did.
   */
  takeNotifyCredit(userId: string, templateId: string, now: number, notBefore: number): Promise<boolean>;
  /** No credits left for the template (WeChat said the user withdrew their consent). */
  clearNotifyCredits(userId: string, templateId: string): Promise<void>;
  /**
   * Of `userIds`, the current members of `conv` who have not muted it, have a credit for the
   * template, were not reminded after `notBefore` and have a WeChat openid.
   */
  notifyTargets(
    conv: string,
    userIds: readonly string[],
    templateId: string,
    notBefore: number,
  ): Promise<NotifyTarget[]>;
  /** Blocks, reports, bans and the audit log (safety-types.ts). */
  readonly safety: SafetyStore;
  close(): Promise<void>;
}
