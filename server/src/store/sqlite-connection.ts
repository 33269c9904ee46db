import Database from 'better-sqlite3';
import type { Dialect } from './sql';

/** SQLite's words for the shared SQL (sql.ts). */
export const SQLITE: Dialect = {
  param: () => '?',
  text: 'TEXT',
  integer: 'INTEGER',
  // The first schema kept messages in their primary key's order (the second migration undid it).
  messagesTableOptions: ' WITHOUT ROWID',
  // SQLite compares text byte by byte (BINARY) unless told otherwise.
  byteOrder: '',
  contains: (haystack, needle) => `instr(${haystack}, ${needle}) > 0`,
  least: 'min',
  inList: (column, param) => `${column} IN (SELECT value FROM json_each(${param}))`,
};

/** SQLite's own automatic checkpoint threshold, in WAL pages (its default). */
export const AUTO_CHECKPOINT_PAGES = 1000;

/**
 * Opens a connection to the store's file with the settings every connection needs (most pragmas
 * are per connection): WAL, NORMAL sync, foreign keys, a busy wait, and either SQLite's automatic
 * checkpoint or none (a worker thread checkpoints: checkpointer.ts).
 */
export function openConnection(file: string, options: { autoCheckpoint: boolean }): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode survives a process crash (kill -9); only a power loss can drop the
  // last transactions, which FULL would cost an fsync per commit to prevent.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // Two connections write the file (the writer's and the main thread's, for the rarer writes):
  // one waits for the other's transaction, which is short.
  db.pragma('busy_timeout = 5000');
  // After a burst the WAL file is cut back to this size when it starts over.
  db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  db.pragma(`wal_autocheckpoint = ${options.autoCheckpoint ? AUTO_CHECKPOINT_PAGES : 0}`);
  return db;
}
