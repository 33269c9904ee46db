/**
 * Issue 14, the socket side: each attack of the issue that goes through the WebSocket gateway,
 * run against a real server with the limit it is about set to its default (the test server
 * relaxes every limit otherwise), and a normal two-user chat checked while the attack runs.
 */
import net from 'node:net';
import WebSocket from 'ws';
import { directConversationId } from '../../contract/conversations';
import type { ServerFrame } from '../../contract/frames';
import { CLOSE_CODES, LIMITS } from '../../contract/limits';
import type { ServerConfig } from '../src/config';
import { useOwnServers, useSockets } from './support/fixture';
import {
  chatStillWorks,
  person,
  refusedUpgrade,
  settle,
  TestSocket,
  type Person,
  type TestServer,
} from './support/server';
import { sleep, waitFor } from './support/wait';

const sockets = useSockets();
const ownServer = useOwnServers();

/** The defaults of docs/protocol.md for the limits these attacks are about. */
const DEFAULTS = {
  requestRate: { perSecond: 10, burst: 20 },
  userRequestRate: { perSecond: 20, burst: 40 },
  userSendRate: { perMinute: 60, burst: 120 },
  typingRate: { perSecond: 1, burst: 3 },
  maxConnectionsPerUser: 10,
} satisfies Partial<ServerConfig>;

/** The largest text, in UTF-8 bytes the most a body can be: 4000 CJK characters, 12,000 bytes. */
const LARGEST = '满'.repeat(LIMITS.maxTextLength);

/** A socket of `who` whose TCP side stops reading once open; `resume` reads again. */
async function nonReader(server: TestServer, who: Person): Promise<{ socket: TestSocket; resume(): void }> {
  let tcp: net.Socket | undefined;
  const socket = await TestSocket.open(server.wsUrl, who.token, {
    createConnection: (options) => (tcp = net.createConnection(options as net.NetConnectOpts)),
  });
  sockets.push(socket);
  if (!tcp) throw new Error('createConnection was not used');
  const raw = tcp;
  raw.pause();
  return { socket, resume: () => raw.resume() };
}

/** Sends `count` largest texts from `from` to `to` (in batches, each acked) and returns the conversation. */
async function fill(from: Person, to: Person, count: number): Promise<string> {
  for (let start = 0; start < count; start += 50) {
    const acks = [];
    for (let i = start; i < Math.min(count, start + 50); i++) {
      const cid = `fill-${i}`;
      from.socket.send({ type: 'send', cid, to: to.id, kind: 'text', body: LARGEST });
      acks.push(from.socket.next('ack', (ack) => ack.cid === cid));
    }
    await Promise.all(acks);
  }
  return directConversationId(from.id, to.id);
}

/**
 * `peers` new people each send `reader` as many largest texts as a sync replays of one
 * conversation: a sync of `reader` then answers with ~600 KB per peer. Returns how many were sent.
 */
async function fillMany(
  server: TestServer,
  reader: Person,
  peers: number,
): Promise<{ total: number; convs: string[] }> {
  const senders = await Promise.all(Array.from({ length: peers }, () => person(server, sockets)));
  const convs = await Promise.all(senders.map((sender) => fill(sender, reader, LIMITS.syncPerConversation)));
  return { total: peers * LIMITS.syncPerConversation, convs };
}

function errorsOf(socket: TestSocket): Extract<ServerFrame, { type: 'error' }>[] {
  return socket.frames.filter((frame): frame is Extract<ServerFrame, { type: 'error' }> => frame.type === 'error');
}

describe('attack 2: sockets that stop reading and flood history', () => {
  it('10 sockets of one user asking for 100 largest messages every 10 ms: budgets refuse, /healthz and chat keep working', async () => {
    const server = await ownServer({ requestRate: DEFAULTS.requestRate, userRequestRate: DEFAULTS.userRequestRate });
    const attacker = await person(server, sockets);
    const peer = await person(server, sockets);
    const conv = await fill(peer, attacker, LIMITS.historyMax);
    const built = jest.spyOn(server.store, 'history');

    const flooders = await Promise.all(Array.from({ length: 10 }, () => nonReader(server, attacker)));
    let requests = 0;
    let attacking = true;
    const attack = (async () => {
      // 5 s of it: 500 rounds, 10 ms apart (cut short only if the test fails meanwhile).
      for (let round = 0; round < 500 && attacking; round++) {
        for (const { socket } of flooders) {
          if (socket.ws.readyState !== WebSocket.OPEN) continue;
          socket.send({ type: 'history', conv, limit: LIMITS.historyMax });
          requests++;
        }
        await sleep(10);
      }
    })();
    try {
      await sleep(200);
      // While it runs: the server answers, a normal chat works, and the same user's own reading
      // connection is refused too (the budget is the user's, not the socket's).
      const health = await fetch(`${server.url}/healthz`);
      expect(health.status).toBe(200);
      await chatStillWorks(server);
      for (let i = 0; i < 5; i++) attacker.socket.send({ type: 'history', conv, limit: 1 });
      const refusal = await attacker.socket.next('error', (frame) => frame.code === 'rate_limited');
      expect(refusal.ref).toBe(conv);
      await chatStillWorks(server);
      await attack;
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      attacking = false;
      await attack;
    }
    // Of thousands of requests, only the budget's worth of pages was ever built.
    expect(requests).toBeGreaterThan(1000);
    expect(built.mock.calls.length).toBeLessThan(requests / 5);
    for (const { socket } of flooders) socket.ws.terminate();
    await chatStillWorks(server);
  });

  it('a request that arrives while earlier answers are unread is refused before its page is built', async () => {
    const server = await ownServer();
    const reader = await person(server, sockets);
    const peer = await person(server, sockets);
    const conv = await fill(peer, reader, LIMITS.historyMax);
    const built = jest.spyOn(server.store, 'history');
    const slow = await nonReader(server, reader);
    const asked = 40;
    // 40 pages of ~1.2 MB: far more than the kernel's buffers and the server's 1 MiB bound.
    for (let i = 0; i < asked; i++) slow.socket.send({ type: 'history', conv, limit: LIMITS.historyMax });
    await waitFor(() => built.mock.calls.length > 0, 'the first page');
    await sleep(500);
    await chatStillWorks(server);
    // Reading again: every request is answered, by its page or by a refusal; the socket stays open.
    slow.resume();
    await waitFor(
      () => slow.socket.frames.filter((frame) => frame.type === 'history' || frame.type === 'error').length >= asked,
      'an answer to every request',
      20_000,
    );
    await settle(slow.socket);
    expect(slow.socket.ws.readyState).toBe(WebSocket.OPEN);
    const pages = slow.socket.frames.filter((frame) => frame.type === 'history');
    const refusals = errorsOf(slow.socket);
    expect(refusals.length).toBeGreaterThan(0);
    for (const refusal of refusals) expect(refusal).toMatchObject({ code: 'rate_limited', ref: conv });
    expect(pages.length + refusals.length).toBe(asked);
    // A refused request never had its page built.
    expect(built.mock.calls.length).toBe(pages.length);
  });

  it('a sync larger than the buffers is paced out to a client that reads late, not closed with 1013', async () => {
    const server = await ownServer();
    const reader = await person(server, sockets);
    const { total } = await fillMany(server, reader, 20);
    const slow = await nonReader(server, reader);
    slow.socket.send({ type: 'sync', cursors: {} });
    await sleep(1000);
    await chatStillWorks(server);
    slow.resume();
    await slow.socket.next('synced', undefined, 20_000);
    expect(slow.socket.frames.filter((frame) => frame.type === 'message')).toHaveLength(total);
    expect(slow.socket.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('an answer that does not drain within 3 heartbeats closes the socket with 1013', async () => {
    const filled = await ownServer();
    const reader = await person(filled, sockets);
    await fillMany(filled, reader, 30);
    await filled.stop();
    // The same data (and token secret) again, with a short heartbeat: 3 intervals are 1.5 s.
    const server = await ownServer({ dataDir: filled.dataDir, heartbeatMs: 500 });
    const slow = await nonReader(server, reader);
    slow.socket.send({ type: 'sync', cursors: {} });
    const chat = chatStillWorks(server);
    // The client keeps talking (so the heartbeat sweep does not drop it) but does not read for
    // 5 heartbeats, two more than the server waits; then it reads and finds the 1013 (the server
    // cuts a socket that does not answer it only 3 heartbeats after sending it).
    for (let i = 0; i < 25; i++) {
      slow.socket.send({ type: 'ping' });
      await sleep(100);
    }
    slow.resume();
    await chat;
    expect(await slow.socket.closed).toEqual({ code: CLOSE_CODES.tryAgainLater, reason: 'not reading' });
  });

  it('work queued for a socket that closed is dropped, never built', async () => {
    const server = await ownServer();
    const reader = await person(server, sockets);
    const peers = 30;
    const [conv] = (await fillMany(server, reader, peers)).convs;
    const replayed = jest.spyOn(server.store, 'messagesAfter');
    const built = jest.spyOn(server.store, 'history');
    const slow = await nonReader(server, reader);
    // A sync far larger than the buffers, and behind it requests that wait their turn.
    slow.socket.send({ type: 'sync', cursors: {} });
    for (let i = 0; i < 100; i++) slow.socket.send({ type: 'history', conv, limit: LIMITS.historyMax });
    await waitFor(() => replayed.mock.calls.length > 0, 'the replay to begin');
    await sleep(500);
    slow.socket.ws.terminate();
    await chatStillWorks(server);
    await settle(reader.socket);
    // The sync stopped where the socket went, and nothing queued behind it was built.
    expect(replayed.mock.calls.length).toBeLessThan(peers);
    expect(built).not.toHaveBeenCalled();
  });
});

describe('attack 4: one user storing messages from many sockets', () => {
  it('10 sockets sending the largest texts: at most the per-user burst is stored, the rest refused by cid', async () => {
    const server = await ownServer({ userSendRate: DEFAULTS.userSendRate });
    const attacker = await person(server, sockets);
    const victim = await person(server, sockets);
    const extra = await Promise.all(Array.from({ length: 9 }, () => attacker.connect()));
    const all = [attacker.socket, ...extra];
    const perSocket = 20;
    const answers: Array<Promise<ServerFrame>> = [];
    all.forEach((socket, s) => {
      for (let i = 0; i < perSocket; i++) {
        const cid = `flood-${s}-${i}`;
        socket.send({ type: 'send', cid, to: victim.id, kind: 'text', body: LARGEST });
        answers.push(
          Promise.race([
            socket.next('ack', (ack) => ack.cid === cid),
            socket.next('error', (error) => error.ref === cid),
          ]),
        );
      }
    });
    await chatStillWorks(server);
    const settled = await Promise.all(answers);
    const acked = settled.filter((frame) => frame.type === 'ack');
    const refused = settled.filter((frame) => frame.type === 'error');
    // The burst (120), and what the minute's rate (1 a second) added while they were sent.
    expect(acked.length).toBeGreaterThanOrEqual(DEFAULTS.userSendRate.burst);
    expect(acked.length).toBeLessThan(DEFAULTS.userSendRate.burst + 20);
    for (const frame of refused) expect(frame).toMatchObject({ code: 'rate_limited' });
    // Nothing refused was stored.
    const conv = directConversationId(attacker.id, victim.id);
    victim.socket.send({ type: 'sync', cursors: {} });
    const { sessions } = await victim.socket.next('sessions');
    expect(sessions.find((session) => session.conv === conv)?.lastSeq).toBe(acked.length);
  });

  it('bytes per rolling day: past the quota a send is refused (ref = cid, the quota named) and not stored', async () => {
    const quota = 100_000;
    const server = await ownServer({ userMessageBytesPerDay: quota });
    const attacker = await person(server, sockets);
    const victim = await person(server, sockets);
    const second = await attacker.connect();
    const fits = Math.floor(quota / Buffer.byteLength(LARGEST));
    const answers: ServerFrame[] = [];
    for (let i = 0; i < fits + 5; i++) {
      const socket = i % 2 === 0 ? attacker.socket : second;
      const cid = `bytes-${i}`;
      socket.send({ type: 'send', cid, to: victim.id, kind: 'text', body: LARGEST });
      answers.push(
        await Promise.race([
          socket.next('ack', (ack) => ack.cid === cid),
          socket.next('error', (error) => error.ref === cid),
        ]),
      );
      if (i === fits) await chatStillWorks(server);
    }
    expect(answers.slice(0, fits).every((frame) => frame.type === 'ack')).toBe(true);
    for (const frame of answers.slice(fits)) {
      expect(frame).toMatchObject({ type: 'error', code: 'rate_limited', message: expect.stringMatching(/quota/) });
    }
    // A short text still fits in what is left.
    attacker.socket.send({ type: 'send', cid: 'short', to: victim.id, kind: 'text', body: 'ok' });
    expect((await attacker.socket.next('ack', (ack) => ack.cid === 'short')).seq).toBe(fits + 1);
  });
});

describe('attack 5: many sockets with one token', () => {
  it('the 11th socket of a user closes their oldest with 4004 replaced; deliveries go to 10 at most', async () => {
    const server = await ownServer({ maxConnectionsPerUser: DEFAULTS.maxConnectionsPerUser });
    const many = await person(server, sockets);
    const sender = await person(server, sockets);
    const opened = [many.socket];
    for (let i = 0; i < 29; i++) opened.push(await many.connect());
    await chatStillWorks(server);
    const closes = await Promise.all(opened.slice(0, 20).map((socket) => socket.closed));
    for (const close of closes) expect(close).toEqual({ code: CLOSE_CODES.replaced, reason: 'replaced' });
    const kept = opened.slice(20);
    for (const socket of kept) expect(socket.ws.readyState).toBe(WebSocket.OPEN);

    sender.socket.send({ type: 'send', cid: 'to-many', to: many.id, kind: 'text', body: 'hi' });
    await Promise.all(kept.map((socket) => socket.next('message', (frame) => frame.cid === 'to-many')));
    await settle(...kept);
    for (const socket of opened.slice(0, 20)) {
      expect(socket.frames.filter((frame) => frame.type === 'message')).toEqual([]);
    }
  });
});

describe('attack 10: typing to strangers', () => {
  it('a stranger’s typing reaches no one and is not answered; a member’s beyond the budget is dropped', async () => {
    const server = await ownServer({ typingRate: DEFAULTS.typingRate });
    const victim = await person(server, sockets);
    const stranger = await person(server, sockets);
    const friend = await person(server, sockets);
    const strangerConv = directConversationId(victim.id, stranger.id);
    friend.socket.send({ type: 'send', cid: 'hello', to: victim.id, kind: 'text', body: 'hi' });
    const { conv } = await friend.socket.next('ack');
    await victim.socket.next('message');

    // The stranger: to a conversation never stored, and to one they are not in, again and again.
    const strangerSockets = [stranger.socket, await stranger.connect(), await stranger.connect()];
    for (let round = 0; round < 100; round++) {
      for (const socket of strangerSockets) {
        socket.send({ type: 'typing', conv: strangerConv });
        socket.send({ type: 'typing', conv });
      }
    }
    // The friend: far beyond the per-connection budget.
    for (let i = 0; i < 50; i++) friend.socket.send({ type: 'typing', conv });
    await chatStillWorks(server);
    await settle(...strangerSockets, friend.socket, victim.socket);

    const hints = victim.socket.frames.filter((frame) => frame.type === 'typing');
    expect(hints.every((frame) => frame.type === 'typing' && frame.user === friend.id)).toBe(true);
    expect(hints.length).toBeGreaterThanOrEqual(1);
    expect(hints.length).toBeLessThanOrEqual(DEFAULTS.typingRate.burst + 1);
    for (const socket of [...strangerSockets, friend.socket]) expect(errorsOf(socket)).toEqual([]);
  });
});

describe('attack 11: too many sockets', () => {
  /** An upgrade with `token` the server is expected to refuse: its status, Retry-After and JSON body. */
  const refused = (wsUrl: string, token: string) => refusedUpgrade(wsUrl, { authorization: `Bearer ${token}` });

  it('at MAX_CONNECTIONS one more is refused before the upgrade with 503 unavailable and Retry-After', async () => {
    const max = 20;
    const server = await ownServer({ maxConnections: max, maxConnectionsPerUser: 10 });
    // Two attackers with a token each hold every socket the server allows.
    const attackers = [await person(server, sockets), await person(server, sockets)];
    const held = attackers.map((attacker) => attacker.socket);
    for (const attacker of attackers) for (let i = 1; i < 10; i++) held.push(await attacker.connect());
    expect(held).toHaveLength(max);

    for (let i = 0; i < 10; i++) {
      const answer = await refused(server.wsUrl, attackers[i % 2].token);
      expect(answer).toEqual({
        status: 503,
        retryAfter: expect.stringMatching(/^\d+$/),
        body: { error: { code: 'unavailable', message: expect.any(String) } },
      });
    }
    // The sockets held are unharmed (no one was replaced to make room) and the server answers.
    await settle(...held);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    // With two of them let go, while the rest are still held, a normal chat fits.
    const released = held.splice(0, 2);
    for (const socket of released) socket.close();
    await Promise.all(released.map((socket) => socket.closed));
    // The server counts a socket until its own side has seen the close.
    await sleep(200);
    await chatStillWorks(server);
    await sleep(200);
    // Back at the cap once the chat's sockets and two more of the attacker's are open.
    held.push(await attackers[0].connect(), await attackers[1].connect());
    expect((await refused(server.wsUrl, attackers[0].token)).status).toBe(503);
  });
});
