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
import { BoundedSet } from '../bounded-set';

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

/** An append waiting for its batch's transaction. */
interface PendingAppend {
  message: NewMessage;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

/** Most appends stored in one transaction; more wait for the next. */
const BATCH_MAX = 500;
/** Conversations whose members rows are known committed, remembered to skip their inserts (a cache). */
const KNOWN_CONVERSATIONS = 100_000;

/** (senders, cids) → MessageRow[]: the stored messages of a batch's (sender, cid) pairs. */
const STORED_CIDS = `SELECT m.conv, m.seq, m.cid, m.sender, m.kind, m.body, m.ts, m.mentions, m.reply, m.duration
  FROM messages m JOIN unnest($1::text[], $2::text[]) AS k(sender, cid) ON m.sender = k.sender AND m.cid = k.cid`;

/**
 * (ids sorted, counts, ts) → {id, last_seq}[]: each conversation made when missing, its row locked
 * (in the order given: sorted ids take locks in one order on every instance) and `count` seqs
 * reserved; the batch's seqs of a conversation are `last_seq - count + 1 .. last_seq`.
 */
const RESERVE_SEQS = `INSERT INTO conversations AS c (id, last_seq, updated_at)
  SELECT id, n, ts FROM unnest($1::text[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS r(id, n, ts, i) ORDER BY i
  ON CONFLICT (id) DO UPDATE SET last_seq = c.last_seq + excluded.last_seq, updated_at = excluded.updated_at
  RETURNING id, last_seq`;

/** (convs, userIds): members rows of new conversations. */
const INSERT_MEMBERS = `INSERT INTO members (conv, user_id) SELECT * FROM unnest($1::text[], $2::text[])
  ON CONFLICT DO NOTHING`;

/**
 * (the ten columns of `insertMessage` as arrays, then reads: convs, userIds, seqs) → {inserted}:
 * every message of a batch in one statement, a cid stored already skipped (the count says so),
 * and each sender's read cursor moved to their last seq in the conversation.
 */
const INSERT_MESSAGES = `WITH inserted AS (
    INSERT INTO messages (conv, seq, cid, sender, kind, body, ts, mentions, reply, duration)
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[],
      $8::text[], $9::text[], $10::bigint[])
    ON CONFLICT (sender, cid) DO NOTHING
    RETURNING 1
  ), sender_read AS (
    UPDATE members m SET read_seq = r.seq FROM unnest($11::text[], $12::text[], $13::bigint[]) AS r(conv, user_id, seq)
    WHERE m.conv = r.conv AND m.user_id = r.user_id AND m.read_seq < r.seq
  )
  SELECT count(*) AS inserted FROM inserted`;

/**
 * (ids sorted, counts, ts; then per message: conv, ordinal in its conversation, and the other nine
 * columns of `insertMessage`; then reads: convs, userIds, ordinals) → {id, base}[]: a batch whose
 * conversations' members are stored and that mentions nobody, as one statement, its own
 * transaction (one round trip, one commit). It takes the row locks and reserves the seqs as
 * `RESERVE_SEQS`; a message's seq is its conversation's `base` + its ordinal. No ON CONFLICT: a cid
 * stored meanwhile by another instance fails the whole statement (unique_violation), leaving no gap.
 */
const APPEND_STATEMENT = `WITH reserved AS (
    INSERT INTO conversations AS c (id, last_seq, updated_at)
    SELECT id, n, ts FROM unnest($1::text[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS r(id, n, ts, i) ORDER BY i
    ON CONFLICT (id) DO UPDATE SET last_seq = c.last_seq + excluded.last_seq, updated_at = excluded.updated_at
    RETURNING id, last_seq
  ), base AS (
    SELECT r.id, r.last_seq - n.n AS base FROM reserved r JOIN unnest($1::text[], $2::bigint[]) AS n(id, n) ON n.id = r.id
  ), inserted AS (
    INSERT INTO messages (conv, seq, cid, sender, kind, body, ts, mentions, reply, duration)
    SELECT m.conv, b.base + m.k, m.cid, m.sender, m.kind, m.body, m.ts, m.mentions, m.reply, m.duration
    FROM unnest($4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::text[],
      $12::text[], $13::bigint[]) AS m(conv, k, cid, sender, kind, body, ts, mentions, reply, duration)
    JOIN base b ON b.id = m.conv
  ), sender_read AS (
    UPDATE members m SET read_seq = b.base + r.k
    FROM unnest($14::text[], $15::text[], $16::bigint[]) AS r(conv, user_id, k) JOIN base b ON b.id = r.conv
    WHERE m.conv = r.conv AND m.user_id = r.user_id AND m.read_seq < b.base + r.k
  )
  SELECT id, base FROM base`;

/** PostgreSQL's unique_violation. */
const UNIQUE_VIOLATION = '23505';

/** The key of a message's (sender, cid) pair in a batch. */
function cidKey(message: NewMessage): string {
  return `${message.from}\u0000${message.cid}`;
}

/** One order of ids on every instance (the lock order). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Which messages of a batch are new (`fresh`, in arrival order): not stored already, and the
 * first of the batch with their (sender, cid); every other one is a duplicate.
 */
function planBatch(
  messages: readonly NewMessage[],
  stored: ReadonlyMap<string, ChatMessage>,
): { fresh: NewMessage[]; isFresh: boolean[] } {
  const seen = new Set<string>();
  const fresh: NewMessage[] = [];
  const isFresh = messages.map((message) => {
    const key = cidKey(message);
    if (stored.has(key) || seen.has(key)) return false;
    seen.add(key);
    fresh.push(message);
    return true;
  });
  return { fresh, isFresh };
}

/** Each conversation of a batch: how many messages it gets and the last one's time (its activity). */
function conversationsOf(fresh: readonly NewMessage[]): Map<string, { count: number; ts: number }> {
  const convs = new Map<string, { count: number; ts: number }>();
  for (const { conv, ts } of fresh) convs.set(conv, { count: (convs.get(conv)?.count ?? 0) + 1, ts });
  return convs;
}

/** Each message's place (from 1) among the batch's messages of its conversation. */
function ordinalsOf(fresh: readonly NewMessage[]): number[] {
  const counts = new Map<string, number>();
  return fresh.map(({ conv }) => {
    const k = (counts.get(conv) ?? 0) + 1;
    counts.set(conv, k);
    return k;
  });
}

/** Each sender's last seq per conversation of a batch: where their read cursor moves. */
function senderReads(
  fresh: readonly NewMessage[],
  seqs: readonly number[],
): Array<{ conv: string; userId: string; seq: number }> {
  const reads = new Map<string, { conv: string; userId: string; seq: number }>();
  fresh.forEach(({ conv, from }, i) => reads.set(`${conv}\u0000${from}`, { conv, userId: from, seq: seqs[i] }));
  return [...reads.values()];
}

/** Thrown inside a recall's transaction to undo it: the message may not be recalled (any more). */
class NothingToRecall extends Error {}

/**
 * The store for several server instances: PostgreSQL through a connection pool. Every write is
 * one transaction; a conversation's row lock (`UPDATE … RETURNING last_seq`, or for appends the
 * batch's upsert of its conversations, in sorted order) serializes its appends across instances,
 * so seqs stay gap-free, and UNIQUE (sender, cid) makes a cid idempotent even when two instances
 * store it at the same moment. Appends are committed in batches, one per event-loop turn.
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

  /** Appends waiting for the next batch (group commit). */
  private pending: PendingAppend[] = [];
  private batchScheduled = false;
  /** The batch being stored, if any. */
  private inFlight: Promise<void> | null = null;
  /** Conversations whose members rows are committed: no need to insert them again. */
  private readonly knownConversations = new BoundedSet<string>(KNOWN_CONVERSATIONS);

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

  /**
   * Every append that arrives in one event-loop turn is stored in one transaction (group commit:
   * one commit, a handful of round trips, for many messages), resolved only once committed. One
   * batch is in flight at a time; appends arriving meanwhile form the next, so batches grow with
   * the database's latency. Seq order within an instance is the order of arrival.
   */
  appendMessage(message: NewMessage): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ message, resolve, reject });
      this.scheduleBatch();
    });
  }

  private scheduleBatch(): void {
    // A batch in flight starts the next when it ends.
    if (this.batchScheduled || this.inFlight) return;
    this.batchScheduled = true;
    setImmediate(() => {
      this.batchScheduled = false;
      this.startBatch();
    });
  }

  private startBatch(): void {
    if (this.inFlight || this.pending.length === 0) return;
    const batch = this.pending.splice(0, BATCH_MAX);
    this.inFlight = this.commitBatch(batch).finally(() => {
      this.inFlight = null;
      this.startBatch();
    });
  }

  /** Waits until every append queued before the call is committed (or failed). */
  private async appendsSettled(): Promise<void> {
    // At most two batches: the one in flight, then the one it starts with what was queued.
    for (let round = 0; round < 2 && (this.inFlight || this.pending.length > 0); round++) {
      this.startBatch();
      await this.inFlight;
    }
  }

  /** Stores a batch and answers each append; never rejects (each append gets its own answer). */
  private async commitBatch(batch: PendingAppend[]): Promise<void> {
    try {
      const results = await this.appendBatch(batch.map((entry) => entry.message));
      batch.forEach((entry, i) => entry.resolve(results[i]));
    } catch (error) {
      if (batch.length === 1) return batch[0].reject(error);
      // One bad append must not sink the others: each on its own, in order, with its own answer.
      for (const entry of batch) {
        try {
          entry.resolve((await this.appendBatch([entry.message]))[0]);
        } catch (single) {
          entry.reject(single);
        }
      }
    }
  }

  /** Stores the messages in one transaction, again when another instance stored one of their cids first. */
  private async appendBatch(messages: readonly NewMessage[]): Promise<AppendResult[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.tryAppendBatch(messages);
      } catch (error) {
        // That instance has committed (the INSERT waited for it): the next try finds its row first.
        if (error instanceof LostRace && attempt < 5) continue;
        throw error;
      }
    }
  }

  private async tryAppendBatch(messages: readonly NewMessage[]): Promise<AppendResult[]> {
    // Resends are answered from what is stored, without taking any conversation's lock.
    const stored = await this.storedCids(messages);
    const plan = planBatch(messages, stored);
    if (plan.fresh.length > 0) {
      const seqs = this.needsTransaction(plan.fresh)
        ? await this.transaction((client) => this.insertBatch(client, plan.fresh))
        : await this.appendStatement(plan.fresh);
      plan.fresh.forEach((message, i) => stored.set(cidKey(message), storedMessage(message, seqs[i])));
      for (const message of plan.fresh) if (message.members.length > 0) this.knownConversations.add(message.conv);
    }
    return messages.map((message, i) => {
      const found = stored.get(cidKey(message));
      if (!found) throw new Error(`the message for cid ${message.cid} vanished`);
      return { message: { ...found }, duplicate: !plan.isFresh[i] };
    });
  }

  /** Members to insert (a conversation not yet seen committed) or mentions: more than one statement. */
  private needsTransaction(fresh: readonly NewMessage[]): boolean {
    return fresh.some(
      (message) =>
        (message.members.length > 0 && !this.knownConversations.has(message.conv)) ||
        (message.mentions !== undefined && message.mentions.length > 0),
    );
  }

  /** The batch as `APPEND_STATEMENT`; answers each message's seq. */
  private async appendStatement(fresh: readonly NewMessage[]): Promise<number[]> {
    const convs = conversationsOf(fresh);
    const ids = [...convs.keys()].sort();
    const ordinals = ordinalsOf(fresh);
    const inserts = fresh.map((message) => messageInsert(message, 0));
    const column = (n: number) => inserts.map((row) => row[n]);
    const reads = senderReads(fresh, ordinals);
    try {
      const { rows } = await this.pool.query<{ id: string; base: number }>(APPEND_STATEMENT, [
        ids,
        ids.map((id) => convs.get(id)?.count ?? 0),
        ids.map((id) => convs.get(id)?.ts ?? 0),
        column(0),
        ordinals,
        ...[2, 3, 4, 5, 6, 7, 8, 9].map(column),
        reads.map((read) => read.conv),
        reads.map((read) => read.userId),
        reads.map((read) => read.seq),
      ]);
      const base = new Map(rows.map((row) => [row.id, row.base]));
      return fresh.map((message, i) => {
        const first = base.get(message.conv);
        if (first === undefined) throw new Error(`conversation ${message.conv} vanished inside its statement`);
        return first + ordinals[i];
      });
    } catch (error) {
      // Another instance stored one of these cids meanwhile (or a deadlock with its batch over
      // them): the statement wrote nothing, so the batch is tried again.
      const code = pgCode(error) ?? '';
      if (code === UNIQUE_VIOLATION || RETRYABLE.has(code)) throw new LostRace();
      throw error;
    }
  }

  /** The stored messages of the batch's (sender, cid) pairs, by `cidKey`. */
  private async storedCids(messages: readonly NewMessage[]): Promise<Map<string, ChatMessage>> {
    const { rows } = await this.pool.query<MessageRow>(STORED_CIDS, [
      messages.map((message) => message.from),
      messages.map((message) => message.cid),
    ]);
    return new Map(rows.map((row) => [`${row.sender}\u0000${row.cid}`, toMessage(row)]));
  }

  /**
   * Inside one transaction: takes the batch's conversations' row locks (sorted, so two instances
   * never deadlock) while reserving their seqs, inserts the members of new conversations, every
   * message in one statement, the senders' read cursors, the mentions. Answers each message's seq.
   */
  private async insertBatch(client: pg.PoolClient, fresh: readonly NewMessage[]): Promise<number[]> {
    const convs = conversationsOf(fresh);
    const ids = [...convs.keys()].sort();
    const { rows } = await client.query<{ id: string; last_seq: number }>(RESERVE_SEQS, [
      ids,
      ids.map((id) => convs.get(id)?.count ?? 0),
      ids.map((id) => convs.get(id)?.ts ?? 0),
    ]);
    const next = new Map(rows.map((row) => [row.id, row.last_seq - (convs.get(row.id)?.count ?? 0)]));
    const seqs = fresh.map((message) => {
      const seq = (next.get(message.conv) ?? NaN) + 1;
      if (Number.isNaN(seq)) throw new Error(`conversation ${message.conv} vanished inside its transaction`);
      next.set(message.conv, seq);
      return seq;
    });
    await this.insertMembers(client, fresh);
    const reads = senderReads(fresh, seqs);
    const inserts = fresh.map((message, i) => messageInsert(message, seqs[i]));
    const columns = inserts[0].map((_, column) => inserts.map((row) => row[column]));
    const { rows: counted } = await client.query<{ inserted: number }>(INSERT_MESSAGES, [
      ...columns,
      reads.map((read) => read.conv),
      reads.map((read) => read.userId),
      reads.map((read) => read.seq),
    ]);
    // A cid another instance stored meanwhile (in another conversation, under no lock of ours):
    // its seq would be a gap, so the whole batch is rolled back and tried again.
    if (counted[0]?.inserted !== fresh.length) throw new LostRace();
    for (const [i, message] of fresh.entries()) {
      if (!message.mentions || message.mentions.length === 0) continue;
      const all = message.mentions[0] === 'all' ? 1 : 0;
      await client.query(SQL.mention, [seqs[i], message.conv, message.from, all, [...message.mentions]]);
    }
    return seqs;
  }

  /** The members of conversations this instance has not seen committed yet, in one statement. */
  private async insertMembers(client: pg.PoolClient, fresh: readonly NewMessage[]): Promise<void> {
    const pairs = new Map<string, [string, string]>();
    for (const { conv, members } of fresh) {
      if (this.knownConversations.has(conv)) continue;
      for (const member of members) pairs.set(`${conv}\u0000${member}`, [conv, member]);
    }
    if (pairs.size === 0) return;
    const sorted = [...pairs.values()].sort(([a, x], [b, y]) => (a === b ? compare(x, y) : compare(a, b)));
    await client.query(INSERT_MEMBERS, [sorted.map(([conv]) => conv), sorted.map(([, member]) => member)]);
  }

  async message(conv: string, seq: number): Promise<ChatMessage | null> {
    const { rows } = await this.pool.query<MessageRow>(SQL.message, [conv, seq]);
    return rows[0] ? toMessage(rows[0]) : null;
  }

  async messageByCid(from: string, cid: string): Promise<ChatMessage | null> {
    return this.byCid(from, cid);
  }

  async recall(event: NewMessage, target: number, moveRead = true): Promise<AppendResult | null> {
    // Appends already waiting go first, so the seqs follow the order of arrival.
    await this.appendsSettled();
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
    await this.appendsSettled();
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
    await this.appendsSettled();
    await Promise.all([this.pool.end(), this.lockPool.end()]);
  }
}
