/**
 * One suite, every store: what the chat domain relies on of `Store`, run against SQLite (always)
 * and PostgreSQL (when DATABASE_URL is set; each run in a schema of its own, dropped after).
 */
import path from 'node:path';
import { directConversationId } from '../../contract/conversations';
import { isDirectSession, type PublicUser } from '../../contract/frames';
import { PostgresStore } from '../src/store/postgres';
import { SqliteStore } from '../src/store/sqlite';
import type { NewMessage, Store, UploadRecord } from '../src/store/types';
import type { AuditEntry, ReportRecord } from '../src/store/safety-types';
import { tempDataDir } from '../../test/support/tmp';
import { DATABASE_URL, dropSchema, newSchemaName, warnSkipped } from './support/services';

/** A store under test, and more stores over the same data (another instance, a restart). */
interface StoreHarness {
  store: Store;
  /** Another store on the same data: a second server instance, or the same one restarted. */
  another(): Promise<Store>;
  /** A store on data of its own (another deployment). */
  fresh(): Promise<Store>;
  /** Closes every store it made and removes their data. */
  destroy(): Promise<void>;
}

function sqliteHarness(): StoreHarness {
  const opened: Store[] = [];
  const open = (file: string) => {
    const store = new SqliteStore(file);
    opened.push(store);
    return store;
  };
  const file = path.join(tempDataDir(), 'chat.db');
  return {
    store: open(file),
    another: async () => open(file),
    fresh: async () => open(path.join(tempDataDir(), 'chat.db')),
    destroy: async () => {
      for (const store of opened) await store.close();
    },
  };
}

async function postgresHarness(url: string): Promise<StoreHarness> {
  const opened: Store[] = [];
  const schemas = new Set<string>();
  const open = async (schema: string) => {
    schemas.add(schema);
    const store = await PostgresStore.open({ url, schema, poolSize: 5 });
    opened.push(store);
    return store;
  };
  const schema = newSchemaName('conformance');
  return {
    store: await open(schema),
    another: () => open(schema),
    fresh: () => open(newSchemaName('conformance')),
    destroy: async () => {
      for (const store of opened) await store.close();
      for (const name of schemas) await dropSchema(url, name);
    },
  };
}

function storeConformance(name: string, makeHarness: () => Promise<StoreHarness>): void {
  describe(`Store conformance: ${name}`, () => {
    let harness: StoreHarness;
    let store: Store;
    let devIds = 0;

    beforeEach(async () => {
      harness = await makeHarness();
      store = harness.store;
    });
    afterEach(async () => {
      await harness.destroy();
    });

    const user = (nickname = 'someone'): Promise<PublicUser> =>
      store.userFor({ provider: 'dev', externalId: `device-${++devIds}` }, { nickname });

    /** The first page of a user's sessions (the tests here list fewer than a page). */
    const sessionsOf = async (userId: string) => (await store.sessionsPage(userId)).sessions;
    /** The dm entries of the first page (the tests of dms have no groups). */
    const dmSessionsOf = async (userId: string) => (await sessionsOf(userId)).filter(isDirectSession);

    let cids = 0;
    function message(from: PublicUser, to: PublicUser, extra: Partial<NewMessage> = {}): NewMessage {
      return {
        conv: directConversationId(from.id, to.id),
        members: [from.id, to.id].sort(),
        from: from.id,
        cid: `c${++cids}`,
        kind: 'text',
        body: `body ${cids}`,
        ts: 1_700_000_000_000 + cids,
        ...extra,
      };
    }

    describe('users and identities', () => {
      it('creates a user on first sight and finds the same one again', async () => {
        const first = await store.userFor({ provider: 'dev', externalId: 'phone-1' }, { nickname: '微信用户0001' });
        expect(first).toEqual({
          id: expect.stringMatching(/^u[A-Za-z0-9_-]{12}$/),
          nickname: '微信用户0001',
          avatar: '',
        });
        const again = await store.userFor({ provider: 'dev', externalId: 'phone-1' }, { nickname: 'ignored' });
        expect(again).toEqual(first);
        expect(await store.getUser(first.id)).toEqual(first);
      });

      it('keeps providers apart and answers null for an unknown id', async () => {
        const dev = await store.userFor({ provider: 'dev', externalId: 'same' }, { nickname: 'a' });
        const wechat = await store.userFor({ provider: 'wechat', externalId: 'same' }, { nickname: 'b' });
        expect(wechat.id).not.toBe(dev.id);
        expect(await store.getUser('u-nobody')).toBeNull();
      });

      it('makes one user of an identity seen by several requests, and by two instances, at once', async () => {
        const other = await harness.another();
        const identity = { provider: 'wechat' as const, externalId: 'openid-race' };
        const users = await Promise.all(
          Array.from({ length: 10 }, (_, i) => (i % 2 ? other : store).userFor(identity, { nickname: 'racer' })),
        );
        expect(new Set(users.map((found) => found.id)).size).toBe(1);
      });
    });

    describe('profile', () => {
      it('changes the nickname, the avatar, both or nothing', async () => {
        const me = await user('before');
        expect(await store.updateProfile(me.id, { nickname: 'after' })).toEqual({ ...me, nickname: 'after' });
        expect(await store.updateProfile(me.id, { avatar: 'https://x/a.png' })).toEqual({
          id: me.id,
          nickname: 'after',
          avatar: 'https://x/a.png',
        });
        expect(await store.updateProfile(me.id, { nickname: 'n', avatar: '' })).toEqual({
          id: me.id,
          nickname: 'n',
          avatar: '',
        });
        expect(await store.updateProfile(me.id, {})).toEqual({ id: me.id, nickname: 'n', avatar: '' });
        expect(await store.getUser(me.id)).toEqual({ id: me.id, nickname: 'n', avatar: '' });
        expect(await store.updateProfile('u-nobody', { nickname: 'x' })).toBeNull();
      });
    });

    describe('search', () => {
      it('finds nicknames containing the query, ASCII case-insensitively, never the asker, in byte order', async () => {
        const me = await user('alice me');
        const names = ['alice', 'Bob', 'bob', 'Carol', '小明', 'ALICIA'];
        const users = new Map<string, PublicUser>();
        for (const nickname of names) users.set(nickname, await user(nickname));

        const all = await store.searchUsers('', me.id, 100);
        expect(all.map((found) => found.nickname)).toEqual(['ALICIA', 'Bob', 'Carol', 'alice', 'bob', '小明']);
        expect(all[0]).toEqual(users.get('ALICIA'));
        expect((await store.searchUsers('ALI', me.id, 100)).map((found) => found.nickname)).toEqual([
          'ALICIA',
          'alice',
        ]);
        expect((await store.searchUsers('小', me.id, 100)).map((found) => found.nickname)).toEqual(['小明']);
        expect(await store.searchUsers('nobody', me.id, 100)).toEqual([]);
        expect((await store.searchUsers('', me.id, 2)).map((found) => found.nickname)).toEqual(['ALICIA', 'Bob']);
      });

      it('orders equal nicknames by id', async () => {
        const me = await user('me');
        const twins = [await user('twin'), await user('twin'), await user('twin')];
        const found = await store.searchUsers('twin', me.id, 10);
        expect(found.map((entry) => entry.id)).toEqual(twins.map((twin) => twin.id).sort());
      });
    });

    describe('appendMessage', () => {
      it('numbers a conversation 1, 2, 3 and creates it with its members', async () => {
        const a = await user('a');
        const b = await user('b');
        const conv = directConversationId(a.id, b.id);
        expect(await store.membersOf(conv)).toEqual([]);
        const first = await store.appendMessage(message(a, b, { body: 'hello', ts: 1000 }));
        expect(first).toEqual({
          message: { conv, seq: 1, cid: expect.any(String), from: a.id, kind: 'text', body: 'hello', ts: 1000 },
          duplicate: false,
        });
        expect((await store.appendMessage(message(b, a))).message.seq).toBe(2);
        expect((await store.appendMessage(message(a, b, { kind: 'image', body: 'https://x/u.png' }))).message).toEqual(
          expect.objectContaining({ seq: 3, kind: 'image', body: 'https://x/u.png' }),
        );
        expect(await store.membersOf(conv)).toEqual([a.id, b.id].sort());
        // Another conversation counts from 1 on its own.
        const c = await user('c');
        expect((await store.appendMessage(message(a, c))).message.seq).toBe(1);
      });

      it('stores a cid once: a resend answers the first message, whatever its new body or conversation', async () => {
        const a = await user('a');
        const b = await user('b');
        const c = await user('c');
        const first = await store.appendMessage(message(a, b, { cid: 'same', body: 'one', ts: 5 }));
        const again = await store.appendMessage(message(a, b, { cid: 'same', body: 'two', ts: 6 }));
        expect(again).toEqual({ message: first.message, duplicate: true });
        const elsewhere = await store.appendMessage(message(a, c, { cid: 'same', body: 'three', ts: 7 }));
        expect(elsewhere).toEqual({ message: first.message, duplicate: true });
        expect((await store.history(directConversationId(a.id, b.id), undefined, 10)).messages).toHaveLength(1);
        expect(await store.membersOf(directConversationId(a.id, c.id))).toEqual([]);
        // The cid is the sender's: someone else may use the same one.
        const other = await store.appendMessage(message(b, a, { cid: 'same' }));
        expect(other.duplicate).toBe(false);
        expect(other.message.seq).toBe(2);
      });

      it('counts the sender as having read what they wrote', async () => {
        const a = await user('a');
        const b = await user('b');
        await store.appendMessage(message(a, b));
        await store.appendMessage(message(a, b));
        const [session] = await sessionsOf(a.id);
        expect(session).toEqual(expect.objectContaining({ lastSeq: 2, readSeq: 2, peerReadSeq: 0, unread: 0 }));
      });
    });

    describe('concurrent appends', () => {
      it('gives 200 parallel appends into one conversation exactly the seqs 1..200', async () => {
        const a = await user('a');
        const b = await user('b');
        const results = await Promise.all(
          Array.from({ length: 200 }, (_, i) => store.appendMessage(message(i % 2 ? a : b, i % 2 ? b : a))),
        );
        expect(results.every((result) => !result.duplicate)).toBe(true);
        const seqs = results.map((result) => result.message.seq).sort((x, y) => x - y);
        expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
        const conv = directConversationId(a.id, b.id);
        const stored = await store.messagesAfter(conv, 0, 1000);
        expect(stored.map((found) => found.seq)).toEqual(seqs);
        // Each stored message is the one its append was acknowledged with.
        const byCid = new Map(stored.map((found) => [found.cid, found]));
        for (const result of results) expect(byCid.get(result.message.cid)).toEqual(result.message);
      });

      it('stores each cid once when it is sent twice at the same moment', async () => {
        const a = await user('a');
        const b = await user('b');
        const sends = Array.from({ length: 50 }, (_, i) => message(a, b, { cid: `twice-${i}` }));
        const results = await Promise.all([...sends, ...sends].map((send) => store.appendMessage(send)));
        const conv = directConversationId(a.id, b.id);
        const stored = await store.messagesAfter(conv, 0, 1000);
        expect(stored.map((found) => found.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
        expect(results.filter((result) => result.duplicate)).toHaveLength(50);
        for (let i = 0; i < 50; i++) expect(results[i].message).toEqual(results[i + 50].message);
      });

      it('keeps seqs gap-free with two store instances writing one conversation, and a cid once across them', async () => {
        const other = await harness.another();
        const a = await user('a');
        const b = await user('b');
        const sends = Array.from({ length: 200 }, (_, i) => message(i % 3 ? a : b, i % 3 ? b : a));
        const results = await Promise.all(sends.map((send, i) => (i % 2 ? other : store).appendMessage(send)));
        expect(results.map((result) => result.message.seq).sort((x, y) => x - y)).toEqual(
          Array.from({ length: 200 }, (_, i) => i + 1),
        );
        // The same cids again, through the other instance each time, and at once: nothing new.
        const resent = await Promise.all(sends.map((send, i) => (i % 2 ? store : other).appendMessage(send)));
        expect(resent.every((result) => result.duplicate)).toBe(true);
        expect(resent.map((result) => result.message)).toEqual(results.map((result) => result.message));
        const conv = directConversationId(a.id, b.id);
        expect((await other.messagesAfter(conv, 0, 1000)).map((found) => found.seq)).toEqual(
          Array.from({ length: 200 }, (_, i) => i + 1),
        );
        const race = message(a, b, { cid: 'both-at-once' });
        const [one, two] = await Promise.all([store.appendMessage(race), other.appendMessage(race)]);
        expect(one.message).toEqual(two.message);
        expect([one.duplicate, two.duplicate].sort()).toEqual([false, true]);
        expect(one.message.seq).toBe(201);
      });
    });

    describe('appends of one turn (a batch)', () => {
      it('stores the same cid twice in one turn once: one message, one duplicate', async () => {
        const [a, b] = [await user('a'), await user('b')];
        const send = message(a, b, { cid: 'twice' });
        const [one, two] = await Promise.all([store.appendMessage(send), store.appendMessage({ ...send, body: 'x' })]);
        expect(one).toEqual({ message: expect.objectContaining({ seq: 1, body: send.body }), duplicate: false });
        expect(two).toEqual({ message: one.message, duplicate: true });
        const next = await store.appendMessage(message(b, a));
        expect(next.message.seq).toBe(2);
      });

      it('numbers many conversations of one turn each on its own, with members and read cursors', async () => {
        const a = await user('a');
        const peers = await Promise.all(Array.from({ length: 20 }, (_, i) => user(`p${i}`)));
        const sends = peers.flatMap((peer) => [message(a, peer), message(peer, a), message(a, peer)]);
        const results = await Promise.all(sends.map((send) => store.appendMessage(send)));
        expect(results.every((result) => !result.duplicate)).toBe(true);
        for (const peer of peers) {
          const conv = directConversationId(a.id, peer.id);
          expect((await store.messagesAfter(conv, 0, 10)).map((found) => found.seq)).toEqual([1, 2, 3]);
          expect(await store.membersOf(conv)).toEqual([a.id, peer.id].sort());
        }
        const sessions = await dmSessionsOf(a.id);
        expect(sessions).toHaveLength(20);
        for (const session of sessions) expect(session).toMatchObject({ lastSeq: 3, readSeq: 3, peerReadSeq: 2 });
      });

      it('answers a cid stored by an earlier turn as a duplicate inside a batch, taking no seq', async () => {
        const [a, b] = [await user('a'), await user('b')];
        const first = await store.appendMessage(message(a, b, { cid: 'early' }));
        const results = await Promise.all([
          store.appendMessage(message(a, b)),
          store.appendMessage(message(a, b, { cid: 'early', body: 'again' })),
          store.appendMessage(message(b, a)),
        ]);
        expect(results.map((result) => result.duplicate)).toEqual([false, true, false]);
        expect(results[1].message).toEqual(first.message);
        expect(results.map((result) => result.message.seq)).toEqual([2, 1, 3]);
      });

      it('stores the good appends of a turn when one of them fails', async () => {
        const [a, b] = [await user('a'), await user('b')];
        const bad = { ...message(a, b), conv: 'd:nobody', members: ['no-such-user', a.id] };
        const results = await Promise.allSettled([
          store.appendMessage(message(a, b)),
          store.appendMessage(bad),
          store.appendMessage(message(b, a)),
        ]);
        expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        const conv = directConversationId(a.id, b.id);
        expect((await store.messagesAfter(conv, 0, 10)).map((found) => found.seq)).toEqual([1, 2]);
        expect(await store.messageByCid(a.id, bad.cid)).toBeNull();
      });

      it('keeps seqs gap-free when two instances store one cid in two conversations at once', async () => {
        const other = await harness.another();
        const [a, b, c] = [await user('a'), await user('b'), await user('c')];
        for (let round = 0; round < 10; round++) {
          const cid = `race-${round}`;
          const [one, two] = await Promise.all([
            store.appendMessage(message(a, b, { cid })),
            other.appendMessage(message(a, c, { cid })),
            store.appendMessage(message(b, a)),
            other.appendMessage(message(c, a)),
          ]);
          expect([one.duplicate, two.duplicate].sort()).toEqual([false, true]);
          expect(one.message).toEqual(two.message);
        }
        for (const peer of [b, c]) {
          const seqs = (await store.messagesAfter(directConversationId(a.id, peer.id), 0, 100)).map((m) => m.seq);
          expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
        }
      });
    });

    describe('appends of many turns across instances', () => {
      it('keeps every conversation gap-free and each cid once when two instances race over many conversations', async () => {
        const other = await harness.another();
        const a = await user('a');
        const peers = await Promise.all(Array.from({ length: 8 }, (_, i) => user(`p${i}`)));
        // Each cid twice: once through each instance, the second time into another conversation.
        const sends = Array.from({ length: 120 }, (_, i) => message(a, peers[i % peers.length], { cid: `m${i}` }));
        const results = await Promise.all(
          sends.flatMap((send, i) => [
            store.appendMessage(send),
            other.appendMessage({ ...send, ...message(a, peers[(i + 3) % peers.length], { cid: send.cid }) }),
          ]),
        );
        for (let i = 0; i < sends.length; i++) {
          const [one, two] = [results[2 * i], results[2 * i + 1]];
          expect(one.message).toEqual(two.message);
          expect([one.duplicate, two.duplicate].sort()).toEqual([false, true]);
        }
        let total = 0;
        for (const peer of peers) {
          const seqs = (await other.messagesAfter(directConversationId(a.id, peer.id), 0, 1000)).map((m) => m.seq);
          expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
          total += seqs.length;
        }
        expect(total).toBe(sends.length);
      });
    });

    describe('history and messagesAfter', () => {
      let conv: string;
      beforeEach(async () => {
        const a = await user('a');
        const b = await user('b');
        conv = directConversationId(a.id, b.id);
        for (let i = 0; i < 25; i++) await store.appendMessage(message(i % 2 ? a : b, i % 2 ? b : a));
      });

      it('pages backwards from the newest, each page ascending', async () => {
        const newest = await store.history(conv, undefined, 10);
        expect(newest.messages.map((found) => found.seq)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
        expect(newest.hasMore).toBe(true);
        const middle = await store.history(conv, 16, 10);
        expect(middle.messages.map((found) => found.seq)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
        expect(middle.hasMore).toBe(true);
        const oldest = await store.history(conv, 6, 10);
        expect(oldest.messages.map((found) => found.seq)).toEqual([1, 2, 3, 4, 5]);
        expect(oldest.hasMore).toBe(false);
        expect(await store.history(conv, 1, 10)).toEqual({ messages: [], hasMore: false });
        const exact = await store.history(conv, 11, 10);
        expect(exact.messages.map((found) => found.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect(exact.hasMore).toBe(false);
        expect(await store.history('dm:nobody:nothing', undefined, 10)).toEqual({ messages: [], hasMore: false });
      });

      it('returns what follows a seq, ascending, at most the limit', async () => {
        expect((await store.messagesAfter(conv, 20, 50)).map((found) => found.seq)).toEqual([21, 22, 23, 24, 25]);
        expect((await store.messagesAfter(conv, 0, 3)).map((found) => found.seq)).toEqual([1, 2, 3]);
        expect(await store.messagesAfter(conv, 25, 50)).toEqual([]);
        const [one] = await store.messagesAfter(conv, 4, 1);
        expect(one).toEqual({
          conv,
          seq: 5,
          cid: expect.any(String),
          from: expect.any(String),
          kind: 'text',
          body: expect.any(String),
          ts: expect.any(Number),
        });
      });
    });

    describe('sessionsPage', () => {
      it('lists each conversation once, most recent first, with the peer, the last message and the counts', async () => {
        const me = await user('me');
        const ann = await user('ann');
        const ben = await user('ben');
        await store.appendMessage(message(ann, me, { body: 'from ann', ts: 1000 }));
        await store.appendMessage(message(ann, me, { body: 'again', ts: 1001 }));
        await store.appendMessage(message(me, ben, { body: 'to ben', ts: 2000 }));
        await store.appendMessage(message(ben, me, { body: 'from ben', ts: 2001 }));

        let sessions = await dmSessionsOf(me.id);
        expect(sessions.map((session) => session.peer.nickname)).toEqual(['ben', 'ann']);
        expect(sessions[0]).toEqual({
          conv: directConversationId(me.id, ben.id),
          peer: ben,
          last: expect.objectContaining({ seq: 2, from: ben.id, body: 'from ben', ts: 2001 }),
          lastSeq: 2,
          readSeq: 1,
          peerReadSeq: 2,
          unread: 1,
          mentioned: false,
          left: false,
          muted: false,
          pinned: false,
        });
        expect(sessions[1]).toEqual(
          expect.objectContaining({ lastSeq: 2, readSeq: 0, peerReadSeq: 2, unread: 2, peer: ann }),
        );

        // A newer message moves ann's conversation to the top; a new nickname shows at once.
        await store.appendMessage(message(ann, me, { body: 'newest', ts: 3000 }));
        await store.updateProfile(ann.id, { nickname: 'Ann', avatar: 'https://x/ann.png' });
        sessions = await dmSessionsOf(me.id);
        expect(sessions.map((session) => session.peer.nickname)).toEqual(['Ann', 'ben']);
        expect(sessions[0].peer).toEqual({ id: ann.id, nickname: 'Ann', avatar: 'https://x/ann.png' });
        expect(sessions[0].unread).toBe(3);

        // Unread counts only the peer's messages above the read cursor.
        await store.advanceRead(sessions[0].conv, me.id, 2);
        await store.appendMessage(message(me, ann, { ts: 3001 }));
        sessions = await dmSessionsOf(me.id);
        expect(sessions[0]).toEqual(expect.objectContaining({ lastSeq: 4, readSeq: 4, unread: 0 }));
        const annView = await sessionsOf(ann.id);
        expect(annView).toEqual([
          expect.objectContaining({ peer: { ...me }, lastSeq: 4, readSeq: 3, peerReadSeq: 4, unread: 1 }),
        ]);
        expect(await sessionsOf((await user('lonely')).id)).toEqual([]);
      });
    });

    describe('sessionsPage: pages and excerpts', () => {
      it('pages on (last activity desc, conv) after a given conversation, limit+1 telling whether more follow', async () => {
        const me = await user('me');
        const peers: PublicUser[] = [];
        for (let i = 0; i < 7; i++) peers.push(await user(`peer ${i}`));
        // Three pairs share a time (ties go by conv id), one stands alone.
        for (let i = 0; i < 7; i++) await store.appendMessage(message(peers[i], me, { ts: 1000 + Math.floor(i / 2) }));
        const convs = peers.map((peer) => directConversationId(me.id, peer.id));
        const byTsThenConv = (i: number, j: number) =>
          Math.floor(j / 2) - Math.floor(i / 2) || (convs[i] < convs[j] ? -1 : 1);
        const expected = [0, 1, 2, 3, 4, 5, 6].sort(byTsThenConv).map((i) => convs[i]);

        const first = await store.sessionsPage(me.id, { limit: 3 });
        expect(first.sessions.map((s) => s.conv)).toEqual(expected.slice(0, 3));
        expect(first.more).toBe(true);
        const second = await store.sessionsPage(me.id, { after: expected[2], limit: 3 });
        expect(second.sessions.map((s) => s.conv)).toEqual(expected.slice(3, 6));
        expect(second.more).toBe(true);
        const last = await store.sessionsPage(me.id, { after: expected[5], limit: 3 });
        expect(last.sessions.map((s) => s.conv)).toEqual(expected.slice(6));
        expect(last.more).toBe(false);
        // Exactly a page left: no more after it.
        expect(await store.sessionsPage(me.id, { after: expected[3], limit: 3 })).toEqual({
          sessions: expect.any(Array),
          more: false,
        });
        expect(await store.sessionsPage(me.id, { after: expected[6], limit: 3 })).toEqual({
          sessions: [],
          more: false,
        });
        expect(await store.sessionsPage(me.id, { after: 'dm:no:body', limit: 3 })).toEqual({
          sessions: [],
          more: false,
        });
        // The default page holds all seven, and says nothing more follows.
        expect(await store.sessionsPage(me.id)).toEqual({ sessions: expect.any(Array), more: false });
        expect((await store.sessionsPage(me.id)).sessions.map((s) => s.conv)).toEqual(expected);
        // A new message moves its conversation to the top of the next first page.
        await store.appendMessage(message(me, peers[6], { ts: 5000 }));
        expect((await store.sessionsPage(me.id, { limit: 1 })).sessions[0].conv).toBe(convs[6]);
      });

      it('gives a text as an excerpt of at most 50 UTF-16 units, never half a surrogate pair; an image whole', async () => {
        const me = await user('me');
        const cases: Array<{ body: string; kind?: 'text' | 'image'; expected: string }> = [
          { body: '😀'.repeat(2000), expected: '😀'.repeat(25) },
          { body: 'a' + '😀'.repeat(1999) + 'a', expected: 'a' + '😀'.repeat(24) },
          { body: '你'.repeat(4000), expected: '你'.repeat(50) },
          { body: 'x'.repeat(50), expected: 'x'.repeat(50) },
          { body: 'short', expected: 'short' },
          { body: `https://chat.example.com/uploads/${'a'.repeat(24)}.png`, kind: 'image', expected: '' },
        ];
        for (const [i, { body, kind }] of cases.entries()) {
          const peer = await user(`peer ${i}`);
          await store.appendMessage(message(peer, me, { body, kind: kind ?? 'text', ts: 10_000 - i }));
        }
        const sessions = await sessionsOf(me.id);
        expect(sessions.map((session) => session.last?.body)).toEqual(
          cases.map(({ body, kind, expected }) => (kind === 'image' ? body : expected)),
        );
        for (const session of sessions) {
          if (session.last?.kind === 'text') expect(session.last.body.length).toBeLessThanOrEqual(50);
          expect(session.last?.body).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
        }
        // The stored message stays whole: history has all of it.
        const page = await store.history(sessions[0].conv, undefined, 1);
        expect(page.messages[0].body).toBe(cases[0].body);
      });

      it('answers the last seqs of the listed conversations the user is in, most recent first', async () => {
        const me = await user('me');
        const ann = await user('ann');
        const ben = await user('ben');
        const other = await user('other');
        await store.appendMessage(message(ann, me, { ts: 1 }));
        await store.appendMessage(message(ben, me, { ts: 2 }));
        await store.appendMessage(message(ben, me, { ts: 3 }));
        await store.appendMessage(message(ann, other, { ts: 4 }));
        const withAnn = directConversationId(me.id, ann.id);
        const withBen = directConversationId(me.id, ben.id);
        expect(
          await store.lastSeqs(me.id, [withAnn, withBen, directConversationId(ann.id, other.id), 'dm:no:body']),
        ).toEqual([
          { conv: withBen, lastSeq: 2 },
          { conv: withAnn, lastSeq: 1 },
        ]);
        expect(await store.lastSeqs(me.id, [])).toEqual([]);
      });
    });

    describe('membersOf and peersOf', () => {
      it('answers the members, sorted, and everyone sharing a conversation once', async () => {
        const me = await user('me');
        const ann = await user('ann');
        const ben = await user('ben');
        const stranger = await user('stranger');
        await store.appendMessage(message(me, ann));
        await store.appendMessage(message(ann, me));
        await store.appendMessage(message(ben, me));
        expect(await store.membersOf(directConversationId(me.id, ann.id))).toEqual([me.id, ann.id].sort());
        expect((await store.peersOf(me.id)).sort()).toEqual([ann.id, ben.id].sort());
        expect(await store.peersOf(ann.id)).toEqual([me.id]);
        expect(await store.peersOf(stranger.id)).toEqual([]);
        expect(await store.membersOf(directConversationId(me.id, stranger.id))).toEqual([]);
      });
    });

    describe('advanceRead', () => {
      it('moves forward only, capped at the last seq, and says when nothing changed', async () => {
        const a = await user('a');
        const b = await user('b');
        const conv = directConversationId(a.id, b.id);
        for (let i = 0; i < 5; i++) await store.appendMessage(message(a, b));
        expect(await store.advanceRead(conv, b.id, 2)).toBe(2);
        expect(await store.advanceRead(conv, b.id, 2)).toBeNull();
        expect(await store.advanceRead(conv, b.id, 1)).toBeNull();
        expect(await store.advanceRead(conv, b.id, 99)).toBe(5);
        expect(await store.advanceRead(conv, b.id, Number.MAX_SAFE_INTEGER)).toBeNull();
        // The sender is at the last seq already; strangers and unknown conversations change nothing.
        expect(await store.advanceRead(conv, a.id, 5)).toBeNull();
        expect(await store.advanceRead(conv, (await user('x')).id, 3)).toBeNull();
        expect(await store.advanceRead('dm:no:body', b.id, 3)).toBeNull();
        const [session] = await sessionsOf(b.id);
        expect(session).toEqual(expect.objectContaining({ readSeq: 5, unread: 0 }));
      });

      it('ends at the highest of reads made at once', async () => {
        const a = await user('a');
        const b = await user('b');
        const conv = directConversationId(a.id, b.id);
        for (let i = 0; i < 30; i++) await store.appendMessage(message(a, b));
        const other = await harness.another();
        const results = await Promise.all(
          Array.from({ length: 30 }, (_, i) => (i % 2 ? other : store).advanceRead(conv, b.id, i + 1)),
        );
        expect(results).toContain(30);
        const [session] = await sessionsOf(b.id);
        expect(session.readSeq).toBe(30);
      });
    });

    describe('uploads', () => {
      const upload = (name: string, extra: Partial<UploadRecord> = {}): UploadRecord => ({
        name,
        owner: 'u-owner',
        bytes: 1000,
        createdAt: 1_000,
        referenced: false,
        ...extra,
      });

      it("records uploads once and sums an owner's bytes since a time", async () => {
        expect(await store.hasUploads()).toBe(false);
        expect(await store.uploadBytesSince('u-owner', 0)).toBe(0);
        await store.addUpload(upload('a.png', { bytes: 100, createdAt: 1_000 }));
        await store.addUpload(upload('b.png', { bytes: 20, createdAt: 2_000 }));
        await store.addUpload(upload('c.png', { bytes: 3, createdAt: 3_000, owner: 'u-other' }));
        // A name recorded again is left as it was.
        await store.addUpload(upload('a.png', { bytes: 9_999, createdAt: 5_000 }));
        expect(await store.hasUploads()).toBe(true);
        expect(await store.uploadBytesSince('u-owner', 0)).toBe(120);
        expect(await store.uploadBytesSince('u-owner', 2_000)).toBe(20);
        expect(await store.uploadBytesSince('u-owner', 2_001)).toBe(0);
        expect(await store.uploadBytesSince('u-other', 0)).toBe(3);
        // Sizes past 2^31 (bigint in PostgreSQL) come back as numbers.
        await store.addUpload(upload('d.png', { bytes: 2 ** 33, createdAt: 4_000 }));
        expect(await store.uploadBytesSince('u-owner', 0)).toBe(120 + 2 ** 33);
      });

      it('claims only recorded uploads, and the sweep removes only old unreferenced ones, in bounded batches', async () => {
        for (let i = 0; i < 5; i++) await store.addUpload(upload(`old-${i}.png`, { createdAt: 1_000 + i }));
        await store.addUpload(upload('used.png', { createdAt: 1_000 }));
        await store.addUpload(upload('adopted.png', { createdAt: 1_000, referenced: true }));
        await store.addUpload(upload('new.png', { createdAt: 9_000 }));
        expect(await store.claimUpload('used.png')).toBe(true);
        expect(await store.claimUpload('used.png')).toBe(true);
        expect(await store.claimUpload('never.png')).toBe(false);

        expect((await store.deleteStaleUploads(5_000, 3)).sort()).toEqual(['old-0.png', 'old-1.png', 'old-2.png']);
        expect((await store.deleteStaleUploads(5_000, 3)).sort()).toEqual(['old-3.png', 'old-4.png']);
        expect(await store.deleteStaleUploads(5_000, 3)).toEqual([]);
        expect(await store.claimUpload('old-0.png')).toBe(false);
        expect(await store.claimUpload('adopted.png')).toBe(true);
        expect(await store.deleteStaleUploads(10_000, 10)).toEqual(['new.png']);
        // What was deleted no longer counts; what is kept still does.
        expect(await store.uploadBytesSince('u-owner', 0)).toBe(2_000);
      });

      it("keeps an audio upload's length with its row; an image has none", async () => {
        await store.addUpload(upload('voice.m4a', { bytes: 6_303, durationMs: 2_564 }));
        await store.addUpload(upload('photo.png', { bytes: 70 }));
        expect(await store.getUpload('voice.m4a')).toEqual(upload('voice.m4a', { bytes: 6_303, durationMs: 2_564 }));
        const photo = await store.getUpload('photo.png');
        expect(photo).toEqual(upload('photo.png', { bytes: 70 }));
        expect(photo).not.toHaveProperty('durationMs');
        expect(await store.getUpload('never.mp3')).toBeNull();
        expect(await store.claimUpload('voice.m4a')).toBe(true);
        expect(await store.getUpload('voice.m4a')).toMatchObject({ referenced: true, durationMs: 2_564 });
      });

      it('never deletes an upload that a claim took at the same moment, across instances', async () => {
        const other = await harness.another();
        const names = Array.from({ length: 20 }, (_, i) => `race-${i}.png`);
        for (const name of names) await store.addUpload(upload(name));
        const [claims, deleted] = await Promise.all([
          Promise.all(names.map((name, i) => (i % 2 ? other : store).claimUpload(name))),
          Promise.all([store.deleteStaleUploads(5_000, 7), other.deleteStaleUploads(5_000, 7)]).then((lists) =>
            lists.flat(),
          ),
        ]);
        // Each name either was claimed (and kept) or deleted (and its claim failed), never both.
        names.forEach((name, i) =>
          expect({ name, both: claims[i] && deleted.includes(name) }).toEqual({ name, both: false }),
        );
        expect(new Set(deleted).size).toBe(deleted.length);
        for (const name of names) expect(await store.claimUpload(name)).toBe(!deleted.includes(name));
      });
    });

    describe('groups', () => {
      let sys = 0;
      const system = (from: PublicUser, event: object): NewMessage => ({
        conv: '',
        members: [],
        from: from.id,
        cid: `sys-${++sys}`,
        kind: 'system',
        body: JSON.stringify(event),
        ts: 1_700_000_000_000 + ++cids,
      });
      const create = (groupId: string, owner: PublicUser, others: PublicUser[]) =>
        store.changeGroup(groupId, system(owner, { event: 'created' }), {
          create: { name: 'g', avatar: '', notice: '', owner: owner.id, createdAt: 1 },
          join: [
            { userId: owner.id, role: 'owner' },
            ...others.map((other) => ({ userId: other.id, role: 'member' as const })),
          ],
        });

      it('creates a group with its first message as seq 1, its members and their roles', async () => {
        const [alice, bob, carol] = [await user('a'), await user('b'), await user('c')];
        const created = await create('g1', alice, [bob, carol]);
        expect(created).toMatchObject({ conv: 'g:g1', seq: 1, from: alice.id, kind: 'system' });
        expect(await store.getGroup('g1')).toEqual({
          id: 'g1',
          name: 'g',
          avatar: '',
          notice: '',
          owner: alice.id,
          dismissed: false,
          memberCount: 3,
        });
        expect(await store.getGroup('g-none')).toBeNull();
        const members = await store.groupMembers('g1');
        expect(members.map((m) => [m.id, m.role, m.joinedSeq]).sort()).toEqual(
          [
            [alice.id, 'owner', 1],
            [bob.id, 'member', 1],
            [carol.id, 'member', 1],
          ].sort(),
        );
        expect(await store.membersOf('g:g1')).toEqual([alice.id, bob.id, carol.id].sort());
        expect(await store.history('g:g1', undefined, 10)).toMatchObject({ messages: [{ seq: 1 }], hasMore: false });
        // A group's session entry carries the group, not a peer; its members are not dm peers.
        expect(await sessionsOf(bob.id)).toEqual([
          {
            conv: 'g:g1',
            group: { id: 'g1', name: 'g', avatar: '', memberCount: 3 },
            last: expect.objectContaining({ seq: 1, kind: 'system', from: alice.id }),
            lastSeq: 1,
            readSeq: 0,
            unread: 0, // a system message counts for no badge
            mentioned: false,
            left: false,
            muted: false,
            pinned: false,
          },
        ]);
        expect(await store.peersOf(bob.id)).toEqual([]);
      });

      it('records joins and leaves at their messages, roles, updates, and a dismissal', async () => {
        const [alice, bob, carol] = [await user('a'), await user('b'), await user('c')];
        await create('g2', alice, [bob]);
        const sent = await store.appendMessage({ ...message(bob, alice), conv: 'g:g2', members: [] });
        expect(sent.message.seq).toBe(2);
        const joined = await store.changeGroup('g2', system(bob, { event: 'joined' }), {
          join: [{ userId: carol.id, role: 'member' }],
        });
        expect(joined.seq).toBe(3);
        expect(await store.groupMembership('g2', carol.id)).toEqual({ role: 'member', joinedSeq: 3, leftSeq: null });
        await store.changeGroup('g2', system(alice, { event: 'role' }), {
          roles: [{ userId: carol.id, role: 'admin' }],
        });
        const left = await store.changeGroup('g2', system(bob, { event: 'left' }), { leave: [bob.id] });
        expect(await store.groupMembership('g2', bob.id)).toEqual({ role: 'member', joinedSeq: 1, leftSeq: left.seq });
        expect(await store.membersOf('g:g2')).toEqual([alice.id, carol.id].sort());
        expect(await store.groupMembership('g2', 'u-nobody')).toBeNull();
        await store.changeGroup('g2', system(alice, { event: 'updated' }), {
          update: { name: 'new', notice: 'n', owner: carol.id },
        });
        expect(await store.getGroup('g2')).toMatchObject({ name: 'new', notice: 'n', owner: carol.id, memberCount: 2 });
        const members = await store.groupMembers('g2');
        expect(members.map((m) => [m.id, m.role])).toEqual([
          [alice.id, 'owner'],
          [carol.id, 'admin'],
        ]);
        const dismissed = await store.changeGroup('g2', system(alice, { event: 'dismissed' }), { dismiss: true });
        expect(dismissed.seq).toBe(7);
        expect(await store.getGroup('g2')).toMatchObject({ dismissed: true, memberCount: 0 });
        expect(await store.membersOf('g:g2')).toEqual([]);
        expect(await store.groupMembership('g2', alice.id)).toMatchObject({ leftSeq: 7 });
        // A former member who joins again starts over.
        expect((await store.history('g:g2', undefined, 100)).messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      });

      it('gives lastSeqs of a group from the join and, for a former member, up to their leaving', async () => {
        const [alice, bob, carol] = [await user('a'), await user('b'), await user('c')];
        await create('g4', alice, [bob]);
        await store.changeGroup('g4', system(alice, { event: 'joined' }), {
          join: [{ userId: carol.id, role: 'member' }],
        });
        await store.changeGroup('g4', system(bob, { event: 'left' }), { leave: [bob.id] });
        await store.appendMessage({ ...message(alice, carol), conv: 'g:g4', members: [] });
        expect(await store.lastSeqs(carol.id, ['g:g4'])).toEqual([{ conv: 'g:g4', lastSeq: 4, firstSeq: 2 }]);
        expect(await store.lastSeqs(bob.id, ['g:g4'])).toEqual([{ conv: 'g:g4', lastSeq: 3, firstSeq: 1 }]);
        expect(await store.lastSeqs((await user('x')).id, ['g:g4'])).toEqual([]);
        // Carol's unread counts from her join, and system messages count for no badge; bob's entry ends at his leaving.
        expect(await sessionsOf(carol.id)).toEqual([
          expect.objectContaining({ conv: 'g:g4', lastSeq: 4, readSeq: 0, unread: 1, left: false }),
        ]);
        expect(await sessionsOf(bob.id)).toEqual([
          expect.objectContaining({
            conv: 'g:g4',
            lastSeq: 3,
            readSeq: 3,
            unread: 0,
            left: true,
            last: expect.objectContaining({ seq: 3 }),
            group: expect.objectContaining({ memberCount: 2 }),
          }),
        ]);
      });

      it('keeps seqs gap-free when group changes and sends race, across instances', async () => {
        const [alice, bob] = [await user('a'), await user('b')];
        await create('g3', alice, [bob]);
        const other = await harness.another();
        await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            i % 2
              ? (i % 4 === 1 ? store : other).changeGroup('g3', system(alice, { event: 'updated' }), {
                  update: { notice: `n${i}` },
                })
              : (i % 4 === 0 ? store : other).appendMessage({ ...message(bob, alice), conv: 'g:g3', members: [] }),
          ),
        );
        const seqs = (await store.history('g:g3', undefined, 100)).messages.map((m) => m.seq);
        expect(seqs).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
      });
    });

    describe('mentions', () => {
      let sys = 0;
      const system = (from: PublicUser): NewMessage => ({
        conv: '',
        members: [],
        from: from.id,
        cid: `msys-${++sys}`,
        kind: 'system',
        body: '{"event":"created"}',
        ts: 1_700_000_000_000 + ++cids,
      });
      const send = (from: PublicUser, groupId: string, mentions?: string[]) =>
        store.appendMessage({
          conv: `g:${groupId}`,
          members: [],
          from: from.id,
          cid: `m${++cids}`,
          kind: 'text',
          body: `body ${cids}`,
          ts: 1_700_000_000_000 + cids,
          ...(mentions ? { mentions } : {}),
        });
      const mentionedOf = async (userId: string, conv: string) =>
        (await store.sessionsPage(userId)).sessions.find((session) => session.conv === conv)?.mentioned;

      it('stores mentions with the message (history, messagesAfter, sessions.last), absent when none', async () => {
        const [alice, bob, carol] = [await user('a'), await user('b'), await user('c')];
        await store.changeGroup('gm1', system(alice), {
          create: { name: 'g', avatar: '', notice: '', owner: alice.id, createdAt: 1 },
          join: [alice, bob, carol].map((u, i) => ({
            userId: u.id,
            role: i === 0 ? ('owner' as const) : ('member' as const),
          })),
        });
        const plain = await send(alice, 'gm1');
        expect(plain.message).not.toHaveProperty('mentions');
        const sent = await send(alice, 'gm1', [bob.id, carol.id]);
        expect(sent.message).toMatchObject({ seq: 3, mentions: [bob.id, carol.id] });
        const history = await store.history('g:gm1', undefined, 10);
        expect(history.messages.map((m) => m.mentions)).toEqual([undefined, undefined, [bob.id, carol.id]]);
        expect(history.messages[1]).not.toHaveProperty('mentions');
        expect((await store.messagesAfter('g:gm1', 2, 10))[0].mentions).toEqual([bob.id, carol.id]);
        const entry = (await store.sessionsPage(bob.id)).sessions[0];
        expect(entry.last).toMatchObject({ seq: 3, mentions: [bob.id, carol.id] });
        // A resend of the cid answers the stored message, mentions included.
        const again = await store.appendMessage({
          ...message(alice, bob),
          cid: sent.message.cid,
          conv: 'g:gm1',
          members: [],
        });
        expect(again).toMatchObject({ duplicate: true, message: { seq: 3, mentions: [bob.id, carol.id] } });
        // A dm's last message has none.
        await store.appendMessage(message(alice, bob));
        const dm = (await store.sessionsPage(bob.id)).sessions.find((s) => isDirectSession(s));
        expect(dm?.last).not.toHaveProperty('mentions');
        expect(dm).toMatchObject({ mentioned: false, left: false });
      });

      it('mentioned: while an unread message mentions the user or all; off once read past it', async () => {
        const [alice, bob, carol, dave] = [await user('a'), await user('b'), await user('c'), await user('d')];
        await store.changeGroup('gm2', system(alice), {
          create: { name: 'g', avatar: '', notice: '', owner: alice.id, createdAt: 1 },
          join: [alice, bob, carol].map((u, i) => ({
            userId: u.id,
            role: i === 0 ? ('owner' as const) : ('member' as const),
          })),
        });
        const conv = 'g:gm2';
        expect(await mentionedOf(bob.id, conv)).toBe(false);
        const toBob = await send(carol, 'gm2', [bob.id]);
        expect(await mentionedOf(bob.id, conv)).toBe(true);
        expect(await mentionedOf(carol.id, conv)).toBe(false);
        expect(await mentionedOf(alice.id, conv)).toBe(false);
        // A later plain message keeps it; reading up to the mention ends it.
        await send(alice, 'gm2');
        expect(await mentionedOf(bob.id, conv)).toBe(true);
        await store.advanceRead(conv, bob.id, toBob.message.seq);
        expect(await mentionedOf(bob.id, conv)).toBe(false);
        // `all`: every current member but the sender, in one statement.
        const all = await send(alice, 'gm2', ['all']);
        expect(all.message.mentions).toEqual(['all']);
        expect(await mentionedOf(bob.id, conv)).toBe(true);
        expect(await mentionedOf(carol.id, conv)).toBe(true);
        expect(await mentionedOf(alice.id, conv)).toBe(false);
        // Someone who joins after the mention is not mentioned by it.
        await store.changeGroup('gm2', system(alice), { join: [{ userId: dave.id, role: 'member' }] });
        expect(await mentionedOf(dave.id, conv)).toBe(false);
        // The sender's own message moves their cursor past every mention before it.
        await send(carol, 'gm2');
        expect(await mentionedOf(carol.id, conv)).toBe(false);
        await store.advanceRead(conv, bob.id, all.message.seq);
        expect(await mentionedOf(bob.id, conv)).toBe(false);
        // A member who left is not mentioned by what follows.
        await store.changeGroup('gm2', system(bob), { leave: [bob.id] });
        await send(alice, 'gm2', ['all']);
        expect(await mentionedOf(bob.id, conv)).toBe(false);
        expect(await mentionedOf(dave.id, conv)).toBe(true);
      });
    });

    describe('withGroupLock', () => {
      it('runs the changes of one group one at a time, across two store instances; others in parallel', async () => {
        const other = await harness.another();
        const log: string[] = [];
        const work = (label: string) => async () => {
          log.push(`${label}+`);
          await new Promise((resolve) => setTimeout(resolve, 30));
          log.push(`${label}-`);
          return label;
        };
        const results = await Promise.all([
          store.withGroupLock('gl1', work('a')),
          other.withGroupLock('gl1', work('b')),
          store.withGroupLock('gl1', work('c')),
        ]);
        expect(results).toEqual(['a', 'b', 'c']);
        // Each starts only after the one before it ended (SQLite runs them as its callers queue them).
        if (name === 'PostgreSQL') {
          for (let i = 0; i < log.length; i += 2) expect(log[i + 1]).toBe(log[i].replace('+', '-'));
        }
        // A failing change releases the lock.
        await expect(
          store.withGroupLock('gl2', async () => {
            throw new Error('refused');
          }),
        ).rejects.toThrow('refused');
        expect(await other.withGroupLock('gl2', async () => 'free')).toBe('free');
      });
    });

    describe('message actions', () => {
      const recalled = (from: PublicUser, to: PublicUser, seq: number, cid: string): NewMessage =>
        message(from, to, { cid, kind: 'system', body: JSON.stringify({ event: 'recalled', seq }) });

      it('recalls in one transaction: the event with the next seq, the message rewritten, the cursor moved; a cid once', async () => {
        const [ann, ben] = [await user('ann'), await user('ben')];
        const conv = directConversationId(ann.id, ben.id);
        await store.appendMessage(message(ann, ben, { body: 'oops', mentions: undefined }));
        await store.appendMessage(message(ben, ann, { body: 'what?' }));
        const result = await store.recall(recalled(ann, ben, 1, 'rc1'), 1);
        expect(result).toEqual({
          message: expect.objectContaining({ conv, seq: 3, cid: 'rc1', from: ann.id, kind: 'system' }),
          duplicate: false,
        });
        expect((await store.history(conv, undefined, 10)).messages).toEqual([
          { conv, seq: 1, cid: expect.any(String), from: ann.id, kind: 'recalled', body: '', ts: expect.any(Number) },
          expect.objectContaining({ seq: 2, kind: 'text', body: 'what?' }),
          expect.objectContaining({ seq: 3, kind: 'system', body: '{"event":"recalled","seq":1}' }),
        ]);
        expect((await store.messagesAfter(conv, 0, 1))[0]).toMatchObject({ kind: 'recalled', body: '' });
        expect(await store.message(conv, 1)).toMatchObject({ kind: 'recalled', body: '' });
        expect((await dmSessionsOf(ann.id))[0]).toMatchObject({ lastSeq: 3, readSeq: 3 });
        // The recalled message counts for no badge, nor does the event.
        expect((await dmSessionsOf(ben.id))[0]).toMatchObject({ lastSeq: 3, readSeq: 2, unread: 0 });
        // The same cid: the same message, nothing written.
        const again = await store.recall(recalled(ann, ben, 2, 'rc1'), 2);
        expect(again).toEqual({ message: result?.message, duplicate: true });
        expect(await store.messageByCid(ann.id, 'rc1')).toEqual(result?.message);
        // Recalled already, a system message, missing: null, nothing written.
        expect(await store.recall(recalled(ann, ben, 1, 'rc2'), 1)).toBeNull();
        expect(await store.recall(recalled(ann, ben, 3, 'rc3'), 3)).toBeNull();
        expect(await store.recall(recalled(ann, ben, 9, 'rc4'), 9)).toBeNull();
        expect(await store.message(conv, 4)).toBeNull();
        expect(await store.messageByCid(ann.id, 'rc2')).toBeNull();
        expect((await dmSessionsOf(ann.id))[0]).toMatchObject({ lastSeq: 3 });
        // Two instances recalling one message at once: exactly one succeeds.
        await store.appendMessage(message(ann, ben, { body: 'again' }));
        const other = await harness.another();
        const both = await Promise.all([
          store.recall(recalled(ann, ben, 4, 'rc5'), 4),
          other.recall(recalled(ben, ann, 4, 'rc6'), 4),
        ]);
        expect(both.filter((r) => r !== null)).toHaveLength(1);
        expect((await store.history(conv, undefined, 10)).messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
      });

      it('stores a reply with its message: history, messagesAfter, sessions.last; absent when none', async () => {
        const [ann, ben] = [await user('ann'), await user('ben')];
        const conv = directConversationId(ann.id, ben.id);
        const quote = { seq: 1, from: ann.id, kind: 'text' as const, excerpt: 'hello' };
        const plain = await store.appendMessage(message(ann, ben, { body: 'hello' }));
        expect(plain.message).not.toHaveProperty('reply');
        const sent = await store.appendMessage(message(ben, ann, { body: 'hi back', reply: quote }));
        expect(sent.message).toMatchObject({ seq: 2, reply: quote });
        expect((await store.history(conv, undefined, 10)).messages.map((m) => m.reply)).toEqual([undefined, quote]);
        expect((await store.messagesAfter(conv, 1, 10))[0].reply).toEqual(quote);
        expect(await store.message(conv, 2)).toMatchObject({ reply: quote });
        expect((await dmSessionsOf(ann.id))[0].last).toMatchObject({ seq: 2, reply: quote });
        // Recalling the reply itself drops its quote with its body.
        await store.recall(recalled(ben, ann, 2, 'rq'), 2);
        expect(await store.message(conv, 2)).not.toHaveProperty('reply');
      });

      it('stores a voice message with its duration: history, messagesAfter, sessions.last, byCid; gone with a recall', async () => {
        const [ann, ben] = [await user('ann'), await user('ben')];
        const conv = directConversationId(ann.id, ben.id);
        const plain = await store.appendMessage(message(ann, ben, { body: 'hello' }));
        expect(plain.message).not.toHaveProperty('duration');
        const url = 'https://chat.example/uploads/AAAAAAAAAAAAAAAAAAAAAAAA.m4a';
        const sent = await store.appendMessage(
          message(ann, ben, { cid: 'voice-1', kind: 'voice', body: url, duration: 7 }),
        );
        expect(sent.message).toMatchObject({ seq: 2, kind: 'voice', body: url, duration: 7 });
        expect((await store.history(conv, undefined, 10)).messages.map((m) => m.duration)).toEqual([undefined, 7]);
        expect((await store.messagesAfter(conv, 1, 10))[0]).toMatchObject({ kind: 'voice', duration: 7 });
        expect(await store.messageByCid(ann.id, 'voice-1')).toEqual(sent.message);
        expect((await dmSessionsOf(ben.id))[0].last).toMatchObject({ seq: 2, kind: 'voice', body: url, duration: 7 });
        await store.recall(recalled(ann, ben, 2, 'rv'), 2);
        expect(await store.message(conv, 2)).toEqual({
          conv,
          seq: 2,
          cid: 'voice-1',
          from: ann.id,
          kind: 'recalled',
          body: '',
          ts: expect.any(Number),
        });
      });

      it("keeps mute and pin per user and conversation; a dm before its first message gets the caller's row only", async () => {
        const [ann, ben, cat] = [await user('ann'), await user('ben'), await user('cat')];
        const conv = directConversationId(ann.id, ben.id);
        await store.appendMessage(message(ann, ben));
        expect(await store.setConversationPrefs(conv, ann.id, { muted: true }, 5)).toEqual({
          muted: true,
          pinned: false,
        });
        expect(await store.setConversationPrefs(conv, ann.id, { pinned: true }, 6)).toEqual({
          muted: true,
          pinned: true,
        });
        expect(await store.setConversationPrefs(conv, ann.id, {}, 7)).toEqual({ muted: true, pinned: true });
        expect((await dmSessionsOf(ann.id))[0]).toMatchObject({ muted: true, pinned: true });
        expect((await dmSessionsOf(ben.id))[0]).toMatchObject({ muted: false, pinned: false });
        // Another instance reads the same.
        const other = await harness.another();
        expect((await other.sessionsPage(ann.id)).sessions[0]).toMatchObject({ muted: true, pinned: true });
        const empty = directConversationId(ann.id, cat.id);
        expect(await store.setConversationPrefs(empty, ann.id, { pinned: true }, 8)).toEqual({
          muted: false,
          pinned: true,
        });
        expect(await store.membersOf(empty)).toEqual([ann.id]);
        expect((await sessionsOf(ann.id)).map((s) => s.conv)).toEqual([conv]);
        expect(await store.peersOf(ann.id)).toEqual([ben.id]);
        // The first message adds the peer and keeps the settings.
        await store.appendMessage(message(cat, ann));
        expect(await store.membersOf(empty)).toEqual([ann.id, cat.id].sort());
        expect((await dmSessionsOf(ann.id)).find((s) => s.conv === empty)).toMatchObject({ pinned: true, lastSeq: 1 });
        expect((await dmSessionsOf(cat.id))[0]).toMatchObject({ pinned: false, peer: ann });
      });
    });

    describe('reminder credits', () => {
      let wechatIds = 0;
      const wechatUser = (nickname = 'wx'): Promise<PublicUser> =>
        store.userFor({ provider: 'wechat', externalId: `openid-${++wechatIds}` }, { nickname });

      it('adds one credit per accept up to the cap, per template; none is 0', async () => {
        const ann = await wechatUser();
        expect(await store.notifyCredits(ann.id, 'T1')).toBe(0);
        expect(await store.addNotifyCredit(ann.id, 'T1', 3)).toBe(1);
        expect(await store.addNotifyCredit(ann.id, 'T1', 3)).toBe(2);
        expect(await store.addNotifyCredit(ann.id, 'T1', 3)).toBe(3);
        expect(await store.addNotifyCredit(ann.id, 'T1', 3)).toBe(3);
        expect(await store.notifyCredits(ann.id, 'T1')).toBe(3);
        expect(await store.notifyCredits(ann.id, 'T2')).toBe(0);
        await store.clearNotifyCredits(ann.id, 'T1');
        expect(await store.notifyCredits(ann.id, 'T1')).toBe(0);
        // Another instance reads the same.
        await store.addNotifyCredit(ann.id, 'T1', 3);
        expect(await (await harness.another()).notifyCredits(ann.id, 'T1')).toBe(1);
      });

      it('spends a credit only with one left and outside the cooldown; never below 0', async () => {
        const ann = await wechatUser();
        expect(await store.takeNotifyCredit(ann.id, 'T', 1000, 0)).toBe(false);
        await store.addNotifyCredit(ann.id, 'T', 50);
        await store.addNotifyCredit(ann.id, 'T', 50);
        expect(await store.takeNotifyCredit(ann.id, 'T', 1000, 0)).toBe(true);
        // Reminded at 1000: a take that allows nothing after 999 is inside the cooldown.
        expect(await store.takeNotifyCredit(ann.id, 'T', 1500, 999)).toBe(false);
        expect(await store.notifyCredits(ann.id, 'T')).toBe(1);
        expect(await store.takeNotifyCredit(ann.id, 'T', 2000, 1000)).toBe(true);
        expect(await store.takeNotifyCredit(ann.id, 'T', 9000, 8000)).toBe(false);
        expect(await store.notifyCredits(ann.id, 'T')).toBe(0);
      });

      it('two instances taking at once for one user within a cooldown: exactly one succeeds, one credit spent', async () => {
        const ann = await wechatUser();
        for (let i = 0; i < 5; i++) await store.addNotifyCredit(ann.id, 'T', 50);
        const other = await harness.another();
        const now = 100_000;
        const results = await Promise.all([
          ...Array.from({ length: 4 }, () => store.takeNotifyCredit(ann.id, 'T', now, now - 60_000)),
          ...Array.from({ length: 4 }, () => other.takeNotifyCredit(ann.id, 'T', now, now - 60_000)),
        ]);
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await store.notifyCredits(ann.id, 'T')).toBe(4);
      });

      it('targets: members with a credit, not muted, outside the cooldown, with a WeChat openid', async () => {
        const ann = await wechatUser('ann');
        const [ben, cat, dan] = [await wechatUser('ben'), await wechatUser('cat'), await wechatUser('dan')];
        const dev = await user('dev');
        const msg = (to: PublicUser) => message(ann, to);
        for (const other of [ben, cat, dan, dev]) await store.appendMessage(msg(other));
        const dmWith = (other: PublicUser) => directConversationId(ann.id, other.id);
        for (const other of [ben, cat, dan, dev]) await store.addNotifyCredit(other.id, 'T', 50);
        await store.setConversationPrefs(dmWith(cat), cat.id, { muted: true }, 1);
        // dan was reminded at 5000 (and has a credit left).
        await store.addNotifyCredit(dan.id, 'T', 50);
        expect(await store.takeNotifyCredit(dan.id, 'T', 5000, 0)).toBe(true);
        const targets = async (other: PublicUser, notBefore = 4000) =>
          store.notifyTargets(dmWith(other), [other.id], 'T', notBefore);
        expect(await targets(ben)).toEqual([{ userId: ben.id, openid: expect.stringMatching(/^openid-/), credits: 1 }]);
        expect(await targets(cat)).toEqual([]); // muted
        expect(await targets(dan)).toEqual([]); // within the cooldown
        expect(await targets(dan, 5000)).toEqual([{ userId: dan.id, openid: expect.any(String), credits: 1 }]);
        expect(await targets(dev)).toEqual([]); // no openid (development login)
        expect(await store.notifyTargets(dmWith(ben), [cat.id], 'T', 4000)).toEqual([]); // not a member
        expect(await store.notifyTargets(dmWith(ben), [ben.id], 'other-template', 4000)).toEqual([]);
        expect(await store.notifyTargets(dmWith(ben), [], 'T', 4000)).toEqual([]);
      });
    });

    describe('safety', () => {
      it('keeps blocks: newest first, once each, lifted, and who blocked whom', async () => {
        const [ann, ben, cat] = [await user('ann'), await user('ben'), await user('cat')];
        await store.safety.block(ann.id, ben.id, 1000);
        await store.safety.block(ann.id, cat.id, 2000);
        await store.safety.block(ann.id, ben.id, 3000);
        expect(await store.safety.blockList(ann.id)).toEqual([cat, ben]);
        expect(await store.safety.isBlocked(ann.id, ben.id)).toBe(true);
        expect(await store.safety.isBlocked(ben.id, ann.id)).toBe(false);
        await store.safety.block(cat.id, ben.id, 4000);
        expect((await store.safety.blockersOf(ben.id)).sort()).toEqual([ann.id, cat.id].sort());
        await store.safety.unblock(ann.id, ben.id);
        expect(await store.safety.blockList(ann.id)).toEqual([cat]);
        expect(await store.safety.isBlocked(ann.id, ben.id)).toBe(false);
        // Another instance (or a restart) sees the same.
        const other = await harness.another();
        expect(await other.safety.blockList(ann.id)).toEqual([cat]);
      });

      it('keeps reports: counted per reporter, open ones paged newest first, closed once', async () => {
        const report = (id: string, createdAt: number, extra: Partial<ReportRecord> = {}): ReportRecord => ({
          id,
          reporter: 'u-rep',
          conv: 'dm:a:b',
          seq: 3,
          reported: 'u-bad',
          reason: '骚扰',
          createdAt,
          status: 'open',
          closedAt: null,
          ...extra,
        });
        await store.safety.addReport(report('r1', 1000));
        await store.safety.addReport(report('r2', 2000, { seq: null, reported: null, conv: 'g:x' }));
        await store.safety.addReport(report('r3', 2000, { reporter: 'u-other' }));
        await store.safety.addReport(report('r4', 3000));
        expect(await store.safety.reportCountSince('u-rep', 1999)).toBe(2);
        expect(await store.safety.reportCountSince('u-rep', 2000)).toBe(1);
        expect(await store.safety.reportCountSince('u-rep', 0)).toBe(3);
        const first = await store.safety.openReports(2);
        expect(first.map((r) => r.id)).toEqual(['r4', 'r3']);
        const rest = await store.safety.openReports(10, { ts: first[1].createdAt, id: first[1].id });
        expect(rest.map((r) => r.id)).toEqual(['r2', 'r1']);
        expect(rest[0]).toEqual(report('r2', 2000, { seq: null, reported: null, conv: 'g:x' }));
        expect(await store.safety.closeReport('r4', 'dismissed', 5000)).toBe(true);
        expect(await store.safety.closeReport('r4', 'resolved', 6000)).toBe(false);
        expect(await store.safety.getReport('r4')).toMatchObject({ status: 'dismissed', closedAt: 5000 });
        expect((await store.safety.openReports(10)).map((r) => r.id)).toEqual(['r3', 'r2', 'r1']);
        expect((await store.safety.reportsAgainst('u-bad', 10)).map((r) => r.id)).toEqual(['r4', 'r3', 'r1']);
        expect(await store.safety.getReport('nope')).toBeNull();
      });

      it('keeps bans: timed or permanent, replaced, lifted', async () => {
        expect(await store.safety.getBan('u1')).toBeNull();
        await store.safety.setBan({ userId: 'u1', reason: 'spam', until: 9_000_000_000_000, since: 1000 });
        expect(await store.safety.getBan('u1')).toEqual({
          userId: 'u1',
          reason: 'spam',
          until: 9_000_000_000_000,
          since: 1000,
        });
        await store.safety.setBan({ userId: 'u1', reason: 'again', until: null, since: 2000 });
        expect(await store.safety.getBan('u1')).toEqual({ userId: 'u1', reason: 'again', until: null, since: 2000 });
        expect(await store.safety.removeBan('u1')).toBe(true);
        expect(await store.safety.removeBan('u1')).toBe(false);
        expect(await store.safety.getBan('u1')).toBeNull();
      });

      it('keeps the audit log, newest first, paged', async () => {
        const entry = (id: string, ts: number): AuditEntry => ({
          id,
          ts,
          actor: 'admin',
          ip: '127.0.0.1',
          action: 'ban',
          target: 'u1',
          reason: 'spam',
          detail: JSON.stringify({ until: null }),
        });
        for (const [id, ts] of [
          ['a1', 10],
          ['a2', 20],
          ['a3', 20],
          ['a4', 30],
        ] as const) {
          await store.safety.addAudit(entry(id, ts));
        }
        const first = await store.safety.auditLog(3);
        expect(first.map((e) => e.id)).toEqual(['a4', 'a3', 'a2']);
        expect(first[0]).toEqual(entry('a4', 30));
        const rest = await store.safety.auditLog(3, { ts: 20, id: 'a2' });
        expect(rest.map((e) => e.id)).toEqual(['a1']);
      });
    });

    describe('epoch', () => {
      it('is made with the store, stays across a reopen and differs for other data', async () => {
        const epoch = await store.epoch();
        expect(epoch).toMatch(/^[0-9a-f]{16}$/);
        expect(await store.epoch()).toBe(epoch);
        const reopened = await harness.another();
        expect(await reopened.epoch()).toBe(epoch);
        const elsewhere = await harness.fresh();
        expect(await elsewhere.epoch()).not.toBe(epoch);
      });
    });
  });
}

storeConformance('SQLite', async () => sqliteHarness());

if (DATABASE_URL) {
  const url = DATABASE_URL;
  storeConformance('PostgreSQL', () => postgresHarness(url));
} else {
  warnSkipped('the Store conformance suite on PostgreSQL (server/test/store-conformance.test.ts)', ['DATABASE_URL']);
  // Skipped only when DATABASE_URL is unset (a machine without PostgreSQL): there is nothing to run
  // it against. `.ci/run` sets DATABASE_URL, so CI always runs it.
  describe.skip('Store conformance: PostgreSQL (DATABASE_URL is not set)', () => {
    it('runs against PostgreSQL when DATABASE_URL is set', () => {});
  });
}
