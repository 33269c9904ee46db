import type { SyncFrame } from '../../contract/frames';
import type { MessagesView } from '../stores/messages';

/**
 * The `sync` frame: the epoch the local data belongs to, and per conversation held the highest seq
 * with nothing missing below it, so the server replays exactly what the app lacks.
 */
export function syncFrame(messages: MessagesView, epoch: string): SyncFrame {
  const cursors: Record<string, number> = {};
  for (const conv of messages.conversations()) {
    const cursor = messages.cursor(conv);
    if (cursor > 0) cursors[conv] = cursor;
  }
  return epoch ? { type: 'sync', epoch, cursors } : { type: 'sync', cursors };
}

/** A refused sync goes again after 1–2 s. */
const SYNC_RETRY_MS = 1000;

/**
 * Syncs beyond the one after every connect: a pull-down refresh, which waits for the answer, and
 * a resync when a message names a conversation the list does not have (many such messages in one
 * burst cost one sync).
 */
export class Resync {
  private readonly waiting: Array<() => void> = [];
  private queued: ReturnType<typeof setTimeout> | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;

  constructor(
    /** Sends a `sync` now; false when no connection is ready. */
    private readonly sync: () => boolean,
    /** Sends a `sync` on the open connection, ready or still catching up; false when none is open. */
    private readonly syncAgain: () => boolean = sync,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * The server refused a `sync` for its request budget (`rate_limited`, ref "sync"): asked again
   * after 1–2 s, once however many refusals come meanwhile. A refresh waiting for it keeps waiting.
   */
  refused(): void {
    if (this.retry) return;
    this.retry = setTimeout(
      () => {
        this.retry = null;
        this.syncAgain();
      },
      SYNC_RETRY_MS + this.random() * SYNC_RETRY_MS,
    );
  }

  /** Syncs and resolves once `synced` has come (at once when no connection is ready). */
  refresh(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.sync()) {
        resolve();
        return;
      }
      this.waiting.push(resolve);
    });
  }

  /** Syncs once this turn's frames are handled. */
  soon(): void {
    if (this.queued) return;
    this.queued = setTimeout(() => {
      this.queued = null;
      this.sync();
    }, 0);
  }

  /** A `synced` arrived: the refreshes waiting for it are done. */
  synced(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }

  /** The connection is gone: the next one syncs when it opens, so a retry of a refused sync is moot. */
  connectionLost(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
  }

  stop(): void {
    if (this.queued) clearTimeout(this.queued);
    this.queued = null;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
  }
}
