/**
 * The WebSocket frames, both ways: the single source of truth for their shapes. The server
 * compiles this file with tsc, the mini-program's build with gulp; docs/protocol.md describes it.
 *
 * Client → server frames are declared as JSON Schemas, from which both the TypeScript types
 * (via json-schema-to-ts, types only: nothing of it ships in the mini-program) and the server's
 * validator (Ajv, compiled once) are derived. Server → client frames are produced by the server's
 * own code, so plain interfaces suffice for them.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { LIMITS, type ErrorCode } from './limits';

// ---------------------------------------------------------------------------------------------
// Client → server

const id = { type: 'string', minLength: 1, maxLength: LIMITS.maxIdLength } as const;
const seq = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;

export const clientFrameSchemas = {
  ping: {
    type: 'object',
    properties: { type: { const: 'ping' } },
    required: ['type'],
    additionalProperties: false,
  },
  sync: {
    type: 'object',
    properties: {
      type: { const: 'sync' },
      epoch: { type: 'string', maxLength: LIMITS.maxIdLength },
      cursors: {
        type: 'object',
        propertyNames: { maxLength: LIMITS.maxIdLength },
        additionalProperties: seq,
        maxProperties: 1000,
      },
    },
    required: ['type', 'cursors'],
    additionalProperties: false,
  },
  send: {
    type: 'object',
    properties: {
      type: { const: 'send' },
      cid: { type: 'string', minLength: 1, maxLength: LIMITS.maxCidLength },
      to: id,
      conv: id,
      kind: { enum: ['text', 'image', 'voice'] },
      /** A text, or the url `POST /api/upload` answered for an image or a voice recording. */
      body: { type: 'string', minLength: 1, maxLength: LIMITS.maxTextLength },
      /**
       * A voice message's length in whole seconds (required for `voice`, refused with any other
       * kind): within `voiceDurationSlackSeconds` of the recording's real length.
       */
      duration: { type: 'integer', minimum: LIMITS.voiceMinSeconds, maximum: LIMITS.voiceMaxSeconds },
      /** In a group: the members the message mentions (@), or `["all"]` (owner and admins only). */
      mentions: { type: 'array', items: id, minItems: 1, maxItems: LIMITS.mentionsMax },
      /** The seq of the message (of the same conversation) this one replies to (quotes). */
      reply: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    },
    required: ['type', 'cid', 'kind', 'body'],
    additionalProperties: false,
  },
  history: {
    type: 'object',
    properties: {
      type: { const: 'history' },
      conv: id,
      before: seq,
      limit: { type: 'integer', minimum: 1, maximum: LIMITS.historyMax },
    },
    required: ['type', 'conv'],
    additionalProperties: false,
  },
  read: {
    type: 'object',
    properties: { type: { const: 'read' }, conv: id, seq },
    required: ['type', 'conv', 'seq'],
    additionalProperties: false,
  },
  typing: {
    type: 'object',
    properties: { type: { const: 'typing' }, conv: id },
    required: ['type', 'conv'],
    additionalProperties: false,
  },
  /**
   * Recalls message `seq` of `conv`: its sender within `RECALL_WINDOW_S` of its `ts`, or a group's
   * owner or an admin. Answered with `ack` (the seq of the `recalled` system message) or `error`.
   */
  recall: {
    type: 'object',
    properties: {
      type: { const: 'recall' },
      cid: { type: 'string', minLength: 1, maxLength: LIMITS.maxCidLength },
      conv: id,
      seq: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    },
    required: ['type', 'cid', 'conv', 'seq'],
    additionalProperties: false,
  },
  /** The next page of the session list: the entries that follow `after` in the list's order. */
  sessions: {
    type: 'object',
    properties: { type: { const: 'sessions' }, after: id },
    required: ['type', 'after'],
    additionalProperties: false,
  },
} as const;

export type ClientFrameType = keyof typeof clientFrameSchemas;
export type PingFrame = FromSchema<typeof clientFrameSchemas.ping>;
export type SyncFrame = FromSchema<typeof clientFrameSchemas.sync>;
/** Exactly one of `to` (a user id) and `conv` names the destination. */
export type SendFrame = FromSchema<typeof clientFrameSchemas.send>;
export type HistoryFrame = FromSchema<typeof clientFrameSchemas.history>;
export type ReadFrame = FromSchema<typeof clientFrameSchemas.read>;
export type TypingFrame = FromSchema<typeof clientFrameSchemas.typing>;
export type SessionsRequestFrame = FromSchema<typeof clientFrameSchemas.sessions>;
export type RecallFrame = FromSchema<typeof clientFrameSchemas.recall>;
export type ClientFrame =
  PingFrame | SyncFrame | SendFrame | HistoryFrame | ReadFrame | TypingFrame | SessionsRequestFrame | RecallFrame;

/** What a client may send: `text`, `image` or `voice`. */
export type SendKind = SendFrame['kind'];
/**
 * A stored message's kind: what clients send, `system` (group changes, recalls), the server's own,
 * and `recalled`: a message that was recalled (its body `""`, no mentions, no reply).
 */
export type MessageKind = SendKind | 'system' | 'recalled';

/**
 * What a reply quotes of the message it replies to, as it was when the reply was stored (kept as
 * it is when that message is recalled later): a text's first `LIMITS.excerptLength` UTF-16 units,
 * `[图片]` for an image, `[语音]` for voice.
 */
export interface ReplyRef {
  seq: number;
  from: string;
  kind: MessageKind;
  excerpt: string;
}

// ---------------------------------------------------------------------------------------------
// Server → client

export interface PublicUser {
  id: string;
  nickname: string;
  avatar: string;
}

export interface DirectoryEntry extends PublicUser {
  online: boolean;
}

export interface ChatMessage {
  conv: string;
  seq: number;
  cid: string;
  from: string;
  kind: MessageKind;
  body: string;
  /** Server time the message was stored, in ms since the epoch. */
  ts: number;
  /** A group message's mentions as sent: user ids, or `["all"]`. Absent when it mentions nobody. */
  mentions?: string[];
  /** The message this one replies to. Absent when it replies to none. */
  reply?: ReplyRef;
  /** A voice message's length in whole seconds, as its sender gave it (checked). Absent for other kinds. */
  duration?: number;
}

export interface SessionEntry {
  conv: string;
  peer: PublicUser;
  /** The last message; a text's body is an excerpt of at most `LIMITS.excerptLength` UTF-16 units. */
  last: ChatMessage | null;
  lastSeq: number;
  readSeq: number;
  peerReadSeq: number;
  unread: number;
  /** Always false in a dm (the server sends both; the app's own entries may lack them). */
  mentioned?: boolean;
  left?: boolean;
  /** The user muted / pinned the conversation (the server sends both; the app's own entries may lack them). */
  muted?: boolean;
  pinned?: boolean;
  /**
   * Whether the peer has a connection on any instance, when the page was sent (an addition: the
   * current state, which `presence` frames then keep up to date).
   */
  online?: boolean;
}

/** A group's entry in the session list: no `peer`, the group instead. */
export interface GroupSessionEntry {
  conv: string;
  group: { id: string; name: string; avatar: string; memberCount: number };
  /** The last message the member may see (for one who left: the message that said so). */
  last: ChatMessage | null;
  lastSeq: number;
  readSeq: number;
  unread: number;
  /** An unread message mentions the user or `all` ([有人@我]). */
  mentioned: boolean;
  /** The user left, was removed, or the group was dismissed. */
  left: boolean;
  /** The user muted / pinned the conversation (the server sends both). */
  muted?: boolean;
  pinned?: boolean;
}

/** An entry of a `sessions` frame: a dm's or a group's. */
export type AnySessionEntry = SessionEntry | GroupSessionEntry;

/** Whether a session entry is a dm's (it has a `peer`). */
export function isDirectSession(entry: AnySessionEntry): entry is SessionEntry {
  return 'peer' in entry;
}

export type ServerFrame =
  | { type: 'pong' }
  | { type: 'ack'; cid: string; conv: string; seq: number; ts: number }
  | ({ type: 'message' } & ChatMessage)
  /**
   * A page of the session list, most recent first: the first page answers `sync` (no `after`),
   * the next ones a `sessions {after}` request (its `after` echoed). `more`: entries follow.
   */
  | { type: 'sessions'; sessions: AnySessionEntry[]; more: boolean; after?: string }
  | { type: 'synced'; epoch: string; truncated: string[] }
  | { type: 'history'; conv: string; messages: ChatMessage[]; hasMore: boolean }
  | { type: 'states'; conv: string; user: string; readSeq: number }
  | { type: 'typing'; conv: string; user: string }
  | { type: 'presence'; user: string; online: boolean }
  /** A user's nickname or avatar changed: to their peers and their own other connections. */
  | { type: 'profile'; user: PublicUser }
  /**
   * The user changed their mute or pin of a conversation (`PUT /api/conversations/:conv`): to every
   * connection of theirs, so their devices agree without a resync.
   */
  | { type: 'conversation'; conv: string; muted: boolean; pinned: boolean }
  | { type: 'error'; code: ErrorCode; message: string; ref?: string };

export type ServerFrameOf<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;
