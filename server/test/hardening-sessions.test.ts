/**
 * Issue 14, attack 1: a `sessions` frame too large for its client to take. The list comes in pages
 * of `LIMITS.sessionsPage`, each entry's text an excerpt, the replay of one `sync` bounded in all;
 * the rest of the list comes with `sessions {after}`.
 */
import { directConversationId } from '../../contract/conversations';
import {
  isDirectSession,
  type AnySessionEntry,
  type PublicUser,
  type ServerFrame,
  type ServerFrameOf,
  type SyncFrame,
} from '../../contract/frames';
import { LIMITS } from '../../contract/limits';
import type { Store } from '../src/store/types';
import { useTestServer } from './support/fixture';
import { chatStillWorks, login, TestSocket, type TestServer } from './support/server';

/** The largest text allowed, in emoji: 4,000 UTF-16 units, 8,000 bytes of UTF-8. */
const LARGEST_EMOJI_TEXT = '😀'.repeat(LIMITS.maxTextLength / 2);
/** "Well under" the 1 MiB a connection may hold unsent. */
const FRAME_BOUND = 64 * 1024;

interface SyncAnswer {
  sessions: ServerFrameOf<'sessions'>;
  /** The `sessions` frame as it came over the wire. */
  sessionsText: string;
  messages: ServerFrameOf<'message'>[];
  synced: ServerFrameOf<'synced'>;
}

/** Sends a sync on a socket with nothing else pending and collects what it answers. */
async function sync(socket: TestSocket, cursors: SyncFrame['cursors'] = {}): Promise<SyncAnswer> {
  socket.frames.splice(0);
  const textsBefore = socket.texts.length;
  socket.send({ type: 'sync', cursors });
  const synced = await socket.next('synced', () => true, 20_000);
  const frames: ServerFrame[] = socket.frames.splice(0);
  const sessions = frames.find((frame): frame is ServerFrameOf<'sessions'> => frame.type === 'sessions');
  if (!sessions) throw new Error('the sync answered no sessions frame');
  const sessionsText = socket.texts.slice(textsBefore).find((text) => text.startsWith('{"type":"sessions"')) ?? '';
  const messages = frames.filter((frame): frame is ServerFrameOf<'message'> => frame.type === 'message');
  return { sessions, sessionsText, messages, synced };
}

/**
 * The sync of a victim with more conversations than one page, while `chatStillWorks` runs: the
 * socket stays open and the first page comes full, with more to come, in a frame well under the bound.
 */
async function syncUnderAttack(
  server: { url: string; wsUrl: string },
  socket: TestSocket,
  cursors: SyncFrame['cursors'] = {},
): Promise<SyncAnswer> {
  const [answer] = await Promise.all([sync(socket, cursors), chatStillWorks(server)]);
  expect(socket.ws.readyState).toBe(socket.ws.OPEN);
  expect(Buffer.byteLength(answer.sessionsText)).toBeLessThan(FRAME_BOUND);
  expect(answer.sessions.sessions).toHaveLength(LIMITS.sessionsPage);
  expect(answer.sessions.more).toBe(true);
  return answer;
}

/** Asks for the page after `after`; the frame and its size on the wire. */
async function nextPage(
  socket: TestSocket,
  after: string,
): Promise<{ page: ServerFrameOf<'sessions'>; bytes: number }> {
  const textsBefore = socket.texts.length;
  socket.send({ type: 'sessions', after });
  const page = await socket.next('sessions', (frame) => frame.after === after, 10_000);
  const text = socket.texts.slice(textsBefore).find((t) => t.startsWith('{"type":"sessions"')) ?? '';
  return { page, bytes: Buffer.byteLength(text) };
}

/** Pages through the whole list after the first page: every entry, in the order the pages gave them. */
async function allPages(
  socket: TestSocket,
  first: ServerFrameOf<'sessions'>,
  maxPages: number,
): Promise<AnySessionEntry[]> {
  const entries = [...first.sessions];
  let more = first.more;
  for (let pages = 1; more; pages++) {
    if (pages > maxPages) throw new Error(`more than ${maxPages} pages`);
    const after = entries[entries.length - 1].conv;
    const { page, bytes } = await nextPage(socket, after);
    expect(page.sessions.length).toBeLessThanOrEqual(LIMITS.sessionsPage);
    expect(bytes).toBeLessThan(FRAME_BOUND);
    entries.push(...page.sessions);
    more = page.more;
  }
  return entries;
}

/** Every `last` of a text is an excerpt: at most 50 units, no half of a surrogate pair. */
function expectExcerpts(entries: readonly AnySessionEntry[]): void {
  for (const entry of entries) {
    expect(entry.last).not.toBeNull();
    if (entry.last?.kind !== 'text') continue;
    expect(entry.last.body.length).toBeLessThanOrEqual(LIMITS.excerptLength);
    expect(entry.last.body).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
  }
}

/** In the list's order: last activity, newest first, then conv. */
function expectListOrder(entries: readonly AnySessionEntry[]): void {
  for (let i = 1; i < entries.length; i++) {
    const [a, b] = [entries[i - 1], entries[i]];
    const inOrder = a.last!.ts > b.last!.ts || (a.last!.ts === b.last!.ts && a.conv < b.conv);
    if (!inOrder)
      throw new Error(`entries ${i - 1} and ${i} out of order: ${a.conv} ${a.last!.ts}, ${b.conv} ${b.last!.ts}`);
  }
}

let devices = 0;

/** `count` users made straight in the store, in bounded batches. */
async function users(store: Store, count: number): Promise<PublicUser[]> {
  const made: PublicUser[] = [];
  for (let i = 0; i < count; i++) {
    made.push(await store.userFor({ provider: 'dev', externalId: `attack1-${++devices}` }, { nickname: `对方${i}` }));
  }
  return made;
}

/**
 * One message from each peer to `to`, straight into the store, at once per batch (the SQLite store
 * commits each batch in one transaction). Message i is stored at `ts(i)`.
 */
async function messagesFrom(
  store: Store,
  peers: readonly PublicUser[],
  to: string,
  body: string,
  ts: (i: number) => number,
): Promise<string[]> {
  const convs: string[] = [];
  const batch = 500;
  for (let start = 0; start < peers.length; start += batch) {
    const sends = peers.slice(start, start + batch).map((peer, j) => {
      const conv = directConversationId(peer.id, to);
      convs.push(conv);
      return store.appendMessage({
        conv,
        members: [peer.id, to].sort(),
        from: peer.id,
        cid: `attack1-${start + j}`,
        kind: 'text',
        body,
        ts: ts(start + j),
      });
    });
    await Promise.all(sends);
  }
  return convs;
}

async function victimSocket(server: TestServer, sockets: TestSocket[], token: string): Promise<TestSocket> {
  const socket = await TestSocket.open(server.wsUrl, token);
  sockets.push(socket);
  return socket;
}

describe('attack 1: a sessions frame too large to take', () => {
  const server = useTestServer();

  it('150 accounts each send one 4,000-unit emoji text to one user: that user syncs, every last an excerpt', async () => {
    const victim = await login(server.url, `victim-${Date.now()}`);
    // The attack as it was done: 150 accounts, each over its own socket.
    const senders = [];
    for (let start = 0; start < 150; start += 25) {
      senders.push(...(await Promise.all(Array.from({ length: 25 }, () => server.person()))));
    }
    await Promise.all(
      senders.map(async (sender, i) => {
        const cid = `big-${i}`;
        sender.socket.send({ type: 'send', cid, to: victim.user.id, kind: 'text', body: LARGEST_EMOJI_TEXT });
        await sender.socket.next('ack', (ack) => ack.cid === cid);
      }),
    );

    const socket = await victimSocket(server, server.sockets, victim.token);
    const answer = await syncUnderAttack(server, socket);
    expect(answer.sessions.after).toBeUndefined();
    expectExcerpts(answer.sessions.sessions);
    expect(answer.sessions.sessions[0].last?.body).toBe('😀'.repeat(LIMITS.excerptLength / 2));
    // The first page's conversations are replayed whole (one message each), the rest wait.
    expect(answer.messages).toHaveLength(LIMITS.sessionsPage);
    expect(answer.messages.every((message) => message.body === LARGEST_EMOJI_TEXT)).toBe(true);
    expect(answer.synced.truncated).toEqual([]);

    const [entries] = await Promise.all([allPages(socket, answer.sessions, 2), chatStillWorks(server)]);
    expect(entries).toHaveLength(150);
    expect(new Set(entries.map((entry) => entry.conv))).toEqual(
      new Set(senders.map((sender) => directConversationId(sender.id, victim.user.id))),
    );
    expectExcerpts(entries);
    expectListOrder(entries);
    expect(socket.ws.readyState).toBe(socket.ws.OPEN);
  });

  it('300 conversations, every cursor current: the sync still succeeds, and replays nothing', async () => {
    const victim = await login(server.url, `current-${Date.now()}`);
    const peers = await users(server.store, 300);
    const base = Date.now();
    const convs = await messagesFrom(server.store, peers, victim.user.id, LARGEST_EMOJI_TEXT, (i) => base + i);
    const socket = await victimSocket(server, server.sockets, victim.token);

    const cursors = Object.fromEntries(convs.map((conv) => [conv, 1]));
    const answer = await syncUnderAttack(server, socket, cursors);
    expect(answer.messages).toEqual([]);
    expect(answer.synced.truncated).toEqual([]);
    // Most recent first: the last one stored is on top.
    expect(answer.sessions.sessions[0].conv).toBe(convs[convs.length - 1]);
    const entries = await allPages(socket, answer.sessions, 3);
    expect(entries.map((entry) => entry.conv)).toEqual([...convs].reverse());
  });

  it('a user with 10,000 conversations whose last messages are each the largest allowed syncs, and pages through them all', async () => {
    const victim = await login(server.url, `ten-thousand-${Date.now()}`);
    const peers = await users(server.store, 10_000);
    const base = Date.now() - 1_000_000;
    // Three conversations share each time: the conv id orders them.
    const convs = await messagesFrom(server.store, peers, victim.user.id, LARGEST_EMOJI_TEXT, (i) =>
      Math.floor(base + i / 3),
    );
    const socket = await victimSocket(server, server.sockets, victim.token);

    const answer = await syncUnderAttack(server, socket);
    expect(answer.messages.length).toBeLessThanOrEqual(LIMITS.syncMessages);

    const [entries] = await Promise.all([
      allPages(socket, answer.sessions, Math.ceil(10_000 / LIMITS.sessionsPage)),
      chatStillWorks(server),
    ]);
    // No duplicates, no gaps: every conversation once, in the list's order.
    expect(entries).toHaveLength(10_000);
    expect(new Set(entries.map((entry) => entry.conv))).toEqual(new Set(convs));
    expectListOrder(entries);
    expectExcerpts(entries);
    expect(socket.ws.readyState).toBe(socket.ws.OPEN);
  }, 60_000);
});

describe('sync: the replay of one sync is bounded in all', () => {
  const server = useTestServer();

  /** `perConv` messages from each peer to `to`, the conversations' last activity in peer order. */
  async function busy(store: Store, peers: readonly PublicUser[], to: string, perConv: number): Promise<string[]> {
    const base = Date.now() - 100_000;
    for (let round = 0; round < perConv; round++) {
      await Promise.all(
        peers.map((peer, i) =>
          store.appendMessage({
            conv: directConversationId(peer.id, to),
            members: [peer.id, to].sort(),
            from: peer.id,
            cid: `busy-${round}`,
            kind: 'text',
            body: `${i}:${round + 1}`,
            ts: base + i * 1000 + round,
          }),
        ),
      );
    }
    return peers.map((peer) => directConversationId(peer.id, to));
  }

  it(`replays at most ${LIMITS.syncMessages} messages; the conversations past that are listed as truncated`, async () => {
    const victim = await login(server.url, `total-${Date.now()}`);
    const peers = await users(server.store, 25);
    // 25 conversations of 60 messages: 50 of each would be 1,250.
    const convs = (await busy(server.store, peers, victim.user.id, 60)).reverse();
    const socket = await victimSocket(server, server.sockets, victim.token);

    const answer = await sync(socket);
    expect(answer.sessions.sessions.map((entry) => entry.conv)).toEqual(convs);
    expect(answer.messages).toHaveLength(LIMITS.syncMessages);
    const perConv = LIMITS.syncMessages / LIMITS.syncPerConversation;
    // The 20 most recent got their newest 50 (ascending); every one of the 25 missed more than it got.
    for (const [i, conv] of convs.slice(0, perConv).entries()) {
      const got = answer.messages.filter((message) => message.conv === conv).map((message) => message.seq);
      expect([i, got]).toEqual([i, Array.from({ length: 50 }, (_, k) => 11 + k)]);
    }
    expect(answer.messages.filter((message) => convs.slice(perConv).includes(message.conv))).toEqual([]);
    expect(answer.synced.truncated).toEqual(convs);
  });

  it('replays a conversation named in cursors beyond the first page; ignores cursors of others', async () => {
    const victim = await login(server.url, `beyond-${Date.now()}`);
    const peers = await users(server.store, LIMITS.sessionsPage + 5);
    const convs = (await busy(server.store, peers, victim.user.id, 1)).reverse();
    // The oldest conversation gets two more messages, stored as if long ago: it stays off the first page.
    const oldest = peers[0];
    for (const cid of ['late-1', 'late-2']) {
      await server.store.appendMessage({
        conv: convs[convs.length - 1],
        members: [oldest.id, victim.user.id].sort(),
        from: oldest.id,
        cid,
        kind: 'text',
        body: cid,
        ts: 1,
      });
    }
    const [stranger1, stranger2] = await users(server.store, 2);
    const notMine = directConversationId(stranger1.id, stranger2.id);
    await server.store.appendMessage({
      conv: notMine,
      members: [stranger1.id, stranger2.id].sort(),
      from: stranger1.id,
      cid: 'not-mine',
      kind: 'text',
      body: 'secret',
      ts: Date.now(),
    });
    const socket = await victimSocket(server, server.sockets, victim.token);

    const cursors = Object.fromEntries(convs.map((conv) => [conv, 1]));
    const answer = await sync(socket, { ...cursors, [notMine]: 0 });
    expect(answer.sessions.sessions.map((entry) => entry.conv)).not.toContain(convs[convs.length - 1]);
    expect(answer.messages.map((message) => [message.conv, message.seq, message.body])).toEqual([
      [convs[convs.length - 1], 2, 'late-1'],
      [convs[convs.length - 1], 3, 'late-2'],
    ]);
    expect(answer.synced.truncated).toEqual([]);
  });
});

describe('sessions {after}: the next page of the list', () => {
  const server = useTestServer();

  it('answers the page after a conversation of the caller; forbidden for another’s, not_found for an unknown one', async () => {
    const me = await server.person();
    const ann = await server.person();
    const ben = await server.person();
    const carol = await server.person();
    for (const [from, to] of [
      [ann, me],
      [ben, me],
      [ann, carol],
    ] as const) {
      const cid = `hello-${from.id}-${to.id}`;
      from.socket.send({ type: 'send', cid, to: to.id, kind: 'text', body: 'hello' });
      await from.socket.next('ack', (ack) => ack.cid === cid);
    }
    // The list's own order (two sends in one millisecond tie on time and fall back to the id).
    me.socket.send({ type: 'sync', cursors: {} });
    const [first, second] = (await me.socket.next('sessions')).sessions.filter(isDirectSession);
    await me.socket.next('synced');
    expect([first.conv, second.conv].sort()).toEqual(
      [directConversationId(me.id, ann.id), directConversationId(me.id, ben.id)].sort(),
    );

    const { page } = await nextPage(me.socket, first.conv);
    expect(page).toEqual({
      type: 'sessions',
      sessions: [expect.objectContaining({ conv: second.conv, peer: expect.objectContaining({ id: second.peer.id }) })],
      more: false,
      after: first.conv,
    });
    expect((await nextPage(me.socket, second.conv)).page).toEqual({
      type: 'sessions',
      sessions: [],
      more: false,
      after: second.conv,
    });

    me.socket.send({ type: 'sessions', after: directConversationId(ann.id, carol.id) });
    expect(await me.socket.next('error')).toMatchObject({ code: 'forbidden' });
    me.socket.send({ type: 'sessions', after: directConversationId(me.id, carol.id) });
    expect(await me.socket.next('error')).toMatchObject({ code: 'not_found' });
    me.socket.send({ type: 'sessions', after: 'g:nothing' });
    expect(await me.socket.next('error')).toMatchObject({ code: 'forbidden' });
    me.socket.send({ type: 'sessions' });
    expect(await me.socket.next('error')).toMatchObject({ code: 'bad_frame' });
    me.socket.send({ type: 'sessions', after: '' });
    expect(await me.socket.next('error')).toMatchObject({ code: 'bad_frame' });
  });
});
