import WebSocket from 'ws';

/**
 * The V8 inspector of a child Node process, for measuring its memory exactly: a full garbage
 * collection first, then the memory still in use. Without the forced collection a quiet process
 * keeps its garbage for a long time and "memory back to baseline" could not be told apart from a
 * leak. The child runs with `--inspect=127.0.0.1:0` and prints its address on stderr
 * (`inspectorUrl`); the benchmark's memory figure uses the same.
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

  /** Attaches to the inspector at `url` (`ws://127.0.0.1:<port>/<id>`). */
  static async connect(url: string): Promise<Inspector> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new Inspector(ws);
  }

  private call(method: string, params: object = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the inspector did not answer ${method}`)), 30_000);
      this.pending.set(id, {
        resolve: (result) => {
          clearTimeout(timer);
          resolve(result);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** `process.memoryUsage()` of the child after a full garbage collection. */
  async memoryAfterGc(): Promise<NodeJS.MemoryUsage> {
    await this.call('HeapProfiler.collectGarbage');
    const answer = (await this.call('Runtime.evaluate', {
      expression: 'JSON.stringify(process.memoryUsage())',
      returnByValue: true,
    })) as { result: { value: string } };
    return JSON.parse(answer.result.value) as NodeJS.MemoryUsage;
  }

  close(): void {
    this.ws.close();
  }
}

/** Node flag that opens the inspector on a free loopback port (its address goes to stderr). */
export const INSPECT_ARG = '--inspect=127.0.0.1:0';

/** The inspector address a child printed on stderr, if it has. */
export function inspectorUrl(stderr: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(stderr)?.[1];
}
