import type { OutboxEntry } from '../../miniprogram/core/outbox';
import type { Platform } from '../../miniprogram/core/platform';
import type { CacheSnapshot } from '../../miniprogram/core/cache';
import { createPhone, sleep, started, stored, waitFor, type Phone, type PhoneOptions } from '../support/app';
import { FaultProxy } from '../support/fault-proxy';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { seeded } from '../support/fixtures';

/**
 * The client core and its stores against the real server process, through a TCP proxy that
 * drops, black-holes and delays connections, while the server is killed, stopped and replaced.
 * Every test ends with exact delivery: each phone holds the conversation's acked messages, in
 * seq order 1..n, each once, nothing pending, nothing left in the outbox.
 */

/** The same on every server of a test, so tokens survive a restart (and a new data folder). */
const TOKEN_SECRET = 'faults-test-secret-0123456789abcdef';
/** Reconnects in tests: fast, but still exponential with jitter. */
const QUICK_BACKOFF = { baseMs: 50, capMs: 400 };

/** What a phone's sockets did, and when (ms since the epoch). */
interface SocketEvent {
  at: number;
  type: 'connect' | 'open' | 'close';
  code?: number;
}

interface TestPhone extends Phone {
  events: SocketEvent[];
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function outboxOf(phone: Phone): OutboxEntry[] {
  return stored<OutboxEntry[]>(phone, 'chat.outbox') ?? [];
}

function itemsOf(phone: Phone, conv: string) {
  return phone.client.stores.messages.view(conv).items;
}

function acked(phone: Phone, conv: string): number {
  return itemsOf(phone, conv).filter((item) => item.seq > 0 && item.mine).length;
}

function ready(phone: Phone): boolean {
  return phone.client.stores.connection.state === 'ready';
}

describe('delivery and liveness under faults', () => {
  const phones: TestPhone[] = [];
  const servers: ServerProcess[] = [];
  const proxies: FaultProxy[] = [];

  afterEach(async () => {
    const all = phones.splice(0);
    for (const phone of all) phone.client.stop();
    for (const proxy of proxies.splice(0)) await proxy.close();
    for (const server of servers.splice(0)) await server.stop();
    // Never two sockets open at once, whatever happened in the test.
    for (const phone of all) expect(phone.adapter.maxConcurrentTasks).toBeLessThanOrEqual(1);
  });

  /** The real server; `ownSecret` leaves the token secret to it (generated in its data folder). */
  async function server(
    options: { dataDir?: string; port?: number; ownSecret?: boolean } = {},
  ): Promise<ServerProcess> {
    const { ownSecret, ...rest } = options;
    const started = await startServerProcess({ ...rest, env: ownSecret ? {} : { TOKEN_SECRET } });
    servers.push(started);
    return started;
  }

  async function proxyTo(target: ServerProcess): Promise<FaultProxy> {
    const proxy = await FaultProxy.start(target.port);
    proxies.push(proxy);
    return proxy;
  }

  /** A phone whose sockets are watched: every connect, open and close, with its time. */
  function makePhone(url: string, options: PhoneOptions = {}): TestPhone {
    const events: SocketEvent[] = [];
    const watch = (platform: Platform): Platform => ({
      ...platform,
      connectSocket(option) {
        events.push({ at: Date.now(), type: 'connect' });
        const task = platform.connectSocket(option);
        task.onOpen(() => events.push({ at: Date.now(), type: 'open' }));
        task.onClose((result) => events.push({ at: Date.now(), type: 'close', code: result.code }));
        return task;
      },
    });
    const phone = { ...createPhone(url, { backoff: QUICK_BACKOFF, ...options, platform: watch }), events };
    phones.push(phone);
    return phone;
  }

  function startPhone(url: string, options: PhoneOptions = {}): Promise<TestPhone> {
    return started(makePhone(url, options));
  }

  /** Two users with a conversation between them, as alice sees it (bob's id is the peer). */
  function conversation(alice: Phone, bob: Phone): string {
    const bobUser = bob.client.stores.me.user;
    if (!bobUser) throw new Error('bob has not logged in');
    return alice.client.conversationWith(bobUser);
  }

  /**
   * The usual cast: a server with a fault proxy in front of it, alice behind the proxy, bob on the
   * server directly (or behind the proxy too), and their conversation.
   */
  async function proxiedPair(aliceOptions: PhoneOptions = {}, { bobBehindProxy = false } = {}) {
    const srv = await server();
    const proxy = await proxyTo(srv);
    const alice = await startPhone(proxy.url, aliceOptions);
    const bob = await startPhone(bobBehindProxy ? proxy.url : srv.url);
    return { srv, proxy, alice, bob, conv: conversation(alice, bob) };
  }

  function connects(phone: TestPhone): SocketEvent[] {
    return phone.events.filter((event) => event.type === 'connect');
  }

  /**
   * Waits until every phone holds every one of `sent` (one list per sender, each in the order
   * it was sent) with nothing pending and an empty outbox; then, and again a moment later (a
   * late duplicate would show then), checks exact delivery.
   */
  async function expectExactDelivery(all: Phone[], conv: string, sent: string[][], timeoutMs = 10_000): Promise<void> {
    const bodies = sent.flat();
    const done = (phone: Phone) => {
      const items = itemsOf(phone, conv);
      const held = new Set(items.filter((item) => item.seq > 0).map((item) => item.body));
      return (
        bodies.every((body) => held.has(body)) &&
        items.every((item) => item.seq > 0) &&
        outboxOf(phone).length === 0 &&
        phone.client.stores.sessions.find(conv)?.lastSeq === bodies.length
      );
    };
    try {
      await waitFor(() => all.every(done), 'every phone to hold every message, nothing pending', timeoutMs);
    } catch (error) {
      // Say what each phone holds, so a failure shows what went wrong rather than only that it did.
      const state = all.map((phone, i) => ({
        phone: i,
        connection: phone.client.stores.connection.state,
        items: itemsOf(phone, conv).map((item) => `${item.seq}:${item.body}:${item.status}`),
        outbox: outboxOf(phone).map((entry) => `${entry.body}:tries ${entry.tries}`),
        lastSeq: phone.client.stores.sessions.find(conv)?.lastSeq,
      }));
      throw new Error(`${(error as Error).message}\n${JSON.stringify(state, null, 2)}`);
    }
    for (const pass of [1, 2]) {
      if (pass === 2) await sleep(200);
      const reference = itemsOf(all[0], conv).map((item) => `${item.seq}:${item.body}`);
      for (const phone of all) {
        const items = itemsOf(phone, conv);
        expect(items.map((item) => item.seq)).toEqual(range(1, bodies.length));
        expect([...items.map((item) => item.body)].sort()).toEqual([...bodies].sort());
        expect(new Set(items.map((item) => item.cid)).size).toBe(bodies.length);
        expect(items.every((item) => item.status === 'sent')).toBe(true);
        // Every phone sees the one order the server stored.
        expect(items.map((item) => `${item.seq}:${item.body}`)).toEqual(reference);
        // Each sender's messages in the order they were sent.
        for (const list of sent) {
          const mine = new Set(list);
          expect(items.filter((item) => mine.has(item.body)).map((item) => item.body)).toEqual(list);
        }
        expect(outboxOf(phone)).toEqual([]);
        expect(phone.client.stores.sessions.find(conv)?.lastSeq).toBe(bodies.length);
      }
    }
  }

  it('a cut in the middle of a burst: every message once, in order, on both sides', async () => {
    const { proxy, alice, bob, conv } = await proxiedPair({}, { bobBehindProxy: true });

    const bodies = range(1, 30).map((i) => `burst ${i}`);
    for (const body of bodies) alice.client.sendText(conv, body);
    await waitFor(() => acked(alice, conv) >= 3, 'the first acks');
    const before = connects(alice).length;
    proxy.cut();
    // The cut came while sends were still unacknowledged (the client paces 10/s after 20).
    expect(outboxOf(alice).length).toBeGreaterThan(0);
    await waitFor(() => connects(alice).length > before, 'alice to reconnect after the cut');

    await expectExactDelivery([alice, bob], conv, [bodies]);
    expect(connects(alice).length).toBeGreaterThanOrEqual(2);
    expect(alice.adapter.maxConcurrentTasks).toBe(1);
    expect(bob.adapter.maxConcurrentTasks).toBe(1);
  });

  it('sends lost on a connection that stays open go again after the ack timeout, once each', async () => {
    // A heartbeat too slow to notice anything: only the ack timeout can recover these sends.
    const { proxy, alice, bob, conv } = await proxiedPair({
      heartbeatMs: 60_000,
      heartbeatTimeoutMs: 60_000,
      ackTimeoutMs: 500,
    });
    const before = connects(alice).length;

    proxy.blackhole('drop');
    const bodies = ['lost 1', 'lost 2', 'lost 3'];
    for (const body of bodies) alice.client.sendText(conv, body);
    await new Promise((resolve) => setTimeout(resolve, 200));
    proxy.restore();

    await expectExactDelivery([alice, bob], conv, [bodies]);
    expect(connects(alice).length).toBe(before);
  });

  it('a black hole (half-open socket): detected within the heartbeat bound, recovered, nothing lost or doubled', async () => {
    const heartbeatMs = 200;
    const heartbeatTimeoutMs = 300;
    const { proxy, alice, bob, conv } = await proxiedPair({ heartbeatMs, heartbeatTimeoutMs });
    alice.client.sendText(conv, 'before');
    await waitFor(() => acked(alice, conv) === 1, 'the first ack');

    const before = connects(alice).length;
    const blackholedAt = Date.now();
    proxy.blackhole();
    // Handed to a socket that no longer carries anything: in flight, never acked.
    alice.client.sendText(conv, 'into the hole 1');
    alice.client.sendText(conv, 'into the hole 2');
    await waitFor(() => connects(alice).length > before, 'a new SocketTask', 5000);
    const detectedIn = connects(alice)[before].at - blackholedAt;
    expect(detectedIn).toBeLessThan(3 * (heartbeatMs + heartbeatTimeoutMs));
    expect(alice.adapter.tasks[before - 1].live).toBe(false);
    // While the hole lasts, nothing gets through: the new connection cannot even open.
    alice.client.sendText(conv, 'while dark 1');
    alice.client.sendText(conv, 'while dark 2');
    bob.client.sendText(conv, 'from bob while alice is dark');
    await sleep(300);
    expect(ready(alice)).toBe(false);
    expect(itemsOf(alice, conv).filter((item) => item.status === 'sending')).toHaveLength(4);

    proxy.restore();
    await expectExactDelivery([alice, bob], conv, [
      ['before', 'into the hole 1', 'into the hole 2', 'while dark 1', 'while dark 2'],
      ['from bob while alice is dark'],
    ]);
    expect(alice.adapter.liveTasks()).toHaveLength(1);
    expect(alice.adapter.maxConcurrentTasks).toBe(1);
  });

  it('a black hole that also swallows the next handshake: the stuck connect is given up, recovered after restore', async () => {
    const heartbeatMs = 200;
    const heartbeatTimeoutMs = 300;
    const { proxy, alice, bob, conv } = await proxiedPair({ heartbeatMs, heartbeatTimeoutMs });

    // Bytes are thrown away, not held: the next connection's upgrade request is lost for good,
    // as on a network that lets TCP connect and then drops everything.
    proxy.blackhole('drop');
    alice.client.sendText(conv, 'into the void');
    await waitFor(() => connects(alice).length >= 2, 'the dead socket to be replaced', 3000);
    // The replacement cannot open either: it must not wait forever, but be retried.
    await waitFor(() => connects(alice).length >= 3, 'the stuck connect to be given up', 3000);
    expect(ready(alice)).toBe(false);

    const restoredAt = Date.now();
    proxy.restore();
    await waitFor(() => ready(alice), 'alice to be back after the hole closes', 5000);
    // Within a connect timeout and a backoff step (the cap, 400 ms) of the network healing.
    expect(Date.now() - restoredAt).toBeLessThan(2 * (heartbeatMs + heartbeatTimeoutMs) + QUICK_BACKOFF.capMs + 500);
    await expectExactDelivery([alice, bob], conv, [['into the void']]);
    expect(alice.adapter.maxConcurrentTasks).toBe(1);
  });

  it('latency of 150 ms each way while both sides chat: nothing lost or doubled, order kept', async () => {
    const { proxy, alice, bob, conv } = await proxiedPair({}, { bobBehindProxy: true });
    proxy.delay(150);

    const fromAlice: string[] = [];
    const fromBob: string[] = [];
    for (let i = 1; i <= 8; i++) {
      fromAlice.push(`alice ${i}`);
      alice.client.sendText(conv, `alice ${i}`);
      await sleep(20);
      fromBob.push(`bob ${i}`);
      bob.client.sendText(conv, `bob ${i}`);
      await sleep(20);
    }
    await expectExactDelivery([alice, bob], conv, [fromAlice, fromBob]);
    expect(alice.adapter.maxConcurrentTasks).toBe(1);
    expect(bob.adapter.maxConcurrentTasks).toBe(1);
  });

  it('server kill -9 and restart on the same data and port: the outbox drains, each message once', async () => {
    // Bob talks to the server directly: he shows what it stored before it died.
    const { srv: first, proxy, alice, bob, conv } = await proxiedPair();
    alice.client.sendText(conv, 'hello');
    await expectExactDelivery([alice, bob], conv, [['hello']]);

    // Acks take 300 ms to come back to alice: the server stores these, bob gets them at once,
    // and alice has not heard of any when everything dies.
    proxy.delay(300);
    const stored1 = range(1, 15).map((i) => `stored, ack lost ${i}`);
    for (const body of stored1) alice.client.sendText(conv, body);
    await waitFor(() => itemsOf(bob, conv).length === 1 + stored1.length, 'the server to store them', 3000);
    // These are still on the wire when everything dies.
    const onTheWire = range(1, 3).map((i) => `on the wire ${i}`);
    for (const body of onTheWire) alice.client.sendText(conv, body);
    proxy.cut();
    await first.kill();
    servers.splice(servers.indexOf(first), 1);
    proxy.restore();
    await waitFor(() => !ready(alice), 'alice to notice the server is gone');
    // And these are made while the server is down.
    const unsent = range(1, 4).map((i) => `while down ${i}`);
    for (const body of unsent) alice.client.sendText(conv, body);
    const waiting = outboxOf(alice);
    const tries = (body: string) => waiting.find((entry) => entry.body === body)?.tries;
    expect(stored1.filter((body) => tries(body) === 1).length).toBeGreaterThan(0);
    expect(onTheWire.map(tries)).toEqual([1, 1, 1]);
    expect(unsent.map(tries)).toEqual([0, 0, 0, 0]);

    await sleep(300);
    await server({ dataDir: first.dataDir, port: first.port });
    await expectExactDelivery([alice, bob], conv, [['hello', ...stored1, ...onTheWire, ...unsent]], 15_000);
    expect(alice.adapter.maxConcurrentTasks).toBe(1);
    expect(bob.adapter.maxConcurrentTasks).toBe(1);
  });

  it('an ack lost on the last try: the sync replay of the stored message counts as its delivery', async () => {
    const { proxy, alice, bob, conv } = await proxiedPair({ maxSendTries: 1 });

    // Stored by the server (bob, connected directly, has it); its ack, 300 ms behind, is still on
    // the wire when the connection drops.
    proxy.delay(300);
    alice.client.sendText(conv, 'only try');
    await waitFor(() => itemsOf(bob, conv).length === 1, 'the server to store it', 3000);
    proxy.cut();
    proxy.restore();
    expect(outboxOf(alice)).toMatchObject([{ body: 'only try', tries: 1 }]);

    // After the reconnect the sync replays it as alice's own stored message: it is delivered,
    // neither failed nor kept in the outbox to be shown again at the next launch.
    await expectExactDelivery([alice, bob], conv, [['only try']]);
    expect(alice.adapter.maxConcurrentTasks).toBe(1);
  });

  it('app killed with unsent messages: shown at once on relaunch, sent after reconnecting, each once', async () => {
    const { proxy, alice, bob, conv } = await proxiedPair({ heartbeatMs: 100, heartbeatTimeoutMs: 150 });
    alice.client.sendText(conv, 'first');
    await waitFor(() => acked(alice, conv) === 1, 'the first ack');

    // The network goes dark with two sends on the wire; then the server cannot be reached at all.
    proxy.blackhole();
    proxy.refuse();
    alice.client.sendText(conv, 'in flight 1');
    alice.client.sendText(conv, 'in flight 2');
    await waitFor(() => !ready(alice), 'alice to declare the socket dead', 3000);
    alice.client.sendText(conv, 'unsent 1');
    alice.client.sendText(conv, 'unsent 2');
    alice.client.sendText(conv, 'unsent 3');
    expect(outboxOf(alice)).toHaveLength(5);

    // The app is killed: nothing of it runs any more, only its storage is left.
    expect(alice.adapter.maxConcurrentTasks).toBe(1);
    alice.client.stop();
    phones.splice(phones.indexOf(alice), 1);
    const relaunched = makePhone(proxy.url, { storage: alice.adapter.storage });
    const pending = itemsOf(relaunched, conv);
    expect(pending.map((item) => item.body)).toEqual([
      'first',
      'in flight 1',
      'in flight 2',
      'unsent 1',
      'unsent 2',
      'unsent 3',
    ]);
    expect(pending.slice(1).every((item) => item.status === 'sending' && item.seq === 0)).toBe(true);

    // Still unreachable after the relaunch: the messages stay, as sending.
    relaunched.client.start();
    await sleep(300);
    expect(ready(relaunched)).toBe(false);
    expect(itemsOf(relaunched, conv).filter((item) => item.status === 'sending')).toHaveLength(5);

    // The network heals: what was on the wire arrives late, then the relaunched app resends all.
    proxy.restore();
    await expectExactDelivery([relaunched, bob], conv, [
      ['first', 'in flight 1', 'in flight 2', 'unsent 1', 'unsent 2', 'unsent 3'],
    ]);
    expect(relaunched.adapter.maxConcurrentTasks).toBe(1);
  });

  it('killed right after writing to a new contact: the relaunched app lists the conversation once it is sent', async () => {
    const srv = await server();
    const proxy = await proxyTo(srv);
    const alice = await startPhone(proxy.url);
    const bob = await startPhone(srv.url);
    proxy.refuse();
    proxy.cut();
    await waitFor(() => !ready(alice), 'alice to lose the server');

    // A new contact, one message, and the app is killed at once: what it wrote synchronously (the
    // outbox) survives; the batched cache write never happened.
    const conv = conversation(alice, bob);
    alice.client.sendText(conv, 'hello, new friend');
    const storage = new Map(alice.adapter.storage);
    alice.client.stop();

    const relaunched = makePhone(proxy.url, { storage });
    expect(itemsOf(relaunched, conv)).toMatchObject([{ body: 'hello, new friend', status: 'sending', seq: 0 }]);
    proxy.restore();
    relaunched.client.start();
    await expectExactDelivery([relaunched, bob], conv, [['hello, new friend']]);
    expect(relaunched.client.stores.sessions.find(conv)?.peer?.id).toBe(bob.client.stores.me.id);
  });

  it('background → foreground: a socket that died in the background comes back at once on onShow', async () => {
    // A long backoff (the first retry after ~20 s): it would not come back by itself in time.
    const { proxy, alice, bob, conv } = await proxiedPair({
      backoff: { baseMs: 20_000, capMs: 30_000 },
      random: () => 0.99,
    });
    expect(conversation(bob, alice)).toBe(conv);
    bob.client.sendText(conv, 'before');
    await expectExactDelivery([alice, bob], conv, [['before']]);

    // In the background the socket dies; meanwhile both sides write.
    const before = connects(alice).length;
    proxy.cut();
    await waitFor(() => alice.client.stores.connection.state === 'waiting', 'alice to wait for her retry');
    expect(alice.client.stores.connection.retryAt - Date.now()).toBeGreaterThan(10_000);
    bob.client.sendText(conv, 'while in background');
    alice.client.sendText(conv, 'written before the app hid');
    await sleep(300);
    expect(connects(alice)).toHaveLength(before);

    const shownAt = Date.now();
    alice.client.onShow();
    await waitFor(() => ready(alice), 'alice to be back', 1000);
    expect(Date.now() - shownAt).toBeLessThan(1000);
    expect(connects(alice)).toHaveLength(before + 1);
    await expectExactDelivery([alice, bob], conv, [['before', 'while in background'], ['written before the app hid']]);
    expect(alice.adapter.maxConcurrentTasks).toBe(1);
  });

  it('1001 from a server shutting down: the first retry is immediate and the client is back once it is up', async () => {
    const first = await server();
    // Every backoff delay is ~990 ms: an immediate retry is plainly not one of them.
    const alice = await startPhone(first.url, { backoff: { baseMs: 1000, capMs: 1000 }, random: () => 0.99 });
    const bob = await startPhone(first.url);
    const conv = conversation(alice, bob);
    alice.client.sendText(conv, 'before');
    await expectExactDelivery([alice, bob], conv, [['before']]);

    const before = alice.events.length;
    // Sends on their way when the server is told to stop: stored and acked, or resent later.
    const during = range(1, 10).map((i) => `during shutdown ${i}`);
    for (const body of during) alice.client.sendText(conv, body);
    await first.stop();
    servers.splice(servers.indexOf(first), 1);
    const events = alice.events.slice(before);
    const close = events.find((event) => event.type === 'close');
    expect(close?.code).toBe(1001);
    const retry = events.find((event) => event.type === 'connect');
    expect(retry).toBeDefined();
    expect((retry as SocketEvent).at - (close as SocketEvent).at).toBeLessThan(250);

    const restarted = await server({ dataDir: first.dataDir, port: first.port });
    const upAt = Date.now();
    await waitFor(() => ready(alice), 'alice to be back', 3000);
    // Within one backoff step (~1 s) of the server being up, plus slack.
    expect(Date.now() - upAt).toBeLessThan(2000);
    expect(restarted.port).toBe(first.port);
    await expectExactDelivery([alice, bob], conv, [['before', ...during]]);
    expect(alice.adapter.maxConcurrentTasks).toBe(1);
  });

  it('a new epoch (the server’s data folder replaced): the old store is dropped, sync starts from zero', async () => {
    const first = await server({ ownSecret: true });
    const alice = await startPhone(first.url);
    const bob = await startPhone(first.url);
    const oldConv = conversation(alice, bob);
    const oldIds = [alice.client.stores.me.id, bob.client.stores.me.id];
    for (const body of ['old 1', 'old 2', 'old 3']) alice.client.sendText(oldConv, body);
    await expectExactDelivery([alice, bob], oldConv, [['old 1', 'old 2', 'old 3']]);
    const oldEpoch = stored<string>(alice, 'chat.epoch');
    for (const phone of [alice, bob]) {
      await waitFor(
        () => Object.keys(stored<CacheSnapshot>(phone, 'chat.cache')?.messages ?? {}).includes(oldConv),
        'the old conversation in the cache',
      );
    }

    // The data folder is replaced: a fresh, empty one on the same port. As in the default set-up,
    // the token secret lives in the data folder, so the old tokens are refused: the phones must
    // log in again (the device id makes them users of the new store).
    await first.kill();
    servers.splice(servers.indexOf(first), 1);
    await server({ port: first.port, ownSecret: true });
    await waitFor(
      () => [alice, bob].every((phone) => ready(phone) && stored<string>(phone, 'chat.epoch') !== oldEpoch),
      'both phones to log in again and sync with the new epoch',
      5000,
    );
    expect([alice.client.stores.me.id, bob.client.stores.me.id]).not.toEqual(oldIds);
    for (const phone of [alice, bob]) {
      expect(phone.client.stores.messages.view(oldConv).items).toEqual([]);
      expect(phone.client.stores.messages.conversations()).not.toContain(oldConv);
      expect(phone.client.stores.sessions.list).toEqual([]);
      await waitFor(
        () => stored<CacheSnapshot>(phone, 'chat.cache')?.epoch === stored<string>(phone, 'chat.epoch'),
        'the cache to be rewritten for the new epoch',
      );
      const cache = JSON.stringify(stored<CacheSnapshot>(phone, 'chat.cache'));
      expect(cache).not.toContain(oldConv);
      expect(cache).not.toContain('old 1');
    }

    // New chatting works, from seq 1 again.
    const conv = conversation(alice, bob);
    expect(conversation(bob, alice)).toBe(conv);
    alice.client.sendText(conv, 'new 1');
    bob.client.sendText(conv, 'new 2');
    await expectExactDelivery([alice, bob], conv, [['new 1'], ['new 2']]);
    expect(alice.adapter.maxConcurrentTasks).toBe(1);
  });

  it('two devices of one user stay in step: own messages and read states', async () => {
    const srv = await server();
    const proxy = await proxyTo(srv);
    const bob = await startPhone(proxy.url);
    const first = await startPhone(proxy.url);
    const deviceId = stored<string>(first, 'chat.deviceId');
    expect(deviceId).toBeDefined();
    const second = await startPhone(proxy.url, {
      storage: new Map([['chat.deviceId', JSON.stringify(deviceId)]]),
    });
    expect(second.client.stores.me.id).toBe(first.client.stores.me.id);
    const conv = conversation(first, bob);

    first.client.sendText(conv, 'from device 1');
    await waitFor(() => itemsOf(second, conv).length === 1, 'device 2 to get its own message');
    expect(itemsOf(second, conv)[0]).toMatchObject({ body: 'from device 1', mine: true, seq: 1, status: 'sent' });

    for (const body of ['bob 1', 'bob 2', 'bob 3']) bob.client.sendText(conv, body);
    await waitFor(
      () => [first, second].every((phone) => phone.client.stores.sessions.find(conv)?.unread === 3),
      'three unread on both devices',
    );
    first.client.openConversation(conv);
    expect(first.client.stores.sessions.find(conv)?.unread).toBe(0);
    await waitFor(() => second.client.stores.sessions.find(conv)?.unread === 0, 'device 2 to hear of the read');
    expect(second.client.stores.sessions.find(conv)?.readSeq).toBe(4);
    await waitFor(() => bob.client.stores.sessions.find(conv)?.peerReadSeq === 4, 'bob to see it read');

    // A cut does not make them drift apart.
    proxy.cut();
    second.client.sendText(conv, 'from device 2');
    await expectExactDelivery([first, second, bob], conv, [
      ['from device 1', 'from device 2'],
      ['bob 1', 'bob 2', 'bob 3'],
    ]);
    expect(
      itemsOf(first, conv)
        .filter((item) => item.mine)
        .map((item) => item.body),
    ).toEqual(['from device 1', 'from device 2']);
    for (const phone of [first, second, bob]) expect(phone.adapter.maxConcurrentTasks).toBe(1);
  });

  it('backoff: full-jitter delays that double to the cap, starting over after a synced connection', async () => {
    const srv = await server();
    const proxy = await proxyTo(srv);
    const backoff = { baseMs: 100, capMs: 800 };
    const source = seeded(7);
    const draws: Array<{ at: number; value: number }> = [];
    const random = () => {
      const value = source();
      draws.push({ at: Date.now(), value });
      return value;
    };
    const phone = await startPhone(proxy.url, { backoff, random });
    const slackMs = 150;

    /**
     * Follows one outage of `attempts` failed connects. Each failure draws one random number and
     * waits floor(value · min(cap, base·2^n)) before the next SocketTask: that delay is checked
     * against the draw, and the time between successive tasks against the full-jitter bound.
     */
    async function outage(attempts: number): Promise<void> {
      const drawsBefore = draws.length;
      const connectsBefore = connects(phone).length;
      const cutAt = Date.now();
      proxy.refuse();
      proxy.cut();
      await waitFor(() => connects(phone).length >= connectsBefore + attempts, `${attempts} retries`, 8000);
      const retries = connects(phone).slice(connectsBefore, connectsBefore + attempts);
      retries.forEach((retry, n) => {
        const previousAt = n === 0 ? cutAt : retries[n - 1].at;
        const ceiling = Math.min(backoff.capMs, backoff.baseMs * 2 ** n);
        // The n-th draw of the outage is the one made when the n-th failure was noticed.
        const draw = draws[drawsBefore + n];
        expect(draw).toBeDefined();
        expect(draw.at).toBeGreaterThanOrEqual(previousAt);
        expect(draw.at).toBeLessThanOrEqual(retry.at);
        const delay = Math.floor(draw.value * ceiling);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(ceiling);
        expect(retry.at - draw.at).toBeGreaterThanOrEqual(delay - 2);
        expect(retry.at - draw.at).toBeLessThanOrEqual(delay + slackMs);
        // Between two tasks: the failed attempt, then the delay.
        expect(retry.at - previousAt).toBeLessThanOrEqual(ceiling + slackMs);
      });
    }

    await outage(6);
    proxy.restore();
    await waitFor(() => ready(phone), 'the connection after the outage', 3000);
    // A synced connection: the next outage starts over at the first bound.
    await outage(3);
    proxy.restore();
    await waitFor(() => ready(phone), 'the connection after the second outage', 3000);
    expect(phone.adapter.maxConcurrentTasks).toBe(1);
    expect(proxy.refusedCount).toBeGreaterThanOrEqual(9);
  });
});
