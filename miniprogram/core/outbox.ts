import type { Platform } from './platform';
import type { ReplyRef, SendKind } from '../../contract/frames';

export interface OutboxEntry {
  cid: string;
  conv: string;
  /** The peer of a one-to-one conversation: sends go `to` them, which also creates it; '' in a group. */
  to: string;
  /** The sender (absent in entries made before groups: the dm's other member). */
  from?: string;
  /** A group message's mentions: member ids, or `["all"]`. */
  mentions?: string[];
  /** The message this one replies to, as the bubble quotes it until the server's copy arrives. */
  reply?: ReplyRef;
  /** A voice message's length, whole seconds. */
  duration?: number;
  kind: SendKind;
  /** The text, or the uploaded image's url ('' while an image still waits for its upload). */
  body: string;
  /** An image's or a recording's file on the phone, until it is uploaded (a recording: until acked). */
  localPath?: string;
  createdAt: number;
  /** Why the server refused it for good (the notice under the failed bubble), if it did. */
  failReason?: string;
  /** Times it has been handed to a socket. */
  tries: number;
}

const KEY = 'chat.outbox';

/**
 * Sends waiting for their ack, in the order they were made: a message queue kept in
 * storage with synchronous writes so a killed app loses nothing it showed as sent.
 */
export class Outbox {
  private entries: OutboxEntry[];

  constructor(private readonly platform: Platform) {
    const stored: unknown = platform.getStorageSync(KEY);
    this.entries = Array.isArray(stored) ? (stored as OutboxEntry[]) : [];
  }

  all(): readonly OutboxEntry[] {
    return this.entries;
  }

  add(entry: OutboxEntry): void {
    this.entries = [...this.entries, entry];
    this.save();
  }

  /** Marks entries as handed to a socket once more. */
  tried(cids: readonly string[]): void {
    const set = new Set(cids);
    this.entries = this.entries.map((entry) => (set.has(entry.cid) ? { ...entry, tries: entry.tries + 1 } : entry));
    this.save();
  }

  /** Changes an entry; a field set to undefined is removed. */
  update(cid: string, patch: Partial<Pick<OutboxEntry, 'body' | 'localPath' | 'tries' | 'reply'>>): void {
    this.entries = this.entries.map((entry) => {
      if (entry.cid !== cid) return entry;
      const updated: OutboxEntry = { ...entry, ...patch };
      if ('reply' in patch && patch.reply === undefined) delete updated.reply;
      return updated;
    });
    this.save();
  }

  /** The entry acknowledged (or given up on) by `cid`, removed; undefined if it was not here. */
  remove(cid: string): OutboxEntry | undefined {
    const entry = this.entries.find((candidate) => candidate.cid === cid);
    if (!entry) return undefined;
    this.entries = this.entries.filter((candidate) => candidate.cid !== cid);
    this.save();
    return entry;
  }

  clear(): void {
    this.entries = [];
    this.platform.removeStorageSync(KEY);
  }

  private save(): void {
    this.platform.setStorageSync(KEY, this.entries);
  }
}
