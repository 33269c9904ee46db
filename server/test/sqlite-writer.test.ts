/**
 * The SQLite store's writer thread (store/sqlite-writer*.ts): batches that grow while it commits,
 * nothing answered before it is in the file, the order of appends, recalls and read cursors kept
 * across the thread, and a thread that dies: the store goes on writing on the main thread.
 */
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { directConversationId } from '../../contract/conversations';
import { loadConfig } from '../src/config';
import { SqliteStore } from '../src/store/sqlite';
import type { NewMessage } from '../src/store/types';
import { tempDataDir } from '../../test/support/tmp';
import { waitFor } from './support/wait';

function message(conv: string, members: string[], from: string, cid: string): NewMessage {
  return { conv, members, from, cid, kind: 'text', body: `body of ${cid}`, ts: Date.now() };
}

/** The store's writer thread, reached into as only a test may: to see it work, and to kill it. */
function writerThreadOf(store: SqliteStore): Worker {
  const writer = store['writer'] as unknown as { worker?: Worker };
  if (!writer.worker) throw new Error('the store writes on the main thread');
  return writer.worker;
}

async function twoUsers(store: SqliteStore) {
  const a = (await store.userFor({ provider: 'dev', externalId: 'a' }, { nickname: 'A' })).id;
  const b = (await store.userFor({ provider: 'dev', externalId: 'b' }, { nickname: 'B' })).id;
  return { a, b, conv: directConversationId(a, b), members: [a, b].sort() };
}

describe('SQLite writer thread', () => {
  let file: string;
  let store: SqliteStore;
  /** A connection of the test's own to the same file: what it sees is what a crash would keep. */
  let reader: Database.Database;

  beforeEach(() => {
    file = path.join(tempDataDir(), 'chat.db');
    store = new SqliteStore(file, { writerThread: true });
    reader = new Database(file, { readonly: true });
  });

  afterEach(async () => {
    reader.close();
    await store.close();
  });

  const storedSeqs = (conv: string) =>
    reader
      .prepare<[string], { seq: number }>('SELECT seq FROM messages WHERE conv = ? ORDER BY seq')
      .all(conv)
      .map((row) => row.seq);

  it('answers each append only once it is in the file, in the order of arrival, over turns that overlap its commits', async () => {
    const { a, b, conv, members } = await twoUsers(store);
    writerThreadOf(store);
    const seen: Array<{ seq: number; inFile: boolean }> = [];
    // Four waves, each in its own turn while the previous may still be committing.
    const appends: Array<Promise<void>> = [];
    for (let wave = 0; wave < 4; wave++) {
      for (let i = 0; i < 50; i++) {
        const from = i % 2 ? a : b;
        appends.push(
          store.appendMessage(message(conv, members, from, `w${wave}-${i}`)).then(({ message: stored }) => {
            seen.push({ seq: stored.seq, inFile: storedSeqs(conv).includes(stored.seq) });
          }),
        );
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(appends);
    expect(seen.every((entry) => entry.inFile)).toBe(true);
    // Seqs in the order of arrival, gap-free; the conversation row and both cursors written back.
    expect(storedSeqs(conv)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const history = await store.messagesAfter(conv, 0, 200);
    expect(history.map((stored) => stored.cid)).toEqual(
      Array.from({ length: 4 }, (_, wave) => Array.from({ length: 50 }, (_, i) => `w${wave}-${i}`)).flat(),
    );
    const row = reader.prepare('SELECT last_seq FROM conversations WHERE id = ?').get(conv) as { last_seq: number };
    expect(row.last_seq).toBe(200);
    const cursors = reader.prepare('SELECT user_id, read_seq FROM members WHERE conv = ? ORDER BY user_id').all(conv);
    // a sent the odd ones (the last is 200), b the even ones (the last is 199).
    expect(cursors).toEqual(
      [
        { user_id: a, read_seq: 200 },
        { user_id: b, read_seq: 199 },
      ].sort((x, y) => (x.user_id < y.user_id ? -1 : 1)),
    );
  });

  it('keeps a recall and a read cursor behind the appends asked before them', async () => {
    const { a, b, conv, members } = await twoUsers(store);
    await store.appendMessage(message(conv, members, a, 'first'));
    const appends = Array.from({ length: 20 }, (_, i) => store.appendMessage(message(conv, members, b, `b${i}`)));
    // Asked in the same turn as the appends, after them: they take the seqs after theirs.
    const recall = store.recall({ ...message(conv, members, a, 'recall-1'), kind: 'recalled', body: '' }, 1);
    const read = store.advanceRead(conv, b, 1000);
    const stored = await Promise.all(appends);
    expect(stored.map((result) => result.message.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    expect((await recall)?.message.seq).toBe(22);
    expect(await read).toBe(22);
    expect((await store.message(conv, 1))?.kind).toBe('recalled');
  });

  it('answers a resend of a cid stored in an earlier batch as that message, taking no seq', async () => {
    const { a, conv, members } = await twoUsers(store);
    const first = await store.appendMessage(message(conv, members, a, 'once'));
    const [again, next] = await Promise.all([
      store.appendMessage(message(conv, members, a, 'once')),
      store.appendMessage(message(conv, members, a, 'twice')),
    ]);
    expect(again).toEqual({ message: first.message, duplicate: true });
    expect(next.message.seq).toBe(2);
  });

  it('goes on writing on the main thread when the writer thread dies: gap-free, cids still once', async () => {
    const failures: Error[] = [];
    await store.close();
    store = new SqliteStore(file, { writerThread: true, onWriterFailure: (error) => failures.push(error) });
    const { a, b, conv, members } = await twoUsers(store);
    const before = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.appendMessage(message(conv, members, a, `before-${i}`))),
    );
    expect(before.map((result) => result.message.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));

    // Killed with appends under way: those not answered fail (their clients resend them).
    const underWay = Array.from({ length: 10 }, (_, i) =>
      store.appendMessage(message(conv, members, b, `under-way-${i}`)).then(
        (result) => ({ ok: true as const, result }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
    );
    await new Promise((resolve) => setImmediate(resolve));
    await writerThreadOf(store).terminate();
    await waitFor(() => failures.length > 0, 'the failure to be reported');
    expect(failures[0].message).toMatch(/writer thread exited/);
    const outcomes = await Promise.all(underWay);

    // The clients resend everything not acked, and the ones acked too (an ack may have been lost).
    const resent = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.appendMessage(message(conv, members, b, `under-way-${i}`))),
    );
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.ok) expect(resent[i]).toEqual({ message: outcome.result.message, duplicate: true });
    }
    const after = await store.appendMessage(message(conv, members, a, 'after'));
    expect(after.message.seq).toBe(21);
    expect(storedSeqs(conv)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    expect(await store.advanceRead(conv, b, 21)).toBe(21);
  });

  it('writes an in-memory database on the main thread', async () => {
    const memory = new SqliteStore(':memory:');
    try {
      expect(() => writerThreadOf(memory)).toThrow(/main thread/);
      const { a, conv, members } = await twoUsers(memory);
      expect((await memory.appendMessage(message(conv, members, a, 'm'))).message.seq).toBe(1);
    } finally {
      await memory.close();
    }
  });

  it('is chosen by SQLITE_WRITER: main (the default) or thread; anything else stops the start', () => {
    expect(loadConfig({}).sqliteWriter).toBe('main');
    expect(loadConfig({ SQLITE_WRITER: 'thread' }).sqliteWriter).toBe('thread');
    expect(() => loadConfig({ SQLITE_WRITER: 'worker' })).toThrow(/SQLITE_WRITER must be thread or main, got "worker"/);
  });
});
