import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { ChatMessage, PublicUser } from '../../../contract/frames';
import { LIMITS } from '../../../contract/limits';
import { isGroupConversationId } from '../../../contract/conversations';
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
} from './sql';
import { SqlSafetyStore } from './safety-sql';
import { newEpoch, newUserId } from './ids';
import { WalCheckpointer } from './checkpointer';
import { AUTO_CHECKPOINT_PAGES, openConnection, SQLITE } from './sqlite-connection';
import { SqliteWriter } from './sqlite-writer';
import { InlineWriter, ThreadWriter, type WriterPort } from './sqlite-writer-port';

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

/** 16 MiB of 4 KiB pages: at most one writer checkpoint every few seconds under steady load. */
const WAL_FRAMES_BEFORE_FINISH = 4096;

/** Groups whose members are kept in memory; past it the cache starts over. */
const REMEMBERED_GROUPS = 1000;

interface PendingAppend {
  message: NewMessage;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

export interface SqliteOptions {
  /**
   * How often a worker thread checkpoints the WAL (ms), a round of passes that catches up;
   * 0 leaves SQLite's automatic checkpoint inside commits. Default 200.
   */
  checkpointIntervalMs?: number;
  /** Called when the checkpoint worker fails (the store then checkpoints on its own again). */
  onCheckpointFailure?: (error: Error) => void;
  /** How long the WAL (in pages) may grow before the writer finishes a checkpoint itself. */
  walFramesBeforeFinish?: number;
  /**
   * Whether messages are written by a worker thread with its own connection (sqlite-writer.ts);
   * default false: by this thread, as an in-memory database always is (SQLITE_WRITER chooses).
   */
  writerThread?: boolean;
  /** Called when the writer thread fails (the store then writes on this thread). */
  onWriterFailure?: (error: Error) => void;
}

/** The embedded default store: one SQLite file in WAL mode, every write in a transaction. */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly statements;
  /** Gives conversations their seqs: appends, recalls, group changes, read cursors. */
  private readonly writer: WriterPort;
  /** Appends waiting for the next batch (group commit). */
  private pending: PendingAppend[] = [];
  /** Whether a batch of appends is with the writer now, or about to be sent this turn. */
  private batching = false;
  private readonly checkpointer: WalCheckpointer | null = null;
  /** The current members of groups sent to lately (membersOf). */
  private readonly groupMembersCache = new Map<string, readonly string[]>();
  readonly safety: SqlSafetyStore;

  constructor(file: string, options: SqliteOptions = {}) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
    const checkpointIntervalMs = options.checkpointIntervalMs ?? 200;
    const workerCheckpoints = file !== ':memory:' && checkpointIntervalMs > 0;
    const walFramesBeforeFinish = options.walFramesBeforeFinish ?? WAL_FRAMES_BEFORE_FINISH;
    this.db = openConnection(file, { autoCheckpoint: !workerCheckpoints });
    this.migrate();

    const onThisThread = () =>
      new InlineWriter(new SqliteWriter(this.db, SQLITE), (pages) => this.db.pragma(`wal_autocheckpoint = ${pages}`));
    this.writer =
      file !== ':memory:' && options.writerThread === true
        ? new ThreadWriter(file, { autoCheckpoint: !workerCheckpoints }, onThisThread, options.onWriterFailure)
        : onThisThread();

    if (workerCheckpoints) {
      this.checkpointer = new WalCheckpointer(file, checkpointIntervalMs, {
        // The WAL starts over at a write transaction that begins with all of it copied: after a
        // round of the worker that caught up while the writer was between batches, as at light
        // load. Under steady load the writer is never between batches at that moment, and the WAL
        // grows: past a bound the writer checkpoints between two of its own transactions
        // (copying the few pages committed since the round, then syncing: milliseconds its
        // batches wait, once every few seconds) and its next transaction starts the WAL over.
        afterPass: ({ frames }) => {
          if (frames >= walFramesBeforeFinish) void this.writer.checkpoint().catch(() => {});
        },
        onFailure: (error) => {
          // Without its worker the WAL would grow for ever: checkpoint inside commits again.
          if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
          void this.writer.autoCheckpoint(AUTO_CHECKPOINT_PAGES).catch(() => {});
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
    this.safety = new SqlSafetyStore(
      SQLITE,
      {
        all: async <R>(sql: string, params: ReadonlyArray<string | number | null>) =>
          statement(sql).all(...params) as R[],
        run: async (sql: string, params: ReadonlyArray<string | number | null>) =>
          statement(sql).run(...params).changes,
      },
      // This process is the file's only writer: who blocks anyone can be known in memory.
      { onlyWriter: true },
    );
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
      message: db.prepare<[string, number], MessageRow>(SQL.message),
      setPrefs: db.prepare<
        [string, string, number | null, number | null, number | null, number | null],
        { muted: number; pinned: number }
      >(SQL.setPrefs),
      history: db.prepare<[string, number, number], MessageRow>(SQL.history),
      after: db.prepare<[string, number, number], MessageRow>(SQL.after),
      peers: db.prepare<[string], { user_id: string }>(SQL.peers),
      members: db.prepare<[string], { user_id: string }>(SQL.members),
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
      group: db.prepare<[string, string], GroupRow>(SQL.group),
      groupMembers: db.prepare<[string], GroupMemberRow>(SQL.groupMembers),
      membership: db.prepare<[string, string], MembershipRow>(SQL.membership),
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
    // IMMEDIATE: the writer thread's connection commits too; a deferred read-then-write could
    // find its snapshot outdated at the write and fail instead of waiting.
    return this.db
      .transaction((): PublicUser => {
        const known = s.userByIdentity.get(identity.provider, identity.externalId);
        if (known) return known;
        const user: PublicUser = { id: newUserId(), nickname: defaults.nickname, avatar: '' };
        s.insertUser.run(user.id, user.nickname, user.avatar, Date.now());
        s.insertIdentity.run(identity.provider, identity.externalId, user.id);
        return user;
      })
      .immediate();
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
   * Appends are stored in batches, one transaction each, committed before any of them resolves
   * (so before any ack): those of one event-loop turn, and while the writer commits a batch, all
   * that arrive meanwhile go into the next — the batch grows with the load. Seq order is the
   * order of arrival. The waiting appends are bounded by the connections: each has at most one
   * send with the store at a time (the gateway handles a connection's frames in order).
   */
  appendMessage(message: NewMessage): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ message, resolve, reject });
      if (!this.batching) {
        this.batching = true;
        setImmediate(() => this.sendBatch());
      }
    });
  }

  /** Hands the waiting appends to the writer as one batch; the next goes when it has answered. */
  private sendBatch(): void {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) {
      this.batching = false;
      return;
    }
    void this.storeBatch(batch).then(() => this.sendBatch());
  }

  /** Appends already waiting go to the writer first, so the seqs follow the order of arrival. */
  private sendWaitingAppends(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    void this.storeBatch(batch);
  }

  /** Stores a batch and answers each of its appends; never rejects. */
  private async storeBatch(batch: PendingAppend[]): Promise<void> {
    try {
      const outcomes = await this.writer.append(batch.map((entry) => entry.message));
      batch.forEach((entry, i) => {
        const outcome = outcomes[i];
        if ('result' in outcome) entry.resolve(outcome.result);
        else entry.reject(new Error(outcome.error));
      });
    } catch (error) {
      for (const entry of batch) entry.reject(error);
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

  recall(event: NewMessage, seq: number, moveRead = true): Promise<AppendResult | null> {
    this.sendWaitingAppends();
    return this.writer.recall(event, seq, moveRead);
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
    const row = this.db
      .transaction(() => {
        s.insertConversation.run(conv, ts);
        return s.setPrefs.get(conv, userId, muted, pinned, muted, pinned);
      })
      .immediate();
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
    if (!isGroupConversationId(conv)) return this.statements.members.all(conv).map((row) => row.user_id);
    // A group's members are read on every send to it: kept in memory, as only this process changes
    // them (changeGroup, which forgets them).
    let members = this.groupMembersCache.get(conv);
    if (!members) {
      members = this.statements.members.all(conv).map((row) => row.user_id);
      if (this.groupMembersCache.size >= REMEMBERED_GROUPS) this.groupMembersCache.clear();
      this.groupMembersCache.set(conv, members);
    }
    return [...members];
  }

  advanceRead(conv: string, userId: string, seq: number): Promise<number | null> {
    this.sendWaitingAppends();
    return this.writer.advanceRead(conv, userId, seq);
  }

  async changeGroup(groupId: string, message: NewMessage, change: GroupChange): Promise<ChatMessage> {
    this.sendWaitingAppends();
    const conv = groupConv(groupId);
    // Forgotten before (no send reads the old list from now on) and after (one read meanwhile).
    this.groupMembersCache.delete(conv);
    try {
      return await this.writer.changeGroup(groupId, message, change);
    } finally {
      this.groupMembersCache.delete(conv);
    }
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

  async close(): Promise<void> {
    this.sendWaitingAppends();
    // The workers' connections go first (the writer's after answering everything asked before),
    // so the last one to close checkpoints and removes the WAL.
    await this.writer.close();
    await this.checkpointer?.stop();
    this.db.close();
  }
}
