import type { IncomingMessage } from 'node:http';
import { HttpError } from './routes';

/**
 * The speed floor of an upload body: one sending a byte now and then would hold a connection, a
 * temporary file and a parser for as long as it likes. After a first window (a slow start on a
 * phone network is normal) the average speed since the body began must stay above the floor.
 */

export interface PaceOptions {
  /** Slowest average, in bytes per second; 0 = no floor. */
  minBytesPerS: number;
  /** How long a body may take before its average is judged (ms). */
  windowMs: number;
}

export interface PaceWatch {
  /** Bytes of the body received so far. */
  readonly received: () => number;
  /** Rejects with `408 too_slow` when the body falls below the floor; never resolves. */
  readonly tooSlow: Promise<never>;
  /** Stops watching (the body is complete, or the request is over). */
  stop(): void;
}

function tooSlowError(minBytesPerS: number): HttpError {
  return new HttpError(408, 'too_slow', `the upload was slower than ${minBytesPerS} bytes per second`);
}

/**
 * Counts the body's bytes as they arrive. Attach it in the tick the body starts to flow (the
 * parser is piped in), so that it sees every chunk without changing the flow.
 */
export function watchPace(raw: IncomingMessage, options: PaceOptions, onChunk?: (received: number) => void): PaceWatch {
  const started = Date.now();
  let received = 0;
  let timer: NodeJS.Timeout | undefined;
  let fail: (error: HttpError) => void = () => {};
  const tooSlow = new Promise<never>((_resolve, reject) => (fail = reject));
  // Nobody may be waiting on it when it trips (the body was already handed on): not unhandled.
  tooSlow.catch(() => {});

  const onData = (chunk: Buffer) => {
    received += chunk.length;
    onChunk?.(received);
  };
  const stop = () => {
    clearInterval(timer);
    raw.off('data', onData);
    raw.off('end', stop);
    raw.off('close', stop);
  };
  raw.on('data', onData);
  raw.on('end', stop);
  raw.on('close', stop);

  const { minBytesPerS, windowMs } = options;
  if (minBytesPerS > 0) {
    // Checked a few times a window, and at least once a second after it.
    timer = setInterval(
      () => {
        const elapsedMs = Date.now() - started;
        if (elapsedMs < windowMs || received >= (minBytesPerS * elapsedMs) / 1000) return;
        stop();
        fail(tooSlowError(minBytesPerS));
      },
      Math.max(10, Math.min(1000, windowMs / 4)),
    );
    timer.unref();
  }
  return { received: () => received, tooSlow, stop };
}
