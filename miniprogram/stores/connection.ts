import { makeAutoObservable } from 'mobx-miniprogram';

/**
 * The client's lifecycle, as the connection banner shows it (core/lifecycle.ts is its only writer):
 * idle (not started, or stopped) · connecting (logging in, or a socket opening) · syncing (open,
 * catching up) · ready (caught up: sends go out at once) · waiting (a retry is scheduled) ·
 * offline (the network is down) · failed (the try limit was reached; the banner offers a retry) ·
 * paused (another device of the same user took this connection's place: it comes back when the app
 * is shown again or the user acts; nothing alarming to say) · banned (a moderator banned the user:
 * closed with 4003, or the login answered 403 banned; no reconnect until the app is restarted).
 */
export type ConnectionState =
  'idle' | 'connecting' | 'syncing' | 'ready' | 'waiting' | 'offline' | 'failed' | 'paused' | 'banned';

export class ConnectionStore {
  state: ConnectionState = 'idle';
  /** Why the last connection attempt failed (a login refused, a socket closed), for diagnosis. */
  lastError = '';
  /** When the next reconnect attempt fires, in ms since the epoch (0 when none is scheduled). */
  retryAt = 0;

  constructor() {
    makeAutoObservable(this);
  }

  /** The banner's text, or '' when there is nothing to say. */
  get banner(): string {
    switch (this.state) {
      case 'ready':
      case 'idle':
      case 'paused':
        return '';
      case 'connecting':
      case 'waiting':
        return '连接中…';
      case 'syncing':
        return '收取中…';
      case 'offline':
        return '网络不可用';
      case 'failed':
        return '连接失败，点击重试';
      case 'banned':
        return '你的账号已被封禁';
    }
  }

  setState(state: ConnectionState, retryAt = 0): void {
    this.state = state;
    this.retryAt = retryAt;
  }

  setError(message: string): void {
    this.lastError = message;
  }
}

export type ConnectionView = Pick<ConnectionStore, 'state' | 'lastError' | 'retryAt' | 'banner'>;
