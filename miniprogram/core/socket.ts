import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';
import type { Platform } from './platform';
import { CLOSE_CODES } from '../../contract/limits';

/**
 * idle: not started or stopped · connecting: a SocketTask is opening · open: frames flow ·
 * waiting: closed, a reconnect is scheduled · offline: the network is known to be down ·
 * failed: the try limit was reached; only `reconnectNow()` starts again ·
 * paused: the server closed it with 4004 (another device of the same user took its place); only
 * `reconnectNow()` (the app shown again, the user acting) starts again ·
 * banned: the server closed it with 4003, or the login answered `403 banned`: nothing starts it
 * again but `stop()` then `start()` (the app restarted).
 */
export type SocketState = 'idle' | 'connecting' | 'open' | 'waiting' | 'offline' | 'failed' | 'paused' | 'banned';

export interface SocketEvents {
  state(state: SocketState): void;
  open(): void;
  /** One text frame from the server (already past the heartbeat). */
  text(text: string): void;
  /**
   * The server closed with 4001: the token is spent. Told before the reconnect, which asks
   * `endpoint()` again at once: forget the token there so that it logs in.
   */
  authExpired(): void;
  /** A socket closed before it ever opened: it may have been refused for its token. */
  refused(): void;
  /** The connection is gone (or never came), and why. */
  lost(code: number, reason: string): void;
}

/** Where the next connection goes. */
export interface Endpoint {
  url: string;
  header: Record<string, string>;
}

export interface SocketOptions {
  platform: Platform;
  /**
   * The address and headers of the next connection, asked before every attempt (the token may have
   * changed, or a login may be needed first). A rejection counts as a failed attempt: the next one
   * comes after the backoff, so logging in and connecting share one retry loop.
   */
  endpoint(): Promise<Endpoint>;
  /** Whether a rejection of `endpoint()` says the user is banned (the login's `403 banned`): final. */
  isBanned?(error: unknown): boolean;
  events: Partial<SocketEvents>;
  heartbeatMs?: number;
  /** No frame within this long after a ping → the socket is dead. */
  heartbeatTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** Failed connection attempts in a row before giving up until `reconnectNow()`. */
  maxAttempts?: number;
  random?: () => number;
}

/**
 * The one connection of the app: a state machine over wx.connectSocket with heartbeat and
 * reconnect. At most one SocketTask exists at a time; callbacks of a replaced task are ignored.
 */
export class ChatSocket {
  private state: SocketState = 'idle';
  private task: WechatMiniprogram.SocketTask | null = null;
  /** Bumped for every new task; a callback carrying an older value is stale. */
  private generation = 0;
  private attempts = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private deadTimer: ReturnType<typeof setTimeout> | null = null;
  private networkUp = true;
  private nextRetryAt = 0;
  private readonly heartbeatMs: number;
  private readonly heartbeatTimeoutMs: number;
  private readonly backoff: BackoffOptions;
  private readonly maxAttempts: number;
  private readonly random: () => number;
  private readonly onNetwork = (result: WechatMiniprogram.OnNetworkStatusChangeListenerResult) =>
    this.networkChanged(result.isConnected);

  constructor(private readonly options: SocketOptions) {
    this.heartbeatMs = options.heartbeatMs ?? 10_000;
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 10_000;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.maxAttempts = options.maxAttempts ?? Infinity;
    this.random = options.random ?? Math.random;
  }

  get current(): SocketState {
    return this.state;
  }

  /** When the scheduled reconnect fires (ms since the epoch), or 0. */
  get retryAt(): number {
    return this.state === 'waiting' ? this.nextRetryAt : 0;
  }

  start(): void {
    if (this.state !== 'idle') return;
    this.options.platform.onNetworkStatusChange(this.onNetwork);
    this.connect();
  }

  /** Closes the socket for good (logout, tests). */
  stop(): void {
    // The typings give off…'s callback a different parameter type than on…'s; it is the same function.
    this.options.platform.offNetworkStatusChange(
      this.onNetwork as unknown as WechatMiniprogram.OffNetworkStatusChangeCallback,
    );
    this.clearReconnect();
    this.dropTask(CLOSE_CODES.normal, 'client stopped');
    this.setState('idle');
  }

  /** Reconnect at once unless a connection is open or opening (App.onShow, network back, retry, paused). */
  reconnectNow(): void {
    if (this.state === 'idle' || this.state === 'open' || this.state === 'connecting' || this.state === 'banned')
      return;
    this.attempts = 0;
    this.clearReconnect();
    this.connect();
  }

  /** The connection proved healthy (the server answered a sync): backoff starts over. */
  markHealthy(): void {
    this.attempts = 0;
  }

  /** Sends one text frame; false when no connection is open (the caller keeps the frame). */
  sendText(text: string): boolean {
    if (this.state !== 'open' || !this.task) return false;
    this.task.send({ data: text });
    return true;
  }

  private connect(): void {
    if (!this.networkUp) {
      this.setState('offline');
      return;
    }
    // WeChat allows only a few sockets at once: the old task goes before a new one opens.
    this.dropTask(CLOSE_CODES.normal, 'replaced');
    const generation = ++this.generation;
    this.setState('connecting');
    this.options.endpoint().then(
      (endpoint) => {
        if (generation === this.generation && this.state === 'connecting') this.open(endpoint, generation);
      },
      (error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        if (generation !== this.generation || this.state !== 'connecting') return;
        this.lost(this.options.isBanned?.(error) ? CLOSE_CODES.banned : 0, reason);
      },
    );
  }

  private open({ url, header }: Endpoint, generation: number): void {
    const task = this.options.platform.connectSocket({
      url,
      header,
      fail: () => {
        if (generation === this.generation) this.lost(0, 'connectSocket failed');
      },
    });
    this.task = task;
    // A connect the network swallowed (TCP up, the upgrade never answered) would otherwise wait
    // for WeChat's own timeout (60 s by default); it gets the dead-socket bound instead.
    this.deadTimer = setTimeout(() => this.lost(0, 'connect timeout'), this.heartbeatMs + this.heartbeatTimeoutMs);
    const current = () => generation === this.generation;
    task.onOpen(() => {
      if (!current()) return;
      this.setState('open');
      this.startHeartbeat();
      this.options.events.open?.();
    });
    task.onMessage((message) => {
      if (!current()) return;
      this.heard();
      if (typeof message.data !== 'string') return;
      if (message.data === 'pong') return;
      this.options.events.text?.(message.data);
    });
    task.onError(() => {
      if (current()) this.lost(0, 'socket error');
    });
    task.onClose((result) => {
      if (current()) this.lost(result.code, result.reason);
    });
  }

  /** The current connection is gone (or never came), however that was noticed. */
  private lost(code: number, reason: string): void {
    const hadTask = this.task !== null;
    this.dropTask(CLOSE_CODES.normal, reason);
    // An endpoint still being prepared for this attempt is void too.
    this.generation++;
    if (this.state === 'idle') return;
    if (hadTask && this.state === 'connecting') this.options.events.refused?.();
    this.options.events.lost?.(code, reason);
    if (code === CLOSE_CODES.banned) {
      // A moderator banned the user: reconnecting would only be refused. Final until a restart.
      this.clearReconnect();
      this.setState('banned');
      return;
    }
    if (code === CLOSE_CODES.replaced) {
      // The user's other devices hold all the sockets the server allows: reconnecting at once
      // would only close one of theirs, which would do the same. Wait for the app to be shown.
      this.setState('paused');
      return;
    }
    if (code === CLOSE_CODES.tokenExpired) {
      this.options.events.authExpired?.();
      this.scheduleReconnect(0);
      return;
    }
    // 1001: the server is going away on purpose; another one is ready for us at once.
    this.scheduleReconnect(code === CLOSE_CODES.goingAway ? 0 : undefined);
  }

  /** One reconnect at a time: a pending timer is the lock, so no second attempt starts beside it. */
  private scheduleReconnect(delayMs?: number): void {
    if (this.reconnectTimer) return;
    if (!this.networkUp) {
      this.setState('offline');
      return;
    }
    if (this.attempts >= this.maxAttempts) {
      this.setState('failed');
      return;
    }
    const delay = delayMs ?? backoffDelay(this.attempts, this.backoff, this.random);
    this.attempts++;
    this.nextRetryAt = Date.now() + delay;
    this.setState('waiting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  private networkChanged(isConnected: boolean): void {
    this.networkUp = isConnected;
    if (this.state === 'banned') return;
    if (!isConnected) {
      // Nothing can get through; retrying now would only burn the try limit.
      this.clearReconnect();
      if (this.state === 'waiting') this.setState('offline');
      return;
    }
    if (this.state === 'offline' || this.state === 'waiting') this.reconnectNow();
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.pingTimer = setInterval(() => {
      if (!this.task) return;
      this.task.send({ data: JSON.stringify({ type: 'ping' }) });
      // Any frame proves the connection alive; silence for the timeout after a ping proves
      // it dead, even when TCP has not noticed (a half-open socket).
      this.deadTimer ??= setTimeout(() => this.lost(0, 'heartbeat timeout'), this.heartbeatTimeoutMs);
    }, this.heartbeatMs);
  }

  private heard(): void {
    if (this.deadTimer) clearTimeout(this.deadTimer);
    this.deadTimer = null;
  }

  private stopHeartbeat(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    this.heard();
  }

  private dropTask(code: number, reason: string): void {
    this.stopHeartbeat();
    const task = this.task;
    if (!task) return;
    this.task = null;
    this.generation++;
    task.close({ code, reason: reason.slice(0, 100) });
  }

  private clearReconnect(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  private setState(state: SocketState): void {
    if (this.state === state) return;
    this.state = state;
    this.options.events.state?.(state);
  }
}
