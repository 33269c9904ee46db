/**
 * Numbers both sides of the wire agree on: the protocol version, size limits, close codes and
 * error codes. docs/protocol.md describes each; the server enforces them, the app stays within them.
 */
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
  /** The most users one message may mention (`send.mentions`). */
  mentionsMax: 100,
  /** Messages `sync` replays per conversation before listing it as truncated. */
  syncPerConversation: 50,
  /** Messages one `sync` replays in all; conversations past it are listed as truncated. */
  syncMessages: 1000,
  /** Most entries in one `sessions` frame; the rest come a page at a time (`sessions {after}`). */
  sessionsPage: 100,
  /** Longest `last.body` of a text in a `sessions` entry, in UTF-16 units (an excerpt). */
  excerptLength: 50,
  /** `history` page size when `limit` is absent, and its upper bound. */
  historyDefault: 20,
  historyMax: 100,
  /** `GET /api/users`: the shortest `q` (UTF-16 units; no `q` lists the caller's peers), the page size when `limit` is absent, and its upper bound. */
  directoryQueryMin: 2,
  directoryPage: 20,
  directoryPageMax: 50,
  /** A voice message's `duration`, in whole seconds: at least this … */
  voiceMinSeconds: 1,
  /** … and at most this. The server refuses longer recordings at upload. */
  voiceMaxSeconds: 60,
  /** How far (in seconds) a voice message's `duration` may be from the recording's real length. */
  voiceDurationSlackSeconds: 1,
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
  /**
   * The user opened more sockets than the server allows one user (`MAX_CONNECTIONS_PER_USER`) and
   * this was their oldest: another device of the same user. Reconnect only when the app comes back
   * to the foreground or the user acts, never in a loop.
   */
  replaced: 4004,
  /** The user was banned by a moderator: no reconnect (the login answers `403 banned`). */
  banned: 4003,
} as const;

/** The `code` of an `error` frame. */
export type ErrorCode =
  | 'bad_frame'
  | 'unknown_type'
  | 'forbidden'
  | 'not_found'
  | 'rate_limited'
  | 'unauthorized'
  | 'internal'
  /** A dm `send` to someone who blocked the sender: nothing stored or delivered. */
  | 'blocked'
  /** A text WeChat's content check judged risky: nothing stored. */
  | 'content_refused';
