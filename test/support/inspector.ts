import net from 'node:net';
import WebSocket from 'ws';

/**
 * The V8 inspector of a child Node process, for measuring its memory exactly: a full garbage
 * collection first, then the heap that is still in use. Without the forced collection a quiet
 * process keeps its garbage for a long time and "memory back to baseline" could not be told apart
 * from a leak. The child must run with `--inspect=127.0.0.1:<port>` (see `inspectArgs`).
 */
export class Inspector {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData) => {
      const answer = JSON.parse((data as Buffer).toString('utf8')) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
      };
      const waiter = answer.id === undefined ? undefined : this.pending.get(answer.id);
      if (!waiter) return;
      this.pending.delete(answer.id as number);
      if (answer.error) waiter.reject(new Error(answer.error.message));
      else waiter.resolve(answer.result);
    });
  }

  /** Attaches to the inspector listening on `port` (retrying while the child starts). */
  static async attach(port: number): Promise<Inspector> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{
          webSocketDebuggerUrl: string;
        }>;
        const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
        return new Inspector(ws);
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  private call(method: string, params: object = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Bytes of JavaScript heap in use after a full garbage collection. */
  async heapUsedAfterGc(): Promise<number> {
    await this.call('HeapProfiler.collectGarbage');
    const answer = (await this.call('Runtime.evaluate', {
      expression: 'process.memoryUsage().heapUsed',
      returnByValue: true,
    })) as { result: { value: number } };
    return answer.result.value;
  }

  close(): void {
    this.ws.close();
  }
}

/** A free TCP port on 127.0.0.1 (free when asked; the child takes it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Node flags that open the inspector on `port`, for `startServerProcess({ nodeArgs })`. */
export function inspectArgs(port: number): string[] {
  return [`--inspect=127.0.0.1:${port}`];
}
