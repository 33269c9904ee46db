/**
 * `sync`: the sessions list, the replay of what a client missed after its cursors (bounded to
 * the newest 50 per conversation), `synced` with the epoch, and the epoch across restarts.
 */
import { directConversationId } from '../../contract/conversations';
import { LIMITS } from '../../contract/limits';
import type { ServerFrame, ServerFrameOf, SyncFrame } from '../../contract/frames';
import { useOwnServers, useSockets, useTestServer } from './support/fixture';
import { login, person, settle, TestSocket, twoPeople, uploadImage, type Person } from './support/server';
import { sleep } from './support/wait';

interface SyncResult {
  /** Every frame the sync produced, in arrival order, `synced` last. */
  frames: ServerFrame[];
  sessions: ServerFrameOf<'sessions'>['sessions'];
  messages: ServerFrameOf<'message'>[];
  synced: ServerFrameOf<'synced'>;
}

/** Sends a sync on a socket with nothing else pending and collects what it answers. */
async function sync(socket: TestSocket, cursors: SyncFrame['cursors'], epoch?: string): Promise<SyncResult> {
  socket.frames.splice(0);
  socket.send({ type: 'sync', cursors, ...(epoch === undefined ? {} : { epoch }) });
  const synced = await socket.next('synced');
  const frames: ServerFrame[] = [...socket.frames.splice(0), synced];
  const sessions = frames[0]?.type === 'sessions' ? frames[0].sessions : [];
  const messages = frames.flatMap((frame) => (frame.type === 'message' ? [frame] : []));
  return { frames, sessions, messages, synced };
}

async function sendText(from: Person, to: Person, body: string): Promise<ServerFrameOf<'ack'>> {
  const cid = `${body}-${Math.random().toString(36).slice(2)}`;
  from.socket.send({ type: 'send', cid, to: to.id, kind: 'text', body });
  return from.socket.next('ack', (ack) => ack.cid === cid);
}

/** Fires `count` sends at once and waits for every ack. */
async function sendMany(from: Person, to: Person, count: number, label: string): Promise<void> {
  const acks = [];
  for (let i = 1; i <= count; i++) {
    const cid = `${label}-${i}`;
    from.socket.send({ type: 'send', cid, to: to.id, kind: 'text', body: cid });
    acks.push(from.socket.next('ack', (ack) => ack.cid === cid));
  }
  await Promise.all(acks);
}

/** A session entry without `online` (who is connected changes; the list does not). */
function withoutPresence(entry: object): object {
  const { online: _online, ...rest } = entry as { online?: boolean };
  return rest;
}

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

describe('sync', () => {
  const server = useTestServer();

  it('answers sessions, then the missed messages ascending, then synced {epoch, truncated}', async () => {
    const alice = await server.person();
    const bob = await server.person();
    const carol = await server.person();
    const bobAvatar = await uploadImage(server.url, bob.token);
    await fetch(`${server.url}/api/profile`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${bob.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ nickname: 'Bob', avatar: bobAvatar }),
    });

    // Alice–Bob: Alice sends 1–2, Bob sends 3–5. Then Alice–Carol: Alice 1, Carol 2 (more recent).
    await sendText(alice, bob, 'ab1');
    await sendText(alice, bob, 'ab2');
    await sendText(bob, alice, 'ab3');
    await sendText(bob, alice, 'ab4');
    const ab5 = await sendText(bob, alice, 'ab5');
    await sleep(5);
    await sendText(alice, carol, 'ac1');
    const ac2 = await sendText(carol, alice, 'ac2');
    const ab = directConversationId(alice.id, bob.id);
    const ac = directConversationId(alice.id, carol.id);
    await settle(alice.socket);

    const result = await sync(alice.socket, { [ab]: 3 });
    expect(result.frames.map((frame) => frame.type)).toEqual([
      'sessions',
      'message',
      'message',
      'message',
      'message',
      'synced',
    ]);

    expect(result.sessions).toEqual([
      {
        conv: ac,
        peer: { id: carol.id, nickname: carol.login.user.nickname, avatar: '' },
        last: { conv: ac, seq: 2, cid: ac2.cid, from: carol.id, kind: 'text', body: 'ac2', ts: ac2.ts },
        lastSeq: 2,
        // Alice's own send moved her read cursor to 1; Carol's message is unread.
        readSeq: 1,
        peerReadSeq: 2,
        unread: 1,
        mentioned: false,
        left: false,
        muted: false,
        pinned: false,
        // Connected now (an addition to the entry).
        online: true,
      },
      {
        conv: ab,
        peer: { id: bob.id, nickname: 'Bob', avatar: bobAvatar },
        last: { conv: ab, seq: 5, cid: ab5.cid, from: bob.id, kind: 'text', body: 'ab5', ts: ab5.ts },
        lastSeq: 5,
        readSeq: 2,
        peerReadSeq: 5,
        // Only Bob's three messages count, not Alice's own.
        unread: 3,
        mentioned: false,
        left: false,
        muted: false,
        pinned: false,
        // Connected now (an addition to the entry).
        online: true,
      },
    ]);

    // Conversations in sessions order; within each, ascending after its cursor.
    expect(result.messages.map((m) => [m.conv, m.seq, m.body])).toEqual([
      [ac, 1, 'ac1'],
      [ac, 2, 'ac2'],
      [ab, 4, 'ab4'],
      [ab, 5, 'ab5'],
    ]);
    expect(result.synced).toEqual({ type: 'synced', epoch: expect.stringMatching(/^\S+$/), truncated: [] });

    // Bob sees the same conversation from his side.
    const forBob = await sync(bob.socket, { [ab]: 5 }, result.synced.epoch);
    expect(forBob.sessions).toEqual([
      expect.objectContaining({
        conv: ab,
        peer: expect.objectContaining({ id: alice.id }),
        readSeq: 5,
        peerReadSeq: 2,
        unread: 0,
      }),
    ]);
    expect(forBob.messages).toEqual([]);
  });

  it('answers an empty sessions list and synced for a user with no conversation', async () => {
    const loner = await server.person();
    const result = await sync(loner.socket, {});
    expect(result.frames).toEqual([
      { type: 'sessions', sessions: [], more: false },
      { type: 'synced', epoch: expect.any(String), truncated: [] },
    ]);
  });

  describe('with 60 messages in one conversation', () => {
    const shared = useSockets('all');
    let alice: Person;
    let bob: Person;
    let conv: string;
    let epoch: string;

    beforeAll(async () => {
      ({ alice, bob, conv } = await twoPeople(server, shared));
      await sendMany(bob, alice, 60, 'sixty');
      epoch = (await sync(bob.socket, {})).synced.epoch;
    });

    it('sends only the newest 50, ascending, and lists the conversation as truncated', async () => {
      const result = await sync(alice.socket, {}, epoch);
      expect(result.messages).toHaveLength(LIMITS.syncPerConversation);
      expect(result.messages.map((m) => m.seq)).toEqual(range(11, 60));
      expect(result.synced.truncated).toEqual([conv]);

      // The client fetches the rest with history `before` the oldest it got.
      alice.socket.send({ type: 'history', conv, before: 11, limit: 100 });
      const older = await alice.socket.next('history');
      expect(older.messages.map((m) => m.seq)).toEqual(range(1, 10));
      expect(older.hasMore).toBe(false);
    });

    it('truncates whenever more than 50 are missing after the cursor', async () => {
      const result = await sync(alice.socket, { [conv]: 9 }, epoch);
      expect(result.messages.map((m) => m.seq)).toEqual(range(11, 60));
      expect(result.synced.truncated).toEqual([conv]);
    });

    it('does not truncate when exactly 50 are missing', async () => {
      const result = await sync(alice.socket, { [conv]: 10 }, epoch);
      expect(result.messages.map((m) => m.seq)).toEqual(range(11, 60));
      expect(result.synced.truncated).toEqual([]);
    });

    it('resends nothing for a cursor at lastSeq (or beyond it), but still lists the session', async () => {
      for (const cursor of [60, 75]) {
        const result = await sync(alice.socket, { [conv]: cursor }, epoch);
        expect(result.frames.map((frame) => frame.type)).toEqual(['sessions', 'synced']);
        expect(result.sessions.map((session) => session.conv)).toEqual([conv]);
        expect(result.synced.truncated).toEqual([]);
      }
    });

    it('ignores every cursor when the epoch is wrong, and replays as from zero', async () => {
      const result = await sync(alice.socket, { [conv]: 60 }, 'not-the-epoch');
      expect(result.messages.map((m) => m.seq)).toEqual(range(11, 60));
      expect(result.synced).toEqual({ type: 'synced', epoch, truncated: [conv] });
    });

    it('trusts the cursors when the epoch is absent (a first sync)', async () => {
      const result = await sync(alice.socket, { [conv]: 58 });
      expect(result.messages.map((m) => m.seq)).toEqual([59, 60]);
    });

    it('ignores cursors for conversations the user is not in', async () => {
      const mallory = await server.person();
      const result = await sync(mallory.socket, { [conv]: 0 }, epoch);
      expect(result.frames.map((frame) => frame.type)).toEqual(['sessions', 'synced']);
      expect(result.sessions).toEqual([]);
    });
  });
});

describe('epoch and restarts', () => {
  const sockets = useSockets();
  const ownServer = useOwnServers();
  const start = (dataDir?: string) => ownServer(dataDir ? { dataDir } : {});

  it('keeps the epoch, the users, the messages and the tokens across a restart on the same data folder', async () => {
    const first = await start();
    const alice = await person(first, sockets, 'restart-alice');
    const bob = await person(first, sockets, 'restart-bob');
    await sendMany(alice, bob, 3, 'before-restart');
    const before = await sync(alice.socket, {});
    await first.stop();

    const second = await start(first.dataDir);
    // The token secret was kept in the data folder, so the old token still opens a socket.
    const socket = await TestSocket.open(second.wsUrl, alice.token);
    sockets.push(socket);
    const after = await sync(socket, {}, before.synced.epoch);
    expect(after.synced.epoch).toBe(before.synced.epoch);
    // The same list, but for who is online: bob's socket went with the first server.
    expect(after.sessions.map(withoutPresence)).toEqual(before.sessions.map(withoutPresence));
    expect(after.messages.map((m) => m.body)).toEqual(['before-restart-1', 'before-restart-2', 'before-restart-3']);

    // Same devId → same user after the restart; and the sequence continues without a gap.
    expect((await login(second.url, 'restart-bob')).user.id).toBe(bob.id);
    const cid = 'after-restart';
    socket.send({ type: 'send', cid, to: bob.id, kind: 'text', body: cid });
    expect((await socket.next('ack', (ack) => ack.cid === cid)).seq).toBe(4);
  });

  it('has a different epoch for a fresh data folder', async () => {
    const a = await start();
    const b = await start();
    const one = await sync((await person(a, sockets)).socket, {});
    const two = await sync((await person(b, sockets)).socket, {});
    expect(one.synced.epoch).not.toBe(two.synced.epoch);
  });
});
