import type { ServerFrame } from '../../../contract/frames';

/**
 * What the domain needs to reach people: hands frames to every live connection of some users,
 * on whichever instance they are. The bus implements it; the domain never sees a socket.
 */
export interface Fanout {
  deliver(userIds: readonly string[], frame: ServerFrame, exceptConnectionId?: string): void;
}

/**
 * Presence across instances (the bus keeps it): whether a user's first or last connection on this
 * instance is also their first or last on any instance, and whether they are connected anywhere.
 * A single instance answers true to both of the first, and from its own connections to the last.
 */
export interface PresenceRegistry {
  connected(userId: string): Promise<boolean>;
  disconnected(userId: string): Promise<boolean>;
  isOnline(userId: string): Promise<boolean>;
}
