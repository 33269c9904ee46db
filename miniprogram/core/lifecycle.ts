import type { ConnectionState, ConnectionStore } from '../stores/connection';
import type { SocketState } from './socket';

/** The client's state: one value for the whole client (see ConnectionState for each). */
export type ClientState = ConnectionState;

const FROM_SOCKET: Record<SocketState, ClientState> = {
  idle: 'idle',
  connecting: 'connecting',
  open: 'syncing',
  waiting: 'waiting',
  offline: 'offline',
  failed: 'failed',
  paused: 'paused',
  banned: 'banned',
};

/**
 * The client's lifecycle: the socket's state, plus `syncing` → `ready` once a connection's first
 * sync has been answered (sends, reads and history requests go out only then). The one writer of
 * the connection store, which shows it.
 *
 * idle → connecting (logging in, opening) → syncing (open) → ready (synced);
 * any → waiting (a retry is scheduled) / offline (no network) / failed (the try limit) / paused
 * (replaced by another device of the user: until App.onShow or a user action) / banned (4003, or
 * the login's 403 banned: until the app is restarted); stop → idle.
 */
export class Lifecycle {
  private current: ClientState = 'idle';

  constructor(private readonly connection: ConnectionStore) {}

  get state(): ClientState {
    return this.current;
  }

  /** Started and not stopped since. */
  get started(): boolean {
    return this.current !== 'idle';
  }

  /** A connection is open and caught up. */
  get ready(): boolean {
    return this.current === 'ready';
  }

  /** The socket changed state; `retryAt` is when a scheduled retry fires (0 when none). */
  socketChanged(state: SocketState, retryAt: number): void {
    this.setState(FROM_SOCKET[state], retryAt);
  }

  /** A `synced` arrived. True when it is the connection's first: the client is ready from now on. */
  synced(): boolean {
    if (this.current !== 'syncing') return false;
    this.setState('ready');
    return true;
  }

  /** Why the last connection attempt failed (shown for diagnosis; the state says what happens next). */
  failedBecause(reason: string): void {
    this.connection.setError(reason);
  }

  private setState(state: ClientState, retryAt = 0): void {
    this.current = state;
    this.connection.setState(state, retryAt);
  }
}
