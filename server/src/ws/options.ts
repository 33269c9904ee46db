import type { Rate, UserLimits } from './budgets';

/** The gateway's settings; every one but the heartbeat has a default (docs/protocol.md). */
export interface GatewayOptions {
  heartbeatMs: number;
  /** Unsent bytes a connection may hold (beyond an answer being paced out) before a push closes it with 1013. */
  maxBufferedBytes?: number;
  /** Answers to `history`/`sync` go out only below this many unsent bytes; requests above it are refused. */
  lowWaterBytes?: number;
  /** `send` frames per second per connection, and the burst it may save up. */
  sendRate?: Rate;
  /** Frames of any kind per second per connection (a flood guard well above normal use). */
  frameRate?: Rate;
  /** `history` and `sync` frames per second per connection, and the burst. */
  requestRate?: Rate;
  /** `typing` frames per second per connection, and the burst; the excess is dropped silently. */
  typingRate?: Rate;
  /** What one user may ask for across their connections on this instance. */
  user?: Partial<UserLimits>;
  /** Sockets one user may hold here; one more closes their oldest with 4004. */
  maxConnectionsPerUser?: number;
  /** Sockets this instance holds; one more is refused before the upgrade with 503. */
  maxConnections?: number;
  metrics?: GatewayMetrics;
}

/** The defaults of docs/protocol.md, for a gateway made without settings (tests of its parts). */
export const DEFAULTS = {
  maxBufferedBytes: 1024 * 1024,
  lowWaterBytes: 256 * 1024,
  sendRate: { perSecond: 20, burst: 40 },
  frameRate: { perSecond: 100, burst: 200 },
  requestRate: { perSecond: 10, burst: 20 },
  typingRate: { perSecond: 1, burst: 3 },
  user: {
    requests: { perSecond: 20, burst: 40 },
    sends: { perMinute: 60, burst: 120 },
    bytesPerDay: 20 * 1024 * 1024,
  },
  maxConnectionsPerUser: 10,
  maxConnections: 10_000,
};

/** What the transport reports for the server's metrics. */
export interface GatewayMetrics {
  connectionOpened(): void;
  connectionClosed(): void;
  /** Frames of type `message` handed to connections. */
  messagesDelivered(count: number): void;
  syncDuration(seconds: number): void;
  error(code: string): void;
}

export const NO_METRICS: GatewayMetrics = {
  connectionOpened() {},
  connectionClosed() {},
  messagesDelivered() {},
  syncDuration() {},
  error() {},
};
