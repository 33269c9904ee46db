import type { PresenceListener } from '../bus/types';
import type { Store } from '../store/types';
import type { Fanout, PresenceRegistry } from './ports';

/**
 * Presence as the people it concerns hear it: a `presence` frame to everyone who shares a
 * conversation with the user when the user's first connection anywhere opens and when their last
 * one closes (docs/protocol.md). The gateway reports its own first and last connection of a user;
 * the bus, started with this service as its listener, reports what it finds out by itself.
 */
export class PresenceService implements PresenceListener {
  constructor(
    private readonly store: Pick<Store, 'peersOf' | 'safety'>,
    private readonly bus: Fanout & PresenceRegistry,
  ) {}

  /** This instance's first connection of the user opened: news only if it is their first anywhere. */
  async connected(userId: string): Promise<void> {
    if (await this.bus.connected(userId)) await this.announce(userId, true);
  }

  /** This instance's last connection of the user closed: news only if it was their last anywhere. */
  async disconnected(userId: string): Promise<void> {
    if (await this.bus.disconnected(userId)) await this.announce(userId, false);
  }

  /** The bus found these users online or offline everywhere (a dead instance reaped, entries rebuilt). */
  async presenceChanged(userIds: readonly string[], online: boolean): Promise<void> {
    await Promise.all(userIds.map((userId) => this.announce(userId, online)));
  }

  /** Whether the user has a connection on any instance (`online` in the directory). */
  isOnline(userId: string): Promise<boolean> {
    return this.bus.isOnline(userId);
  }

  private async announce(userId: string, online: boolean): Promise<void> {
    // Those who blocked the user see nothing of them, their presence included.
    const [peers, blockers] = await Promise.all([this.store.peersOf(userId), this.store.safety.blockersOf(userId)]);
    const blocked = new Set(blockers);
    this.bus.deliver(
      peers.filter((peer) => !blocked.has(peer)),
      { type: 'presence', user: userId, online },
    );
  }
}
