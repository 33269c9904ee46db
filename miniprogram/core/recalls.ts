import type { ClientFrame, ServerFrameOf } from '../../contract/frames';
import { newCid } from './ids';

/** How long a recall may wait for a connection and its answer before it is given up as failed. */
export const RECALL_TIMEOUT_MS = 15_000;

/** Refusals that say nothing about the recall itself: it goes again shortly with the same cid. */
const TRY_AGAIN = new Set(['rate_limited', 'internal']);
const RETRY_MS = 1000;
/** Recalls given up on whose answer may still come: the newest this many are remembered. */
const GIVEN_UP_KEPT = 50;

/** Why a recall did not happen: the server's refusal code, or `offline` (no answer in time). */
export class RecallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RecallError';
  }
}

/** Called with the ack of a recall given up on, and the seq it recalled: it happened after all. */
export type LateRecall = (ack: ServerFrameOf<'ack'>, seq: number) => void;

interface PendingRecall {
  frame: Extract<ClientFrame, { type: 'recall' }>;
  resolve(ack: ServerFrameOf<'ack'>): void;
  reject(error: RecallError): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Recalls on their way to the server: each with its own cid, sent now or as soon as a connection
 * has synced, sent again with the same cid on every new connection (the server recalls a cid
 * once), and answered by its `ack` or `error` — or given up after `RECALL_TIMEOUT_MS`, because a
 * recall the user is waiting for must say plainly that it failed rather than wait for ever.
 * Unlike sends, recalls are not kept across an app kill: the user is told, and can try again.
 */
export class RecallRequests {
  private readonly pending = new Map<string, PendingRecall>();
  /**
   * Recalls that timed out, by cid: the seq each recalls. A recall given up on may still have
   * reached the server, and its ack then come late on the same connection; the server sends the
   * recall's `message` to every connection but that one (the ack is its answer), so a late ack
   * dropped here would leave the message shown unrecalled, and a hole at the recall's seq, until
   * another message or a reconnect's sync came. Not sent again: the user was told it failed.
   */
  private readonly givenUp = new Map<string, number>();

  constructor(
    private readonly transmit: (frame: ClientFrame) => boolean,
    private readonly random: () => number,
    private readonly timeoutMs: number = RECALL_TIMEOUT_MS,
    private readonly late: LateRecall = () => undefined,
  ) {}

  /** Asks the server to recall message `seq` of `conv`; resolves with its ack. */
  recall(conv: string, seq: number): Promise<ServerFrameOf<'ack'>> {
    const cid = newCid(this.random);
    const frame = { type: 'recall', cid, conv, seq } as const;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(cid);
        this.givenUp.set(cid, seq);
        if (this.givenUp.size > GIVEN_UP_KEPT) this.givenUp.delete(this.givenUp.keys().next().value!);
        reject(new RecallError('offline', 'no answer from the server in time'));
      }, this.timeoutMs);
      this.pending.set(cid, { frame, resolve, reject, timer });
      this.transmit(frame);
    });
  }

  /** A connection has synced: every recall not yet answered goes (again), with its cid. */
  connectionReady(): void {
    for (const request of this.pending.values()) this.transmit(request.frame);
  }

  /** An `ack`: true when it answered a recall (one given up on included: it is shown all the same). */
  acked(frame: ServerFrameOf<'ack'>): boolean {
    const request = this.settle(frame.cid);
    request?.resolve(frame);
    if (request) return true;
    const seq = this.givenUp.get(frame.cid);
    if (seq === undefined) return false;
    this.givenUp.delete(frame.cid);
    this.late(frame, seq);
    return true;
  }

  /** An `error`: true when it answered a recall. */
  refused(frame: ServerFrameOf<'error'>): boolean {
    // A late refusal of a recall given up on: the user was told it failed; nothing more to say.
    if (frame.ref && this.givenUp.delete(frame.ref)) return true;
    const request = frame.ref ? this.pending.get(frame.ref) : undefined;
    if (!request) return false;
    if (TRY_AGAIN.has(frame.code)) {
      setTimeout(
        () => {
          if (this.pending.has(request.frame.cid)) this.transmit(request.frame);
        },
        RETRY_MS + Math.floor(this.random() * RETRY_MS),
      );
      return true;
    }
    this.settle(request.frame.cid);
    request.reject(new RecallError(frame.code, frame.message));
    return true;
  }

  /** Stops: every recall still waiting fails (the app is closing or logging out). */
  stop(): void {
    this.givenUp.clear();
    for (const cid of [...this.pending.keys()]) {
      this.settle(cid)?.reject(new RecallError('offline', 'the connection was closed'));
    }
  }

  private settle(cid: string): PendingRecall | undefined {
    const request = this.pending.get(cid);
    if (!request) return undefined;
    clearTimeout(request.timer);
    this.pending.delete(cid);
    return request;
  }
}
