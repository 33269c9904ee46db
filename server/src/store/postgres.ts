import pg from 'pg';
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
  statements,
  uploadsTable,
  voiceMigration,
  safetyMigration,
  contentCheckMigration,
  type Dialect,
} from './sql';
import { SqlSafetyStore } from './safety-sql';
import { newEpoch, newUserId } from './ids';

/** PostgreSQL's words for the shared SQL (sql.ts). */
const POSTGRES: Dialect = {
  param: (n) => `$${n}`,
  text: 'text',
  // Read back as JavaScript numbers (`types` below).
  integer: 'bigint',
  messagesTableOptions: '',
  byteOrder: ' COLLATE "C"',
  contains: (haystack, needle) => `strpos(${haystack}, ${needle}) > 0`,
  least: 'least',
  inList: (column, param) => `${column} = ANY(${param}::text[])`,
};

/**
 * Each entry migrates the schema from version index to index + 1 (recorded in
 * `schema_migrations`); never edit a shipped one.
 */
const MIGRATIONS: readonly string[] = [
  firstMigration(POSTGRES),
  // Every upload recorded: its owner, size and whether anything refers to it.
  uploadsTable(POSTGRES),
  // Groups: their rows, and the role, join and leave positions of their members.
  groupsMigration(POSTGRES),
  // Mentions: the message's, and each member's newest mention.
  mentionsMigration(POSTGRES),
  // Message actions: replies, and each member's mute and pin.
  actionsMigration(POSTGRES),
  // Voice: a message's duration, an audio upload's real length.
  voiceMigration(POSTGRES),
  // Reminders: each user's subscription-message credits and last reminder.
  notifyMigration(POSTGRES),
  // Safety: blocks, reports, bans, the audit log.
  safetyMigration(POSTGRES),
  // Content check: the trace_id of each image and voice check WeChat will answer by push.
  contentCheckMigration(POSTGRES),
];

/**
 * The first key of the advisory locks that serialize a group's changes across instances (the
 * two-key form, apart from the migration lock's one key); the second is a hash of the group.
 */
const GROUP_LOCK_SPACE = 0x67726f;

const SQL = statements(POSTGRES);

export interface PostgresOptions {
  /** A libpq connection URL: `postgres://user:password@host:5432/database`. */
  url: string;
  /** The schema to keep the tables in (its search_path), created when missing; tests use one each. */
  schema?: string;
  /** Most connections the pool opens (default 10). */
  poolSize?: number;
}

const INT8_OID = 20;
/** `bigint` and `count(*)` as numbers: seqs and millisecond times stay far below 2^53. */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
    oid === INT8_OID && format !== 'binary'
      ? Number
      : (pg.types.getTypeParser(oid, format ?? 'text') as unknown)) as pg.CustomTypesConfig['getTypeParser'],
};

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** Postgres error codes after which the whole transaction may simply be tried again. */
const RETRYABLE = new Set(['40001', '40P01']);

function pgCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

/** Another transaction (another instance, maybe) wrote the same unique row first: this one is rolled back. */
class LostRace extends Error {}

/** Thrown inside a recall's transaction to undo it: the message may not be recalled (any more). */
class NothingToRecall extends Error {}

/**
 * The store for several server instances: PostgreSQL through a connection pool. Every write is
 * one transaction; a conversation's row lock (`UPDATE … RETURNING last_seq`) serializes its
 * appends across instances, so seqs stay gap-free, and UNIQUE (sender, cid) makes a cid
 * idempotent even when two instances store it at the same moment.
 */
export class PostgresStore implements Store {
  readonly safety = new SqlSafetyStore(POSTGRES, {
    all: async <R>(sql: string, params: ReadonlyArray<string | number | null>) =>
      (await this.pool.query(sql, [...params])).rows as R[],
    run: async (sql: string, params: ReadonlyArray<string | number | null>) =>
      (await this.pool.query(sql, [...params])).rowCount ?? 0,
  });

  private constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string | undefined,
    /**
     * Connections that only hold group locks (`withGroupLock`). A pool of their own: a change
     * holding a lock takes connections from `pool` for its work, so if locks came from `pool`
     * too, changes waiting for locks could hold every connection their holders need.
     */
    private readonly lockPool: pg.Pool,
  ) {}

  /** Connects, creates the schema when missing and runs the migrations it lacks. */
  static async open(options: PostgresOptions): Promise<PostgresStore> {
    const { schema } = options;
    if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
      throw new Error(`DATABASE_SCHEMA must be a plain identifier (letters, digits, _), got "${schema}"`);
    }
    const pool = new pg.Pool({
      connectionString: options.url,
      max: Math.max(1, options.poolSize ?? 10),
      // A database that does not answer fails the request instead of holding it forever.
      connectionTimeoutMillis: 10_000,
      types,
      // Every connection of the pool looks in the schema first; `options` is libpq's startup option.
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    // An idle connection that the server drops must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    const lockPool = new pg.Pool({
      connectionString: options.url,
      max: Math.max(1, Math.ceil((options.poolSize ?? 10) / 2)),
      connectionTimeoutMillis: 10_000,
    });
    lockPool.on('error', () => {});
    const store = new PostgresStore(pool, schema, lockPool);
    try {
      await store.migrate();
    } catch (error) {
      await Promise.all([pool.end(), lockPool.end()]);
      throw error;
    }
    return store;
  }

  /**
   * Brings the schema up to date. Instances starting together take turns on an advisory lock
   * (per schema), so each migration runs once; the epoch is made with the first one.
   */
  private async migrate(): Promise<void> {
    await this.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`wechat-chat migrate ${this.schema ?? ''}`]);
      if (this.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL)',
      );
      const { rows } = await client.query<{ version: number }>(
        'SELECT coalesce(max(version), 0) AS version FROM schema_migrations',
      );
      for (let v = rows[0].version; v < MIGRATIONS.length; v++) {
        await client.query(MIGRATIONS[v]);
        if (v === 0) {
          await client.query(SQL.insertEpoch, [newEpoch()]);
        }
        await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [v + 1, Date.now()]);
      }
    });
  }

  /** Runs `work` in one transaction, again from the start after a deadlock or serialization failure. */
  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => (broken = true));
        if (attempt < 5 && RETRYABLE.has(pgCode(error) ?? '')) continue;
        throw error;
      } finally {
        // A connection that could not even roll back is closed, not handed out again.
        client.release(broken);
      }
    }
  }

  async epoch(): Promise<string> {
    const { rows } = await this.pool.query<{ value: string }>(SQL.epoch);
    return epochOf(rows[0]);
  }

  private async userByIdentity(identity: Identity): Promise<PublicUser | null> {
    const { rows } = await this.pool.query<PublicUser>(SQL.userByIdentity, [identity.provider, identity.externalId]);
    return rows[0] ?? null;
  }

  async userFor(identity: Identity, defaults: { nickname: string }): Promise<PublicUser> {
    const known = await this.userByIdentity(identity);
    if (known) return known;
    const id = newUserId();
    const created = await this.transaction(async (client) => {
      await client.query(SQL.insertUser, [id, defaults.nickname, '', Date.now()]);
      const inserted = await client.query(`${SQL.insertIdentity} ON CONFLICT (provider, external_id) DO NOTHING`, [
        identity.provider,
        identity.externalId,
        id,
      ]);
      // Another instance made this identity's user first: this one is rolled back.
      if (inserted.rowCount === 0) throw new LostRace();
      return { id, nickname: defaults.nickname, avatar: '' };
    }).catch((error: unknown) => {
      if (error instanceof LostRace) return null;
      throw error;
    });
    if (created) return created;
    const winner = await this.userByIdentity(identity);
    if (!winner) throw new Error(`identity ${identity.provider} vanished while it was being created`);
    return winner;
  }

  async getUser(id: string): Promise<PublicUser | null> {
    const { rows } = await this.pool.query<PublicUser>(SQL.user, [id]);
    return rows[0] ?? null;
  }

  async updateProfile(id: string, update: { nickname?: string; avatar?: string }): Promise<PublicUser | null> {
    const { rows } = await this.pool.query<PublicUser>(SQL.updateProfile, [
      update.nickname ?? null,
      update.avatar ?? null,
      id,
    ]);
    return rows[0] ?? null;
  }

  async searchUsers(query: string, excludeId: string, limit: number): Promise<PublicUser[]> {
    const { rows } = await this.pool.query<PublicUser>(SQL.search, [excludeId, query, limit]);
    return rows;
  }

  private async byCid(sender: string, cid: string): Promise<ChatMessage | null> {
    const { rows } = await this.pool.query<MessageRow>(SQL.byCid, [sender, cid]);
    return rows[0] ? toMessage(rows[0]) : null;
  }

  async appendMessage(message: NewMessage): Promise<AppendResult> {
    // A resend is answered without taking the conversation's lock.
    const existing = await this.byCid(message.from, message.cid);
    if (existing) return { message: existing, duplicate: true };
    try {
      return await this.transaction(async (client) => {
        const { conv, ts } = message;
        await client.query(SQL.insertConversation, [conv, ts]);
        // The row lock: every other append to this conversation waits here until this one ends.
        const next = await client.query<{ last_seq: number }>(SQL.nextSeq, [ts, conv]);
        if (!next.rows[0]) throw new Error(`conversation ${conv} vanished inside its transaction`);
        const seq = next.rows[0].last_seq;
        // Every member in one statement, from an array parameter (SQLite inserts them one by one).
        await client.query('INSERT INTO members (conv, user_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING', [
          conv,
          [...message.members].sort(),
        ]);
        const mentions = mentionsColumn(message.mentions);
        // Waits for a concurrent insert of the same (sender, cid) to end; if it committed, nothing is inserted.
        const inserted = await client.query(
          `${SQL.insertMessage} ON CONFLICT (sender, cid) DO NOTHING`,
          messageInsert(message, seq),
        );
        if (inserted.rowCount === 0) throw new LostRace();
        if (message.mentions && mentions !== null) {
          const all = message.mentions[0] === 'all' ? 1 : 0;
          await client.query(SQL.mention, [seq, conv, message.from, all, [...message.mentions]]);
        }
        // The sender has read everything up to what they just wrote.
        await client.query(SQL.senderRead, [seq, conv, message.from, seq]);
        return { message: storedMessage({ ...message, conv, ts }, seq), duplicate: false };
      });
    } catch (error) {
      if (!(error instanceof LostRace)) throw error;
      // Rolled back, so the seq it took is free again; the answer is the message stored first.
      const stored = await this.byCid(message.from, message.cid);
      if (!stored) throw new Error(`the message for cid ${message.cid} vanished`);
      return { message: stored, duplicate: true };
    }
  }

  async message(conv: string, seq: number): Promise<ChatMessage | null> {
    const { rows } = await this.pool.query<MessageRow>(SQL.message, [conv, seq]);
    return rows[0] ? toMessage(rows[0]) : null;
  }

  async messageByCid(from: string, cid: string): Promise<ChatMessage | null> {
    return this.byCid(from, cid);
  }

  async recall(event: NewMessage, target: number, moveRead = true): Promise<AppendResult | null> {
    const existing = await this.byCid(event.from, event.cid);
    if (existing) return { message: existing, duplicate: true };
    try {
      return await this.transaction(async (client) => {
        const { conv, cid, from, kind, body, ts } = event;
        // The conversation's row lock: a second recall of the same message waits here, then finds it recalled.
        const next = await client.query<{ last_seq: number }>(SQL.nextSeq, [ts, conv]);
        if (!next.rows[0]) throw new NothingToRecall();
        const seq = next.rows[0].last_seq;
        const inserted = await client.query(
          `${SQL.insertMessage} ON CONFLICT (sender, cid) DO NOTHING`,
          messageInsert(event, seq),
        );
        if (inserted.rowCount === 0) throw new LostRace();
        const marked = await client.query(SQL.recallMark, [conv, target]);
        if (marked.rowCount !== 1) throw new NothingToRecall();
        if (moveRead) await client.query(SQL.senderRead, [seq, conv, from, seq]);
        return { message: { conv, seq, cid, from, kind, body, ts }, duplicate: false };
      });
    } catch (error) {
      if (error instanceof NothingToRecall) return null;
      if (!(error instanceof LostRace)) throw error;
      const stored = await this.byCid(event.from, event.cid);
      if (!stored) throw new Error(`the message for cid ${event.cid} vanished`);
      return { message: stored, duplicate: true };
    }
  }

  async setConversationPrefs(
    conv: string,
    userId: string,
    prefs: Partial<ConversationPrefs>,
    ts: number,
  ): Promise<ConversationPrefs> {
    const muted = prefs.muted === undefined ? null : Number(prefs.muted);
    const pinned = prefs.pinned === undefined ? null : Number(prefs.pinned);
    const row = await this.transaction(async (client) => {
      await client.query(SQL.insertConversation, [conv, ts]);
      const { rows } = await client.query<{ muted: number; pinned: number }>(SQL.setPrefs, [
        conv,
        userId,
        muted,
        pinned,
        muted,
        pinned,
      ]);
      return rows[0];
    });
    if (!row) throw new Error(`the settings of ${conv} were not stored`);
    return { muted: Number(row.muted) === 1, pinned: Number(row.pinned) === 1 };
  }

  async history(conv: string, before: number | undefined, limit: number): Promise<HistoryPage> {
    const { rows } = await this.pool.query<MessageRow>(SQL.history, historyArgs(conv, before, limit));
    return toPage(rows, limit);
  }

  async messagesAfter(conv: string, afterSeq: number, limit: number): Promise<ChatMessage[]> {
    const { rows } = await this.pool.query<MessageRow>(SQL.after, [conv, afterSeq, limit]);
    return rows.map(toMessage);
  }

  async sessionsPage(userId: string, options: { after?: string; limit?: number } = {}): Promise<SessionsPage> {
    const limit = options.limit ?? LIMITS.sessionsPage;
    let position: { ts: number; conv: string } | null = null;
    if (options.after !== undefined) {
      const { rows } = await this.pool.query<{ updated_at: number }>(SQL.position, [options.after]);
      if (!rows[0]) return { sessions: [], more: false };
      position = { ts: rows[0].updated_at, conv: options.after };
    }
    const { rows } = await this.pool.query<SessionRow>(SQL.sessionsPage, sessionsArgs(userId, position, limit));
    return toSessionsPage(rows, limit);
  }

  async lastSeqs(userId: string, convs: readonly string[]): Promise<SeqRange[]> {
    if (convs.length === 0) return [];
    const { rows } = await this.pool.query<{ conv: string; last_seq: number; joined_seq: number }>(SQL.lastSeqs, [
      userId,
      [...convs],
    ]);
    return rows.map(toSeqRange);
  }

  async peersOf(userId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ user_id: string }>(SQL.peers, [userId]);
    return rows.map((row) => row.user_id);
  }

  async membersOf(conv: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ user_id: string }>(SQL.members, [conv]);
    return rows.map((row) => row.user_id);
  }

  async advanceRead(conv: string, userId: string, seq: number): Promise<number | null> {
    const { rows } = await this.pool.query<{ read_seq: number }>(SQL.advanceRead, [seq, conv, conv, userId, seq]);
    return rows[0] ? rows[0].read_seq : null;
  }

  async changeGroup(groupId: string, message: NewMessage, change: GroupChange): Promise<ChatMessage> {
    const conv = groupConv(groupId);
    const { ts } = message;
    return this.transaction(async (client) => {
      if (change.create) {
        const { name, avatar, notice, owner, createdAt } = change.create;
        await client.query(SQL.insertConversation, [conv, ts]);
        await client.query(SQL.insertGroup, [groupId, name, avatar, notice, owner, createdAt]);
      }
      // The conversation's row lock serializes this change with every append to the group.
      const next = await client.query<{ last_seq: number }>(SQL.nextSeq, [ts, conv]);
      if (!next.rows[0]) throw new Error(`group conversation ${conv} is not stored`);
      const seq = next.rows[0].last_seq;
      await client.query(SQL.insertMessage, messageInsert({ ...message, conv }, seq));
      for (const userId of change.leave ?? []) await client.query(SQL.leaveGroup, [seq, conv, userId]);
      for (const { userId, role } of change.join ?? []) await client.query(SQL.joinGroup, [conv, userId, role, seq]);
      for (const { userId, role } of change.roles ?? []) await client.query(SQL.setRole, [role, conv, userId]);
      if (change.update || change.dismiss) {
        const update = change.update ?? {};
        await client.query(SQL.updateGroup, [
          update.name ?? null,
          update.avatar ?? null,
          update.notice ?? null,
          update.owner ?? null,
          change.dismiss ? 1 : null,
          groupId,
        ]);
      }
      if (change.dismiss) await client.query(SQL.leaveAll, [seq, conv]);
      await client.query(SQL.senderRead, [seq, conv, message.from, seq]);
      return { conv, seq, cid: message.cid, from: message.from, kind: message.kind, body: message.body, ts };
    });
  }

  /**
   * A session advisory lock per group (database-wide, so the schema is part of its key), held on
   * a connection of the lock pool while `work` runs, then released. A connection that dies
   * releases its locks with it, so a crashed instance never leaves a group locked.
   */
  async withGroupLock<T>(groupId: string, work: () => Promise<T>): Promise<T> {
    const key = `${this.schema ?? ''}:${groupId}`;
    const client = await this.lockPool.connect();
    let broken = false;
    try {
      await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [GROUP_LOCK_SPACE, key]);
      try {
        return await work();
      } finally {
        await client
          .query('SELECT pg_advisory_unlock($1, hashtext($2))', [GROUP_LOCK_SPACE, key])
          .catch(() => (broken = true));
      }
    } finally {
      // A connection that could not unlock is closed, which unlocks.
      client.release(broken);
    }
  }

  async getGroup(groupId: string): Promise<GroupRecord | null> {
    const { rows } = await this.pool.query<GroupRow>(SQL.group, [groupConv(groupId), groupId]);
    return rows[0] ? toGroup(rows[0]) : null;
  }

  async groupMembers(groupId: string): Promise<GroupMemberRecord[]> {
    const { rows } = await this.pool.query<GroupMemberRow>(SQL.groupMembers, [groupConv(groupId)]);
    return rows.map(toGroupMember);
  }

  async groupMembership(groupId: string, userId: string): Promise<GroupMembership | null> {
    const { rows } = await this.pool.query<MembershipRow>(SQL.membership, [groupConv(groupId), userId]);
    return rows[0] ? toMembership(rows[0]) : null;
  }

  async addUpload(upload: UploadRecord): Promise<void> {
    const { name, owner, bytes, createdAt, referenced, durationMs } = upload;
    await this.pool.query(SQL.insertUpload, [name, owner, bytes, createdAt, referenced ? 1 : 0, durationMs ?? null]);
  }

  async getUpload(name: string): Promise<UploadRecord | null> {
    const { rows } = await this.pool.query<UploadRow>(SQL.upload, [name]);
    return rows[0] ? toUpload(rows[0]) : null;
  }

  async hasUploads(): Promise<boolean> {
    const { rows } = await this.pool.query<{ name: string }>(SQL.anyUpload);
    return rows.length > 0;
  }

  async uploadBytesSince(owner: string, since: number): Promise<number> {
    const { rows } = await this.pool.query<{ bytes: number | string }>(SQL.uploadBytesSince, [owner, since]);
    // sum() of bigint is numeric, which pg hands over as text.
    return Number(rows[0]?.bytes ?? 0);
  }

  async claimUpload(name: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(SQL.claimUpload, [name]);
    return (rowCount ?? 0) > 0;
  }

  async deleteStaleUploads(before: number, limit: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ name: string }>(SQL.deleteStaleUploads, [before, limit]);
    return rows.map((row) => row.name);
  }

  async addNotifyCredit(userId: string, templateId: string, max: number): Promise<number> {
    const { rows } = await this.pool.query<{ credits: number }>(SQL.addNotifyCredit, [userId, templateId, max]);
    return Number(rows[0]?.credits ?? 0);
  }

  async notifyCredits(userId: string, templateId: string): Promise<number> {
    const { rows } = await this.pool.query<{ credits: number }>(SQL.notifyCredits, [userId, templateId]);
    return Number(rows[0]?.credits ?? 0);
  }

  async takeNotifyCredit(userId: string, templateId: string, now: number, notBefore: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(SQL.takeNotifyCredit, [now, userId, templateId, notBefore]);
    return (rowCount ?? 0) > 0;
  }

  async clearNotifyCredits(userId: string, templateId: string): Promise<void> {
    await this.pool.query(SQL.clearNotifyCredits, [userId, templateId]);
  }

  async notifyTargets(
    conv: string,
    userIds: readonly string[],
    templateId: string,
    notBefore: number,
  ): Promise<NotifyTarget[]> {
    if (userIds.length === 0) return [];
    const { rows } = await this.pool.query<{ user_id: string; openid: string; credits: number }>(SQL.notifyTargets, [
      conv,
      templateId,
      notBefore,
      [...userIds],
    ]);
    return rows.map((row) => ({ userId: row.user_id, openid: row.openid, credits: Number(row.credits) }));
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end(), this.lockPool.end()]);
  }
}
