/**
 * Load: waves of connections opening and closing while chatting users keep talking.
 *
 * The real server runs as its own process (SQLite, the inspector open so its heap can be measured
 * after a forced garbage collection). `LOAD_USERS` users chat in pairs over connections that stay
 * open the whole run. Meanwhile `LOAD_CONNECTIONS` other users connect all at once, `LOAD_WAVES`
 * times over: each connection syncs with the cursors its user kept from the wave before, sends one
 * message to a chatting user, answers its heartbeat, waits until the whole wave is open, and then
 * leaves — most with a close frame, some by dropping the TCP connection, some by going silent with
 * the connection left open (half-open: the server's heartbeat sweep must drop those).
 *
 * Asserts: every connection opens and is answered (no refusal, no error frame, no unexpected
 * close); every message sent is acked once, each conversation's seqs are exactly 1..n, every
 * chatting user received every message of its conversations that it did not send, once each, and
 * the server stores nothing more; the server ends with only the chatting users' connections; its
 * heap after a full collection is back near the baseline taken before the waves.
 *
 * `npm test` runs a scaled version (1,000 connections, 100 chatting users, 3 waves);
 * `npm run load` runs the full one (5,000 and 500). `LOAD_SEED` replays the seeded choices.
 */
import WebSocket from 'ws';
import type { ClientFrame, ServerFrame } from '../../contract/frames';
import type { LoginResponse } from '../../contract/http';
import { seeded as prng } from '../../test/support/fixtures';
import { INSPECT_ARG, Inspector } from '../../test/support/inspector';
import { startServerProcess, type ServerProcess } from '../../test/support/server-process';
import { login, readMetrics } from './support/server';
import { sleep, waitFor } from './support/wait';

const CONNECTIONS = Number(process.env.LOAD_CONNECTIONS ?? 1000);
const USERS = 2 * Math.ceil(Number(process.env.LOAD_USERS ?? 100) / 2);
const WAVES = Number(process.env.LOAD_WAVES ?? 3);
const SEED = Number(process.env.LOAD_SEED ?? 20_241_125);
const HEARTBEAT_MS = 2000;
/** Connections opening at the same time (a phone fleet does not all dial in the same millisecond). */
const OPENING_AT_ONCE = 250;
/** Share of wave connections that leave by dropping TCP, and by going silent with TCP left open. */
const DROPPED = 0.15;
const SILENT = 0.05;
const MiB = 1024 * 1024;

type Frame<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

/** Runs `work` over `items`, at most `limit` at a time. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Everything that went wrong, in words; the test expects none. */
const problems: string[] = [];

/**
 * One lean protocol connection: what it was acked and delivered, per conversation, and anything
 * unexpected. Keeps a client heartbeat (a `ping` per `HEARTBEAT_MS`) until told to stop.
 */
class LoadSocket {
  readonly acked = new Map<string, { conv: string; seq: number }>();
  /** Seqs of the `message` frames received, by conversation, in arrival order. */
  readonly delivered = new Map<string, number[]>();
  presence = 0;
  private readonly waiters = new Map<string, (frame: ServerFrame) => void>();
  private heartbeat: NodeJS.Timeout | null = null;
  readonly closed: Promise<number>;
  /** Set when this side closes on purpose; any other close is a problem. */
  leaving = false;

  private constructor(
    readonly name: string,
    readonly ws: WebSocket,
  ) {
    ws.on('message', (data: WebSocket.RawData) => this.receive(JSON.parse((data as Buffer).toString('utf8'))));
    ws.on('error', (error) => problems.push(`${name}: socket error ${error.message}`));
    this.closed = new Promise((resolve) =>
      ws.on('close', (code) => {
        this.stopHeartbeat();
        if (!this.leaving) problems.push(`${name}: closed by the server with ${code}`);
        resolve(code);
      }),
    );
  }

  static open(url: string, name: string, token: string): Promise<LoadSocket> {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        ws.off('error', reject);
        const socket = new LoadSocket(name, ws);
        socket.heartbeat = setInterval(() => socket.send({ type: 'ping' }), HEARTBEAT_MS);
        resolve(socket);
      });
      ws.once('error', reject);
      ws.once('unexpected-response', (_request, response) =>
        reject(new Error(`upgrade refused: ${response.statusCode}`)),
      );
    });
  }

  private receive(frame: ServerFrame): void {
    switch (frame.type) {
      case 'ack':
        this.acked.set(frame.cid, { conv: frame.conv, seq: frame.seq });
        break;
      case 'message': {
        const seqs = this.delivered.get(frame.conv) ?? [];
        seqs.push(frame.seq);
        this.delivered.set(frame.conv, seqs);
        break;
      }
      case 'presence':
        this.presence++;
        break;
      case 'error':
        problems.push(`${this.name}: error ${frame.code} ${frame.message}`);
        break;
    }
    const key =
      frame.type === 'ack' ? `ack:${frame.cid}` : frame.type === 'history' ? `history:${frame.conv}` : frame.type;
    const waiter = this.waiters.get(key);
    if (waiter) {
      this.waiters.delete(key);
      waiter(frame);
    }
  }

  send(frame: ClientFrame): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  /** Sends `frame` and waits for the frame that answers it (`key`: a type, `ack:<cid>` or `history:<conv>`). */
  ask<T extends ServerFrame['type']>(
    frame: ClientFrame,
    key: T | `ack:${string}` | `history:${string}`,
    timeoutMs = 30_000,
  ): Promise<Frame<T>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.name}: no answer "${key}" within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.set(key, (answer) => {
        clearTimeout(timer);
        resolve(answer as Frame<T>);
      });
      this.send(frame);
    });
  }

  stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }
}

interface User {
  name: string;
  login: LoginResponse;
}

describe(`load (LOAD_CONNECTIONS=${CONNECTIONS} LOAD_USERS=${USERS} LOAD_WAVES=${WAVES} LOAD_SEED=${SEED})`, () => {
  let server: ServerProcess;
  let inspector: Inspector;
  const chatters: LoadSocket[] = [];

  beforeAll(async () => {
    server = await startServerProcess({
      // The chatting users send about once a second for the whole run: more than a person's
      // per-user budget would let through for a long run, and budgets are not what is measured.
      env: { HEARTBEAT_MS: String(HEARTBEAT_MS), USER_SEND_RATE: '100000', USER_SEND_BURST: '100000' },
      nodeArgs: [INSPECT_ARG],
    });
    const url = server.inspectorUrl();
    if (!url) throw new Error('the server printed no inspector address');
    inspector = await Inspector.connect(url);
  });

  afterAll(async () => {
    for (const socket of chatters) {
      socket.leaving = true;
      socket.ws.terminate();
    }
    inspector?.close();
    await server?.kill();
  });

  it('every connection is served, every message arrives once, memory returns', async () => {
    const random = prng(SEED);
    const wsUrl = `ws://127.0.0.1:${server.port}/ws`;
    const started = Date.now();

    const logIn = async (names: string[]): Promise<User[]> => {
      const users: User[] = [];
      await pool(names, 32, async (name) => {
        users.push({ name, login: await login(server.url, name) });
      });
      return users.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
    };
    const talkers = await logIn(Array.from({ length: USERS }, (_, i) => `talker-${i}`));
    const visitors = await logIn(Array.from({ length: CONNECTIONS }, (_, i) => `visitor-${i}`));
    const loggedInMs = Date.now() - started;

    // The chatting users: connected for the whole run, in pairs (0-1, 2-3, …).
    await pool(
      talkers.map((user, index) => ({ user, index })),
      OPENING_AT_ONCE,
      async ({ user, index }) => {
        const socket = await LoadSocket.open(wsUrl, user.name, user.login.token);
        await socket.ask({ type: 'sync', cursors: {} }, 'synced');
        chatters[index] = socket;
      },
    );

    // One wave of the visitors; `count` of them (all, or a warm-up's few).
    const cursors = visitors.map((): Record<string, number> => ({}));
    const visitorAcks = new Map<string, { conv: string; seq: number }>();
    const wave = async (label: string, count: number) => {
      const sockets: LoadSocket[] = [];
      const opened = Date.now();
      const indexes = Array.from({ length: count }, (_, index) => index);
      await pool(indexes, OPENING_AT_ONCE, async (index) => {
        const user = visitors[index];
        const socket = await LoadSocket.open(wsUrl, `${user.name}@${label}`, user.login.token);
        sockets.push(socket);
        await socket.ask({ type: 'sync', cursors: cursors[index] }, 'synced');
        for (const [conv, seqs] of socket.delivered) cursors[index][conv] = Math.max(0, ...seqs);
        const cid = `${user.name}-${label}`;
        const to = talkers[index % USERS].login.user.id;
        const ack = await socket.ask<'ack'>(
          { type: 'send', cid, to, kind: 'text', body: `hello from ${cid}` },
          `ack:${cid}`,
        );
        visitorAcks.set(cid, { conv: ack.conv, seq: ack.seq });
        cursors[index][ack.conv] = Math.max(cursors[index][ack.conv] ?? 0, ack.seq);
        await socket.ask({ type: 'ping' }, 'pong');
      });
      const openMs = Date.now() - opened;
      const peakHeap = (await inspector.memoryAfterGc()).heapUsed;
      // Leave: a close frame, a dropped TCP connection, or silence with TCP left open.
      const silent: LoadSocket[] = [];
      for (const socket of sockets) {
        const roll = random();
        socket.leaving = true;
        socket.stopHeartbeat();
        if (roll < SILENT) silent.push(socket);
        else if (roll < SILENT + DROPPED) socket.ws.terminate();
        else socket.ws.close(1000, 'bye');
      }
      await Promise.all(sockets.filter((socket) => !silent.includes(socket)).map((socket) => socket.closed));
      return { openMs, peakHeap, silent };
    };

    // Warm-up (code paths compiled, caches filled), then the baseline.
    const warmUp = await wave('warm-up', Math.min(100, CONNECTIONS));
    await Promise.all(warmUp.silent.map((socket) => socket.closed));
    const baseHeap = (await inspector.memoryAfterGc()).heapUsed;

    // The chatting users talk while the waves come and go.
    let chatting = true;
    const sentByTalkers = new Map<string, string>(); // cid → talker name
    const chat = Promise.all(
      chatters.map(async (socket, i) => {
        const peer = talkers[i ^ 1].login.user.id;
        for (let n = 0; chatting; n++) {
          await sleep(200 + Math.floor(random() * 1300));
          if (!chatting) break;
          const cid = `${socket.name}-${n}`;
          sentByTalkers.set(cid, socket.name);
          socket.send({ type: 'send', cid, to: peer, kind: 'text', body: `message ${n} from ${socket.name}` });
        }
      }),
    );

    const waves: Array<{ openMs: number; peakHeap: number; silentSockets: number }> = [];
    const silentSockets: LoadSocket[] = [];
    for (let w = 0; w < WAVES; w++) {
      const result = await wave(`wave-${w}`, CONNECTIONS);
      silentSockets.push(...result.silent);
      waves.push({ openMs: result.openMs, peakHeap: result.peakHeap, silentSockets: result.silent.length });
    }
    chatting = false;
    await chat;

    // The half-open ones are dropped by the heartbeat sweep (3–4 intervals after their last frame).
    const silentClosedBy = await Promise.all(silentSockets.map((socket) => socket.closed));
    await waitFor(
      () => [...sentByTalkers.keys()].every((cid) => chatters.some((socket) => socket.acked.has(cid))),
      'every chatting message acked',
      30_000,
    );

    // Each conversation's seqs, from the acks of whoever sent into it.
    const seqsByConv = new Map<string, number[]>();
    const addAck = ({ conv, seq }: { conv: string; seq: number }) => {
      const seqs = seqsByConv.get(conv) ?? [];
      seqs.push(seq);
      seqsByConv.set(conv, seqs);
    };
    for (const socket of chatters) socket.acked.forEach(addAck);
    visitorAcks.forEach(addAck);
    const acks = [...seqsByConv.values()].reduce((sum, seqs) => sum + seqs.length, 0);
    for (const [conv, seqs] of seqsByConv) {
      const sorted = [...seqs].sort((a, b) => a - b);
      if (!sorted.every((seq, i) => seq === i + 1)) problems.push(`${conv}: acked seqs are not 1..${seqs.length}`);
    }

    // Every chatting user got every message of its conversations it did not send, once. Indexed
    // first: these checks must not hold up this process's event loop for long, or the chatting
    // users' heartbeats stop and the server rightly drops them.
    const convsOf = new Map<LoadSocket, string[]>(chatters.map((socket) => [socket, []]));
    const chatterById = new Map(chatters.map((socket, i) => [talkers[i].login.user.id, socket]));
    const pairSocket = new Map<string, LoadSocket>();
    for (const conv of seqsByConv.keys()) {
      for (const member of conv.split(':').slice(1)) {
        const socket = chatterById.get(member);
        if (!socket) continue;
        convsOf.get(socket)!.push(conv);
        pairSocket.set(conv, socket);
      }
    }
    const ownSeqs = (socket: LoadSocket) => {
      const byConv = new Map<string, Set<number>>();
      for (const { conv, seq } of socket.acked.values()) byConv.set(conv, (byConv.get(conv) ?? new Set()).add(seq));
      return byConv;
    };
    const own = new Map(chatters.map((socket) => [socket, ownSeqs(socket)]));
    await waitFor(
      () =>
        chatters.every((socket) =>
          convsOf.get(socket)!.every((conv) => {
            const expected = seqsByConv.get(conv)!.length - (own.get(socket)!.get(conv)?.size ?? 0);
            return (socket.delivered.get(conv)?.length ?? 0) >= expected;
          }),
        ),
      'every message delivered',
      30_000,
    ).catch((error: Error) => problems.push(error.message));
    let delivered = 0;
    for (const socket of chatters) {
      for (const conv of convsOf.get(socket)!) {
        const mine = own.get(socket)!.get(conv) ?? new Set<number>();
        const expected = seqsByConv
          .get(conv)!
          .filter((seq) => !mine.has(seq))
          .sort((a, b) => a - b);
        const got = socket.delivered.get(conv) ?? [];
        delivered += got.length;
        if (JSON.stringify([...got].sort((a, b) => a - b)) !== JSON.stringify(expected))
          problems.push(`${socket.name} ${conv}: got ${got.length} messages, expected ${expected.length}`);
        if (got.some((seq, i) => i > 0 && seq <= got[i - 1])) problems.push(`${socket.name} ${conv}: out of order`);
      }
    }

    // The server stores nothing more than what was acked: each conversation's newest seq is n.
    await pool([...pairSocket], 50, async ([conv, socket]) => {
      try {
        const page = await socket.ask<'history'>({ type: 'history', conv, limit: 1 }, `history:${conv}`, 10_000);
        const newest = page.messages.at(-1)?.seq ?? 0;
        if (newest !== seqsByConv.get(conv)!.length)
          problems.push(`${conv}: the server's newest seq is ${newest}, ${seqsByConv.get(conv)!.length} were acked`);
      } catch (error) {
        problems.push((error as Error).message);
      }
    });

    // Only the chatting users are still connected; nothing answered with an error.
    await waitFor(
      async () => (await readMetrics(server.url)).get('chat_connections_open') === USERS,
      'only the chatting users connected',
      10_000,
    ).catch((error: Error) => problems.push(error.message));
    for (const line of server.warnings) problems.push(`server log: ${line}`);
    const served = await readMetrics(server.url);
    const errorsAnswered = [...served].filter(([name, value]) => name.startsWith('chat_errors_total') && value > 0);
    if (errorsAnswered.length) problems.push(`the server answered errors: ${JSON.stringify(errorsAnswered)}`);
    expect(server.child.exitCode).toBeNull();

    const afterHeap = (await inspector.memoryAfterGc()).heapUsed;
    const figures = {
      seconds: Math.round((Date.now() - started) / 1000),
      loggedInMs,
      connectionsOpened: WAVES * CONNECTIONS + USERS,
      peakOpen: CONNECTIONS + USERS,
      waveOpenMs: waves.map((w) => w.openMs),
      halfOpenDropped: silentClosedBy.length,
      halfOpenCloseCodes: [...new Set(silentClosedBy)],
      messagesAcked: acks,
      messagesDelivered: delivered,
      presenceFrames: chatters.reduce((sum, socket) => sum + socket.presence, 0),
      heapMiB: {
        baseline: +(baseHeap / MiB).toFixed(1),
        peaks: waves.map((w) => +(w.peakHeap / MiB).toFixed(1)),
        after: +(afterHeap / MiB).toFixed(1),
      },
      problems: problems.length,
    };
    console.log(`load figures (seed ${SEED}): ${JSON.stringify(figures)}`);

    if (problems.length) console.log(`load problems:\n${problems.slice(0, 50).join('\n')}`);
    expect(problems.slice(0, 20)).toEqual([]);
    expect(silentClosedBy.every((code) => code === 1006)).toBe(true);
    expect(acks).toBe(sentByTalkers.size + visitorAcks.size);
    // Back near the baseline: what a wave held at its peak is gone again. The allowance is a
    // small fraction of one wave's footprint, well below what keeping anything per connection
    // (a listener, a map entry, a buffer) for every connection opened would leave behind.
    const wavePeak = Math.max(...waves.map((w) => w.peakHeap)) - baseHeap;
    expect(afterHeap - baseHeap).toBeLessThan(Math.max(4 * MiB, 0.1 * wavePeak));
  }, 600_000);
});
