import type { ServerFrame } from '../../../contract/frames';
import type { Bus, LocalDelivery, PresenceListener } from './types';

/** The default for a single instance: deliveries go straight to this instance's connections. */
export class LocalBus implements Bus {
  private local?: LocalDelivery;

  // The listener is never told anything: with no other instance, all presence comes from the gateway.
  async start(local: LocalDelivery, _presence: PresenceListener): Promise<void> {
    this.local = local;
  }

  deliver(userIds: readonly string[], frame: ServerFrame, exceptConnectionId?: string): void {
    this.local?.deliver(userIds, frame, exceptConnectionId);
  }

  disconnect(userIds: readonly string[], code: number, reason: string): void {
    this.local?.disconnect(userIds, code, reason);
  }

  // With one instance, its first and last connections of a user are the only ones.
  async connected(): Promise<boolean> {
    return true;
  }

  async disconnected(): Promise<boolean> {
    return true;
  }

  async isOnline(userId: string): Promise<boolean> {
    return this.local?.isOnline(userId) ?? false;
  }

  async close(): Promise<void> {
    this.local = undefined;
  }
}
