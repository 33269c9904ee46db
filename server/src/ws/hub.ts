import type { ServerFrame } from '../../../contract/frames';

/** What the hub needs of a connection: who it is and a way to hand it a serialized frame. */
export interface Deliverable {
  readonly id: string;
  readonly userId: string;
  /** A frame's JSON, as text or already encoded as UTF-8 (the same bytes for many connections). */
  sendText(text: string | Buffer): void;
}

/** The live connections of this server, by user; fans frames out to them. Private to the gateway. */
export class Hub<C extends Deliverable = Deliverable> {
  private readonly byUser = new Map<string, Set<C>>();
  private count = 0;

  /** Adds a connection; true when it is its user's first (the user just came online). */
  add(connection: C): boolean {
    let set = this.byUser.get(connection.userId);
    const first = !set;
    if (!set) this.byUser.set(connection.userId, (set = new Set()));
    set.add(connection);
    this.count++;
    return first;
  }

  /** Removes a connection; true when it was its user's last (the user just went offline). */
  remove(connection: C): boolean {
    const set = this.byUser.get(connection.userId);
    if (!set || !set.delete(connection)) return false;
    this.count--;
    if (set.size > 0) return false;
    this.byUser.delete(connection.userId);
    return true;
  }

  isOnline(userId: string): boolean {
    return this.byUser.has(userId);
  }

  get size(): number {
    return this.count;
  }

  /** The connections of one user, oldest first. */
  connectionsOf(userId: string): C[] {
    return [...(this.byUser.get(userId) ?? [])];
  }

  all(): C[] {
    return [...this.byUser.values()].flatMap((set) => [...set]);
  }

  /** Users with at least one connection here. */
  users(): string[] {
    return [...this.byUser.keys()];
  }

  /**
   * Hands a frame to every connection of the users but one; returns how many got it. `frame` may
   * be its JSON text already (one that came from another server instance). A frame is serialized
   * once, however many connections receive it, and not at all when none does; for more than one
   * it is encoded once too, and every socket writes the same bytes.
   */
  deliver(userIds: readonly string[], frame: ServerFrame | string, exceptConnectionId?: string): number {
    let first: Deliverable | undefined;
    let payload: string | Buffer | undefined;
    let count = 0;
    for (const userId of userIds) {
      const set = this.byUser.get(userId);
      if (!set) continue;
      for (const connection of set) {
        if (connection.id === exceptConnectionId) continue;
        count++;
        // The first recipient waits until a second shows whether encoding once pays.
        if (!first) {
          first = connection;
          continue;
        }
        if (payload === undefined) {
          payload = Buffer.from(typeof frame === 'string' ? frame : JSON.stringify(frame));
          first.sendText(payload);
        }
        connection.sendText(payload);
      }
    }
    if (first && payload === undefined) first.sendText(typeof frame === 'string' ? frame : JSON.stringify(frame));
    return count;
  }
}
