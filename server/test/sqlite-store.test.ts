/**
 * What only the SQLite store has: its schema migrations over existing data, and its WAL
 * checkpoints in a worker thread (the WAL stays short; a failed worker is reported and the store
 * goes back to checkpointing inside its commits).
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { directConversationId } from '../../contract/conversations';
import { WalCheckpointer } from '../src/store/checkpointer';
import { MIGRATIONS, SqliteStore } from '../src/store/sqlite';
import { statements, type Dialect } from '../src/store/sql';
import type { NewMessage } from '../src/store/types';
import { tempDataDir } from '../../test/support/tmp';
import { waitFor } from './support/wait';

function message(conv: string, members: string[], from: string, cid: string, body = `body of ${cid}`): NewMessage {
  return { conv, members, from, cid, kind: 'text', body, ts: Date.now() };
}

describe('SQLite store', () => {
  it('binds the shared statements by position: each names its parameters once, in order', () => {
    // SQLite's `?` are positional, so a statement whose numbers are out of order or repeated
    // would bind its values to the wrong columns there, though it works on PostgreSQL.
    const probe: Dialect = {
      param: (n) => `<${n}>`,
      text: 'TEXT',
      integer: 'INTEGER',
      messagesTableOptions: '',
      byteOrder: '',
      contains: (haystack, needle) => `instr(${haystack}, ${needle}) > 0`,
      least: 'min',
      inList: (column, param) => `${column} IN (SELECT value FROM json_each(${param}))`,
    };
    for (const [name, text] of Object.entries(statements(probe))) {
      const numbers = [...text.matchAll(/<(\d+)>/g)].map((match) => Number(match[1]));
      expect({ name, numbers }).toEqual({ name, numbers: numbers.map((_, i) => i + 1) });
    }
  });

  it('migrates a version-1 file: every message kept, in order, cids still unique, seqs go on', async () => {
    const file = path.join(tempDataDir(), 'chat.db');
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    old.exec(MIGRATIONS[0]);
    old.prepare(`INSERT INTO meta (key, value) VALUES ('epoch', 'epoch-of-v1')`).run();
    old.pragma('user_version = 1');
    const conv = directConversationId('ua', 'ub');
    old.prepare('INSERT INTO users (id, nickname, created_at) VALUES (?, ?, 0), (?, ?, 0)').run('ua', 'A', 'ub', 'B');
    old.prepare('INSERT INTO conversations (id, last_seq, updated_at) VALUES (?, 3, 3)').run(conv);
    old
      .prepare('INSERT INTO members (conv, user_id, read_seq) VALUES (?, ?, 3), (?, ?, 1)')
      .run(conv, 'ua', conv, 'ub');
    const insert = old.prepare(
      'INSERT INTO messages (conv, seq, cid, sender, kind, body, ts) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    insert.run(conv, 1, 'a-1', 'ua', 'text', 'first', 1);
    insert.run(conv, 2, 'b-1', 'ub', 'text', 'second', 2);
    insert.run(conv, 3, 'a-2', 'ua', 'text', 'third', 3);
    old.close();

    const store = new SqliteStore(file);
    try {
      expect(await store.epoch()).toBe('epoch-of-v1');
      const page = await store.history(conv, undefined, 10);
      expect(page.messages.map((m) => [m.seq, m.cid, m.from, m.body])).toEqual([
        [1, 'a-1', 'ua', 'first'],
        [2, 'b-1', 'ub', 'second'],
        [3, 'a-2', 'ua', 'third'],
      ]);
      const again = await store.appendMessage(message(conv, ['ua', 'ub'], 'ua', 'a-2'));
      expect(again).toMatchObject({ duplicate: true, message: { seq: 3, body: 'third' } });
      const next = await store.appendMessage(message(conv, ['ua', 'ub'], 'ub', 'b-2'));
      expect(next).toMatchObject({ duplicate: false, message: { seq: 4 } });
      const [session] = (await store.sessionsPage('ub')).sessions;
      expect(session).toMatchObject({ conv, lastSeq: 4, readSeq: 4, peerReadSeq: 3, unread: 0 });
      const check = new Database(file, { readonly: true });
      expect(check.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
      check.close();
    } finally {
      await store.close();
    }
  });

  it('checkpoints while messages keep coming: the WAL starts over again and again', async () => {
    const file = path.join(tempDataDir(), 'chat.db');
    const store = new SqliteStore(file, { checkpointIntervalMs: 50, walFramesBeforeFinish: 256 });
    try {
      const users: string[] = [];
      for (let i = 0; i < 200; i++) {
        users.push((await store.userFor({ provider: 'dev', externalId: `p${i}` }, { nickname: `P${i}` })).id);
      }
      const pair = (i: number): [string, string] => [users[i], users[i + 100]];
      // Bytes 12–15 of the WAL header count the times the WAL started over from its beginning,
      // which happens only once every page in it has been copied into the database.
      const restarts = () => fs.readFileSync(`${file}-wal`).readUInt32BE(12);
      const first = restarts();
      const body = 'x'.repeat(1000);
      // Back to back: a commit every turn of the event loop, as under load.
      let turns = 0;
      for (const until = Date.now() + 1200; Date.now() < until; turns++) {
        const turn = turns;
        await Promise.all(
          Array.from({ length: 100 }, (_, i) => {
            const [a, b] = pair(i);
            return store.appendMessage(message(directConversationId(a, b), [a, b], a, `c${turn}-${i}`, body));
          }),
        );
      }
      // Thousands of 1 kB messages in over a second of commits: without checkpoints the WAL would only
      // grow and never start over; with the worker's alone it would not either, as no pass of the
      // worker ends before the next commit.
      expect(restarts() - first).toBeGreaterThanOrEqual(2);
      expect((await store.history(directConversationId(...pair(7)), undefined, 100)).messages).toHaveLength(
        Math.min(100, turns),
      );
    } finally {
      await store.close();
    }
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
  });

  it('reports a checkpoint worker that cannot work', async () => {
    const failures: Error[] = [];
    const checkpointer = new WalCheckpointer(path.join(tempDataDir(), 'missing', 'dir', 'chat.db'), 50, {
      afterPass: () => {},
      onFailure: (error) => failures.push(error),
    });
    await waitFor(() => failures.length > 0, 'the failure to be reported');
    expect(failures).toHaveLength(1);
    expect(failures[0].message).toMatch(/unable to open database file|directory does not exist/);
    await checkpointer.stop();
  });
});
