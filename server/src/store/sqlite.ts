import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { ChatMessage, PublicUser } from '../../../contract/frames';
import { LIMITS } from '../../../contract/limits';
import type {
  AppendResult,
  ConversationPrefs,
  GroupChange,
  GroupMemberRecord,
  GroupMembership,
  GroupRecord,
  HistoryPage,
  Identity,
  NewMessage,
  NotifyTarget,
  SeqRange,
  SessionsPage,
  Store,
  UploadRecord,
} from './types';
import {
  groupConv,
  historyArgs,
  mentionsColumn,
  messageInsert,
  storedMessage,
  type MessageInsert,
  sessionsArgs,
  toGroup,
  toGroupMember,
  toMembership,
  toMessage,
  toPage,
  toSeqRange,
  toSessionsPage,
  toUpload,
  type UploadRow,
  type GroupMemberRow,
  type GroupRow,
  type MembershipRow,
  type MessageRow,
  type SessionRow,
} from './rows';
import {
  actionsMigration,
  epochOf,
  firstMigration,
  groupsMigration,
  mentionsMigration,
  notifyMigration,
  messagesTable,
  statements,
  uploadsTable,
  voiceMigration,
  safetyMigration,
  contentCheckMigration,
  type Dialect,
} from './sql';
import { SqlSafetyStore } from './safety-sql';
import { newEpoch, newUserId } from './ids';
import { WalCheckpointer } from './checkpointer';
import { BoundedSet } from '../bounded-set';

/** SQLite's words for the shared SQL (sql.ts). */
const SQLITE: Dialect = {
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

/** Each entry migrates the schema from version index to index + 1; never edit a shipped one. */
export const MIGRATIONS: readonly string[] = [
  firstMigration(SQLITE),
  // Messages in arrival order (a rowid table): a commit appends each turn's rows to the last pages
  // instead of rewriting a page of every conversation it touched; (conv, seq) becomes an index of
  // small entries. Measured: about half the bytes written to the WAL per message.
  `
  ${messagesTable(SQLITE, 'messages_by_arrival')}
  INSERT INTO messages_by_arrival (conv, seq, cid, sender, kind, body, ts)
    SELECT conv, seq, cid, sender, kind, body, ts FROM messages ORDER BY ts, conv, seq;
  DROP TABLE messages;
  ALTER TABLE messages_by_arrival RENAME TO messages;
  CREATE UNIQUE INDEX messages_by_conv ON messages (conv, seq);
  CREATE UNIQUE INDEX messages_by_sender ON messages (sender, cid);
  `,
  // Every upload recorded: its owner, size and whether anything refers to it.
  uploadsTable(SQLITE),
  // Groups: their rows, and the role, join and leave positions of their members.
  groupsMigration(SQLITE),
  // Mentions: the message's, and each member's newest mention.
  mentionsMigration(SQLITE),
  // Message actions: replies, and each member's mute and pin.
  actionsMigration(SQLITE),
  // Voice: a message's duration, an audio upload's real length.
  voiceMigration(SQLITE),
  // Reminders: each user's subscription-message credits and last reminder.
  notifyMigration(SQLITE),
  // Safety: blocks, reports, bans, the audit log.
  safetyMigration(SQLITE),
  // Content check: the trace_id of each image and voice check WeChat will answer by push.
  contentCheckMigration(SQLITE),
];

const SQL = statements(SQLITE);

interface PendingAppend {
  message: NewMessage;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

export interface SqliteOptions {
  /**
   * How often a worker thread checkpoints the WAL (ms), the store finishing each pass itself;
   * 0 leaves SQLite's automatic checkpoint inside commits on the main thread. Default 200.
   */
  checkpointIntervalMs?: number;
  /** Called when the checkpoint worker fails (the store then checkpoints on its own again). */
  onCheckpointFailure?: (error: Error) => void;
}

/** Thrown inside a recall's transaction to undo it: the message may not be recalled (any more). */
class NothingToRecall extends Error {}

/** SQLite's own automatic checkpoint threshold, in WAL pages (its default). */
const AUTO_CHECKPOINT_PAGES = 1000;
/** Conversations whose rows are known to exist, remembered to skip their inserts (a cache). */
const KNOWN_CONVERSATIONS = 100_000;

/** The embedded default store: one SQLite file in WAL mode, every write in a transaction. */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly statements;
  private readonly appendTx: (message: NewMessage) => AppendResult;
  private readonly changeGroupTx: (groupId: string, message: NewMessage, change: GroupChange) => ChatMessage;
  private readonly recallTx: (event: NewMessage, seq: number, moveRead: boolean) => AppendResult | null;
  private readonly appendBatchTx: (batch: PendingAppend[]) => void;
  /** Appends waiting for this event-loop turn's transaction (group commit). */
  private pending: PendingAppend[] = [];
  /** Conversations (with their members) committed to the file: no need to insert them again. */
  private readonly knownConversations = new BoundedSet<string>(KNOWN_CONVERSATIONS);
  private readonly checkpointer: WalCheckpointer | null = null;
  readonly safety: SqlSafetyStore;

  constructor(file: string, options: SqliteOptions = {}) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode survives a process crash (kill -9); only a power loss can drop the
    // last transactions, which FULL would cost an fsync per commit to prevent.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    // After a burst the WAL file is cut back to this size when it starts over.
    this.db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    this.migrate();

    const checkpointIntervalMs = options.checkpointIntervalMs ?? 200;
    if (file !== ':memory:' && checkpointIntervalMs > 0) {
      this.db.pragma('wal_autocheckpoint = 0');
      this.checkpointer = new WalCheckpointer(file, checkpointIntervalMs, {
        // The worker copies pages while commits go on, so under steady load its pass never ends
        // with the WAL fully copied, and only then may the WAL start over: it would grow without
        // end. A checkpoint on this thread right after each pass, between two commits, copies the
        // few pages committed during the pass and lets the next commit start the WAL over.
        afterPass: () => this.finishCheckpoint(),
        onFailure: (error) => {
          // Without its worker the WAL would grow for ever: checkpoint inside commits again.
          if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
          options.onCheckpointFailure?.(error);
        },
      });
    }

    const db = this.db;
    const prepared = new Map<string, Database.Statement>();
    const statement = (sql: string) => {
      let found = prepared.get(sql);
      if (!found) prepared.set(sql, (found = db.prepare(sql)));
      return found;
    };
    this.safety = new SqlSafetyStore(SQLITE, {
      all: async <R>(sql: string, params: ReadonlyArray<string | number | null>) =>
        statement(sql).all(...params) as R[],
      run: async (sql: string, params: ReadonlyArray<string | number | null>) => statement(sql).run(...params).changes,
    });
    this.statements = {
      epoch: db.prepare<[], { value: string }>(SQL.epoch),
      userByIdentity: db.prepare<[string, string], PublicUser>(SQL.userByIdentity),
      insertUser: db.prepare<[string, string, string, number]>(SQL.insertUser),
      insertIdentity: db.prepare<[string, string, string]>(SQL.insertIdentity),
      user: db.prepare<[string], PublicUser>(SQL.user),
      updateProfile: db.prepare<[string | null, string | null, string], PublicUser>(SQL.updateProfile),
      search: db.prepare<[string, string, number], PublicUser>(SQL.search),
      byCid: db.prepare<[string, string], MessageRow>(SQL.byCid),
      insertConversation: db.prepare<[string, number]>(SQL.insertConversation),
      // One row per member; PostgreSQL inserts them all from an array, which SQLite has no type for.
      insertMember: db.prepare<[string, string]>('INSERT OR IGNORE INTO members (conv, user_id) VALUES (?, ?)'),
      nextSeq: db.prepare<[number, string], { last_seq: number }>(SQL.nextSeq),
      insertMessage: db.prepare<MessageInsert>(SQL.insertMessage),
      message: db.prepare<[string, number], MessageRow>(SQL.message),
      recallMark: db.prepare<[string, number]>(SQL.recallMark),
      setPrefs: db.prepare<
        [string, string, number | null, number | null, number | null, number | null],
        { muted: number; pinned: number }
      >(SQL.setPrefs),
      mention: db.prepare<[number, string, string, number, string]>(SQL.mention),
      senderRead: db.prepare<[number, string, string, number]>(SQL.senderRead),
      history: db.prepare<[string, number, number], MessageRow>(SQL.history),
      after: db.prepare<[string, number, number], MessageRow>(SQL.after),
      peers: db.prepare<[string], { user_id: string }>(SQL.peers),
      members: db.prepare<[string], { user_id: string }>(SQL.members),
      advanceRead: db.prepare<[number, string, string, string, number], { read_seq: number }>(SQL.advanceRead),
      position: db.prepare<[string], { updated_at: number }>(SQL.position),
      sessionsPage: db.prepare<[string, number, number, string, number], SessionRow>(SQL.sessionsPage),
      lastSeqs: db.prepare<[string, string], { conv: string; last_seq: number; joined_seq: number }>(SQL.lastSeqs),
      insertUpload: db.prepare<[string, string, number, number, number, number | null]>(SQL.insertUpload),
      upload: db.prepare<[string], UploadRow>(SQL.upload),
      anyUpload: db.prepare<[], { name: string }>(SQL.anyUpload),
      uploadBytesSince: db.prepare<[string, number], { bytes: number }>(SQL.uploadBytesSince),
      claimUpload: db.prepare<[string], { name: string }>(SQL.claimUpload),
      deleteStaleUploads: db.prepare<[number, number], { name: string }>(SQL.deleteStaleUploads),
      addNotifyCredit: db.prepare<[string, string, number], { credits: number }>(SQL.addNotifyCredit),
      notifyCredits: db.prepare<[string, string], { credits: number }>(SQL.notifyCredits),
      takeNotifyCredit: db.prepare<[number, string, string, number], { credits: number }>(SQL.takeNotifyCredit),
      clearNotifyCredits: db.prepare<[string, string]>(SQL.clearNotifyCredits),
      notifyTargets: db.prepare<[string, string, number, string], { user_id: string; openid: string; credits: number }>(
        SQL.notifyTargets,
      ),
      insertGroup: db.prepare<[string, string, string, string, string, number]>(SQL.insertGroup),
      group: db.prepare<[string, string], GroupRow>(SQL.group),
      groupMembers: db.prepare<[string], GroupMemberRow>(SQL.groupMembers),
      membership: db.prepare<[string, string], MembershipRow>(SQL.membership),
      joinGroup: db.prepare<[string, string, string, number]>(SQL.joinGroup),
      leaveGroup: db.prepare<[number, string, string]>(SQL.leaveGroup),
      leaveAll: db.prepare<[number, string]>(SQL.leaveAll),
      setRole: db.prepare<[string, string, string]>(SQL.setRole),
      updateGroup: db.prepare<[string | null, string | null, string | null, string | null, number | null, string]>(
        SQL.updateGroup,
      ),
    };

    const s = this.statements;
    const appendOne = (message: NewMessage): AppendResult => {
      const existing = s.byCid.get(message.from, message.cid);
      if (existing) return { message: toMessage(existing), duplicate: true };
      if (!this.knownConversations.has(message.conv)) {
        s.insertConversation.run(message.conv, message.ts);
        for (const member of message.members) s.insertMember.run(message.conv, member);
      }
      const row = s.nextSeq.get(message.ts, message.conv);
      if (!row) throw new Error(`conversation ${message.conv} vanished inside its transaction`);
      const seq = row.last_seq;
      const mentions = mentionsColumn(message.mentions);
      s.insertMessage.run(...messageInsert(message, seq));
      if (message.mentions && mentions !== null) {
        const all = message.mentions[0] === 'all' ? 1 : 0;
        s.mention.run(seq, message.conv, message.from, all, mentions);
      }
      // The sender has read everything up to what they just wrote (seq is the conversation's last).
      s.senderRead.run(seq, message.conv, message.from, seq);
      return { message: storedMessage(message, seq), duplicate: false };
    };
    this.recallTx = db.transaction((event: NewMessage, target: number, moveRead: boolean): AppendResult | null => {
      const existing = s.byCid.get(event.from, event.cid);
      if (existing) return { message: toMessage(existing), duplicate: true };
      const row = s.nextSeq.get(event.ts, event.conv);
      if (!row) return null;
      const seq = row.last_seq;
      s.insertMessage.run(...messageInsert(event, seq));
      // Nothing to recall (gone, a system message, recalled already): the whole change is undone.
      if (s.recallMark.run(event.conv, target).changes !== 1) throw new NothingToRecall();
      if (moveRead) s.senderRead.run(seq, event.conv, event.from, seq);
      const { conv, cid, from, kind, body, ts } = event;
      return { message: { conv, seq, cid, from, kind, body, ts }, duplicate: false };
    });
    this.changeGroupTx = db.transaction((groupId: string, message: NewMessage, change: GroupChange): ChatMessage => {
      const { conv, ts } = message;
      if (change.create) {
        const { name, avatar, notice, owner, createdAt } = change.create;
        s.insertConversation.run(conv, ts);
        s.insertGroup.run(groupId, name, avatar, notice, owner, createdAt);
      }
      const row = s.nextSeq.get(ts, conv);
      if (!row) throw new Error(`group conversation ${conv} is not stored`);
      const seq = row.last_seq;
      s.insertMessage.run(...messageInsert(message, seq));
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
    });
    const appendTx = db.transaction(appendOne);
    // Remembered only once committed: a rolled-back conversation must be inserted again.
    this.appendTx = (message: NewMessage) => {
      const result = appendTx(message);
      this.knownConversations.add(message.conv);
      return result;
    };
    const appendAll = db.transaction((batch: PendingAppend[]) => batch.map((entry) => appendOne(entry.message)));
    // The results are handed out only after the whole transaction has committed.
    this.appendBatchTx = (batch: PendingAppend[]) => {
      const results = appendAll(batch);
      for (const entry of batch) this.knownConversations.add(entry.message.conv);
      batch.forEach((entry, i) => entry.resolve(results[i]));
    };
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]);
        if (v === 0) {
          this.db.prepare(SQL.insertEpoch).run(newEpoch());
        }
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  async epoch(): Promise<string> {
    return epochOf(this.statements.epoch.get());
  }

  async userFor(identity: Identity, defaults: { nickname: string }): Promise<PublicUser> {
    const s = this.statements;
    return this.db.transaction((): PublicUser => {
      const known = s.userByIdentity.get(identity.provider, identity.externalId);
      if (known) return known;
      const user: PublicUser = { id: newUserId(), nickname: defaults.nickname, avatar: '' };
      s.insertUser.run(user.id, user.nickname, user.avatar, Date.now());
      s.insertIdentity.run(identity.provider, identity.externalId, user.id);
      return user;
    })();
  }

  async getUser(id: string): Promise<PublicUser | null> {
    return this.statements.user.get(id) ?? null;
  }

  async updateProfile(id: string, update: { nickname?: string; avatar?: string }): Promise<PublicUser | null> {
    return this.statements.updateProfile.get(update.nickname ?? null, update.avatar ?? null, id) ?? null;
  }

  async searchUsers(query: string, excludeId: string, limit: number): Promise<PublicUser[]> {
    return this.statements.search.all(excludeId, query, limit);
  }

  /**
   * Every append that arrives in one event-loop turn is stored in one transaction, committed
   * before any of them resolves (so before any ack): one WAL commit for many messages instead of
   * one each. Seq order is the order of arrival, as before.
   */
  appendMessage(message: NewMessage): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ message, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => this.commitPending());
    });
  }

  private commitPending(): void {
    const batch = this.pending;
    this.pending = [];
    try {
      this.appendBatchTx(batch);
    } catch {
      // One bad append must not sink the others: store each on its own, each with its own answer.
      for (const entry of batch) {
        try {
          entry.resolve(this.appendTx(entry.message));
        } catch (error) {
          entry.reject(error);
        }
      }
    }
  }

  async message(conv: string, seq: number): Promise<ChatMessage | null> {
    const row = this.statements.message.get(conv, seq);
    return row ? toMessage(row) : null;
  }

  async messageByCid(from: string, cid: string): Promise<ChatMessage | null> {
    const row = this.statements.byCid.get(from, cid);
    return row ? toMessage(row) : null;
  }

  async recall(event: NewMessage, seq: number, moveRead = true): Promise<AppendResult | null> {
    // Appends already waiting go first, so the seqs follow the order of arrival.
    if (this.pending.length > 0) this.commitPending();
    try {
      return this.recallTx(event, seq, moveRead);
    } catch (error) {
      if (error instanceof NothingToRecall) return null;
      throw error;
    }
  }

  async setConversationPrefs(
    conv: string,
    userId: string,
    prefs: Partial<ConversationPrefs>,
    ts: number,
  ): Promise<ConversationPrefs> {
    const s = this.statements;
    const muted = prefs.muted === undefined ? null : Number(prefs.muted);
    const pinned = prefs.pinned === undefined ? null : Number(prefs.pinned);
    const row = this.db.transaction(() => {
      s.insertConversation.run(conv, ts);
      return s.setPrefs.get(conv, userId, muted, pinned, muted, pinned);
    })();
    if (!row) throw new Error(`the settings of ${conv} were not stored`);
    return { muted: Number(row.muted) === 1, pinned: Number(row.pinned) === 1 };
  }

  async history(conv: string, before: number | undefined, limit: number): Promise<HistoryPage> {
    return toPage(this.statements.history.all(...historyArgs(conv, before, limit)), limit);
  }

  async messagesAfter(conv: string, afterSeq: number, limit: number): Promise<ChatMessage[]> {
    return this.statements.after.all(conv, afterSeq, limit).map(toMessage);
  }

  async sessionsPage(userId: string, options: { after?: string; limit?: number } = {}): Promise<SessionsPage> {
    const limit = options.limit ?? LIMITS.sessionsPage;
    let position: { ts: number; conv: string } | null = null;
    if (options.after !== undefined) {
      const row = this.statements.position.get(options.after);
      if (!row) return { sessions: [], more: false };
      position = { ts: row.updated_at, conv: options.after };
    }
    return toSessionsPage(this.statements.sessionsPage.all(...sessionsArgs(userId, position, limit)), limit);
  }

  async lastSeqs(userId: string, convs: readonly string[]): Promise<SeqRange[]> {
    if (convs.length === 0) return [];
    return this.statements.lastSeqs.all(userId, JSON.stringify(convs)).map(toSeqRange);
  }

  async peersOf(userId: string): Promise<string[]> {
    return this.statements.peers.all(userId).map((row) => row.user_id);
  }

  async membersOf(conv: string): Promise<string[]> {
    return this.statements.members.all(conv).map((row) => row.user_id);
  }

  async advanceRead(conv: string, userId: string, seq: number): Promise<number | null> {
    const row = this.statements.advanceRead.get(seq, conv, conv, userId, seq);
    return row ? row.read_seq : null;
  }

  async changeGroup(groupId: string, message: NewMessage, change: GroupChange): Promise<ChatMessage> {
    // Appends already waiting go first, so the seqs follow the order of arrival.
    if (this.pending.length > 0) this.commitPending();
    return this.changeGroupTx(groupId, { ...message, conv: groupConv(groupId) }, change);
  }

  /**
   * One process owns the SQLite file (it is never shared by instances), and the group service
   * queues the changes of a group on its instance: nothing more to hold.
   */
  async withGroupLock<T>(_groupId: string, work: () => Promise<T>): Promise<T> {
    return work();
  }

  async getGroup(groupId: string): Promise<GroupRecord | null> {
    const row = this.statements.group.get(groupConv(groupId), groupId);
    return row ? toGroup(row) : null;
  }

  async groupMembers(groupId: string): Promise<GroupMemberRecord[]> {
    return this.statements.groupMembers.all(groupConv(groupId)).map(toGroupMember);
  }

  async groupMembership(groupId: string, userId: string): Promise<GroupMembership | null> {
    const row = this.statements.membership.get(groupConv(groupId), userId);
    return row ? toMembership(row) : null;
  }

  async addUpload(upload: UploadRecord): Promise<void> {
    const { name, owner, bytes, createdAt, referenced, durationMs } = upload;
    this.statements.insertUpload.run(name, owner, bytes, createdAt, referenced ? 1 : 0, durationMs ?? null);
  }

  async getUpload(name: string): Promise<UploadRecord | null> {
    const row = this.statements.upload.get(name);
    return row ? toUpload(row) : null;
  }

  async hasUploads(): Promise<boolean> {
    return this.statements.anyUpload.get() !== undefined;
  }

  async uploadBytesSince(owner: string, since: number): Promise<number> {
    return this.statements.uploadBytesSince.get(owner, since)?.bytes ?? 0;
  }

  async claimUpload(name: string): Promise<boolean> {
    return this.statements.claimUpload.get(name) !== undefined;
  }

  async deleteStaleUploads(before: number, limit: number): Promise<string[]> {
    return this.statements.deleteStaleUploads.all(before, limit).map((row) => row.name);
  }

  async addNotifyCredit(userId: string, templateId: string, max: number): Promise<number> {
    const row = this.statements.addNotifyCredit.get(userId, templateId, max);
    return Number(row?.credits ?? 0);
  }

  async notifyCredits(userId: string, templateId: string): Promise<number> {
    return Number(this.statements.notifyCredits.get(userId, templateId)?.credits ?? 0);
  }

  async takeNotifyCredit(userId: string, templateId: string, now: number, notBefore: number): Promise<boolean> {
    return this.statements.takeNotifyCredit.get(now, userId, templateId, notBefore) !== undefined;
  }

  async clearNotifyCredits(userId: string, templateId: string): Promise<void> {
    this.statements.clearNotifyCredits.run(userId, templateId);
  }

  async notifyTargets(
    conv: string,
    userIds: readonly string[],
    templateId: string,
    notBefore: number,
  ): Promise<NotifyTarget[]> {
    if (userIds.length === 0) return [];
    return this.statements.notifyTargets
      .all(conv, templateId, notBefore, JSON.stringify(userIds))
      .map((row) => ({ userId: row.user_id, openid: row.openid, credits: Number(row.credits) }));
  }

  private finishCheckpoint(): void {
    if (!this.db.open) return;
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Busy: the next pass finishes it.
    }
  }

  async close(): Promise<void> {
    if (this.pending.length > 0) this.commitPending();
    // The worker's connection goes first, so the last one to close checkpoints and removes the WAL.
    await this.checkpointer?.stop();
    this.db.close();
  }
}
