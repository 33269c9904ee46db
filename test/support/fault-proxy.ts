import net from 'node:net';

/**
 * A TCP proxy of our own between the phones and the server, for making the network misbehave on
 * cue: drop connections, black-hole them (half-open), add latency, or refuse new ones.
 *
 * Every accepted connection gets its own upstream connection to the target. Bytes are forwarded
 * through a queue per direction, so latency and black holes keep the order of the bytes.
 *
 * Settings made on the proxy (`blackhole()`, `delay()`, `restore()`) apply to every live
 * connection and to every connection accepted later; the same methods on one `ProxyConnection`
 * change that connection only.
 */

/** What happens to bytes while a connection is black-holed. */
export type BlackholeMode =
  /** Held back, and delivered in order by `restore()`: a partition that TCP outlives. */
  | 'pause'
  /** Thrown away: whatever was in flight is gone for good (the stream above is likely broken). */
  | 'drop';

/** One end's bytes on their way to the other end, or the end of that stream. */
interface Pending {
  chunk: Buffer | null;
  /** When the chunk may be written (ms since the epoch): now + the delay when it was read. */
  dueAt: number;
}

/** One direction of a connection: reads `from`, writes `to`. */
class Pipe {
  private readonly queue: Pending[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    from: net.Socket,
    private readonly to: net.Socket,
    private readonly link: ProxyConnection,
  ) {
    from.on('data', (chunk: Buffer) => this.push(chunk));
    // The sender finished writing (FIN): the other side hears so after the bytes before it.
    from.on('end', () => this.push(null));
  }

  /** Writes whatever is due, in order; schedules itself for the rest. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.link.blackholed) return;
    const now = Date.now();
    while (this.queue.length > 0 && this.queue[0].dueAt <= now) {
      const { chunk } = this.queue.shift() as Pending;
      if (this.to.destroyed) continue;
      if (chunk === null) this.to.end();
      else this.to.write(chunk);
    }
    if (this.queue.length > 0) this.timer = setTimeout(() => this.flush(), this.queue[0].dueAt - now);
    else this.link.drained();
  }

  /** Bytes still waiting to be written. */
  get pending(): boolean {
    return this.queue.length > 0;
  }

  /** Forgets everything queued (the connection is gone). */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
  }

  private push(chunk: Buffer | null): void {
    if (this.link.blackholed && this.link.blackholeMode === 'drop') return;
    // Never before the chunk ahead of it: a shorter delay set meanwhile must not reorder bytes.
    const last = this.queue[this.queue.length - 1];
    const dueAt = Math.max(Date.now() + this.link.delayMs, last ? last.dueAt : 0);
    this.queue.push({ chunk, dueAt });
    if (this.queue.length === 1) this.flush();
  }
}

/** One client connection through the proxy and its upstream connection to the target. */
export class ProxyConnection {
  /** Counts connections accepted by any proxy, for telling them apart in failures. */
  private static nextId = 1;
  readonly id = ProxyConnection.nextId++;
  /** The first line the client sent, e.g. `GET /ws HTTP/1.1` (empty until it sends something). */
  firstLine = '';
  /** Latency added to every chunk, each way, in ms. */
  delayMs = 0;
  blackholed = false;
  blackholeMode: BlackholeMode = 'pause';
  private readonly toServer: Pipe;
  private readonly toClient: Pipe;
  private closed = false;
  /** One side has closed: the other goes once the bytes still queued for it are written. */
  private closing = false;

  constructor(
    readonly client: net.Socket,
    readonly upstream: net.Socket,
    private readonly onClosed: (connection: ProxyConnection) => void,
  ) {
    client.once('data', (chunk: Buffer) => {
      this.firstLine = chunk.toString('latin1').split('\r\n', 1)[0];
    });
    this.toServer = new Pipe(client, upstream, this);
    this.toClient = new Pipe(upstream, client, this);
    // A socket that errs or closes takes its partner with it, unless the connection is a black
    // hole: then nobody hears of it (a half-open connection) until `restore()` or `cut()`.
    for (const socket of [client, upstream]) {
      socket.on('error', () => this.ended());
      socket.on('close', () => this.ended());
    }
  }

  /** Open at both ends, as far as the proxy knows. */
  get live(): boolean {
    return !this.closed;
  }

  /** Destroys both sides at once (with a TCP reset): a dropped connection. */
  cut(): void {
    if (this.closed) return;
    this.closed = true;
    this.toServer.dispose();
    this.toClient.dispose();
    for (const socket of [this.client, this.upstream]) {
      if (!socket.destroyed) socket.resetAndDestroy();
    }
    this.onClosed(this);
  }

  /** Forwards nothing either way and closes nothing: a half-open connection. */
  blackhole(mode: BlackholeMode = 'pause'): void {
    this.blackholed = true;
    this.blackholeMode = mode;
  }

  /** Adds `ms` of latency to every chunk from now on, each way; the order of bytes is kept. */
  delay(ms: number): void {
    this.delayMs = ms;
  }

  /** Forwards again at full speed; bytes held by a paused black hole go first, in order. */
  restore(): void {
    this.blackholed = false;
    this.delayMs = 0;
    this.toServer.flush();
    this.toClient.flush();
    if (this.client.destroyed || this.upstream.destroyed) this.ended();
  }

  /** Called by a pipe whose queue ran empty. */
  drained(): void {
    if (this.closing) this.ended();
  }

  private ended(): void {
    if (this.closed || this.blackholed) return;
    // A side that closed in order (say, after a close frame) still gets its last bytes across.
    this.closing = true;
    if (this.toServer.pending || this.toClient.pending) return;
    this.closed = true;
    this.client.destroy();
    this.upstream.destroy();
    this.onClosed(this);
  }
}

/**
 * The proxy: listens on 127.0.0.1 on a free port and forwards every connection to
 * `targetHost:targetPort`. When the target does not answer, the client's connection is
 * destroyed (as if the server were unreachable).
 */
export class FaultProxy {
  /** Every connection accepted and forwarded, including closed ones, in order. */
  readonly accepted: ProxyConnection[] = [];
  /** Connections destroyed at once by `refuse()`. */
  refusedCount = 0;
  private readonly open = new Set<ProxyConnection>();
  /** Sockets accepted but not yet paired with an upstream connection. */
  private readonly connecting = new Set<net.Socket>();
  private refusing = false;
  private blackholeMode: BlackholeMode | null = null;
  private delayMs = 0;

  private constructor(
    private readonly server: net.Server,
    readonly targetPort: number,
    readonly targetHost: string,
  ) {
    server.on('connection', (socket) => this.accept(socket));
  }

  /** Starts a proxy to `targetPort` (on 127.0.0.1 unless `targetHost` says otherwise). */
  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<FaultProxy> {
    // Half-open TCP is allowed: a FIN from one side is passed on in its turn, never answered by us.
    const server = net.createServer({ allowHalfOpen: true });
    const proxy = new FaultProxy(server, targetPort, targetHost);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** The HTTP base the phones use instead of the server's. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Connections open right now (black-holed ones included). */
  connections(): ProxyConnection[] {
    return [...this.open];
  }

  /** Open WebSocket connections (the ones whose first line asked for /ws). */
  sockets(): ProxyConnection[] {
    return this.connections().filter((connection) => connection.firstLine.startsWith('GET /ws'));
  }

  /** Drops every open connection at once. New connections are accepted as usual. */
  cut(): void {
    for (const connection of this.connections()) connection.cut();
    for (const socket of this.connecting) socket.destroy();
    this.connecting.clear();
  }

  /** Black-holes every open connection and every new one until `restore()`. */
  blackhole(mode: BlackholeMode = 'pause'): void {
    this.blackholeMode = mode;
    for (const connection of this.open) connection.blackhole(mode);
  }

  /** Adds `ms` of latency each way to every open connection and every new one. */
  delay(ms: number): void {
    this.delayMs = ms;
    for (const connection of this.open) connection.delay(ms);
  }

  /**
   * New connections are accepted and destroyed at once (the server is unreachable) until
   * `restore()`; open ones are left alone (`cut()` them too for a full outage).
   */
  refuse(): void {
    this.refusing = true;
  }

  /** Back to a plain proxy: no refusing, no black hole, no latency, for open and new connections. */
  restore(): void {
    this.refusing = false;
    this.blackholeMode = null;
    this.delayMs = 0;
    for (const connection of this.connections()) connection.restore();
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    this.refusing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.cut();
    await closed;
  }

  private accept(client: net.Socket): void {
    if (this.refusing) {
      this.refusedCount++;
      client.destroy();
      return;
    }
    this.connecting.add(client);
    client.on('error', () => client.destroy());
    // Bytes the client sends before the upstream connection is up wait in the socket (paused).
    client.pause();
    const upstream = net.connect({ port: this.targetPort, host: this.targetHost, allowHalfOpen: true });
    // The target is not there: the client's connection goes at once.
    const unreachable = () => {
      this.connecting.delete(client);
      client.destroy();
      upstream.destroy();
    };
    upstream.once('error', unreachable);
    upstream.once('connect', () => {
      // From here on the connection's own handlers decide (a black hole hides a failure).
      upstream.off('error', unreachable);
      if (!this.connecting.delete(client) || client.destroyed) {
        upstream.destroy();
        return;
      }
      const connection = new ProxyConnection(client, upstream, (gone) => this.open.delete(gone));
      if (this.delayMs > 0) connection.delay(this.delayMs);
      if (this.blackholeMode) connection.blackhole(this.blackholeMode);
      this.open.add(connection);
      this.accepted.push(connection);
      client.resume();
    });
  }
}
