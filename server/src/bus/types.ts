import type { ServerFrame } from '../../../contract/frames';
import type { Fanout, PresenceRegistry } from '../chat/service';

/** What the bus needs of this instance: its own connections (the gateway's hub). */
export interface LocalEndpoint {
  /** Hands a frame to this instance's connections of the users, but the one excepted. */
  deliver(userIds: readonly string[], frame: ServerFrame, exceptConnectionId?: string): void;
  /** The same for a frame already serialized (one published by another instance). */
  deliverText(userIds: readonly string[], type: ServerFrame['type'], text: string, exceptConnectionId?: string): void;
  /** Users with at least one connection on this instance. */
  users(): string[];
  isOnline(userId: string): boolean;
  /** Deliveries may have been missed: these users' connections (every one when absent) sync again. */
  resync(userIds?: readonly string[]): void;
  /**
   * Presence the bus found out about by itself, not through a connection of this instance: users
   * of a crashed instance who are now nowhere, or users whose entries it had to rebuild. Tells their peers.
   */
  presenceChanged(userIds: readonly string[], online: boolean): Promise<void>;
}

/**
 * Fan-out between server instances. Storage is the source of truth; the bus is only a doorbell:
 * when it may have dropped deliveries it has the affected clients sync again.
 *
 * It also keeps presence: a user is online while connected to any instance. The gateway reports
 * only its own first and last connection of a user (`connected`/`disconnected`); the bus answers
 * whether that was the first/last across all instances.
 */
export interface Bus extends Fanout, PresenceRegistry {
  /** Connects (when there is anything to connect to) and starts handing deliveries to `local`. */
  start(local: LocalEndpoint): Promise<void>;
  /** Whether the user has a connection on any instance. */
  isOnline(userId: string): Promise<boolean>;
  /** Removes this instance's presence entries (announcing who went offline) and disconnects. */
  close(): Promise<void>;
}
