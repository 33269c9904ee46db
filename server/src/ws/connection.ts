import crypto from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { CLOSE_CODES } from '../../../contract/limits';
import type { ServerFrame } from '../../../contract/frames';
import type { ConnectionBudgets } from './budgets';
import type { Deliverable } from './hub';

/** How one connection's unsent bytes are bounded. */
export interface BufferLimits {
  /** Unsent bytes beyond the answer being paced out at which a push closes the socket with 1013. */
  maxBufferedBytes: number;
  /** An answer to `history`/`sync` goes out only when fewer unsent bytes than this wait. */
  lowWaterBytes: number;
  /** How long an answer waits for the buffer to drain before the socket is closed with 1013. */
  drainTimeoutMs: number;
}

/** The connection closed (or began to) while work for it was under way: the work is dropped. */
export class ConnectionGone extends Error {
  constructor() {
    super('the connection is closed');
  }
}

/** ws sends a Buffer as a binary frame unless told otherwise; our frames are always text. */
const TEXT_FRAME = { binary: false } as const;

/** How often a paced answer looks at the buffer again when no 'drain' came. */
const DRAIN_POLL_MS = 250;
/** How long a closed connection may take to answer the close handshake before it is cut. */
const CLOSE_GRACE_MS = 1000;

/**
 * How long one that does not read gets: its close frame waits behind what it has not read, and it
 * should see the 1013 if it reads again soon; bounded so that such sockets do not pile up.
 */
function closeGraceMs(code: number, drainTimeoutMs: number): number {
  return code === CLOSE_CODES.tryAgainLater ? Math.max(CLOSE_GRACE_MS, drainTimeoutMs) : CLOSE_GRACE_MS;
}

/** One authenticated socket: its budgets, its order of work, and the two ways frames go out. */
export class Connection implements Deliverable {
  readonly id = crypto.randomUUID();
  lastSeen = Date.now();
  /** Frames of one connection are handled in order: a send must not overtake the sync before it. */
  queue: Promise<void> = Promise.resolve();
  /** When the connection was last told it is flooding (told at most once a second). */
  floodWarnedAt = 0;
  /** Whether `tcp` is corked until the end of this tick. */
  private corked = false;
  /**
   * Bytes of paced answers written since the buffer was last below the low-water mark: one large
   * answer the server chose to build must not make the pushes after it look like a client that
   * does not read.
   */
  private answerBytes = 0;
  /** Wakes a paced answer that waits for the buffer, when the connection closes. */
  private wake: (() => void) | undefined;
  /** Set when the server stops: answers still to be paced out are given up. */
  private abandoned = false;

  /** The base the client reached us at (`Caller.origin`): image URLs it sends are rewritten to it. */
  origin?: string;

  constructor(
    readonly userId: string,
    private readonly socket: WebSocket,
    /** The TCP socket under `socket`: frames of one tick go out in one write; its 'drain' paces answers. */
    private readonly tcp: Duplex,
    private readonly limits: BufferLimits,
    readonly budgets: ConnectionBudgets,
  ) {}

  /** Open, and not closing: work for it is worth doing. */
  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  /** More unsent bytes wait than the low-water mark: a new request would only add to them. */
  get backedUp(): boolean {
    return this.buffered() > this.limits.lowWaterBytes;
  }

  /** A push (or a short answer): sent at once, unless the client has stopped reading. */
  sendText(text: string | Buffer): void {
    if (!this.open) return;
    // A client that stops reading must not make the server grow without bound; what it missed
    // waits in storage for its next sync.
    if (this.buffered() > this.limits.maxBufferedBytes + this.answerBytes) {
      this.close(CLOSE_CODES.tryAgainLater, 'not reading');
      return;
    }
    this.write(text);
  }

  send(frame: ServerFrame): void {
    this.sendText(JSON.stringify(frame));
  }

  /**
   * An answer to `history` or `sync`: waits until the buffer is below the low-water mark, then
   * goes out. Rejects with ConnectionGone when the connection closes first, or when the buffer
   * does not drain in time (the socket is then closed with 1013).
   */
  async reply(frame: ServerFrame): Promise<void> {
    await this.drained();
    const text = JSON.stringify(frame);
    this.answerBytes += Buffer.byteLength(text);
    this.write(text);
  }

  close(code: number, reason: string): void {
    const wasOpen = this.open;
    this.socket.close(code, reason);
    this.wake?.();
    // A peer that never answers the close handshake would hold its socket for ws's 30 s timeout.
    if (wasOpen) setTimeout(() => this.socket.terminate(), closeGraceMs(code, this.limits.drainTimeoutMs)).unref();
  }

  terminate(): void {
    this.socket.terminate();
    this.wake?.();
  }

  /** The server is stopping: an answer waiting for the client to read is given up (it syncs again). */
  abandonAnswers(): void {
    this.abandoned = true;
    this.wake?.();
  }

  private buffered(): number {
    const bytes = this.socket.bufferedAmount;
    if (bytes <= this.limits.lowWaterBytes) this.answerBytes = 0;
    return bytes;
  }

  private async drained(): Promise<void> {
    const deadline = Date.now() + this.limits.drainTimeoutMs;
    while (this.open && !this.abandoned && this.backedUp) {
      const left = deadline - Date.now();
      if (left <= 0) {
        this.close(CLOSE_CODES.tryAgainLater, 'not reading');
        break;
      }
      await this.waitForDrain(Math.min(left, DRAIN_POLL_MS));
    }
    if (!this.open || this.abandoned) throw new ConnectionGone();
  }

  /** Resolves on the TCP socket's 'drain', on close, or after `ms`, whichever comes first. */
  private waitForDrain(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.tcp.off('drain', done);
        this.tcp.off('close', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.tcp.on('drain', done);
      this.tcp.on('close', done);
      this.wake = done;
    });
  }

  private write(text: string | Buffer): void {
    // A group commit acks and delivers many sends in one tick, often several to one connection
    // (acks of its sends, messages to it): corked, they cost one syscall instead of one each.
    if (!this.corked) {
      this.corked = true;
      this.tcp.cork();
      process.nextTick(() => {
        this.corked = false;
        this.tcp.uncork();
      });
    }
    this.socket.send(text, TEXT_FRAME);
  }
}
