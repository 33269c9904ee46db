/** A raw protocol client over `ws`: the frames it received, in order, and a wait for the next one that matches. */
import WebSocket from 'ws';
import type { ClientFrame, ServerFrame } from '../../../contract/frames';

/** How long a wait for a frame lasts unless a row says otherwise. */
export const FRAME_TIMEOUT_MS = 5000;

/** The text of a received frame, whichever shape `ws` handed it in. */
function rawText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return Buffer.from(data).toString('utf8');
}

export interface Closed {
  code: number;
  reason: string;
}

/** The error of a wait that a close ended. */
function closedError(closed: Closed): Error {
  return new Error(`the socket closed with ${closed.code}${closed.reason ? ` ${closed.reason}` : ''}`);
}

type Frame<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

export class RawSocket {
  /** Frames received and not yet taken by `next`. */
  readonly frames: ServerFrame[] = [];
  /** Every frame received, taken or not, by type: what a row counts. */
  readonly counts = new Map<string, number>();
  /** The length in bytes of the largest frame of each type received. */
  readonly largest = new Map<string, number>();
  /** Set once the socket has closed, with the code the server (or the network) closed it with. */
  closedWith: Closed | undefined;
  readonly closed: Promise<Closed>;
  private waiters: Array<{
    match: (frame: ServerFrame) => boolean;
    resolve: (frame: ServerFrame) => void;
    reject: (error: Error) => void;
  }> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const text = rawText(data);
      if (isBinary || text === 'pong') return;
      let frame: ServerFrame;
      try {
        frame = JSON.parse(text) as ServerFrame;
      } catch {
        return;
      }
      this.counts.set(frame.type, (this.counts.get(frame.type) ?? 0) + 1);
      this.largest.set(frame.type, Math.max(this.largest.get(frame.type) ?? 0, Buffer.byteLength(text)));
      const waiter = this.waiters.find((candidate) => candidate.match(frame));
      if (waiter) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(frame);
      } else {
        this.frames.push(frame);
      }
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        const closed = { code, reason: reason.toString() };
        this.closedWith = closed;
        // Nothing more will come: every wait ends now, with the close as its reason.
        for (const waiter of this.waiters.splice(0)) waiter.reject(closedError(closed));
        resolve(closed);
      }),
    );
    // Errors after the open show up as the close that follows them.
    ws.on('error', () => {});
  }

  /** Opens a socket with `token` (none: an upgrade without one); rejects when the upgrade is refused. */
  static open(wsUrl: string, token?: string, timeoutMs = FRAME_TIMEOUT_MS): Promise<RawSocket> {
    const ws = new WebSocket(wsUrl, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      handshakeTimeout: timeoutMs,
      perMessageDeflate: false,
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new RawSocket(ws)));
      ws.once('unexpected-response', (request, response) => {
        request.destroy();
        reject(new Error(`the upgrade was refused with ${response.statusCode ?? 0}`));
      });
      ws.once('error', reject);
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends a frame; a socket that is no longer open sends nothing (the caller sees it closed). */
  send(frame: ClientFrame | Record<string, unknown>): void {
    if (this.isOpen) this.ws.send(JSON.stringify(frame));
  }

  /** The next frame (already received or yet to come) of a type that also passes `where`. */
  next<T extends ServerFrame['type']>(
    type: T,
    where: (frame: Frame<T>) => boolean = () => true,
    timeoutMs = FRAME_TIMEOUT_MS,
  ): Promise<Frame<T>> {
    return this.wait(
      (frame) => frame.type === type && where(frame as Frame<T>),
      timeoutMs,
      `"${type}" frame`,
    ) as Promise<Frame<T>>;
  }

  /** The server's answer to a `send` with this cid: its ack, or the error that refers to it. */
  answerTo(cid: string, timeoutMs = FRAME_TIMEOUT_MS): Promise<Frame<'ack'> | Frame<'error'>> {
    return this.wait(
      (frame) => (frame.type === 'ack' && frame.cid === cid) || (frame.type === 'error' && frame.ref === cid),
      timeoutMs,
      `answer to ${cid}`,
    ) as Promise<Frame<'ack'> | Frame<'error'>>;
  }

  private wait(match: (frame: ServerFrame) => boolean, timeoutMs: number, what: string): Promise<ServerFrame> {
    const seen = this.frames.find(match);
    if (seen) {
      this.frames.splice(this.frames.indexOf(seen), 1);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      if (this.closedWith) {
        reject(new Error(`no ${what}: ${closedError(this.closedWith).message}`));
        return;
      }
      const waiter = {
        match,
        resolve: (frame: ServerFrame) => {
          clearTimeout(timer);
          resolve(frame);
        },
        reject: (error: Error) => {
          clearTimeout(timer);
          reject(new Error(`no ${what}: ${error.message}`));
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** A round trip: once the pong is back, everything the frames before it caused has arrived. */
  async settle(timeoutMs = FRAME_TIMEOUT_MS): Promise<void> {
    this.send({ type: 'ping' });
    await this.next('pong', () => true, timeoutMs);
  }

  /** Stops reading: the server's frames pile up in its buffer, as behind a client that does not read. */
  pause(): void {
    this.ws.pause();
  }

  terminate(): void {
    this.ws.terminate();
  }
}
