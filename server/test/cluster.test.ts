/**
 * Several server instances, each its own process, sharing PostgreSQL (DATABASE_URL) and Redis
 * (REDIS_URL): clients spread over them chat and hear profile changes, see each other's presence,
 * lose nothing when an instance is killed with SIGKILL or when Redis restarts mid-chat, and get
 * gap-free seqs when they send into one conversation through different instances. Every test has
 * its own PostgreSQL schema and its own Redis key prefix, so runs never collide.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { Redis } from 'ioredis';
import { CLOSE_CODES } from '../../contract/limits';
import { directConversationId } from '../../contract/conversations';
import type { ChatMessage, ServerFrame } from '../../contract/frames';
import { startServerProcess, type ServerProcess } from '../../test/support/server-process';
import { tempDataDir } from '../../test/support/tmp';
import { useSockets } from './support/fixture';
import { api, endpoints, fullHistory, person, settle, TestSocket, type Person } from './support/server';
import { DATABASE_URL, REDIS_URL, dropSchema, newRedisPrefix, newSchemaName, warnSkipped } from './support/services';
import { sleep, waitFor } from './support/wait';

const sockets = useSockets();

/** A crashed instance's presence is removed this long after its last renewal (the default is 15 s). */
const INSTANCE_TTL_MS = 1500;

interface Instance {
  process: ServerProcess;
  url: string;
  wsUrl: string;
}

interface Cluster {
  instances: Instance[];
  schema: string;
  prefix: string;
}

function instanceOf(process: ServerProcess): Instance {
  return { process, ...endpoints(process.url) };
}

const clusters: Cluster[] = [];

/** `count` instances on one fresh schema and one fresh prefix, started side by side. */
async function startCluster(label: string, options: { count?: number; redisUrl?: string } = {}): Promise<Cluster> {
  const schema = newSchemaName(label);
  const prefix = newRedisPrefix(label);
  const cluster: Cluster = { instances: [], schema, prefix };
  clusters.push(cluster);
  const env = {
    DATABASE_URL: DATABASE_URL ?? '',
    DATABASE_SCHEMA: schema,
    DATABASE_POOL_SIZE: '4',
    REDIS_URL: options.redisUrl ?? REDIS_URL ?? '',
    REDIS_PREFIX: prefix,
    REDIS_INSTANCE_TTL_MS: String(INSTANCE_TTL_MS),
    // One secret for all: a token from one instance is good on every other.
    TOKEN_SECRET: 'cluster-test-secret-0123456789abcdef',
    // Rate limits off: these tests send faster than a person.
    SEND_RATE: '100000',
    SEND_BURST: '100000',
    FRAME_RATE: '100000',
    FRAME_BURST: '100000',
  };
  const started = await Promise.all(
    Array.from({ length: options.count ?? 3 }, () => startServerProcess({ env: { ...env } })),
  );
  cluster.instances.push(...started.map(instanceOf));
  return cluster;
}

async function removeKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await redis.connect();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  } catch {
    // That Redis is gone already (a test's own one).
  } finally {
    redis.disconnect();
  }
}

afterEach(async () => {
  for (const cluster of clusters.splice(0)) {
    await Promise.all(cluster.instances.map((instance) => instance.process.kill()));
    if (DATABASE_URL) await dropSchema(DATABASE_URL, cluster.schema);
    if (REDIS_URL) await removeKeys(REDIS_URL, cluster.prefix);
  }
});

/** Frames of a type already received and not yet taken by next(). */
function received<T extends ServerFrame['type']>(socket: TestSocket, type: T): Extract<ServerFrame, { type: T }>[] {
  return socket.frames.filter((frame): frame is Extract<ServerFrame, { type: T }> => frame.type === type);
}

/** Takes every `message` frame of a conversation received so far. */
function takeMessages(socket: TestSocket, conv: string): ChatMessage[] {
  const taken = socket.frames.filter((frame) => frame.type === 'message' && frame.conv === conv);
  for (const frame of taken) socket.frames.splice(socket.frames.indexOf(frame), 1);
  return taken.map((frame) => {
    const { type: _type, ...message } = frame as Extract<ServerFrame, { type: 'message' }>;
    return message;
  });
}

function countMessages(socket: TestSocket, conv: string): number {
  return socket.frames.filter((frame) => frame.type === 'message' && frame.conv === conv).length;
}

/** The highest seq held with nothing missing below it, as the client keeps its cursor. */
function cursorOf(seqs: Iterable<number>): number {
  const held = new Set(seqs);
  let cursor = 0;
  while (held.has(cursor + 1)) cursor++;
  return cursor;
}

/** Opens a socket for a person on an instance (their token is good on every one). */
async function connect(someone: Person, instance: Instance): Promise<TestSocket> {
  const socket = await TestSocket.open(instance.wsUrl, someone.token);
  sockets.push(socket);
  return socket;
}

const enabled = Boolean(DATABASE_URL && REDIS_URL);
if (!enabled) {
  warnSkipped(
    'the multi-instance tests (server/test/cluster.test.ts)',
    [DATABASE_URL ? '' : 'DATABASE_URL', REDIS_URL ? '' : 'REDIS_URL'].filter(Boolean),
  );
}
// Skipped, loudly (above), when PostgreSQL or Redis is not configured: several instances need a
// shared database and a shared bus, which this machine may not run. .ci/run sets both.
const describeCluster = enabled ? describe : describe.skip;

describeCluster('several instances on PostgreSQL and Redis', () => {
  it('clients spread over three instances chat, and every device of a user gets the frames', async () => {
    const [one, two, three] = (await startCluster('chat')).instances;
    const alice = await person(one, sockets, 'cluster-alice');
    const alicePad = await connect(alice, two);
    const bob = await person(three, sockets, 'cluster-bob');
    const conv = directConversationId(alice.id, bob.id);

    alice.socket.send({ type: 'send', cid: 'hello', to: bob.id, kind: 'text', body: 'hello from one' });
    expect(await alice.socket.next('ack')).toEqual(expect.objectContaining({ cid: 'hello', conv, seq: 1 }));
    expect(await bob.socket.next('message')).toEqual(
      expect.objectContaining({ conv, seq: 1, from: alice.id, body: 'hello from one' }),
    );
    // The sender's other device, on another instance, gets it too.
    expect(await alicePad.next('message')).toEqual(expect.objectContaining({ seq: 1, body: 'hello from one' }));
    // And hears that the send moved Alice's read cursor (the peer and the sending socket do not).
    expect(await alicePad.next('states')).toEqual({ type: 'states', conv, user: alice.id, readSeq: 1 });

    bob.socket.send({ type: 'send', cid: 'reply', conv, kind: 'text', body: 'hi from three' });
    expect(await bob.socket.next('ack')).toEqual(expect.objectContaining({ seq: 2 }));
    for (const socket of [alice.socket, alicePad]) {
      expect(await socket.next('message')).toEqual(expect.objectContaining({ seq: 2, from: bob.id }));
    }

    bob.socket.send({ type: 'typing', conv });
    expect(await alice.socket.next('typing')).toEqual({ type: 'typing', conv, user: bob.id });
    expect(await alicePad.next('typing')).toEqual({ type: 'typing', conv, user: bob.id });

    alice.socket.send({ type: 'read', conv, seq: 2 });
    expect(await bob.socket.next('states')).toEqual({ type: 'states', conv, user: alice.id, readSeq: 2 });
    expect(await alicePad.next('states')).toEqual({ type: 'states', conv, user: alice.id, readSeq: 2 });
    await settle(alice.socket);
    // Not echoed to the socket that sent it; the send's own states went to Alice's other device only.
    expect(received(alice.socket, 'states')).toEqual([]);
    await settle(bob.socket);
    expect(received(bob.socket, 'states')).toEqual([]);

    // Every instance sees the same store.
    const sessions = await Promise.all(
      [one, two, three].map(async (instance) => {
        const socket = await connect(alice, instance);
        socket.send({ type: 'sync', cursors: {} });
        const frame = await socket.next('sessions');
        await socket.next('synced');
        return frame.sessions;
      }),
    );
    for (const list of sessions) {
      expect(list).toEqual([expect.objectContaining({ conv, lastSeq: 2, readSeq: 2, unread: 0 })]);
    }

    // A profile change through one instance reaches the peer and the user's other device on the others.
    const changed = await api(one.url, 'PUT', '/api/profile', { token: alice.token, json: { nickname: 'Alice' } });
    expect(changed.status).toBe(200);
    const profile = { type: 'profile', user: { id: alice.id, nickname: 'Alice', avatar: '' } };
    expect(await bob.socket.next('profile')).toEqual(profile);
    expect(await alicePad.next('profile')).toEqual(profile);
  });

  it("publishes a turn's deliveries to the other instances as one Redis message", async () => {
    const cluster = await startCluster('publish', { count: 2 });
    const [one, two] = cluster.instances;
    const alice = await person(one, sockets, 'publish-alice');
    const alicePad = await connect(alice, two);
    const bob = await person(two, sockets, 'publish-bob');
    const conv = directConversationId(alice.id, bob.id);
    const listener = new Redis(REDIS_URL ?? '');
    const published: string[] = [];
    try {
      await listener.subscribe(`${cluster.prefix}deliver`);
      listener.on('message', (_channel: string, text: string) => published.push(text));
      alice.socket.send({ type: 'send', cid: 'one-publish', to: bob.id, kind: 'text', body: 'in one' });
      expect(await bob.socket.next('message')).toEqual(expect.objectContaining({ conv, seq: 1, body: 'in one' }));
      expect(await alicePad.next('message')).toEqual(expect.objectContaining({ seq: 1 }));
      expect(await alicePad.next('states')).toEqual({ type: 'states', conv, user: alice.id, readSeq: 1 });
      await waitFor(() => published.length > 0, 'the publish to be heard');
      await sleep(100);
      // The message for Bob and Alice's other device, and the sender's read cursor: two deliveries,
      // each a header line and a text line, in one message.
      expect(published).toHaveLength(1);
      const lines = published[0].split('\n');
      expect(lines).toHaveLength(4);
      expect(JSON.parse(lines[0])).toEqual(expect.objectContaining({ t: 'message' }));
      expect(JSON.parse(lines[1])).toEqual(expect.objectContaining({ type: 'message', seq: 1 }));
      expect(JSON.parse(lines[2])).toEqual(expect.objectContaining({ t: 'states', u: [alice.id] }));
      expect(JSON.parse(lines[3])).toEqual({ type: 'states', conv, user: alice.id, readSeq: 1 });
    } finally {
      listener.disconnect();
    }
  });

  it('keeps presence across instances: first and last connection anywhere, and the directory', async () => {
    const [one, two, three] = (await startCluster('presence')).instances;
    const alice = await person(one, sockets, 'presence-alice');
    const bob = await person(two, sockets, 'presence-bob');
    alice.socket.send({ type: 'send', cid: 'p1', to: bob.id, kind: 'text', body: 'hi' });
    await alice.socket.next('ack');
    await bob.socket.next('message');
    const directory = async (instance: Instance) => {
      const answer = await api(instance.url, 'GET', '/api/users?q=', { token: alice.token });
      return (answer.body as Array<{ id: string; online: boolean }>).find((entry) => entry.id === bob.id)?.online;
    };
    expect(await directory(one)).toBe(true);
    expect(await directory(three)).toBe(true);

    // A second device on another instance: no news, bob was online already.
    const bobPad = await connect(bob, three);
    await settle(bobPad);
    bob.socket.close();
    await bob.socket.closed;
    await sleep(300);
    expect(received(alice.socket, 'presence')).toEqual([]);
    // Bob is connected to instance three only; instances one and two still know he is online.
    expect(await directory(one)).toBe(true);
    expect(await directory(two)).toBe(true);

    bobPad.close();
    expect(await alice.socket.next('presence')).toEqual({ type: 'presence', user: bob.id, online: false });
    expect(await directory(one)).toBe(false);
    expect(await directory(three)).toBe(false);

    await connect(bob, two);
    expect(await alice.socket.next('presence')).toEqual({ type: 'presence', user: bob.id, online: true });
    expect(await directory(three)).toBe(true);
  });

  it("takes the presence of a stopped or crashed instance's users with it", async () => {
    const [one, two, three] = (await startCluster('departure')).instances;
    const alice = await person(one, sockets, 'depart-alice');
    const bob = await person(two, sockets, 'depart-bob');
    const carol = await person(three, sockets, 'depart-carol');
    for (const peer of [bob, carol]) {
      alice.socket.send({ type: 'send', cid: `to-${peer.id}`, to: peer.id, kind: 'text', body: 'hi' });
      await alice.socket.next('ack');
    }

    // A clean stop (SIGTERM) announces its users' departure on the way out.
    await two.process.stop();
    expect(await alice.socket.next('presence')).toEqual({ type: 'presence', user: bob.id, online: false });

    // A crash announces nothing; the other instances notice its entry has expired.
    const killedAt = Date.now();
    await three.process.kill();
    expect(await alice.socket.next('presence', undefined, 4 * INSTANCE_TTL_MS + 2000)).toEqual({
      type: 'presence',
      user: carol.id,
      online: false,
    });
    expect(Date.now() - killedAt).toBeGreaterThan(INSTANCE_TTL_MS / 2);
    const answer = await api(one.url, 'GET', '/api/users?q=', { token: alice.token });
    expect(answer.body).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: bob.id, online: false }),
        expect.objectContaining({ id: carol.id, online: false }),
      ]),
    );
  });

  it('gives concurrent sends into one conversation through different instances gap-free seqs', async () => {
    const instances = (await startCluster('seq')).instances;
    const alice = await person(instances[0], sockets, 'seq-alice-01');
    const bob = await person(instances[1], sockets, 'seq-bob-01');
    const conv = directConversationId(alice.id, bob.id);
    const senders = [
      ...(await Promise.all(instances.map((instance) => connect(alice, instance)))),
      ...(await Promise.all(instances.map((instance) => connect(bob, instance)))),
    ];
    const perSocket = 25;
    senders.forEach((socket, s) => {
      for (let i = 0; i < perSocket; i++) {
        socket.send({ type: 'send', cid: `s${s}-${i}`, conv, kind: 'text', body: `socket ${s} message ${i}` });
      }
    });
    const total = senders.length * perSocket;
    await Promise.all(senders.map((socket) => waitFor(() => received(socket, 'ack').length === perSocket, 'acks')));
    const acks = senders.flatMap((socket) => received(socket, 'ack'));
    expect(acks.map((ack) => ack.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1));

    const history = await fullHistory(alice.socket, conv);
    expect(history.map((message) => message.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(new Set(history.map((message) => message.cid)).size).toBe(total);
    // A watcher on each instance gets every message once (all but its own sends, which it has acked).
    await waitFor(() => countMessages(senders[5], conv) === total - perSocket, 'deliveries', 10_000);
    const seen = received(senders[5], 'message').map((frame) => frame.seq);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('loses nothing when an instance is killed with SIGKILL: its clients reconnect to another and sync', async () => {
    const [one, two, three] = (await startCluster('kill')).instances;
    const alice = await person(one, sockets, 'kill-alice');
    const bob = await person(two, sockets, 'kill-bob');
    const conv = directConversationId(alice.id, bob.id);
    alice.socket.send({ type: 'sync', cursors: {} });
    const { epoch } = await alice.socket.next('synced');

    // Alice fires 40 sends through instance one and it dies under them.
    const sends = Array.from({ length: 40 }, (_, i) => ({
      type: 'send' as const,
      cid: `a-${i}`,
      to: bob.id,
      kind: 'text' as const,
      body: `alice ${i}`,
    }));
    for (const send of sends) alice.socket.send(send);
    const firstAck = await alice.socket.next('ack');
    await one.process.kill();
    await alice.socket.closed;
    const ackedBefore = new Map([firstAck, ...received(alice.socket, 'ack')].map((ack) => [ack.cid, ack.seq]));

    // Bob goes on writing while alice is away.
    for (let i = 0; i < 5; i++) {
      bob.socket.send({ type: 'send', cid: `b-${i}`, conv, kind: 'text', body: `bob ${i}` });
      await bob.socket.next('ack', (ack) => ack.cid === `b-${i}`);
    }

    // Alice's client reconnects to another instance, syncs from what it holds, resends its outbox.
    // What the client holds: its acked sends (it received nothing while it was sending).
    const held = [...ackedBefore.values()];
    const again = await connect(alice, three);
    again.send({ type: 'sync', epoch, cursors: { [conv]: cursorOf(held) } });
    const synced = await again.next('synced');
    expect(synced).toEqual({ type: 'synced', epoch, truncated: [] });
    const fromSync = takeMessages(again, conv);
    expect(fromSync.filter((message) => message.from === bob.id).map((message) => message.body)).toEqual(
      Array.from({ length: 5 }, (_, i) => `bob ${i}`),
    );
    for (const send of sends) again.send(send);
    await waitFor(() => received(again, 'ack').length === sends.length, 'acks after the resend');
    const acks = new Map(received(again, 'ack').map((ack) => [ack.cid, ack.seq]));
    // What was acked before the crash keeps its seq; nothing is stored twice.
    for (const [cid, seq] of ackedBefore) expect(acks.get(cid)).toBe(seq);

    const history = await fullHistory(again, conv);
    expect(history.map((message) => message.seq)).toEqual(history.map((_, i) => i + 1));
    expect(history).toHaveLength(45);
    expect(
      history
        .filter((message) => message.from === alice.id)
        .map((message) => message.cid)
        .sort(),
    ).toEqual(sends.map((send) => send.cid).sort());
    // Bob, on a surviving instance, got alice's messages live, never one twice. One that instance
    // one stored but died before publishing (then resent: acked, not delivered again) is his at
    // his next sync: together he holds all of them.
    await sleep(300);
    const live = takeMessages(bob.socket, conv).map((message) => message.seq);
    expect(new Set(live).size).toBe(live.length);
    const bobHolds = [...live, ...history.filter((message) => message.from === bob.id).map((message) => message.seq)];
    bob.socket.send({ type: 'sync', epoch, cursors: { [conv]: cursorOf(bobHolds) } });
    await bob.socket.next('synced');
    const afterSync = new Set([...bobHolds, ...takeMessages(bob.socket, conv).map((message) => message.seq)]);
    expect([...afterSync].sort((a, b) => a - b)).toEqual(history.map((message) => message.seq));
  });
});

const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;

/** A free TCP port on the loopback interface. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A Redis server of this test's own, so the shared one is never restarted under other runs. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    { cwd: tempDataDir(), stdio: 'ignore' },
  );
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      }),
    `redis-server on port ${port}`,
  );
  return child;
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

// Needs redis-server on this machine as well as the shared services.
const describeRestart = enabled && hasRedisServer ? describe : describe.skip;
if (enabled && !hasRedisServer) warnSkipped('the Redis restart test (server/test/cluster.test.ts)', ['redis-server']);

describeRestart('Redis restarted mid-chat', () => {
  let redis: ChildProcess | undefined;
  afterEach(async () => {
    if (redis) await stopRedis(redis);
  });

  it('keeps each instance serving its own connections, then has every client sync: nothing is lost', async () => {
    const port = await freePort();
    redis = await startRedis(port);
    const redisUrl = `redis://127.0.0.1:${port}`;
    const [one, two] = (await startCluster('restart', { count: 2, redisUrl })).instances;
    const alice = await person(one, sockets, 'restart-alice');
    const carol = await person(one, sockets, 'restart-carol');
    const bob = await person(two, sockets, 'restart-bob');
    const conv = directConversationId(alice.id, bob.id);
    const carolConv = directConversationId(alice.id, carol.id);
    alice.socket.send({ type: 'sync', cursors: {} });
    const { epoch } = await alice.socket.next('synced');

    bob.socket.send({ type: 'send', cid: 'before', to: alice.id, kind: 'text', body: 'before' });
    expect(await alice.socket.next('message')).toEqual(expect.objectContaining({ seq: 1, body: 'before' }));

    await stopRedis(redis);
    redis = undefined;
    await sleep(200);

    // Redis is away. Instance one still serves its own: carol reaches alice at once.
    carol.socket.send({ type: 'send', cid: 'local', to: alice.id, kind: 'text', body: 'same instance' });
    expect(await alice.socket.next('message', (frame) => frame.conv === carolConv)).toEqual(
      expect.objectContaining({ body: 'same instance' }),
    );
    // Bob's sends through instance two are stored and acked; they may not reach alice yet.
    for (let i = 0; i < 5; i++) {
      bob.socket.send({ type: 'send', cid: `away-${i}`, conv, kind: 'text', body: `while away ${i}` });
      expect(await bob.socket.next('ack', (ack) => ack.cid === `away-${i}`)).toEqual(
        expect.objectContaining({ seq: i + 2 }),
      );
    }

    redis = await startRedis(port);
    // Both instances resubscribe and close every socket with 4002: sync again.
    for (const socket of [alice.socket, bob.socket, carol.socket]) {
      expect(await socket.closed).toEqual({ code: CLOSE_CODES.resync, reason: 'sync again' });
    }
    const held = takeMessages(alice.socket, conv).map((message) => message.seq);
    const aliceAgain = await connect(alice, two);
    aliceAgain.send({ type: 'sync', epoch, cursors: { [conv]: cursorOf(held) } });
    await aliceAgain.next('synced');
    const all = new Set([...held, ...takeMessages(aliceAgain, conv).map((message) => message.seq)]);
    expect([...all].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);

    // The bus works again, both ways: live delivery across instances (the subscription is back).
    const bobAgain = await connect(bob, one);
    bobAgain.send({ type: 'send', cid: 'after', conv, kind: 'text', body: 'after' });
    expect(await aliceAgain.next('message', (frame) => frame.cid === 'after')).toEqual(
      expect.objectContaining({ seq: 7 }),
    );
    aliceAgain.send({ type: 'send', cid: 'answer', conv, kind: 'text', body: 'answer' });
    expect(await bobAgain.next('message', (frame) => frame.cid === 'answer')).toEqual(
      expect.objectContaining({ seq: 8 }),
    );
    const bobOnTwo = await connect(bob, two);
    await settle(bobOnTwo);
    const aliceOnOne = await connect(alice, one);
    await settle(aliceOnOne);
    bobOnTwo.send({ type: 'send', cid: 'cross', conv, kind: 'text', body: 'two to one' });
    expect(await aliceOnOne.next('message', (frame) => frame.cid === 'cross')).toEqual(
      expect.objectContaining({ seq: 9 }),
    );
  });
});
