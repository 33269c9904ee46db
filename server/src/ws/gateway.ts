import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CLOSE_CODES, LIMITS, type ErrorCode } from '../../../contract/limits';
import type { ClientFrame, ServerFrame, SyncFrame } from '../../../contract/frames';
import { TokenError, bearerToken, type Tokens } from '../auth/tokens';
import type { LocalDelivery } from '../bus/types';
import type { PresenceService } from '../chat/presence';
import { ChatError, type Caller, type ChatService, type Reply } from '../chat/service';
import { admit, type Admission } from './admission';
import { ConnectionBudgets, UserBudgets } from './budgets';
import { Connection, ConnectionGone } from './connection';
import { Hub } from './hub';
import { DEFAULTS, NO_METRICS, type GatewayMetrics, type GatewayOptions } from './options';
import { upgradeOrigin } from '../http/upload-urls';

export type { GatewayMetrics, GatewayOptions } from './options';

/** What a 503 for a full server asks the client to wait, in seconds. */
const FULL_RETRY_AFTER_S = 10;

/** How long shutdown waits for clients to answer the 1001 close before cutting them. */
const CLOSE_GRACE_MS = 1000;

const STATUS_TEXT: Record<number, string> = { 401: 'Unauthorized', 404: 'Not Found', 503: 'Service Unavailable' };

function refuse(socket: Duplex, status: number, code: string, message: string, retryAfterS?: number): void {
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
      'Content-Type: application/json\r\n' +
      (retryAfterS === undefined ? '' : `Retry-After: ${retryAfterS}\r\n`) +
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
  private readonly metrics: GatewayMetrics;
  private readonly userBudgets: UserBudgets;
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
    this.metrics = options.metrics ?? NO_METRICS;
    this.userBudgets = new UserBudgets({ ...DEFAULTS.user, ...options.user });
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

  /** The instance holds as many sockets as it may: one more is refused before any other work. */
  private full(): boolean {
    return this.hub.size >= (this.options.maxConnections ?? DEFAULTS.maxConnections);
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws') {
      refuse(socket, 404, 'not_found', 'the socket lives at /ws');
      return;
    }
    if (this.full()) {
      this.refuseFull(socket);
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
    // Checked again: other upgrades may have completed while the token was checked.
    if (this.full()) {
      this.refuseFull(socket);
      return;
    }
    const origin = upgradeOrigin(request);
    this.wss.handleUpgrade(request, socket, head, (ws) => this.open(ws, socket, userId, expiresAt, origin));
  }

  private refuseFull(socket: Duplex): void {
    this.metrics.error('unavailable');
    refuse(
      socket,
      503,
      'unavailable',
      'the server holds as many connections as it can: try again later',
      FULL_RETRY_AFTER_S,
    );
  }

  private open(ws: WebSocket, tcp: Duplex, userId: string, expiresAt: number, origin?: string): void {
    const options = this.options;
    const connection = new Connection(
      userId,
      ws,
      tcp,
      {
        maxBufferedBytes: options.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes,
        lowWaterBytes: options.lowWaterBytes ?? DEFAULTS.lowWaterBytes,
        drainTimeoutMs: 3 * options.heartbeatMs,
      },
      new ConnectionBudgets({
        sends: options.sendRate ?? DEFAULTS.sendRate,
        frames: options.frameRate ?? DEFAULTS.frameRate,
        requests: options.requestRate ?? DEFAULTS.requestRate,
        typing: options.typingRate ?? DEFAULTS.typingRate,
      }),
    );
    connection.origin = origin;
    const log = this.log.child({ conn: connection.id, user: userId });
    this.metrics.connectionOpened();
    if (this.hub.add(connection)) this.announce(userId, true, log);
    this.replaceOldest(userId, log);
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
      if (!connection.budgets.frames.take()) {
        const now = Date.now();
        if (now - connection.floodWarnedAt >= 1000) {
          connection.floodWarnedAt = now;
          this.answerError(connection, 'rate_limited', 'too many frames: slow down; frames were dropped');
        }
        return;
      }
      const admission = admit(data, isBinary, userId, connection.budgets, this.userBudgets);
      if (admission.kind === 'drop') return;
      // Work for a connection that has closed (or begun to) meanwhile is dropped, never built.
      connection.queue = connection.queue.then(() =>
        connection.open ? this.carryOut(connection, admission, log) : undefined,
      );
    });
    ws.on('error', (error) => log.debug({ err: error }, 'socket error'));
    ws.on('close', (code) => {
      clearTimeout(expiry);
      this.metrics.connectionClosed();
      if (this.hub.remove(connection)) this.announce(userId, false, log);
      log.debug({ code }, 'closed');
    });
  }

  /** One socket more than a user may hold: their oldest open ones are closed with 4004. */
  private replaceOldest(userId: string, log: Logger): void {
    const max = this.options.maxConnectionsPerUser ?? DEFAULTS.maxConnectionsPerUser;
    const open = this.hub.connectionsOf(userId).filter((connection) => connection.open);
    for (const oldest of open.slice(0, Math.max(0, open.length - max))) {
      log.debug({ replaced: oldest.id }, 'too many connections: the oldest is replaced');
      oldest.close(CLOSE_CODES.replaced, 'replaced');
    }
  }

  /** A frame's turn has come: what was decided on its arrival is done. (Not async: no promise of its own.) */
  private carryOut(connection: Connection, admission: Admission, log: Logger): Promise<void> | void {
    switch (admission.kind) {
      case 'pong':
        return connection.sendText('pong');
      case 'error':
        return this.answerError(connection, admission.code, admission.message, admission.ref);
      case 'request':
        // Refused while earlier answers still wait unread, before any page is built.
        if (connection.backedUp) {
          const message = 'earlier answers are still unread: ask again once they are';
          return this.answerError(connection, 'rate_limited', message, admission.ref);
        }
        return this.handle(connection, admission.frame, log);
      case 'handle':
        return this.handle(connection, admission.frame, log);
      case 'drop':
        return;
    }
  }

  private async handle(connection: Connection, frame: ClientFrame, log: Logger): Promise<void> {
    const caller: Caller = { userId: connection.userId, connectionId: connection.id, origin: connection.origin };
    // Answers the server sizes itself are paced out; the rest go at once, under the push rule.
    const paced = frame.type === 'history' || frame.type === 'sync' || frame.type === 'sessions';
    const reply = paced
      ? (answer: ServerFrame) => connection.reply(answer)
      : (answer: ServerFrame) => connection.send(answer);
    try {
      await this.dispatch(caller, frame, reply);
    } catch (error) {
      // The connection went away mid-answer: the rest of the answer is not built.
      if (error instanceof ConnectionGone) return;
      const ref = frame.type === 'send' || frame.type === 'recall' ? frame.cid : undefined;
      if (error instanceof ChatError) {
        this.answerError(connection, error.code, error.message, ref);
      } else {
        log.error({ err: error, frame: frame.type }, 'frame failed');
        this.answerError(connection, 'internal', 'the server could not handle the frame', ref);
      }
    }
  }

  /** Hands a frame to the domain. (Not async: the promise is the domain's own.) */
  private dispatch(caller: Caller, frame: ClientFrame, reply: Reply): Promise<void> | void {
    switch (frame.type) {
      case 'ping':
        return reply({ type: 'pong' });
      case 'sync':
        return this.timedSync(caller, frame, reply);
      case 'send':
        return this.chat.send(caller, frame, reply);
      case 'recall':
        return this.chat.recall(caller, frame, reply);
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

  private async timedSync(caller: Caller, frame: SyncFrame, reply: Reply): Promise<void> {
    const started = performance.now();
    await this.chat.sync(caller, frame, reply);
    this.metrics.syncDuration((performance.now() - started) / 1000);
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

  /**
   * A ban: these users' connections here close with `code` at once; frames of theirs not yet
   * handled are dropped (a connection that is no longer open carries nothing out).
   */
  disconnect(userIds: readonly string[], code: number, reason: string): void {
    for (const userId of userIds) {
      for (const connection of this.hub.connectionsOf(userId)) connection.close(code, reason);
    }
  }

  private sweep(): void {
    this.userBudgets.sweep();
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
    // An answer waiting for a slow reader must not hold the stop; the client syncs again after.
    for (const connection of this.hub.all()) connection.abandonAnswers();
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
