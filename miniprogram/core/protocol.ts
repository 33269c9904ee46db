/**
 * Chat protocol v1: the single source of truth for the wire contract between the mini-program
 * and the server. The server compiles this very file; docs/protocol.md describes it in prose.
 *
 * Client → server frames are declared as JSON Schemas, from which both the TypeScript types
 * (via json-schema-to-ts, types only: nothing of it ships in the mini-program) and the
 * server's validator (Ajv, compiled once) are derived. Server → client frames are produced by
 * our own code, so plain interfaces suffice for them.
 */
import type { FromSchema } from 'json-schema-to-ts';

export const PROTOCOL_VERSION = 1;

/** Limits both sides agree on. */
export const LIMITS = {
  /** Largest WebSocket frame the server accepts; a larger one is closed with 1009. */
  maxFrameBytes: 64 * 1024,
  /** Longest text message body, in UTF-16 code units (JavaScript string length). */
  maxTextLength: 4000,
  /** Longest client message id. */
  maxCidLength: 64,
  /** Longest conversation id or user id a client may name. */
  maxIdLength: 128,
  /** Messages `sync` replays per conversation before listing it as truncated. */
  syncPerConversation: 50,
  /** `history` page size when `limit` is absent, and its upper bound. */
  historyDefault: 20,
  historyMax: 100,
} as const;

/** WebSocket close codes with a meaning in this protocol. */
export const CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  tooBig: 1009,
  tryAgainLater: 1013,
  tokenExpired: 4001,
  /** The server may have missed deliveries (its fan-out bus was away): reconnect and `sync`. */
  resync: 4002,
} as const;

export type ErrorCode =
  'bad_frame' | 'unknown_type' | 'forbidden' | 'not_found' | 'rate_limited' | 'unauthorized' | 'internal';

/** The one-to-one conversation id of two users: the same whichever of the two asks. */
export function directConversationId(userA: string, userB: string): string {
  return userA < userB ? `dm:${userA}:${userB}` : `dm:${userB}:${userA}`;
}

/** The two members of a one-to-one conversation id, or null when it is not one. */
export function directConversationMembers(conv: string): [string, string] | null {
  const parts = conv.split(':');
  if (parts.length !== 3 || parts[0] !== 'dm' || !parts[1] || !parts[2] || parts[1] === parts[2]) {
    return null;
  }
  return [parts[1], parts[2]];
}

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
      kind: { enum: ['text', 'image'] },
      body: { type: 'string', minLength: 1, maxLength: LIMITS.maxTextLength },
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
} as const;

export type ClientFrameType = keyof typeof clientFrameSchemas;
export type PingFrame = FromSchema<typeof clientFrameSchemas.ping>;
export type SyncFrame = FromSchema<typeof clientFrameSchemas.sync>;
/** Exactly one of `to` (a user id) and `conv` names the destination. */
export type SendFrame = FromSchema<typeof clientFrameSchemas.send>;
export type HistoryFrame = FromSchema<typeof clientFrameSchemas.history>;
export type ReadFrame = FromSchema<typeof clientFrameSchemas.read>;
export type TypingFrame = FromSchema<typeof clientFrameSchemas.typing>;
export type ClientFrame = PingFrame | SyncFrame | SendFrame | HistoryFrame | ReadFrame | TypingFrame;

export type MessageKind = SendFrame['kind'];

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
}

export interface SessionEntry {
  conv: string;
  peer: PublicUser;
  last: ChatMessage | null;
  lastSeq: number;
  readSeq: number;
  peerReadSeq: number;
  unread: number;
}

export type ServerFrame =
  | { type: 'pong' }
  | { type: 'ack'; cid: string; conv: string; seq: number; ts: number }
  | ({ type: 'message' } & ChatMessage)
  | { type: 'sessions'; sessions: SessionEntry[] }
  | { type: 'synced'; epoch: string; truncated: string[] }
  | { type: 'history'; conv: string; messages: ChatMessage[]; hasMore: boolean }
  | { type: 'states'; conv: string; user: string; readSeq: number }
  | { type: 'typing'; conv: string; user: string }
  | { type: 'presence'; user: string; online: boolean }
  | { type: 'error'; code: ErrorCode; message: string; ref?: string };

export type ServerFrameOf<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

// ---------------------------------------------------------------------------------------------
// HTTP

export interface LoginRequest {
  /** The code from wx.login. */
  code: string;
  /** Development mode only: a stable id the app generated once and keeps in storage. */
  devId?: string;
}

export interface LoginResponse {
  token: string;
  user: PublicUser;
  /** When the token expires, in ms since the epoch. */
  expiresAt: number;
}

export interface ProfileUpdate {
  nickname?: string;
  avatar?: string;
}

/** The answer of POST /api/upload: the address to send as an image message's body. */
export interface UploadResponse {
  url: string;
}

export interface HttpErrorBody {
  error: { code: string; message: string };
}
