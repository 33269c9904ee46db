import { CLOSE_CODES, LIMITS } from '../../../contract/limits';

/**
 * The rules the verdicts judge by: issue 14's defaults (docs/protocol.md and the README's settings
 * table). A target started with other values for a setting a row tests may be judged differently;
 * docs/reliability.md, "Replaying the attacks", says which. What the wire contract fixes comes from it.
 */
export const RULES = {
  /** MAX_CONNECTIONS_PER_USER: an 11th socket closes the oldest with 4004 `replaced`. */
  maxConnectionsPerUser: 10,
  /** CLOSE_CODES.replaced. */
  replacedCloseCode: CLOSE_CODES.replaced,
  /** CLOSE_CODES.tryAgainLater: the bound for a client that does not read. */
  notReadingCloseCode: CLOSE_CODES.tryAgainLater,
  /** LIMITS.sessionsPage: most entries in one `sessions` frame. */
  sessionsPage: LIMITS.sessionsPage,
  /** LIMITS.excerptLength: a `sessions` entry's text `last.body` is cut to this many UTF-16 units. */
  excerptLength: LIMITS.excerptLength,
  /** LIMITS.maxTextLength: the longest body, in UTF-16 units. */
  maxTextLength: LIMITS.maxTextLength,
  /** USER_SEND_BURST: stored messages one user may send at once. */
  userSendBurst: 120,
  /** USER_SEND_RATE, per minute. */
  userSendRatePerMinute: 60,
  /** TYPING_BURST / TYPING_RATE (per second, per connection). */
  typingBurst: 3,
  typingRate: 1,
  /** UPLOAD_RATE: uploads per user per minute. */
  uploadRatePerMinute: 20,
  /** LOGIN_BURST: logins one address may make at once. */
  loginBurst: 20,
  /** HTTP_IDLE_TIMEOUT_MS. */
  httpIdleTimeoutMs: 30_000,
  /** `/healthz` must answer well under this while any one user attacks. */
  healthzMs: 1000,
  /** Most entries one directory page holds. */
  directoryPageMax: LIMITS.directoryPageMax,
} as const;
