import type { ServerFrame } from '../../../contract/frames';
import type { Fanout, PresenceRegistry } from '../chat/ports';

/**
 * This instance's own connections, as the bus hands them deliveries. The gateway implements it;
 * the bus knows nothing else of sockets.
 */
export interface LocalDelivery {
  /** Hands a frame to this instance's connections of the users, but the one excepted. */
  deliver(userIds: readonly string[], frame: ServerFrame, exceptConnectionId?: string): void;
  /** The same for a frame already serialized (one published by another instance, or for it). */
  deliverText(userIds: readonly string[], type: ServerFrame['type'], text: string, exceptConnectionId?: string): void;
  /** Users with at least one connection on this instance. */
  users(): string[];
  isOnline(userId: string): boolean;
  /** Deliveries may have been missed: these users' connections (every one when absent) sync again. */
  resync(userIds?: readonly string[]): void;
  /** Closes every connection of these users on this instance with `code` (a ban: 4003 `banned`). */
  disconnect(userIds: readonly string[], code: number, reason: string): void;
}

/**
 * Told of presence the bus found out by itself, not through a connection of this instance: users
 * of a crashed instance who are now nowhere, users whose entries it had to rebuild after Redis was
 * away, this instance's own users when it stops. The presence service implements it.
 */
export interface PresenceListener {
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
  /** Closes every connection of these users on every instance (a ban) with `code` and `reason`. */
  disconnect(userIds: readonly string[], code: number, reason: string): void;
  /**
   * Connects (when there is anything to connect to), then hands deliveries to `local` and the
   * presence it finds out by itself to `presence`.
   */
  start(local: LocalDelivery, presence: PresenceListener): Promise<void>;
  /** Removes this instance's presence entries (announcing who went offline) and disconnects. */
  close(): Promise<void>;
}
