import crypto from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CLOSE_CODES, LIMITS, type ErrorCode } from '../../../contract/limits';
import type { ClientFrame, ServerFrame } from '../../../contract/frames';
import { TokenError, bearerToken, type Tokens } from '../auth/tokens';
import type { LocalDelivery } from '../bus/types';
import type { PresenceService } from '../chat/presence';
import { ChatError, type Caller, type ChatService } from '../chat/service';
import { Hub, type Deliverable } from './hub';
import { TokenBucket } from '../../../contract/token-bucket';
import { parseClientFrame } from './validate';
import { upgradeOrigin } from '../http/upload-urls';

export interface GatewayOptions {
  heartbeatMs: number;
  /** Unsent bytes a connection may hold before it is closed with 1013. */
  maxBufferedBytes?: number;
  /** `send` frames per second per connection, and the burst it may save up. */
  sendRate?: { perSecond: number; burst: number };
  /** Frames of any kind per second per connection (a flood guard well above normal use). */
  frameRate?: { perSecond: number; burst: number };
  metrics?: GatewayMetrics;
}

/** What the transport reports for the server's metrics. */
export interface GatewayMetrics {
  connectionOpened(): void;
  connectionClosed(): void;
  /** Frames of type `message` handed to connections. */
  messagesDelivered(count: number): void;
  syncDuration(seconds: number): void;
  error(code: string): void;
}

const NO_METRICS: GatewayMetrics = {
  connectionOpened() {},
  connectionClosed() {},
  messagesDelivered() {},
  syncDuration() {},
  error() {},
};

/** How long shutdown waits for clients to answer the 1001 close before cutting them. */
const CLOSE_GRACE_MS = 1000;

/** One authenticated socket. */
class Connection implements Deliverable {
  readonly id = crypto.randomUUID();
  lastSeen = Date.now();
  /** Frames of one connection are handled in order: a send must not overtake the sync before it. */
  queue: Promise<void> = Promise.resolve();
  /** When the connection was last told it is flooding (told at most once a second). */
  floodWarnedAt = 0;
  /** Whether `tcp` is corked until the end of this tick. */
  private corked = false;
  /** The base the client reached us at (`Caller.origin`). */
  origin?: string;

  constructor(
    readonly userId: string,
    private readonly socket: WebSocket,
    /** The TCP socket under `socket`: frames of one tick go out in one write. */
    private readonly tcp: Duplex,
    private readonly maxBufferedBytes: number,
    readonly sends: TokenBucket,
    readonly frames: TokenBucket,
  ) {}

  sendText(text: string): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    // A client that stops reading must not make the server grow without bound; what it missed
    // waits in storage for its next sync.
    if (this.socket.bufferedAmount > this.maxBufferedBytes) {
      this.close(CLOSE_CODES.tryAgainLater, 'not reading');
      return;
    }
    // A group commit acks and delivers many sends in one tick, often several to one connection
    // (acks of its sends, messages to it): corked, they cost one syscall instead of one each.
    if (!this.corked) {
      this.corked = true;
      this.tcp.cork();
      process.nextTick(() => {
        this.corked = false;
        this.tcp.uncork();
      });
    }
    this.socket.send(text);
  }

  send(frame: ServerFrame): void {
    this.sendText(JSON.stringify(frame));
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  terminate(): void {
    this.socket.terminate();
  }
}

/** The text of a frame as `ws` hands it over (a Buffer, unless fragments or an ArrayBuffer). */
function textOf(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Not Found'}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

/**
 * The WebSocket transport: authenticates the upgrade, parses and validates frames, hands them
 * to the chat domain, keeps heartbeats and limits. Knows nothing of storage. It is also the bus's
 * way to this instance's connections (`LocalDelivery`); which connections it holds stays inside.
 */
export class Gateway implements LocalDelivery {
  private readonly hub = new Hub<Connection>();
  private readonly wss: WebSocketServer;
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly maxBufferedBytes: number;
  private readonly metrics: GatewayMetrics;
  /** Set once close() has begun: frames that arrive after it are not handled. */
  private closing = false;
  /** Presence announcements under way; close() waits for them (they may go to other instances). */
  private readonly announcing = new Set<Promise<void>>();

  constructor(
    private readonly chat: ChatService,
    private readonly presence: Pick<PresenceService, 'connected' | 'disconnected'>,
    private readonly tokens: Tokens,
    private readonly log: Logger,
    private readonly options: GatewayOptions,
  ) {
    this.maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
    this.metrics = options.metrics ?? NO_METRICS;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: LIMITS.maxFrameBytes,
      perMessageDeflate: false,
    });
    // A client is expected to speak at least once per heartbeat; three silent intervals mean
    // the other end is gone even if TCP has not noticed.
    this.sweepTimer = setInterval(() => this.sweep(), Math.max(100, options.heartbeatMs));
    this.sweepTimer.unref();
  }

  attach(server: Server): void {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.upgrade(request, socket, head);
    });
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws') {
      refuse(socket, 404, 'not_found', 'the socket lives at /ws');
      return;
    }
    let userId: string;
    let expiresAt: number;
    try {
      ({ userId, expiresAt } = await this.tokens.verify(bearerToken(request.headers.authorization, request.url)));
    } catch (error) {
      const message = error instanceof TokenError ? error.message : 'the token is not valid';
      refuse(socket, 401, 'unauthorized', message);
      return;
    }
    const origin = upgradeOrigin(request);
    this.wss.handleUpgrade(request, socket, head, (ws) => this.open(ws, socket, userId, expiresAt, origin));
  }

  private open(ws: WebSocket, tcp: Duplex, userId: string, expiresAt: number, origin?: string): void {
    const sendRate = this.options.sendRate ?? { perSecond: 20, burst: 40 };
    const frameRate = this.options.frameRate ?? { perSecond: 100, burst: 200 };
    const connection = new Connection(
      userId,
      ws,
      tcp,
      this.maxBufferedBytes,
      new TokenBucket(sendRate.perSecond, sendRate.burst),
      new TokenBucket(frameRate.perSecond, frameRate.burst),
    );
    connection.origin = origin;
    const log = this.log.child({ conn: connection.id, user: userId });
    this.metrics.connectionOpened();
    if (this.hub.add(connection)) this.announce(userId, true, log);
    log.debug('connected');

    const expiry = setTimeout(
      () => connection.close(CLOSE_CODES.tokenExpired, 'token expired'),
      Math.max(0, Math.min(expiresAt - Date.now(), 2 ** 31 - 1)),
    );
    ws.on('message', (data: RawData, isBinary: boolean) => {
      // Shutting down: not handled, so not acked; the client resends it with the same cid.
      if (this.closing) return;
      connection.lastSeen = Date.now();
      // A flood is dropped before it can queue up work; the client hears so once a second.
      if (!connection.frames.take()) {
        const now = Date.now();
        if (now - connection.floodWarnedAt >= 1000) {
          connection.floodWarnedAt = now;
          this.answerError(connection, 'rate_limited', 'too many frames: slow down; frames were dropped');
        }
        return;
      }
      connection.queue = connection.queue.then(() => this.receive(connection, data, isBinary, log));
    });
    ws.on('error', (error) => log.debug({ err: error }, 'socket error'));
    ws.on('close', (code) => {
      clearTimeout(expiry);
      this.metrics.connectionClosed();
      if (this.hub.remove(connection)) this.announce(userId, false, log);
      log.debug({ code }, 'closed');
    });
  }

  private async receive(connection: Connection, data: RawData, isBinary: boolean, log: Logger): Promise<void> {
    if (isBinary) {
      this.answerError(connection, 'bad_frame', 'binary frames are not part of the protocol');
      return;
    }
    const text = textOf(data);
    // The protocol's other heartbeat (docs/protocol.md, `ping`): a bare text `ping` gets a bare `pong`.
    if (text === 'ping') {
      connection.sendText('pong');
      return;
    }
    const parsed = parseClientFrame(text);
    if (!parsed.ok) {
      this.answerError(connection, parsed.code, parsed.message, parsed.ref);
      return;
    }
    const frame = parsed.frame;
    if (frame.type === 'send' && !connection.sends.take()) {
      // Not stored: the client keeps it and resends it later with the same cid.
      this.answerError(connection, 'rate_limited', 'too many messages: wait and resend with the same cid', frame.cid);
      return;
    }
    const caller: Caller = { userId: connection.userId, connectionId: connection.id, origin: connection.origin };
    try {
      await this.dispatch(caller, frame, (reply) => connection.send(reply));
    } catch (error) {
      const ref = frame.type === 'send' ? frame.cid : undefined;
      if (error instanceof ChatError) {
        this.answerError(connection, error.code, error.message, ref);
      } else {
        log.error({ err: error, frame: frame.type }, 'frame failed');
        this.answerError(connection, 'internal', 'the server could not handle the frame', ref);
      }
    }
  }

  private async dispatch(caller: Caller, frame: ClientFrame, reply: (frame: ServerFrame) => void): Promise<void> {
    switch (frame.type) {
      case 'ping':
        reply({ type: 'pong' });
        return;
      case 'sync': {
        const started = performance.now();
        await this.chat.sync(caller, frame, reply);
        this.metrics.syncDuration((performance.now() - started) / 1000);
        return;
      }
      case 'send':
        return this.chat.send(caller, frame, reply);
      case 'history':
        return this.chat.history(caller, frame, reply);
      case 'read':
        return this.chat.read(caller, frame);
      case 'typing':
        return this.chat.typing(caller, frame);
      case 'sessions':
        return this.chat.sessions(caller, frame, reply);
    }
  }

  private answerError(connection: Connection, code: ErrorCode, message: string, ref?: string): void {
    this.metrics.error(code);
    connection.send(ref === undefined ? { type: 'error', code, message } : { type: 'error', code, message, ref });
  }

  /** Presence is a courtesy: a failure to announce it is logged, never fatal to the connection. */
  private announce(userId: string, online: boolean, log: Logger): void {
    const done = (online ? this.presence.connected(userId) : this.presence.disconnected(userId))
      .catch((error: unknown) => log.warn({ err: error }, 'presence failed'))
      .finally(() => this.announcing.delete(done));
    this.announcing.add(done);
  }

  deliver(userIds: readonly string[], frame: ServerFrame, exceptConnectionId?: string): void {
    this.delivered(frame.type, this.hub.deliver(userIds, frame, exceptConnectionId));
  }

  deliverText(userIds: readonly string[], type: ServerFrame['type'], text: string, exceptConnectionId?: string): void {
    this.delivered(type, this.hub.deliver(userIds, text, exceptConnectionId));
  }

  users(): string[] {
    return this.hub.users();
  }

  isOnline(userId: string): boolean {
    return this.hub.isOnline(userId);
  }

  /** Counted here, where the frames reach connections: a message stored once may be delivered many times. */
  private delivered(type: ServerFrame['type'], count: number): void {
    if (type === 'message') this.metrics.messagesDelivered(count);
  }

  /**
   * Deliveries may have been missed (the fan-out between instances was away): closes the
   * connections of these users (all when absent) with 4002 once the frames they sent are
   * handled; the clients reconnect and `sync`, and storage fills the gap.
   */
  resync(userIds?: readonly string[]): void {
    const only = userIds ? new Set(userIds) : undefined;
    for (const connection of this.hub.all()) {
      if (only && !only.has(connection.userId)) continue;
      void connection.queue.then(() => connection.close(CLOSE_CODES.resync, 'sync again'));
    }
  }

  private sweep(): void {
    const deadline = Date.now() - 3 * this.options.heartbeatMs;
    const silent = this.hub.all().filter((connection) => connection.lastSeen < deadline);
    if (silent.length === 0) return;
    // Decided after this turn's reads: when the event loop was held up (a long GC, a slow disk),
    // a client's ping may be waiting in the socket right now, and a live client must not be cut
    // for the server's own delay.
    setImmediate(() => {
      for (const connection of silent) if (connection.lastSeen < deadline) connection.terminate();
    });
  }

  /**
   * Stops handling new frames, lets every frame already received finish (sends stored and
   * acked), then closes every connection with 1001 (going away) and stops accepting new ones.
   */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweepTimer);
    await Promise.all(this.hub.all().map((connection) => connection.queue));
    for (const connection of this.hub.all()) {
      connection.close(CLOSE_CODES.goingAway, 'server shutting down');
    }
    // A peer that never answers the close handshake (a half-open socket) would hold shutdown
    // for ws's 30 s close timeout; after a short grace it is cut instead.
    const cut = setTimeout(() => {
      for (const connection of this.hub.all()) connection.terminate();
    }, CLOSE_GRACE_MS);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    clearTimeout(cut);
    // The last connections' "offline" announcements, before the bus and storage go (bounded: a
    // bus or database that does not answer must not hold the stop).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.announcing]),
      new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS * 2))),
    ]);
    clearTimeout(timer);
  }
}
