import path from 'node:path';
import { parseSubscribeFields, type Keyword } from './notify/fields';

/** Every setting of the server, read from the environment once at start. The README lists them. */
export interface ServerConfig {
  /** TCP port to listen on; 0 picks a free one (tests). */
  port: number;
  /** Address to bind; 0.0.0.0 so a phone on the same network can reach a development server. */
  host: string;
  /** Folder for the SQLite file, the generated token secret and uploads. */
  dataDir: string;
  /**
   * SQLITE_WRITER: where the SQLite store writes messages — `main` (default: the thread that serves
   * the sockets; the least CPU per message, the faster on 2 cores) or `thread` (a worker thread
   * with its own connection, for a machine with a core to spare; docs/benchmarks.md compares).
   */
  sqliteWriter: 'thread' | 'main';
  /** HMAC secret for tokens; generated and kept in the data folder when not set. */
  tokenSecret?: string;
  /** Token lifetime in seconds. */
  tokenTtlSeconds: number;
  /** The client's heartbeat interval; a connection silent for 3 of them is dropped. */
  heartbeatMs: number;
  /** pino log level; "silent" in tests. */
  logLevel: string;
  /** Human-readable logs instead of JSON lines: on for a terminal unless LOG_FORMAT=json. */
  prettyLogs: boolean;
  /** WeChat login (production mode when both are set): the mini-program's app id and secret. */
  /** `timeoutMs` bounds each code2session call (default 5000); not read from the environment. */
  wechat?: { appId: string; secret: string; apiBase: string; timeoutMs?: number };
  /** Largest accepted image upload, in bytes (UPLOAD_MAX_BYTES). */
  uploadMaxBytes: number;
  /** Largest accepted audio upload (a voice recording), in bytes (UPLOAD_AUDIO_MAX_BYTES). */
  uploadAudioMaxBytes: number;
  /** Base URL clients reach this server at (for upload URLs); derived from each request when unset. */
  publicUrl?: string;
  /** Uploads one user may start per minute on this instance (UPLOAD_RATE); 0 = no limit. */
  uploadRate: number;
  /** Upload bytes one user may store per rolling 24 h, all instances (UPLOAD_BYTES_PER_DAY); 0 = no limit. */
  uploadBytesPerDay: number;
  /** Seconds an upload nothing refers to is kept before it is deleted (UPLOAD_GRACE_S). */
  uploadGraceS: number;
  /** Slowest average upload speed (bytes/s) after an upload's first 10 s (UPLOAD_MIN_BYTES_PER_S); 0 = no floor. */
  uploadMinBytesPerS: number;
  /** The first stretch of an upload before its speed is judged (ms, default 10 s); not read from the environment. */
  uploadPaceWindowMs?: number;
  /** Sends a connection may make per second, and the burst it may save up. */
  sendRate: { perSecond: number; burst: number };
  /** Frames of any kind a connection may send per second (a flood guard), and the burst. */
  frameRate: { perSecond: number; burst: number };
  /** `history` and `sync` frames per connection per second, and the burst. */
  requestRate: { perSecond: number; burst: number };
  /** `history` and `sync` frames per user per second (all their connections here), and the burst. */
  userRequestRate: { perSecond: number; burst: number };
  /** Messages one user may store per minute (all their connections here), and the burst. */
  userSendRate: { perMinute: number; burst: number };
  /** UTF-8 bytes of message bodies one user may store per rolling 24 hours (on this instance). */
  userMessageBytesPerDay: number;
  /** `typing` frames per connection per second, and the burst; the excess is dropped silently. */
  typingRate: { perSecond: number; burst: number };
  /** Sockets one user may hold on this instance; one more closes their oldest with 4004. */
  maxConnectionsPerUser: number;
  /** Sockets this instance holds; one more is refused before the upgrade with 503. */
  maxConnections: number;
  /** PostgreSQL instead of SQLite when set (`postgres://user@host:5432/db`); several instances share it. */
  databaseUrl?: string;
  /** PostgreSQL schema (search_path) for the tables, created when missing; unset = the URL's default. */
  databaseSchema?: string;
  /** Most PostgreSQL connections one instance holds. */
  databasePoolSize: number;
  /** Redis pub/sub fan-out between instances when set (`redis://host:6379`); in-process when unset. */
  redisUrl?: string;
  /** Prefix of every Redis key and channel, so several deployments can share one Redis. */
  redisPrefix: string;
  /** How long an instance that stops renewing its Redis entry counts as alive (a crash is noticed after it). */
  redisInstanceTtlMs: number;
  /** `POST /api/login` per client address: per minute, and the burst it may save up. */
  loginRate: { perMinute: number; burst: number };
  /**
   * Fastify `trustProxy`: whose `X-Forwarded-For` names the client (the login limit's key).
   * Unset: nobody's, the socket's peer is the client. Addresses, CIDR ranges or `loopback`, comma-separated.
   */
  trustProxy?: string;
  /** An HTTP connection that sends nothing for this long (between requests or within one) is closed. */
  httpIdleTimeoutMs: number;
  /** The bearer token `GET /metrics` needs; unset: no `/metrics` at all (404). */
  metricsToken?: string;
  /** The most members a group may have, its owner included (GROUP_MAX_MEMBERS). */
  groupMaxMembers: number;
  /** How long after it was stored a message's sender may recall it, in seconds (RECALL_WINDOW_S). */
  recallWindowS: number;
  /**
   * Reminders of a user whose app is closed (WeChat subscription messages): set when
   * WX_SUBSCRIBE_TEMPLATE_ID and WX_SUBSCRIBE_FIELDS are; they run only with `wechat` as well.
   */
  subscribe?: SubscribeConfig;
  /** At most one reminder per user per this many seconds (NOTIFY_COOLDOWN_S). */
  notifyCooldownS: number;
  /** Calls to WeChat's subscribe/send under way at once (default 4); not read from the environment. */
  notifySendConcurrency?: number;
  // Safety (docs/protocol.md, "Safety").
  /** The bearer token of `/api/admin/*` (ADMIN_TOKEN); unset: no moderation API (404). */
  adminToken?: string;
  /** Reports one user may make per rolling hour (REPORT_RATE). */
  reportRate: number;
  /** The clock of bans and reports (tests move it); not read from the environment. */
  safetyClock?: () => number;
  /** WeChat's content check (WX_CONTENT_CHECK=1, with `wechat`); unset: nothing is checked. */
  contentCheck?: ContentCheckConfig;
}

/** WX_CONTENT_CHECK=1 and what goes with it (docs/protocol.md, "Safety"). */
export interface ContentCheckConfig {
  /** WX_CONTENT_CHECK_FAIL: an unanswered check stores and flags the text (`open`) or refuses it (`closed`). */
  fail: 'open' | 'closed';
  /** The longest wait for a verdict, ms (WX_CONTENT_CHECK_TIMEOUT_MS, default 3000). */
  timeoutMs: number;
  /** Calls to WeChat's check under way at once (WX_CONTENT_CHECK_CONCURRENCY, default 8). */
  concurrency: number;
  /** WX_PUSH_TOKEN: the message-push token; unset: images and voice are not checked (no verdict could arrive). */
  pushToken?: string;
}

/** The subscription-message template and how our fields fill it. */
export interface SubscribeConfig {
  /** WX_SUBSCRIBE_TEMPLATE_ID: the template the app asks the user to accept. */
  templateId: string;
  /** WX_SUBSCRIBE_FIELDS read: each template key, its keyword type and the field it shows. */
  keywords: Keyword[];
  /** WX_MINIPROGRAM_STATE: which version a reminder opens (`formal` by default). */
  miniprogramState: MiniprogramState;
}

export type MiniprogramState = 'developer' | 'trial' | 'formal';

const MINIPROGRAM_STATES: readonly MiniprogramState[] = ['developer', 'trial', 'formal'];

function miniprogramState(env: NodeJS.ProcessEnv): MiniprogramState {
  const raw = env.WX_MINIPROGRAM_STATE;
  if (raw === undefined || raw === '') return 'formal';
  if (!(MINIPROGRAM_STATES as readonly string[]).includes(raw)) {
    throw new Error(`WX_MINIPROGRAM_STATE must be developer, trial or formal, got "${raw}"`);
  }
  return raw as MiniprogramState;
}

/** WX_SUBSCRIBE_TEMPLATE_ID and WX_SUBSCRIBE_FIELDS: both or neither; a bad mapping fails the start. */
function subscribeConfig(env: NodeJS.ProcessEnv): ServerConfig['subscribe'] {
  const state = miniprogramState(env);
  const templateId = env.WX_SUBSCRIBE_TEMPLATE_ID?.trim();
  const fields = env.WX_SUBSCRIBE_FIELDS?.trim();
  if (!templateId && !fields) return undefined;
  if (!templateId || !fields) {
    throw new Error(
      'WX_SUBSCRIBE_TEMPLATE_ID and WX_SUBSCRIBE_FIELDS go together: set both for reminders (with WX_APPID and WX_SECRET), or neither',
    );
  }
  return { templateId, keywords: parseSubscribeFields(fields), miniprogramState: state };
}

function integer(name: string, fallback: number, env: NodeJS.ProcessEnv): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  }
  return value;
}

/** A setting that must be at least 1 (a limit of 0 would refuse everything). */
function positive(name: string, fallback: number, env: NodeJS.ProcessEnv): number {
  const value = integer(name, fallback, env);
  if (value < 1) throw new Error(`${name} must be at least 1, got "${env[name]}"`);
  return value;
}

/** GROUP_MAX_MEMBERS: a group is its owner and at least one more. */
function groupMaxMembers(env: NodeJS.ProcessEnv): number {
  const value = integer('GROUP_MAX_MEMBERS', 500, env);
  if (value < 2) throw new Error(`GROUP_MAX_MEMBERS must be at least 2, got "${env.GROUP_MAX_MEMBERS}"`);
  return value;
}

function wechatConfig(env: NodeJS.ProcessEnv): ServerConfig['wechat'] {
  const appId = env.WX_APPID;
  const secret = env.WX_SECRET;
  if (!appId && !secret) return undefined;
  if (!appId || !secret) throw new Error('WX_APPID and WX_SECRET go together: set both for WeChat login, or neither');
  return { appId, secret, apiBase: (env.WX_API_BASE || 'https://api.weixin.qq.com').replace(/\/$/, '') };
}

/**
 * Development login lets a device id name its user: fine on a developer's machine, an open door on
 * the internet. A production environment (NODE_ENV=production, as the Docker image sets) must
 * configure WeChat login, or say DEV_LOGIN=1 to mean it.
 */
function checkLoginMode(wechat: ServerConfig['wechat'], env: NodeJS.ProcessEnv): void {
  if (wechat || env.NODE_ENV !== 'production' || env.DEV_LOGIN === '1') return;
  throw new Error(
    'NODE_ENV is production but WX_APPID and WX_SECRET are not set: set them for WeChat login ' +
      '(development login, where a device id names the user, must not face the public), or set DEV_LOGIN=1 to run it on purpose',
  );
}

/** `TRUST_PROXY`: a comma-separated list of the proxies' addresses, CIDR ranges or `loopback`-like names. */
function trustProxy(env: NodeJS.ProcessEnv): ServerConfig['trustProxy'] {
  const raw = env.TRUST_PROXY?.trim();
  if (!raw) return undefined;
  // Trusting every sender would let any client pick its own address (and its own login budget).
  if (raw === 'true' || raw === '*' || /^\d+$/.test(raw)) {
    throw new Error(`TRUST_PROXY names the proxies (e.g. "loopback" or "10.0.0.2,10.0.1.0/24"), got "${raw}"`);
  }
  return raw;
}

/** ADMIN_TOKEN: a short one could be guessed, and it opens every moderator action. */
function adminToken(env: NodeJS.ProcessEnv): string | undefined {
  const token = env.ADMIN_TOKEN?.trim();
  if (!token) return undefined;
  if (token.length < 24) {
    throw new Error('ADMIN_TOKEN must be at least 24 characters (e.g. `openssl rand -base64 32`)');
  }
  return token;
}

/** WX_CONTENT_CHECK=1: needs WeChat's credentials; WX_CONTENT_CHECK_FAIL says what no answer means. */
function contentCheckConfig(wechat: ServerConfig['wechat'], env: NodeJS.ProcessEnv): ServerConfig['contentCheck'] {
  const on = env.WX_CONTENT_CHECK?.trim();
  if (!on || on === '0') return undefined;
  if (on !== '1') throw new Error(`WX_CONTENT_CHECK must be 1 (on) or 0 (off), got "${on}"`);
  if (!wechat)
    throw new Error(
      "WX_CONTENT_CHECK=1 needs WX_APPID and WX_SECRET (WeChat's content check is called as the mini-program)",
    );
  const fail = env.WX_CONTENT_CHECK_FAIL?.trim() || 'open';
  if (fail !== 'open' && fail !== 'closed') {
    throw new Error(`WX_CONTENT_CHECK_FAIL must be open or closed, got "${fail}"`);
  }
  return {
    fail,
    timeoutMs: positive('WX_CONTENT_CHECK_TIMEOUT_MS', 3000, env),
    concurrency: positive('WX_CONTENT_CHECK_CONCURRENCY', 8, env),
    pushToken: env.WX_PUSH_TOKEN?.trim() || undefined,
  };
}

function sqliteWriter(env: NodeJS.ProcessEnv): 'thread' | 'main' {
  const value = env.SQLITE_WRITER?.trim() || 'main';
  if (value !== 'thread' && value !== 'main') throw new Error(`SQLITE_WRITER must be thread or main, got "${value}"`);
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const wechat = wechatConfig(env);
  checkLoginMode(wechat, env);
  return {
    port: integer('PORT', 3000, env),
    host: env.HOST || '0.0.0.0',
    dataDir: path.resolve(env.DATA_DIR || 'data'),
    sqliteWriter: sqliteWriter(env),
    tokenSecret: env.TOKEN_SECRET || undefined,
    tokenTtlSeconds: integer('TOKEN_TTL_SECONDS', 7 * 24 * 3600, env),
    heartbeatMs: integer('HEARTBEAT_MS', 10_000, env),
    logLevel: env.LOG_LEVEL || 'info',
    prettyLogs: env.LOG_FORMAT === 'pretty' || (env.LOG_FORMAT !== 'json' && process.stdout.isTTY === true),
    wechat,
    uploadMaxBytes: integer('UPLOAD_MAX_BYTES', 5 * 1024 * 1024, env),
    uploadAudioMaxBytes: integer('UPLOAD_AUDIO_MAX_BYTES', 2 * 1024 * 1024, env),
    publicUrl: env.PUBLIC_URL ? env.PUBLIC_URL.replace(/\/$/, '') : undefined,
    uploadRate: integer('UPLOAD_RATE', 20, env),
    uploadBytesPerDay: integer('UPLOAD_BYTES_PER_DAY', 100 * 1024 * 1024, env),
    uploadGraceS: integer('UPLOAD_GRACE_S', 24 * 3600, env),
    groupMaxMembers: groupMaxMembers(env),
    recallWindowS: integer('RECALL_WINDOW_S', 120, env),
    subscribe: subscribeConfig(env),
    notifyCooldownS: integer('NOTIFY_COOLDOWN_S', 300, env),
    uploadMinBytesPerS: integer('UPLOAD_MIN_BYTES_PER_S', 2048, env),
    sendRate: { perSecond: integer('SEND_RATE', 20, env), burst: integer('SEND_BURST', 40, env) },
    frameRate: { perSecond: integer('FRAME_RATE', 100, env), burst: integer('FRAME_BURST', 200, env) },
    requestRate: { perSecond: positive('REQUEST_RATE', 10, env), burst: positive('REQUEST_BURST', 20, env) },
    userRequestRate: {
      perSecond: positive('USER_REQUEST_RATE', 20, env),
      burst: positive('USER_REQUEST_BURST', 40, env),
    },
    userSendRate: { perMinute: positive('USER_SEND_RATE', 60, env), burst: positive('USER_SEND_BURST', 120, env) },
    userMessageBytesPerDay: positive('USER_MESSAGE_BYTES_PER_DAY', 20 * 1024 * 1024, env),
    typingRate: { perSecond: positive('TYPING_RATE', 1, env), burst: positive('TYPING_BURST', 3, env) },
    maxConnectionsPerUser: positive('MAX_CONNECTIONS_PER_USER', 10, env),
    maxConnections: positive('MAX_CONNECTIONS', 10_000, env),
    databaseUrl: env.DATABASE_URL || undefined,
    databaseSchema: env.DATABASE_SCHEMA || undefined,
    databasePoolSize: integer('DATABASE_POOL_SIZE', 10, env),
    redisUrl: env.REDIS_URL || undefined,
    redisPrefix: env.REDIS_PREFIX ?? 'chat:',
    redisInstanceTtlMs: integer('REDIS_INSTANCE_TTL_MS', 15_000, env),
    loginRate: { perMinute: integer('LOGIN_RATE', 10, env), burst: integer('LOGIN_BURST', 20, env) },
    trustProxy: trustProxy(env),
    httpIdleTimeoutMs: integer('HTTP_IDLE_TIMEOUT_MS', 30_000, env),
    metricsToken: env.METRICS_TOKEN || undefined,
    adminToken: adminToken(env),
    reportRate: positive('REPORT_RATE', 20, env),
    contentCheck: contentCheckConfig(wechat, env),
  };
}
