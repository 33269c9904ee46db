/**
 * Message actions over a real server (docs/protocol.md, "Message actions"): recall (its rules, its
 * `recalled` system message, idempotent cid, across sync), replies with their quote, and mute and
 * pin on every device. Every test runs on SQLite, and on PostgreSQL when DATABASE_URL is set.
 */
import { directConversationId } from '../../contract/conversations';
import type { AnySessionEntry, ServerFrame, ServerFrameOf } from '../../contract/frames';
import type { GroupView } from '../src/chat/groups';
import type { ServerConfig } from '../src/config';
import { useTestServer } from './support/fixture';
import { DATABASE_URL, dropSchema, newSchemaName, warnSkipped } from './support/services';
import { api, expectFailure, fullHistory, settle, uploadImage, type Person, type TestSocket } from './support/server';

type Answer = ServerFrameOf<'ack'> | ServerFrameOf<'error'>;

/** The ack or the error that answers the frame with this cid. */
function answerTo(socket: TestSocket, cid: string): Promise<Answer> {
  return Promise.race<Answer>([
    socket.next('ack', (frame) => frame.cid === cid),
    socket.next('error', (frame) => frame.ref === cid),
  ]);
}

async function send(person: Person, target: { to: string } | { conv: string }, cid: string, extra = {}) {
  person.socket.send({ type: 'send', cid, kind: 'text', body: `text ${cid}`, ...target, ...extra });
  return answerTo(person.socket, cid);
}

async function recall(person: Person, conv: string, seq: number, cid: string): Promise<Answer> {
  person.socket.send({ type: 'recall', cid, conv, seq });
  return answerTo(person.socket, cid);
}

/** The session list's first page as a fresh connection of the person sees it. */
async function sessionsOf(person: Person): Promise<AnySessionEntry[]> {
  const phone = await person.connect();
  phone.send({ type: 'sync', cursors: {} });
  const { sessions } = await phone.next('sessions');
  await phone.next('synced');
  phone.close();
  return sessions;
}

function recalledEvent(frame: ServerFrame, seq: number): boolean {
  return (
    frame.type === 'message' && frame.kind === 'system' && frame.body === JSON.stringify({ event: 'recalled', seq })
  );
}

function actionsSuite(storeName: string, settings: () => Partial<ServerConfig>): void {
  describe(`message actions on ${storeName}`, () => {
    const server = useTestServer(() => settings());

    async function people(count: number): Promise<Person[]> {
      const list: Person[] = [];
      for (let i = 0; i < count; i++) list.push(await server.person());
      return list;
    }

    async function createGroup(owner: Person, members: Person[]): Promise<GroupView> {
      const answer = await api(server.url, 'POST', '/api/groups', {
        token: owner.token,
        json: { name: '撤回测试', members: members.map((member) => member.id) },
      });
      expect(answer.status).toBe(201);
      return (answer.body as { group: GroupView }).group;
    }

    describe('recall', () => {
      it('by its sender within the window: a `recalled` system message to both, its own seq, the message recalled everywhere', async () => {
        const [alice, bob] = await people(2);
        const conv = directConversationId(alice.id, bob.id);
        const laptop = await alice.connect();
        expect(await send(alice, { to: bob.id }, 'm1', { mentions: undefined })).toMatchObject({ seq: 1 });
        await bob.socket.next('message', (frame) => frame.cid === 'm1');
        const ack = await recall(alice, conv, 1, 'r1');
        expect(ack).toEqual({ type: 'ack', cid: 'r1', conv, seq: 2, ts: expect.any(Number) });
        for (const socket of [bob.socket, laptop]) {
          const event = await socket.next('message', (frame) => frame.cid === 'r1');
          expect(event).toEqual({
            type: 'message',
            conv,
            seq: 2,
            cid: 'r1',
            from: alice.id,
            kind: 'system',
            body: '{"event":"recalled","seq":1}',
            ts: (ack as ServerFrameOf<'ack'>).ts,
          });
        }
        // Like a send, it moved the recaller's read cursor: their other devices hear so.
        expect(await laptop.next('states', (frame) => frame.conv === conv && frame.readSeq === 2)).toMatchObject({
          user: alice.id,
        });
        await settle(alice.socket);
        expect(alice.socket.frames.some((frame) => frame.type === 'message' && frame.cid === 'r1')).toBe(false);
        const history = await fullHistory(bob.socket, conv);
        expect(history).toEqual([
          { conv, seq: 1, cid: 'm1', from: alice.id, kind: 'recalled', body: '', ts: expect.any(Number) },
          expect.objectContaining({ seq: 2, kind: 'system', cid: 'r1' }),
        ]);
        const [entry] = (await sessionsOf(bob)).filter((session) => session.conv === conv);
        expect(entry).toMatchObject({ lastSeq: 2, unread: 0, last: { seq: 2, kind: 'system' } });
      });

      it('the same cid again is acked again with the same answer, stored once; a second recall is forbidden', async () => {
        const [alice, bob] = await people(2);
        const conv = directConversationId(alice.id, bob.id);
        await send(alice, { to: bob.id }, 'm1');
        const first = await recall(alice, conv, 1, 'r1');
        const again = await recall(alice, conv, 1, 'r1');
        expect(again).toEqual(first);
        const other = await recall(alice, conv, 1, 'r2');
        expect(other).toMatchObject({ type: 'error', code: 'forbidden', ref: 'r2' });
        expect((await fullHistory(alice.socket, conv)).map((m) => [m.seq, m.kind])).toEqual([
          [1, 'recalled'],
          [2, 'system'],
        ]);
        await settle(bob.socket);
        expect(bob.socket.frames.filter((frame) => frame.type === 'message' && frame.cid === 'r1')).toHaveLength(1);
      });

      it('refusals: unknown seq not_found; the peer, a system message, a stranger forbidden; nothing stored', async () => {
        const [alice, bob, carol] = await people(3);
        const conv = directConversationId(alice.id, bob.id);
        await send(alice, { to: bob.id }, 'm1');
        expect(await recall(alice, conv, 99, 'x1')).toMatchObject({ code: 'not_found', ref: 'x1' });
        expect(await recall(bob, conv, 1, 'x2')).toMatchObject({ code: 'forbidden', ref: 'x2' });
        expect(await recall(carol, conv, 1, 'x3')).toMatchObject({ code: 'forbidden', ref: 'x3' });
        await recall(alice, conv, 1, 'r1');
        // Seq 2 is the `recalled` message itself.
        expect(await recall(alice, conv, 2, 'x4')).toMatchObject({ code: 'forbidden', ref: 'x4' });
        alice.socket.send({ type: 'recall', cid: 'x5', conv, seq: 0 });
        expect(await alice.socket.next('error', (frame) => frame.ref === 'x5')).toMatchObject({ code: 'bad_frame' });
        expect((await fullHistory(alice.socket, conv)).map((m) => m.seq)).toEqual([1, 2]);
      });

      it("in a group: the owner and admins recall anyone's message, a member only their own; every member hears it", async () => {
        const [alice, bob, carol, dave] = await people(4);
        const group = await createGroup(alice, [bob, carol, dave]);
        expect(
          (await api(server.url, 'PUT', `/api/groups/${group.id}/admins/${bob.id}`, { token: alice.token })).status,
        ).toBe(200);
        // seq 1 created, seq 2 role.
        expect(await send(alice, { conv: group.conv }, 'a1')).toMatchObject({ seq: 3 });
        expect(await send(carol, { conv: group.conv }, 'c1')).toMatchObject({ seq: 4 });
        expect(await send(dave, { conv: group.conv }, 'd1')).toMatchObject({ seq: 5 });
        // A plain member: not someone else's.
        expect(await recall(carol, group.conv, 3, 'x1')).toMatchObject({ code: 'forbidden' });
        expect(await recall(carol, group.conv, 5, 'x2')).toMatchObject({ code: 'forbidden' });
        // The admin recalls a member's message, the owner another's, a member their own.
        expect(await recall(bob, group.conv, 4, 'rb')).toMatchObject({ type: 'ack', seq: 6 });
        expect(await recall(alice, group.conv, 5, 'ra')).toMatchObject({ type: 'ack', seq: 7 });
        expect(await send(carol, { conv: group.conv }, 'c2')).toMatchObject({ seq: 8 });
        expect(await recall(carol, group.conv, 8, 'rc')).toMatchObject({ type: 'ack', seq: 9 });
        for (const person of [alice, bob, carol, dave]) {
          await settle(person.socket);
          const events = person.socket.frames.filter(
            (frame) => recalledEvent(frame, 4) || recalledEvent(frame, 5) || recalledEvent(frame, 8),
          );
          // Everyone but the recalling connection hears each one.
          expect(events).toHaveLength([bob, alice, carol].filter((who) => who !== person).length);
        }
        const history = await fullHistory(dave.socket, group.conv);
        expect(history.filter((m) => m.kind === 'recalled').map((m) => m.seq)).toEqual([4, 5, 8]);
        // A system message is never recalled, not even by the owner.
        expect(await recall(alice, group.conv, 1, 'x3')).toMatchObject({ code: 'forbidden' });
        // Someone who left may recall nothing.
        await api(server.url, 'DELETE', `/api/groups/${group.id}/members/${dave.id}`, { token: dave.token });
        expect(await recall(dave, group.conv, 3, 'x4')).toMatchObject({ code: 'forbidden' });
      });

      it('a recalled mention no longer marks the session mentioned, nor counts as unread', async () => {
        const [alice, bob, carol] = await people(3);
        const group = await createGroup(alice, [bob, carol]);
        expect(await send(carol, { conv: group.conv }, 'c1', { mentions: [bob.id] })).toMatchObject({ seq: 2 });
        expect((await sessionsOf(bob)).find((s) => s.conv === group.conv)).toMatchObject({
          mentioned: true,
          unread: 1,
        });
        expect(await recall(alice, group.conv, 2, 'ra')).toMatchObject({ type: 'ack', seq: 3 });
        expect((await sessionsOf(bob)).find((s) => s.conv === group.conv)).toMatchObject({
          mentioned: false,
          unread: 0,
        });
      });

      it('a socket that held the message sees it recalled after reconnecting with sync', async () => {
        const [alice, bob] = await people(2);
        const conv = directConversationId(alice.id, bob.id);
        await send(alice, { to: bob.id }, 'm1');
        await send(alice, { to: bob.id }, 'm2');
        await bob.socket.next('message', (frame) => frame.cid === 'm2');
        bob.socket.close();
        expect(await recall(alice, conv, 1, 'r1')).toMatchObject({ seq: 3 });
        const phone = await bob.connect();
        phone.send({ type: 'sync', cursors: { [conv]: 2 } });
        await phone.next('sessions');
        const replayed = await phone.next('message', (frame) => frame.conv === conv);
        expect(replayed).toMatchObject({ seq: 3, kind: 'system', body: '{"event":"recalled","seq":1}' });
        await phone.next('synced');
        const history = await fullHistory(phone, conv);
        expect(history.map((m) => [m.seq, m.kind, m.body])).toEqual([
          [1, 'recalled', ''],
          [2, 'text', 'text m2'],
          [3, 'system', '{"event":"recalled","seq":1}'],
        ]);
        // A sync from nothing replays the message itself as recalled.
        phone.send({ type: 'sync', cursors: {} });
        await phone.next('synced');
        const again = phone.frames.filter((frame) => frame.type === 'message' && frame.seq === 1);
        expect(again).toEqual([expect.objectContaining({ kind: 'recalled', body: '' })]);
      });
    });

    describe('the recall window', () => {
      const short = useTestServer(() => ({ ...settings(), recallWindowS: 1 }));

      it('refuses the sender once RECALL_WINDOW_S has passed since the message was stored', async () => {
        const alice = await short.person();
        const bob = await short.person();
        const conv = directConversationId(alice.id, bob.id);
        await send(alice, { to: bob.id }, 'm1');
        await send(alice, { to: bob.id }, 'm2');
        expect(await recall(alice, conv, 2, 'r2')).toMatchObject({ type: 'ack', seq: 3 });
        await new Promise((resolve) => setTimeout(resolve, 1100));
        expect(await recall(alice, conv, 1, 'r1')).toMatchObject({ type: 'error', code: 'forbidden', ref: 'r1' });
      });
    });

    describe('reply', () => {
      it('stores and carries a quote: a text cut to 50 UTF-16 units, an image as [图片]; in message, history, sync, last', async () => {
        const [alice, bob] = await people(2);
        const conv = directConversationId(alice.id, bob.id);
        const long = '一'.repeat(49) + '😀' + 'tail';
        alice.socket.send({ type: 'send', cid: 't1', to: bob.id, kind: 'text', body: long });
        await answerTo(alice.socket, 't1');
        const url = await uploadImage(server.url, alice.token);
        alice.socket.send({ type: 'send', cid: 'i1', to: bob.id, kind: 'image', body: url });
        await answerTo(alice.socket, 'i1');
        expect(await send(bob, { conv }, 'q1', { reply: 1 })).toMatchObject({ type: 'ack', seq: 3 });
        expect(await send(bob, { to: alice.id }, 'q2', { reply: 2 })).toMatchObject({ type: 'ack', seq: 4 });
        const textQuote = { seq: 1, from: alice.id, kind: 'text', excerpt: '一'.repeat(49) };
        const imageQuote = { seq: 2, from: alice.id, kind: 'image', excerpt: '[图片]' };
        expect(await alice.socket.next('message', (frame) => frame.cid === 'q1')).toMatchObject({ reply: textQuote });
        expect(await alice.socket.next('message', (frame) => frame.cid === 'q2')).toMatchObject({ reply: imageQuote });
        const history = await fullHistory(alice.socket, conv);
        expect(history.map((m) => m.reply)).toEqual([undefined, undefined, textQuote, imageQuote]);
        const phone = await alice.connect();
        phone.send({ type: 'sync', cursors: { [conv]: 2 } });
        const { sessions } = await phone.next('sessions');
        expect(sessions.find((s) => s.conv === conv)?.last).toMatchObject({ seq: 4, reply: imageQuote });
        expect(await phone.next('message', (frame) => frame.seq === 3)).toMatchObject({ reply: textQuote });
        // Kept as stored once the quoted message is recalled.
        await recall(alice, conv, 1, 'r1');
        expect((await fullHistory(bob.socket, conv))[2]).toMatchObject({ seq: 3, reply: textQuote });
        // A resend of the reply is answered as stored, though its quote is recalled now.
        expect(await send(bob, { conv }, 'q1', { reply: 1 })).toMatchObject({ type: 'ack', seq: 3 });
      });

      it('refuses a missing seq (not_found), a recalled one (forbidden), a system message (bad_frame); nothing stored', async () => {
        const [alice, bob, carol] = await people(3);
        const conv = directConversationId(alice.id, bob.id);
        await send(alice, { to: bob.id }, 'm1');
        expect(await send(bob, { conv }, 'q1', { reply: 9 })).toMatchObject({ code: 'not_found', ref: 'q1' });
        await recall(alice, conv, 1, 'r1');
        expect(await send(bob, { conv }, 'q2', { reply: 1 })).toMatchObject({ code: 'forbidden', ref: 'q2' });
        expect(await send(bob, { conv }, 'q3', { reply: 2 })).toMatchObject({ code: 'bad_frame', ref: 'q3' });
        expect((await fullHistory(bob.socket, conv)).map((m) => m.seq)).toEqual([1, 2]);
        // A group member added later cannot quote what came before them.
        const group = await createGroup(alice, [bob]);
        await send(alice, { conv: group.conv }, 'g1');
        await api(server.url, 'POST', `/api/groups/${group.id}/members`, {
          token: alice.token,
          json: { users: [carol.id] },
        });
        expect(await send(carol, { conv: group.conv }, 'q4', { reply: 2 })).toMatchObject({ code: 'not_found' });
        expect(await send(bob, { conv: group.conv }, 'q5', { reply: 2 })).toMatchObject({ type: 'ack' });
      });
    });

    describe('mute and pin', () => {
      const put = (person: Person, conv: string, json: unknown) =>
        api(server.url, 'PUT', `/api/conversations/${encodeURIComponent(conv)}`, { token: person.token, json });

      it("per user, pushed to the user's other devices, in sessions; the peer's stay as they were", async () => {
        const [alice, bob] = await people(2);
        const conv = directConversationId(alice.id, bob.id);
        await send(alice, { to: bob.id }, 'm1');
        const laptop = await alice.connect();
        const answer = await put(alice, conv, { muted: true });
        expect(answer).toMatchObject({ status: 200, body: { conv, muted: true, pinned: false } });
        for (const socket of [alice.socket, laptop]) {
          expect(await socket.next('conversation')).toEqual({ type: 'conversation', conv, muted: true, pinned: false });
        }
        expect((await put(alice, conv, { pinned: true })).body).toEqual({ conv, muted: true, pinned: true });
        expect(await laptop.next('conversation', (f) => f.pinned)).toMatchObject({ muted: true, pinned: true });
        expect((await put(alice, conv, {})).body).toEqual({ conv, muted: true, pinned: true });
        expect((await sessionsOf(alice)).find((s) => s.conv === conv)).toMatchObject({ muted: true, pinned: true });
        expect((await sessionsOf(bob)).find((s) => s.conv === conv)).toMatchObject({ muted: false, pinned: false });
        await settle(bob.socket);
        expect(bob.socket.frames.some((frame) => frame.type === 'conversation')).toBe(false);
        expect((await put(alice, conv, { muted: false })).body).toEqual({ conv, muted: false, pinned: true });
      });

      it('in a group, for its members; strangers 403, bad bodies 400, unknown peers 404, no token 401', async () => {
        const [alice, bob, stranger] = await people(3);
        const group = await createGroup(alice, [bob]);
        expect((await put(bob, group.conv, { pinned: true })).body).toEqual({
          conv: group.conv,
          muted: false,
          pinned: true,
        });
        const entries = await sessionsOf(bob);
        expect(entries.find((s) => s.conv === group.conv)).toMatchObject({ muted: false, pinned: true });
        expect((await sessionsOf(alice)).find((s) => s.conv === group.conv)).toMatchObject({ pinned: false });
        expectFailure(await put(stranger, group.conv, { muted: true }), 403, 'forbidden');
        expectFailure(await put(stranger, directConversationId(alice.id, bob.id), { muted: true }), 403, 'forbidden');
        expectFailure(await put(stranger, 'g:nothere', { muted: true }), 403, 'forbidden');
        expectFailure(await put(alice, group.conv, { muted: 'yes' }), 400, 'bad_request');
        expectFailure(await put(alice, group.conv, [true]), 400, 'bad_request');
        const [low, high] = [alice.id, bob.id].sort();
        expectFailure(await put(alice, `dm:${high}:${low}`, { muted: true }), 400, 'bad_request');
        expectFailure(await put(alice, directConversationId(alice.id, 'u-nobody'), { muted: true }), 404, 'not_found');
        const anonymous = await api(server.url, 'PUT', `/api/conversations/${group.conv}`, { json: { muted: true } });
        expectFailure(anonymous, 401, 'unauthorized');
      });

      it('a dm before its first message: the settings stick, and it shows in no list until then', async () => {
        const [alice, carol] = await people(2);
        const conv = directConversationId(alice.id, carol.id);
        expect((await put(alice, conv, { muted: true })).body).toEqual({ conv, muted: true, pinned: false });
        expect((await sessionsOf(alice)).map((s) => s.conv)).not.toContain(conv);
        expect((await sessionsOf(carol)).map((s) => s.conv)).not.toContain(conv);
        // Sent with its conv (not `to`): it still reaches the peer, who becomes a member.
        expect(await send(carol, { conv }, 'c1')).toMatchObject({ type: 'ack', seq: 1 });
        expect(await alice.socket.next('message', (frame) => frame.cid === 'c1')).toMatchObject({ seq: 1 });
        expect(await send(alice, { conv }, 'a1')).toMatchObject({ type: 'ack', seq: 2 });
        expect(await carol.socket.next('message', (frame) => frame.cid === 'a1')).toMatchObject({ seq: 2 });
        expect((await sessionsOf(alice)).find((s) => s.conv === conv)).toMatchObject({
          muted: true,
          pinned: false,
          peer: { id: carol.id },
        });
        expect((await sessionsOf(carol)).find((s) => s.conv === conv)).toMatchObject({
          muted: false,
          peer: { id: alice.id },
        });
      });
    });
  });
}

actionsSuite('SQLite', () => ({}));

if (DATABASE_URL) {
  const url = DATABASE_URL;
  let schema = '';
  beforeAll(() => {
    schema = newSchemaName('actions');
  });
  afterAll(async () => {
    await dropSchema(url, schema);
  });
  actionsSuite('PostgreSQL', () => ({ databaseUrl: url, databaseSchema: schema }));
} else {
  warnSkipped('the message action tests on PostgreSQL (server/test/actions.test.ts)', ['DATABASE_URL']);
}
