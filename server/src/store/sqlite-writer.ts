import type Database from 'better-sqlite3';
import type { ChatMessage } from '../../../contract/frames';
import type { AppendResult, GroupChange, NewMessage } from './types';
import { groupConv, messageInsert, mentionsColumn, storedMessage, toMessage, type MessageInsert } from './rows';
import type { MessageRow } from './rows';
import type { Dialect } from './sql';
import { statements } from './sql';

/** One append's answer from a batch: stored (or found stored), or why it failed on its own. */
export type AppendOutcome = { result: AppendResult } | { error: string };

/** Thrown inside a recall's transaction to undo it: the message may not be recalled (any more). */
class NothingToRecall extends Error {}

/** The (conv, seq) unique index refused an insert: the seq was taken by another writer. */
function isSeqTaken(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error as Error & { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' &&
    error.message.includes('messages.conv, messages.seq')
  );
}

/** Conversations whose last seq is kept in memory; beyond it the oldest is read again when needed. */
const REMEMBERED_CONVERSATIONS = 100_000;

/**
 * Everything that gives a conversation a new seq, on the one connection allowed to: appends,
 * recalls and group changes, plus read cursors (they race with the sender's own). Runs on whichever
 * thread owns its connection — a worker thread (sqlite-writer-thread.ts) or, for an in-memory
 * database, the main thread — and is synchronous: a call is one transaction.
 *
 * The lean path: the writer is the only one to move `last_seq`, so it keeps each conversation's in
 * memory and writes it back once per conversation per commit, with the sender's read cursor; a
 * message is one `INSERT … ON CONFLICT (sender, cid) DO NOTHING`, the stored one read back only when
 * that finds the cid taken (a resend).
 */
export class SqliteWriter {
  private readonly s;
  /** Each conversation's last seq as committed (or about to be, inside a transaction). */
  private readonly lastSeq = new Map<string, number>();
  /** While a transaction runs: what each conversation it touched had before (undefined: nothing known). */
  private journal: Map<string, number | undefined> | null = null;
  private readonly appendBatch: (batch: readonly NewMessage[]) => AppendResult[];
  private readonly appendOneTx: (message: NewMessage) => AppendResult;
  private readonly recallTx: (event: NewMessage, seq: number, moveRead: boolean) => AppendResult | null;
  private readonly changeGroupTx: (groupId: string, message: NewMessage, change: GroupChange) => ChatMessage;

  constructor(
    private readonly db: Database.Database,
    dialect: Dialect,
  ) {
    const SQL = statements(dialect);
    this.s = {
      byCid: db.prepare<[string, string], MessageRow>(SQL.byCid),
      lastSeq: db.prepare<[string], { last_seq: number }>('SELECT last_seq FROM conversations WHERE id = ?'),
      lastStoredSeq: db.prepare<[string], { seq: number }>(
        'SELECT coalesce(max(seq), 0) AS seq FROM messages WHERE conv = ?',
      ),
      insertConversation: db.prepare<[string, number]>(SQL.insertConversation),
      insertMember: db.prepare<[string, string]>('INSERT OR IGNORE INTO members (conv, user_id) VALUES (?, ?)'),
      insertMessage: db.prepare<MessageInsert>(SQL.insertMessage),
      insertNewMessage: db.prepare<MessageInsert>(`${SQL.insertMessage} ON CONFLICT (sender, cid) DO NOTHING`),
      setLastSeq: db.prepare<[number, number, string]>(
        'UPDATE conversations SET last_seq = ?, updated_at = ? WHERE id = ?',
      ),
      recallMark: db.prepare<[string, number]>(SQL.recallMark),
      mention: db.prepare<[number, string, string, number, string]>(SQL.mention),
      senderRead: db.prepare<[number, string, string, number]>(SQL.senderRead),
      advanceRead: db.prepare<[number, string, string, string, number], { read_seq: number }>(SQL.advanceRead),
      insertGroup: db.prepare<[string, string, string, string, string, number]>(SQL.insertGroup),
      joinGroup: db.prepare<[string, string, string, number]>(SQL.joinGroup),
      leaveGroup: db.prepare<[number, string, string]>(SQL.leaveGroup),
      leaveAll: db.prepare<[number, string]>(SQL.leaveAll),
      setRole: db.prepare<[string, string, string]>(SQL.setRole),
      updateGroup: db.prepare<[string | null, string | null, string | null, string | null, number | null, string]>(
        SQL.updateGroup,
      ),
    };
    // IMMEDIATE: the write lock is taken at BEGIN (waiting as busy_timeout allows), so a commit of
    // the main thread's connection in between cannot make the transaction fail halfway.
    const appendAll = db.transaction((batch: readonly NewMessage[]) => this.appendInOrder(batch));
    this.appendBatch = (batch) => this.keepingSeqs(() => appendAll.immediate(batch));
    const appendOne = db.transaction((message: NewMessage) => this.appendInOrder([message])[0]);
    this.appendOneTx = (message) => this.keepingSeqs(() => appendOne.immediate(message));
    const recall = db.transaction((event: NewMessage, target: number, moveRead: boolean) =>
      this.recallIn(event, target, moveRead),
    );
    this.recallTx = (event, target, moveRead) => this.keepingSeqs(() => recall.immediate(event, target, moveRead));
    const changeGroup = db.transaction((groupId: string, message: NewMessage, change: GroupChange) =>
      this.changeGroupIn(groupId, message, change),
    );
    this.changeGroupTx = (groupId, message, change) =>
      this.keepingSeqs(() => changeGroup.immediate(groupId, message, change));
  }

  /**
   * Stores a batch in one transaction, in order; when it fails as a whole, each on its own, so one
   * bad append does not sink the others. Nothing is answered before its transaction committed.
   */
  append(batch: readonly NewMessage[]): AppendOutcome[] {
    try {
      return this.appendBatch(batch).map((result) => ({ result }));
    } catch {
      return batch.map((message) => {
        try {
          return { result: this.appendOneTx(message) };
        } catch (error) {
          return { error: error instanceof Error ? error.message : String(error) };
        }
      });
    }
  }

  /** A `recalled` event and the recall of `seq`, in one transaction; null when there is nothing to recall. */
  recall(event: NewMessage, seq: number, moveRead: boolean): AppendResult | null {
    try {
      return this.recallTx(event, seq, moveRead);
    } catch (error) {
      if (error instanceof NothingToRecall) return null;
      throw error;
    }
  }

  changeGroup(groupId: string, message: NewMessage, change: GroupChange): ChatMessage {
    return this.changeGroupTx(groupId, { ...message, conv: groupConv(groupId) }, change);
  }

  /** Moves a read cursor forward, never past the conversation's last seq; null when it did not move. */
  advanceRead(conv: string, userId: string, seq: number): number | null {
    const row = this.s.advanceRead.get(seq, conv, conv, userId, seq);
    return row ? row.read_seq : null;
  }

  /** Copies what it can of the WAL into the database, between two of this connection's transactions. */
  checkpoint(): void {
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Busy: the next pass finishes it.
    }
  }

  private appendInOrder(batch: readonly NewMessage[]): AppendResult[] {
    const s = this.s;
    /** What the commit writes back once: each conversation's last seq and ts, each sender's cursor. */
    const convs = new Map<string, { seq: number; ts: number }>();
    const readers = new Map<string, { conv: string; from: string; seq: number }>();
    const results = batch.map((message): AppendResult => {
      // A conversation new to this writer is made with its members, but not for a resend.
      const resent = this.lastSeq.has(message.conv) ? undefined : s.byCid.get(message.from, message.cid);
      if (resent) return { message: toMessage(resent), duplicate: true };
      const seq = this.insertAtNextSeq(s.insertNewMessage, message);
      if (seq === null) {
        // The cid is taken: a resend. Its seq stays free for the next message.
        const stored = s.byCid.get(message.from, message.cid);
        if (!stored) throw new Error(`the message for cid ${message.cid} vanished`);
        return { message: toMessage(stored), duplicate: true };
      }
      this.setSeq(message.conv, seq);
      convs.set(message.conv, { seq, ts: message.ts });
      // The sender has read everything up to what they just wrote (seq is the conversation's last).
      readers.set(`${message.conv}\n${message.from}`, { conv: message.conv, from: message.from, seq });
      const mentions = mentionsColumn(message.mentions);
      if (message.mentions && mentions !== null) {
        s.mention.run(seq, message.conv, message.from, message.mentions[0] === 'all' ? 1 : 0, mentions);
      }
      return { message: storedMessage(message, seq), duplicate: false };
    });
    for (const [conv, { seq, ts }] of convs) s.setLastSeq.run(seq, ts, conv);
    for (const { conv, from, seq } of readers.values()) s.senderRead.run(seq, conv, from, seq);
    return results;
  }

  private recallIn(event: NewMessage, target: number, moveRead: boolean): AppendResult | null {
    const s = this.s;
    const existing = s.byCid.get(event.from, event.cid);
    if (existing) return { message: toMessage(existing), duplicate: true };
    if (this.seqBefore(event, { create: false }) < 0) return null;
    const seq = this.insertAtNextSeq(s.insertMessage, event) as number;
    // Nothing to recall (gone, a system message, recalled already): the whole change is undone.
    if (s.recallMark.run(event.conv, target).changes !== 1) throw new NothingToRecall();
    this.setSeq(event.conv, seq);
    s.setLastSeq.run(seq, event.ts, event.conv);
    if (moveRead) s.senderRead.run(seq, event.conv, event.from, seq);
    const { conv, cid, from, kind, body, ts } = event;
    return { message: { conv, seq, cid, from, kind, body, ts }, duplicate: false };
  }

  private changeGroupIn(groupId: string, message: NewMessage, change: GroupChange): ChatMessage {
    const s = this.s;
    const { conv, ts } = message;
    if (change.create) {
      const { name, avatar, notice, owner, createdAt } = change.create;
      s.insertConversation.run(conv, ts);
      s.insertGroup.run(groupId, name, avatar, notice, owner, createdAt);
    }
    if (this.seqBefore(message, { create: false }) < 0) throw new Error(`group conversation ${conv} is not stored`);
    const seq = this.insertAtNextSeq(s.insertMessage, message) as number;
    this.setSeq(conv, seq);
    s.setLastSeq.run(seq, ts, conv);
    for (const userId of change.leave ?? []) s.leaveGroup.run(seq, conv, userId);
    for (const { userId, role } of change.join ?? []) s.joinGroup.run(conv, userId, role, seq);
    for (const { userId, role } of change.roles ?? []) s.setRole.run(role, conv, userId);
    const update = change.update ?? {};
    if (change.update || change.dismiss) {
      s.updateGroup.run(
        update.name ?? null,
        update.avatar ?? null,
        update.notice ?? null,
        update.owner ?? null,
        change.dismiss ? 1 : null,
        groupId,
      );
    }
    if (change.dismiss) s.leaveAll.run(seq, conv);
    s.senderRead.run(seq, conv, message.from, seq);
    return { conv, seq, cid: message.cid, from: message.from, kind: message.kind, body: message.body, ts };
  }

  /**
   * Inserts the message at its conversation's next seq; that seq, or null when the insert changed
   * nothing (its cid is taken). Should another process have written the file (two stores on one
   * file: a tool, a test), the seq in memory is behind; the file says where the conversation is.
   */
  private insertAtNextSeq(insert: Database.Statement<MessageInsert>, message: NewMessage): number | null {
    let seq = this.seqBefore(message) + 1;
    try {
      return insert.run(...messageInsert(message, seq)).changes === 0 ? null : seq;
    } catch (error) {
      if (!isSeqTaken(error)) throw error;
      seq = (this.s.lastStoredSeq.get(message.conv)?.seq ?? 0) + 1;
      this.setSeq(message.conv, seq - 1);
      return insert.run(...messageInsert(message, seq)).changes === 0 ? null : seq;
    }
  }

  /**
   * The conversation's last seq before this message. Read from the file the first time (a dm is
   * created with its members then: the row may exist with only one of them, made by a user's
   * settings); -1 when it does not exist and may not be created here.
   */
  private seqBefore(message: NewMessage, options: { create: boolean } = { create: true }): number {
    const known = this.lastSeq.get(message.conv);
    if (known !== undefined) return known;
    if (options.create) {
      this.s.insertConversation.run(message.conv, message.ts);
      for (const member of message.members) this.s.insertMember.run(message.conv, member);
    }
    const row = this.s.lastSeq.get(message.conv);
    if (!row) return -1;
    if (this.lastSeq.size >= REMEMBERED_CONVERSATIONS) this.forgetOldest();
    this.setSeq(message.conv, row.last_seq);
    return row.last_seq;
  }

  private forgetOldest(): void {
    const oldest = this.lastSeq.keys().next();
    if (oldest.done) return;
    if (this.journal && !this.journal.has(oldest.value)) this.journal.set(oldest.value, this.lastSeq.get(oldest.value));
    this.lastSeq.delete(oldest.value);
  }

  /** Inside a transaction, the value each touched conversation had before it is journalled first. */
  private setSeq(conv: string, seq: number): void {
    if (this.journal && !this.journal.has(conv)) this.journal.set(conv, this.lastSeq.get(conv));
    this.lastSeq.set(conv, seq);
  }

  /**
   * Runs a transaction; if it throws, it was rolled back, and so were the seqs it took: the
   * conversations it touched get back what they had before it.
   */
  private keepingSeqs<T>(transaction: () => T): T {
    const journal = new Map<string, number | undefined>();
    this.journal = journal;
    try {
      return transaction();
    } catch (error) {
      for (const [conv, seq] of journal) {
        if (seq === undefined) this.lastSeq.delete(conv);
        else this.lastSeq.set(conv, seq);
      }
      throw error;
    } finally {
      this.journal = null;
    }
  }
}
