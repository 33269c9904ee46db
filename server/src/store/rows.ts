import type { AnySessionEntry, ChatMessage, MessageKind, ReplyRef } from '../../../contract/frames';
import { LIMITS } from '../../../contract/limits';
import type {
  NewMessage,
  SeqRange,
  GroupMemberRecord,
  GroupMembership,
  GroupRecord,
  GroupRole,
  HistoryPage,
  SessionsPage,
  UploadRecord,
} from './types';

/** A `messages` row, as both stores select it (sql.ts). */
export interface MessageRow {
  conv: string;
  seq: number;
  cid: string;
  sender: string;
  kind: string;
  body: string;
  ts: number;
  /** JSON text of the ids (or `["all"]`) the message mentions; null when none. */
  mentions: string | null;
  /** JSON text of what the message quotes (`ReplyRef`); null when it replies to none. */
  reply: string | null;
  /** A voice message's length in whole seconds; null for other kinds. */
  duration: number | string | null;
}

/** One row of the sessions query (the conversation, the peer or the group, the last message as `m_*`). */
export interface SessionRow {
  conv: string;
  last_seq: number;
  read_seq: number;
  /** Null in a dm. */
  role: string | null;
  left_seq: number | null;
  /** 1 while an unread message mentions the user or `all` (a group's member), else 0. */
  mentioned: number | string;
  /** The user's own settings of the conversation: 0 or 1. */
  muted: number;
  pinned: number;
  peer_id: string | null;
  peer_read_seq: number | null;
  nickname: string | null;
  avatar: string | null;
  group_id: string | null;
  group_name: string | null;
  group_avatar: string | null;
  member_count: number | string;
  unread: number | string;
  m_seq: number | null;
  m_cid: string | null;
  m_sender: string | null;
  m_kind: string | null;
  m_body: string | null;
  m_ts: number | null;
  m_mentions: string | null;
  m_reply: string | null;
  m_duration: number | string | null;
}

export function toMessage(row: MessageRow): ChatMessage {
  const message: ChatMessage = {
    conv: row.conv,
    seq: row.seq,
    cid: row.cid,
    from: row.sender,
    kind: row.kind as MessageKind,
    body: row.body,
    ts: row.ts,
  };
  const mentions = parseMentions(row.mentions);
  if (mentions) message.mentions = mentions;
  if (row.reply !== null) message.reply = JSON.parse(row.reply) as ReplyRef;
  if (row.duration !== null) message.duration = Number(row.duration);
  return message;
}

/** The `reply` column as stored (a JSON text), null when the message replies to none. */
export function replyColumn(reply: ReplyRef | undefined): string | null {
  return reply ? JSON.stringify({ seq: reply.seq, from: reply.from, kind: reply.kind, excerpt: reply.excerpt }) : null;
}

/** The `mentions` column as stored (a JSON text), null when it mentions nobody. */
export function mentionsColumn(mentions: readonly string[] | undefined): string | null {
  return mentions && mentions.length > 0 ? JSON.stringify(mentions) : null;
}

/** The parameters of `insertMessage` for a message stored with `seq`, in the statement's order. */
export type MessageInsert = [
  string,
  number,
  string,
  string,
  string,
  string,
  number,
  string | null,
  string | null,
  number | null,
];

export function messageInsert(message: Omit<NewMessage, 'members'>, seq: number): MessageInsert {
  const { conv, cid, from, kind, body, ts } = message;
  return [
    conv,
    seq,
    cid,
    from,
    kind,
    body,
    ts,
    mentionsColumn(message.mentions),
    replyColumn(message.reply),
    message.duration ?? null,
  ];
}

/** A stored message as an append answers it: what was written, with the seq it got. */
export function storedMessage(message: Omit<NewMessage, 'members'>, seq: number): ChatMessage {
  const stored: ChatMessage = {
    conv: message.conv,
    seq,
    cid: message.cid,
    from: message.from,
    kind: message.kind,
    body: message.body,
    ts: message.ts,
  };
  if (message.mentions && message.mentions.length > 0) stored.mentions = [...message.mentions];
  if (message.reply) stored.reply = { ...message.reply };
  if (message.duration !== undefined) stored.duration = message.duration;
  return stored;
}

/** An `uploads` row (sql.ts, `upload`). */
export interface UploadRow {
  name: string;
  owner: string;
  bytes: number | string;
  created_at: number | string;
  referenced: number | string;
  duration_ms: number | string | null;
}

export function toUpload(row: UploadRow): UploadRecord {
  const upload: UploadRecord = {
    name: row.name,
    owner: row.owner,
    bytes: Number(row.bytes),
    createdAt: Number(row.created_at),
    referenced: Number(row.referenced) === 1,
  };
  if (row.duration_ms !== null) upload.durationMs = Number(row.duration_ms);
  return upload;
}

function parseMentions(text: string | null): string[] | null {
  if (text === null) return null;
  const parsed: unknown = JSON.parse(text);
  return Array.isArray(parsed) && parsed.length > 0 ? parsed.map(String) : null;
}

export function toSession(row: SessionRow): AnySessionEntry {
  const last =
    row.m_seq === null
      ? null
      : toMessage({
          conv: row.conv,
          seq: row.m_seq,
          cid: row.m_cid ?? '',
          sender: row.m_sender ?? '',
          kind: row.m_kind ?? 'text',
          body: row.m_kind === 'text' ? excerpt(row.m_body ?? '') : (row.m_body ?? ''),
          ts: row.m_ts ?? 0,
          mentions: row.m_mentions,
          reply: row.m_reply,
          duration: row.m_duration,
        });
  const prefs = { muted: Number(row.muted) === 1, pinned: Number(row.pinned) === 1 };
  if (row.role !== null) {
    return {
      conv: row.conv,
      group: {
        id: row.group_id ?? row.conv.slice(2),
        name: row.group_name ?? '',
        avatar: row.group_avatar ?? '',
        memberCount: Number(row.member_count),
      },
      last,
      lastSeq: row.last_seq,
      readSeq: row.read_seq,
      unread: Number(row.unread),
      mentioned: Number(row.mentioned) === 1,
      left: row.left_seq !== null,
      ...prefs,
    };
  }
  return {
    conv: row.conv,
    peer: { id: row.peer_id ?? '', nickname: row.nickname ?? '', avatar: row.avatar ?? '' },
    last,
    lastSeq: row.last_seq,
    readSeq: row.read_seq,
    peerReadSeq: row.peer_read_seq ?? 0,
    unread: Number(row.unread),
    mentioned: false,
    left: false,
    ...prefs,
  };
}

/**
 * A text cut to at most `LIMITS.excerptLength` UTF-16 units, never between the two halves of a
 * surrogate pair. The stores' SQL cuts by code points first (at most twice as many units), so
 * only a short string reaches this.
 */
export function excerpt(text: string): string {
  if (text.length <= LIMITS.excerptLength) return text;
  const cut = text.slice(0, LIMITS.excerptLength);
  const last = cut.charCodeAt(cut.length - 1);
  // A high surrogate at the end would be half a character: leave it out.
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/** The position a sessions page starts after: the top of the list, or the conversation `after` stands at. */
export function sessionsArgs(
  userId: string,
  position: { ts: number; conv: string } | null,
  limit: number,
): [string, number, number, string, number] {
  const ts = position ? position.ts : Number.MAX_SAFE_INTEGER;
  // One row more than the page holds tells whether more follow.
  return [userId, ts, ts, position ? position.conv : '', limit + 1];
}

/** The page from the rows `sessionsArgs` asked for. */
export function toSessionsPage(rows: SessionRow[], limit: number): SessionsPage {
  return { sessions: rows.slice(0, limit).map(toSession), more: rows.length > limit };
}

/**
 * The arguments of the `history` statement: the newest page when `before` is absent, and one row
 * more than the page holds, which only tells whether there is more.
 */
export function historyArgs(conv: string, before: number | undefined, limit: number): [string, number, number] {
  return [conv, before ?? Number.MAX_SAFE_INTEGER, limit + 1];
}

/** The page from the rows `historyArgs` asked for (newest first), ascending as clients show it. */
export function toPage(rows: MessageRow[], limit: number): HistoryPage {
  return { messages: rows.slice(0, limit).reverse().map(toMessage), hasMore: rows.length > limit };
}

/** A `chat_groups` row with its count of current members (sql.ts, `group`). */
export interface GroupRow {
  id: string;
  name: string;
  avatar: string;
  notice: string;
  owner: string;
  dismissed: number;
  member_count: number | string;
}

export interface GroupMemberRow {
  id: string;
  nickname: string;
  avatar: string;
  role: string;
  joined_seq: number;
  read_seq: number;
}

export interface MembershipRow {
  role: string;
  joined_seq: number;
  left_seq: number | null;
}

export function toGroup(row: GroupRow): GroupRecord {
  return {
    id: row.id,
    name: row.name,
    avatar: row.avatar,
    notice: row.notice,
    owner: row.owner,
    dismissed: Number(row.dismissed) !== 0,
    memberCount: Number(row.member_count),
  };
}

export function toGroupMember(row: GroupMemberRow): GroupMemberRecord {
  return {
    id: row.id,
    nickname: row.nickname,
    avatar: row.avatar,
    role: row.role as GroupRole,
    joinedSeq: row.joined_seq,
    readSeq: row.read_seq,
  };
}

export function toMembership(row: MembershipRow): GroupMembership {
  return { role: row.role as GroupRole, joinedSeq: row.joined_seq, leftSeq: row.left_seq };
}

/** A group's conversation id. */
export function groupConv(groupId: string): string {
  return `g:${groupId}`;
}

/** A `lastSeqs` row as the range of a conversation the user may see. */
export function toSeqRange(row: { conv: string; last_seq: number; joined_seq: number }): SeqRange {
  return { conv: row.conv, lastSeq: row.last_seq, ...(row.joined_seq > 0 ? { firstSeq: row.joined_seq } : {}) };
}
