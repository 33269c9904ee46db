/** What one row opens on the target, so that the runner can close all of it when the row ends, however it ends. */
import type net from 'node:net';
import { login, type Account } from './accounts';
import { RawSocket } from './socket';
import type { Target } from './target';

/** An account with one open socket. */
export interface Person extends Account {
  socket: RawSocket;
}

export class Scope {
  private readonly sockets: RawSocket[] = [];
  private readonly connections: net.Socket[] = [];

  constructor(readonly target: Target) {}

  /** Opens a socket with `token`, closed when the row ends. */
  async open(token?: string): Promise<RawSocket> {
    const socket = await RawSocket.open(this.target.wsUrl, token);
    this.sockets.push(socket);
    return socket;
  }

  /** A fresh account with one open socket. */
  async person(account?: Account): Promise<Person> {
    const who = account ?? (await login(this.target));
    return { ...who, socket: await this.open(who.token) };
  }

  /** A plain TCP connection the row opened itself, destroyed when the row ends. */
  track<T extends net.Socket>(connection: T): T {
    this.connections.push(connection);
    return connection;
  }

  /** Cuts everything the row opened. */
  close(): void {
    for (const socket of this.sockets.splice(0)) socket.terminate();
    for (const connection of this.connections.splice(0)) connection.destroy();
  }
}
