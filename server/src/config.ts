import path from 'node:path';

/** Every setting of the server, read from the environment once at start. The README lists them. */
export interface ServerConfig {
  /** TCP port to listen on; 0 picks a free one (tests). */
  port: number;
  /** Address to bind; 0.0.0.0 so a phone on the same network can reach a development server. */
  host: string;
  /** Folder for the SQLite file, the generated token secret and uploads. */
  dataDir: string;
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
  /** Largest accepted upload, in bytes. */
  uploadMaxBytes: number;
  /** Base URL clients reach this server at (for upload URLs); derived from each request when unset. */
  publicUrl?: string;
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

function wechatConfig(env: NodeJS.ProcessEnv): ServerConfig['wechat'] {
  const appId = env.WX_APPID;
  const secret = env.WX_SECRET;
  if (!appId && !secret) return undefined;
  if (!appId || !secret) throw new Error('WX_APPID and WX_SECRET go together: set both for WeChat login, or neither');
  return { appId, secret, apiBase: (env.WX_API_BASE || 'https://api.weixin.qq.com').replace(/\/$/, '') };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  return {
    port: integer('PORT', 3000, env),
    host: env.HOST || '0.0.0.0',
    dataDir: path.resolve(env.DATA_DIR || 'data'),
    tokenSecret: env.TOKEN_SECRET || undefined,
    tokenTtlSeconds: integer('TOKEN_TTL_SECONDS', 7 * 24 * 3600, env),
    heartbeatMs: integer('HEARTBEAT_MS', 10_000, env),
    logLevel: env.LOG_LEVEL || 'info',
    prettyLogs: env.LOG_FORMAT === 'pretty' || (env.LOG_FORMAT !== 'json' && process.stdout.isTTY === true),
    wechat: wechatConfig(env),
    uploadMaxBytes: integer('UPLOAD_MAX_BYTES', 5 * 1024 * 1024, env),
    publicUrl: env.PUBLIC_URL ? env.PUBLIC_URL.replace(/\/$/, '') : undefined,
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
  };
}
