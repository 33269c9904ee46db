/**
 * The chat domain over real sockets: send (acks, fan-out, gap-free seq, idempotent cid,
 * authorship, refusals), history paging, read cursors, and typing.
 */
import { directConversationId } from '../../contract/conversations';
import { isDirectSession, type ServerFrameOf } from '../../contract/frames';
import type { UploadResponse } from '../../contract/http';
import { useSockets, useTestServer } from './support/fixture';
import { fullHistory, settle, TestSocket, twoPeople, type Person } from './support/server';

const server = useTestServer();

let counter = 0;
/** A cid unique within this file. */
function cid(label = 'c'): string {
  return `${label}-${++counter}`;
}

const newPerson = () => server.person();

/** Sends a text and waits for its ack. */
async function sendText(socket: TestSocket, to: string, body: string, id = cid()): Promise<ServerFrameOf<'ack'>> {
  socket.send({ type: 'send', cid: id, to, kind: 'text', body });
  return socket.next('ack', (ack) => ack.cid === id);
}

function messagesIn(socket: TestSocket): ServerFrameOf<'message'>[] {
  return socket.frames.flatMap((frame) => (frame.type === 'message' ? [frame] : []));
}

describe('send', () => {
  it('acks the sender with {cid, conv, seq, ts} and delivers the message to the peer', async () => {
    const alice = await newPerson();
    const bob = await newPerson();
    const before = Date.now();
    const ack = await sendText(alice.socket, bob.id, 'hello bob', 'first');
    const conv = directConversationId(alice.id, bob.id);
    expect(ack).toEqual({ type: 'ack', cid: 'first', conv, seq: 1, ts: expect.any(Number) });
    expect(ack.ts).toBeGreaterThanOrEqual(before);
    expect(ack.ts).toBeLessThanOrEqual(Date.now());

    const message = await bob.socket.next('message');
    expect(message).toEqual({
      type: 'message',
      conv,
      seq: 1,
      cid: 'first',
      from: alice.id,
      kind: 'text',
      body: 'hello bob',
      ts: ack.ts,
    });
  });

  it('names the one-to-one conversation dm:<a>:<b> with sorted ids, the same whichever side sends', async () => {
    const alice = await newPerson();
    const bob = await newPerson();
    const fromAlice = await sendText(alice.socket, bob.id, 'a→b');
    const fromBob = await sendText(bob.socket, alice.id, 'b→a');
    const [low, high] = [alice.id, bob.id].sort();
    expect(fromAlice.conv).toBe(`dm:${low}:${high}`);
    expect(fromBob.conv).toBe(fromAlice.conv);
    expect([fromAlice.seq, fromBob.seq]).toEqual([1, 2]);
  });

  it("delivers to every connection of the peer and the sender's other connections, not the sending one", async () => {
    const alice = await newPerson();
    const bob = await newPerson();
    const alicePhone = alice.socket;
    const aliceLaptop = await alice.connect();
    const bobPhone = bob.socket;
    const bobLaptop = await bob.connect();
    const outsider = await newPerson();

    const ack = await sendText(alicePhone, bob.id, 'to all my devices');
    for (const socket of [aliceLaptop, bobPhone, bobLaptop]) {
      const message = await socket.next('message');
      expect(message).toMatchObject({ cid: ack.cid, seq: ack.seq, from: alice.id, body: 'to all my devices' });
    }
    await settle(alicePhone, aliceLaptop, bobPhone, bobLaptop, outsider.socket);
    expect(messagesIn(alicePhone)).toEqual([]);
    expect(messagesIn(aliceLaptop)).toEqual([]);
    expect(messagesIn(bobPhone)).toEqual([]);
    expect(messagesIn(outsider.socket)).toEqual([]);
    // Only the sending connection got the ack.
    expect(aliceLaptop.frames.some((frame) => frame.type === 'ack')).toBe(false);
  });

  it('numbers messages 1, 2, 3 … per conversation, each conversation on its own', async () => {
    const alice = await newPerson();
    const bob = await newPerson();
    const carol = await newPerson();
    const seqs: Array<[string, number]> = [];
    for (let i = 0; i < 3; i++) {
      const toBob = await sendText(alice.socket, bob.id, `b${i}`);
      const toCarol = await sendText(alice.socket, carol.id, `c${i}`);
      seqs.push(['bob', toBob.seq], ['carol', toCarol.seq]);
    }
    const fromBob = await sendText(bob.socket, alice.id, 'reply');
    expect(seqs).toEqual([
      ['bob', 1],
      ['carol', 1],
      ['bob', 2],
      ['carol', 2],
      ['bob', 3],
      ['carol', 3],
    ]);
    expect(fromBob.seq).toBe(4);
  });

  it('stores a cid sent twice once: two acks with the same seq, one delivery, the first body kept', async () => {
    const alice = await newPerson();
    const bob = await newPerson();
    const laptop = await alice.connect();
    alice.socket.send({ type: 'send', cid: 'twice', to: bob.id, kind: 'text', body: 'original' });
    alice.socket.send({ type: 'send', cid: 'twice', to: bob.id, kind: 'text', body: 'resent' });
    const first = await alice.socket.next('ack', (ack) => ack.cid === 'twice');
    const second = await alice.socket.next('ack', (ack) => ack.cid === 'twice');
    expect(second).toEqual(first);
    expect(first.seq).toBe(1);
    // Resent later from another connection of the same user: still the same message.
    laptop.send({ type: 'send', cid: 'twice', to: bob.id, kind: 'text', body: 'from the laptop' });
    expect(await laptop.next('ack', (ack) => ack.cid === 'twice')).toEqual(first);

    await settle(bob.socket, laptop);
    expect(messagesIn(bob.socket).map((m) => [m.cid, m.seq, m.body])).toEqual([['twice', 1, 'original']]);
    expect(messagesIn(laptop).map((m) => m.cid)).toEqual(['twice']);

    const next = await sendText(alice.socket, bob.id, 'after');
    expect(next.seq).toBe(2);
    const history = await fullHistory(bob.socket, first.conv);
    expect(history.map((m) => [m.seq, m.cid, m.body])).toEqual([
      [1, 'twice', 'original'],
      [2, next.cid, 'after'],
    ]);
  });

  it('treats the same cid from two different users as two messages', async () => {
    const alice = await newPerson();
    const bob = await newPerson();
    const a = await sendText(alice.socket, bob.id, 'from alice', 'shared-cid');
    const b = await sendText(bob.socket, alice.id, 'from bob', 'shared-cid');
    expect([a.seq, b.seq]).toEqual([1, 2]);
  });

  it('keeps seqs gap-free under 4 connections × 25 concurrent sends from both users', async () => {
    const alice = await newPerson();
    const bob = await newPerson();
    const connections = [alice.socket, await alice.connect(), bob.socket, await bob.connect()];
    const senders = [alice, alice, bob, bob];
    const perConnection = 25;

    const acks = connections.map((socket, index) => {
      const peer = senders[index] === alice ? bob : alice;
      const ids = Array.from({ length: perConnection }, (_, i) => `conc-${index}-${i}`);
      for (const id of ids) socket.send({ type: 'send', cid: id, to: peer.id, kind: 'text', body: id });
      return Promise.all(ids.map((id) => socket.next('ack', (ack) => ack.cid === id)));
    });
    const all = (await Promise.all(acks)).flat();
    const conv = directConversationId(alice.id, bob.id);
    expect(all.every((ack) => ack.conv === conv)).toBe(true);
    expect(all.map((ack) => ack.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    // Each connection's own sends got increasing seqs, in the order it sent them.
    for (const list of await Promise.all(acks)) {
      const seqs = list.map((ack) => ack.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    }

    const history = await fullHistory(connections[0], conv);
    expect(history).toHaveLength(100);
    expect(history.map((m) => m.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const seqByCid = new Map(all.map((ack) => [ack.cid, ack.seq]));
    for (const message of history) {
      expect(message.seq).toBe(seqByCid.get(message.cid));
      expect(message.from).toBe(
        message.cid.startsWith('conc-0') || message.cid.startsWith('conc-1') ? alice.id : bob.id,
      );
    }

    // Every connection received exactly the 75 messages the other three sent, in seq order.
    await settle(...connections);
    connections.forEach((socket, index) => {
      const received = messagesIn(socket);
      expect(received).toHaveLength(75);
      expect(received.some((m) => m.cid.startsWith(`conc-${index}-`))).toBe(false);
      const seqs = received.map((m) => m.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    });
  });

  it('ignores a `from` in the client frame: the author is the authenticated user', async () => {
    const alice = await newPerson();
    const bob = await newPerson();
    alice.socket.send({ type: 'send', cid: 'spoof', to: bob.id, kind: 'text', body: 'who am i', from: bob.id });
    const ack = await alice.socket.next('ack', (frame) => frame.cid === 'spoof');
    expect((await bob.socket.next('message')).from).toBe(alice.id);
    const [stored] = await fullHistory(bob.socket, ack.conv);
    expect(stored.from).toBe(alice.id);
  });

  it('accepts an image message whose body is one of our uploads, and refuses any other url', async () => {
    const alice = await newPerson();
    const bob = await newPerson();
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
      'base64',
    );
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'photo.png');
    const uploaded = await fetch(`${server.url}/api/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.token}` },
      body: form,
    });
    const { url } = (await uploaded.json()) as UploadResponse;

    alice.socket.send({ type: 'send', cid: 'img', to: bob.id, kind: 'image', body: url });
    await alice.socket.next('ack', (ack) => ack.cid === 'img');
    expect(await bob.socket.next('message')).toMatchObject({ kind: 'image', body: url });

    alice.socket.send({ type: 'send', cid: 'img-2', to: bob.id, kind: 'image', body: 'https://example.com/p.png' });
    expect(await alice.socket.next('error', (error) => error.ref === 'img-2')).toMatchObject({ code: 'bad_frame' });
    const history = await fullHistory(alice.socket, directConversationId(alice.id, bob.id));
    expect(history.map((message) => message.cid)).toEqual(['img']);
  });

  it('sends into an existing conversation named by `conv` instead of `to`', async () => {
    const alice = await newPerson();
    const bob = await newPerson();
    const conv = directConversationId(alice.id, bob.id);
    // Before its first message, a one-to-one conversation can already be named by its id.
    alice.socket.send({ type: 'send', cid: 'by-conv-1', conv, kind: 'text', body: 'one' });
    expect(await alice.socket.next('ack', (ack) => ack.cid === 'by-conv-1')).toMatchObject({ conv, seq: 1 });
    bob.socket.send({ type: 'send', cid: 'by-conv-2', conv, kind: 'text', body: 'two' });
    expect(await bob.socket.next('ack', (ack) => ack.cid === 'by-conv-2')).toMatchObject({ conv, seq: 2 });
    expect(await alice.socket.next('message')).toMatchObject({ conv, seq: 2, from: bob.id });
  });

  describe('refusals', () => {
    let alice: Person;
    let bob: Person;
    beforeEach(async () => {
      alice = await newPerson();
      bob = await newPerson();
    });

    it('answers not_found with ref = cid for a user that does not exist', async () => {
      alice.socket.send({ type: 'send', cid: 'ghost', to: 'u-no-such-user', kind: 'text', body: 'hi' });
      expect(await alice.socket.next('error')).toEqual({
        type: 'error',
        code: 'not_found',
        message: expect.stringContaining('u-no-such-user'),
        ref: 'ghost',
      });
    });

    it('answers bad_frame for a message to yourself', async () => {
      alice.socket.send({ type: 'send', cid: 'self', to: alice.id, kind: 'text', body: 'hi me' });
      expect(await alice.socket.next('error')).toEqual({
        type: 'error',
        code: 'bad_frame',
        message: expect.stringContaining('"to"'),
        ref: 'self',
      });
    });

    it('answers bad_frame when both or neither of `to` and `conv` are given', async () => {
      const conv = directConversationId(alice.id, bob.id);
      alice.socket.send({ type: 'send', cid: 'both', to: bob.id, conv, kind: 'text', body: 'x' });
      expect(await alice.socket.next('error')).toMatchObject({ code: 'bad_frame', ref: 'both' });
      alice.socket.send({ type: 'send', cid: 'neither', kind: 'text', body: 'x' });
      const error = await alice.socket.next('error');
      expect(error).toMatchObject({ code: 'bad_frame', ref: 'neither' });
      expect(error.message).toMatch(/"to".*"conv"/);
      await settle(bob.socket);
      expect(messagesIn(bob.socket)).toEqual([]);
    });

    it('answers forbidden for a conversation the sender is not in; nothing stored or delivered', async () => {
      const mallory = await newPerson();
      const ack = await sendText(alice.socket, bob.id, 'private');
      await bob.socket.next('message');

      mallory.socket.send({ type: 'send', cid: 'intrude', conv: ack.conv, kind: 'text', body: 'let me in' });
      expect(await mallory.socket.next('error')).toEqual({
        type: 'error',
        code: 'forbidden',
        message: expect.any(String),
        ref: 'intrude',
      });
      // Also when pretending to be one of them.
      mallory.socket.send({ type: 'send', cid: 'intrude-2', conv: ack.conv, kind: 'text', body: 'x', from: alice.id });
      expect(await mallory.socket.next('error')).toMatchObject({ code: 'forbidden', ref: 'intrude-2' });
      // A conversation id that names no conversation at all.
      mallory.socket.send({ type: 'send', cid: 'intrude-3', conv: 'group:nope', kind: 'text', body: 'x' });
      expect(await mallory.socket.next('error')).toMatchObject({ code: 'forbidden', ref: 'intrude-3' });

      await settle(alice.socket, bob.socket);
      expect(messagesIn(alice.socket)).toEqual([]);
      expect(messagesIn(bob.socket)).toEqual([]);
      for (const member of [alice, bob]) {
        const history = await fullHistory(member.socket, ack.conv);
        expect(history.map((m) => m.body)).toEqual(['private']);
      }
      // And the next real message continues the sequence without a gap.
      expect((await sendText(bob.socket, alice.id, 'next')).seq).toBe(2);
    });

    it('answers not_found for a one-to-one conversation id naming a user that does not exist', async () => {
      alice.socket.send({
        type: 'send',
        cid: 'dm-ghost',
        conv: directConversationId(alice.id, 'u-ghost'),
        kind: 'text',
        body: 'x',
      });
      expect(await alice.socket.next('error')).toMatchObject({ code: 'not_found', ref: 'dm-ghost' });
    });
  });
});

describe('history', () => {
  const shared = useSockets('all');
  let alice: Person;
  let bob: Person;
  let conv: string;

  beforeAll(async () => {
    ({ alice, bob, conv } = await twoPeople(server, shared));
    for (let i = 1; i <= 45; i++) {
      const from = i % 3 === 0 ? bob : alice;
      const to = from === alice ? bob : alice;
      from.socket.send({ type: 'send', cid: `h${i}`, to: to.id, kind: 'text', body: `message ${i}` });
      await from.socket.next('ack', (ack) => ack.cid === `h${i}`);
    }
  });

  /** The page of the conversation's history `socket` gets for a `history` frame with `request`. */
  async function pageOf(socket: TestSocket, request: { before?: number; limit?: number } = {}) {
    socket.send({ type: 'history', conv, ...request });
    return socket.next('history');
  }

  /** Checks a page: exactly the seqs `from`..`to`, ascending, and whether older ones remain. */
  function expectPage(page: ServerFrameOf<'history'>, from: number, to: number, hasMore: boolean): void {
    expect(page.messages.map((m) => m.seq)).toEqual(Array.from({ length: to - from + 1 }, (_, i) => from + i));
    expect(page.hasMore).toBe(hasMore);
  }

  it('gives the newest page of 20 by default, ascending by seq, with hasMore', async () => {
    const page = await pageOf(alice.socket);
    expect(page.conv).toBe(conv);
    expectPage(page, 26, 45, true);
    expect(page.messages[19]).toEqual({
      conv,
      seq: 45,
      cid: 'h45',
      from: bob.id,
      kind: 'text',
      body: 'message 45',
      ts: expect.any(Number),
    });
  });

  it('pages back with `before` until hasMore is false', async () => {
    expectPage(await pageOf(bob.socket, { before: 26 }), 6, 25, true);
    expectPage(await pageOf(bob.socket, { before: 6 }), 1, 5, false);
    expect(await pageOf(bob.socket, { before: 1 })).toEqual({ type: 'history', conv, messages: [], hasMore: false });
  });

  it('honours `limit` up to 100', async () => {
    expectPage(await pageOf(alice.socket, { limit: 5, before: 11 }), 6, 10, true);
    expectPage(await pageOf(alice.socket, { limit: 100 }), 1, 45, false);
    expect((await pageOf(alice.socket, { limit: 45 })).hasMore).toBe(false);
  });

  it('refuses a limit over 100, or under 1, as bad_frame', async () => {
    for (const limit of [101, 0, 2.5]) {
      alice.socket.send({ type: 'history', conv, limit });
      const error = await alice.socket.next('error');
      expect(error.code).toBe('bad_frame');
      expect(error.message).toContain('limit');
    }
  });

  it('answers forbidden for a conversation the caller is not in', async () => {
    const mallory = await newPerson();
    mallory.socket.send({ type: 'history', conv });
    expect(await mallory.socket.next('error')).toMatchObject({ code: 'forbidden' });
    expect(mallory.socket.frames.some((frame) => frame.type === 'history')).toBe(false);
  });

  it('gives an empty page for a one-to-one conversation with an existing user that has no message yet', async () => {
    const carol = await newPerson();
    const fresh = directConversationId(carol.id, alice.id);
    carol.socket.send({ type: 'history', conv: fresh });
    expect(await carol.socket.next('history')).toEqual({ type: 'history', conv: fresh, messages: [], hasMore: false });
  });

  it('answers not_found for a one-to-one conversation with a user that does not exist', async () => {
    const carol = await newPerson();
    carol.socket.send({ type: 'history', conv: directConversationId(carol.id, 'u-missing') });
    expect(await carol.socket.next('error')).toMatchObject({ code: 'not_found' });
  });
});

describe('read', () => {
  /** Alice (two connections) and Bob; Bob has sent Alice 5 messages. */
  async function setup() {
    const alice = await newPerson();
    const bob = await newPerson();
    const aliceLaptop = await alice.connect();
    let conv = '';
    for (let i = 1; i <= 5; i++) conv = (await sendText(bob.socket, alice.id, `unread ${i}`)).conv;
    await settle(alice.socket, aliceLaptop);
    for (const socket of [alice.socket, aliceLaptop, bob.socket]) socket.frames.splice(0);
    return { alice, bob, aliceLaptop, conv };
  }

  async function sessionOf(socket: TestSocket, conv: string) {
    socket.send({ type: 'sync', cursors: {} });
    const { sessions } = await socket.next('sessions');
    await socket.next('synced');
    socket.frames.splice(0);
    const session = sessions.filter(isDirectSession).find((entry) => entry.conv === conv);
    if (!session) throw new Error(`no session ${conv}`);
    return session;
  }

  const statesIn = (socket: TestSocket) => socket.frames.filter((frame) => frame.type === 'states');

  it("sends states to the peer and the reader's other connections, not the reading one", async () => {
    const { alice, bob, aliceLaptop, conv } = await setup();
    alice.socket.send({ type: 'read', conv, seq: 3 });
    const expected = { type: 'states', conv, user: alice.id, readSeq: 3 };
    expect(await bob.socket.next('states')).toEqual(expected);
    expect(await aliceLaptop.next('states')).toEqual(expected);
    await settle(alice.socket);
    expect(statesIn(alice.socket)).toEqual([]);

    const session = await sessionOf(alice.socket, conv);
    expect(session).toMatchObject({ readSeq: 3, lastSeq: 5, unread: 2 });
    expect((await sessionOf(bob.socket, conv)).peerReadSeq).toBe(3);
  });

  it('only moves forward: a backwards or equal read changes nothing and sends nothing', async () => {
    const { alice, bob, aliceLaptop, conv } = await setup();
    alice.socket.send({ type: 'read', conv, seq: 4 });
    expect((await bob.socket.next('states')).readSeq).toBe(4);
    await aliceLaptop.next('states');

    alice.socket.send({ type: 'read', conv, seq: 2 });
    alice.socket.send({ type: 'read', conv, seq: 4 });
    aliceLaptop.send({ type: 'read', conv, seq: 0 });
    await settle(alice.socket, aliceLaptop);
    await settle(bob.socket);
    expect(statesIn(bob.socket)).toEqual([]);
    expect(statesIn(aliceLaptop)).toEqual([]);
    expect(statesIn(alice.socket)).toEqual([]);
    expect((await sessionOf(alice.socket, conv)).readSeq).toBe(4);
  });

  it('drops unread to 0 in the next sessions once everything is read', async () => {
    const { alice, bob, conv } = await setup();
    const before = await sessionOf(alice.socket, conv);
    expect(before).toMatchObject({ unread: 5, readSeq: 0, lastSeq: 5, peerReadSeq: 5 });
    alice.socket.send({ type: 'read', conv, seq: 5 });
    await bob.socket.next('states');
    expect(await sessionOf(alice.socket, conv)).toMatchObject({ unread: 0, readSeq: 5 });
  });

  it("caps readSeq at the conversation's last seq", async () => {
    const { alice, bob, conv } = await setup();
    alice.socket.send({ type: 'read', conv, seq: 1_000_000 });
    expect(await bob.socket.next('states')).toEqual({ type: 'states', conv, user: alice.id, readSeq: 5 });
    expect((await sessionOf(alice.socket, conv)).readSeq).toBe(5);
    // Reading "past the end" again is not a move forward.
    alice.socket.send({ type: 'read', conv, seq: 9 });
    await settle(alice.socket, bob.socket);
    expect(statesIn(bob.socket)).toEqual([]);
  });

  it("a send moves the sender's cursor: their other connections get states, the peer and the sending one none", async () => {
    const alice = await newPerson();
    const bob = await newPerson();
    const aliceLaptop = await alice.connect();
    let conv = '';
    for (let i = 1; i <= 3; i++) conv = (await sendText(bob.socket, alice.id, `unread ${i}`)).conv;
    await settle(alice.socket, aliceLaptop);
    for (const socket of [alice.socket, aliceLaptop, bob.socket]) socket.frames.splice(0);
    expect(await sessionOf(aliceLaptop, conv)).toMatchObject({ unread: 3, readSeq: 0, lastSeq: 3 });

    const ack = await sendText(alice.socket, bob.id, 'a reply, without a read', 'reply');
    expect(ack.seq).toBe(4);
    // The laptop hears of the message, then of the read it implies.
    expect(await aliceLaptop.next('message')).toMatchObject({ conv, seq: 4, from: alice.id });
    expect(await aliceLaptop.next('states')).toEqual({ type: 'states', conv, user: alice.id, readSeq: 4 });
    expect(await bob.socket.next('message')).toMatchObject({ conv, seq: 4 });
    await settle(alice.socket, aliceLaptop);
    await settle(bob.socket);
    expect(statesIn(alice.socket)).toEqual([]);
    expect(statesIn(aliceLaptop)).toEqual([]);
    expect(statesIn(bob.socket)).toEqual([]);
    expect(await sessionOf(aliceLaptop, conv)).toMatchObject({ unread: 0, readSeq: 4, lastSeq: 4 });
    expect((await sessionOf(bob.socket, conv)).peerReadSeq).toBe(4);

    // A resend of the stored cid moves nothing and tells nobody.
    expect(await sendText(aliceLaptop, bob.id, 'again', 'reply')).toMatchObject({ seq: 4 });
    await settle(alice.socket, aliceLaptop);
    await settle(bob.socket);
    for (const socket of [alice.socket, aliceLaptop, bob.socket]) expect(statesIn(socket)).toEqual([]);
  });

  it("a send into a conversation with unread messages tells the sender's other connections, which read them all", async () => {
    const { alice, bob, aliceLaptop, conv } = await setup();
    // The laptop has read 2 of Bob's 5; the phone replies without reading at all.
    aliceLaptop.send({ type: 'read', conv, seq: 2 });
    await alice.socket.next('states');
    await bob.socket.next('states');
    alice.socket.send({ type: 'send', cid: cid(), conv, kind: 'text', body: 'reply' });
    expect(await aliceLaptop.next('states')).toEqual({ type: 'states', conv, user: alice.id, readSeq: 6 });
    expect(await sessionOf(alice.socket, conv)).toMatchObject({ unread: 0, readSeq: 6 });
  });

  it('answers forbidden for a conversation the reader is not in, and tells nobody', async () => {
    const { alice, bob, aliceLaptop, conv } = await setup();
    const mallory = await newPerson();
    mallory.socket.send({ type: 'read', conv, seq: 5 });
    expect(await mallory.socket.next('error')).toMatchObject({ code: 'forbidden' });
    await settle(alice.socket, aliceLaptop, bob.socket);
    for (const socket of [alice.socket, aliceLaptop, bob.socket]) expect(statesIn(socket)).toEqual([]);
    expect((await sessionOf(alice.socket, conv)).unread).toBe(5);
  });
});

/** How many messages a conversation's newest history page holds. */
async function historyLength(socket: TestSocket, conv: string): Promise<number> {
  socket.send({ type: 'history', conv });
  return (await socket.next('history', (page) => page.conv === conv)).messages.length;
}

describe('typing', () => {
  it('is relayed to the peer only, as {type, conv, user}, once the conversation is stored', async () => {
    const alice = await newPerson();
    const bob = await newPerson();
    const bobLaptop = await bob.connect();
    const aliceLaptop = await alice.connect();
    const conv = directConversationId(alice.id, bob.id);
    // Before the first message the conversation is not stored: nothing is relayed, nothing answered.
    alice.socket.send({ type: 'typing', conv });
    await settle(alice.socket);
    await settle(bob.socket, bobLaptop);
    expect(bob.socket.frames.filter((frame) => frame.type === 'typing')).toEqual([]);
    expect(alice.socket.frames.filter((frame) => frame.type === 'error')).toEqual([]);

    await sendText(alice.socket, bob.id, 'hi');
    const before = await historyLength(bob.socket, conv);
    alice.socket.send({ type: 'typing', conv });
    const expected = { type: 'typing', conv, user: alice.id };
    expect(await bob.socket.next('typing')).toEqual(expected);
    expect(await bobLaptop.next('typing')).toEqual(expected);
    await settle(alice.socket, aliceLaptop);
    expect(alice.socket.frames.filter((frame) => frame.type === 'typing')).toEqual([]);
    expect(aliceLaptop.frames.filter((frame) => frame.type === 'typing')).toEqual([]);
    // Not stored: history is as it was.
    expect(await historyLength(bob.socket, conv)).toBe(before);
  });

  it('is dropped without an answer for a conversation the typist is not in', async () => {
    const alice = await newPerson();
    const bob = await newPerson();
    const mallory = await newPerson();
    const { conv } = await sendText(alice.socket, bob.id, 'hi');
    await bob.socket.next('message');
    mallory.socket.send({ type: 'typing', conv });
    await settle(mallory.socket, bob.socket);
    expect(mallory.socket.frames.filter((frame) => frame.type === 'error')).toEqual([]);
    expect(bob.socket.frames.filter((frame) => frame.type === 'typing')).toEqual([]);
  });
});
