import crypto from 'node:crypto';
import pg from 'pg';
import type { ChatMessage, PublicUser, SessionEntry } from '../../../contract/frames';
import { newUserId } from './sqlite';
import type { AppendResult, HistoryPage, Identity, NewMessage, Store } from './types';
import { toMessage, toSession, type MessageRow, type SessionRow } from './rows';

/**
 * Each entry migrates the schema from version index to index + 1 (recorded in
 * `schema_migrations`); never edit a shipped one. The same tables as the SQLite store, in
 * PostgreSQL's types: times and seqs are `bigint` (read back as JavaScript numbers).
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);
  CREATE TABLE users (
    id text PRIMARY KEY,
    nickname text NOT NULL,
    avatar text NOT NULL DEFAULT '',
    created_at bigint NOT NULL
  );
  CREATE TABLE identities (
    provider text NOT NULL,
    external_id text NOT NULL,
    user_id text NOT NULL REFERENCES users(id),
    PRIMARY KEY (provider, external_id)
  );
  CREATE TABLE conversations (
    id text PRIMARY KEY,
    last_seq bigint NOT NULL DEFAULT 0,
    updated_at bigint NOT NULL
  );
  CREATE TABLE members (
    conv text NOT NULL REFERENCES conversations(id),
    user_id text NOT NULL REFERENCES users(id),
    read_seq bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (conv, user_id)
  );
  CREATE INDEX members_by_user ON members (user_id);
  CREATE TABLE messages (
    conv text NOT NULL,
    seq bigint NOT NULL,
    cid text NOT NULL,
    sender text NOT NULL,
    kind text NOT NULL,
    body text NOT NULL,
    ts bigint NOT NULL,
    PRIMARY KEY (conv, seq),
    UNIQUE (sender, cid)
  );
  `,
];

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

/**
 * The store for several server instances: PostgreSQL through a connection pool. Every write is
 * one transaction; a conversation's row lock (`UPDATE … RETURNING last_seq`) serializes its
 * appends across instances, so seqs stay gap-free, and UNIQUE (sender, cid) makes a cid
 * idempotent even when two instances store it at the same moment.
 */
export class PostgresStore implements Store {
  private constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string | undefined,
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
    const store = new PostgresStore(pool, schema);
    try {
      await store.migrate();
    } catch (error) {
      await pool.end();
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
          await client.query(`INSERT INTO meta (key, value) VALUES ('epoch', $1)`, [
            crypto.randomBytes(8).toString('hex'),
          ]);
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
    const { rows } = await this.pool.query<{ value: string }>(`SELECT value FROM meta WHERE key = 'epoch'`);
    if (!rows[0]) throw new Error('the store has no epoch: its meta table is damaged');
    return rows[0].value;
  }

  private async userByIdentity(identity: Identity): Promise<PublicUser | null> {
    const { rows } = await this.pool.query<PublicUser>(
      `SELECT u.id, u.nickname, u.avatar FROM identities i JOIN users u ON u.id = i.user_id
       WHERE i.provider = $1 AND i.external_id = $2`,
      [identity.provider, identity.externalId],
    );
    return rows[0] ?? null;
  }

  async userFor(identity: Identity, defaults: { nickname: string }): Promise<PublicUser> {
    const known = await this.userByIdentity(identity);
    if (known) return known;
    const id = newUserId();
    const created = await this.transaction(async (client) => {
      await client.query('INSERT INTO users (id, nickname, avatar, created_at) VALUES ($1, $2, $3, $4)', [
        id,
        defaults.nickname,
        '',
        Date.now(),
      ]);
      const inserted = await client.query(
        `INSERT INTO identities (provider, external_id, user_id) VALUES ($1, $2, $3)
         ON CONFLICT (provider, external_id) DO NOTHING RETURNING user_id`,
        [identity.provider, identity.externalId, id],
      );
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
    const { rows } = await this.pool.query<PublicUser>('SELECT id, nickname, avatar FROM users WHERE id = $1', [id]);
    return rows[0] ?? null;
  }

  async updateProfile(id: string, update: { nickname?: string; avatar?: string }): Promise<PublicUser | null> {
    const { rows } = await this.pool.query<PublicUser>(
      `UPDATE users SET nickname = coalesce($2, nickname), avatar = coalesce($3, avatar)
       WHERE id = $1 RETURNING id, nickname, avatar`,
      [id, update.nickname ?? null, update.avatar ?? null],
    );
    return rows[0] ?? null;
  }

  async searchUsers(query: string, excludeId: string, limit: number): Promise<PublicUser[]> {
    // Byte order ("C"), as SQLite sorts, whatever the database's collation.
    const { rows } = await this.pool.query<PublicUser>(
      `SELECT id, nickname, avatar FROM users
       WHERE id <> $1 AND strpos(lower(nickname), lower($2)) > 0
       ORDER BY nickname COLLATE "C", id COLLATE "C" LIMIT $3`,
      [excludeId, query, limit],
    );
    return rows;
  }

  private async byCid(sender: string, cid: string): Promise<ChatMessage | null> {
    const { rows } = await this.pool.query<MessageRow>('SELECT * FROM messages WHERE sender = $1 AND cid = $2', [
      sender,
      cid,
    ]);
    return rows[0] ? toMessage(rows[0]) : null;
  }

  async appendMessage(message: NewMessage): Promise<AppendResult> {
    // A resend is answered without taking the conversation's lock.
    const existing = await this.byCid(message.from, message.cid);
    if (existing) return { message: existing, duplicate: true };
    try {
      return await this.transaction(async (client) => {
        const { conv, ts } = message;
        await client.query(
          'INSERT INTO conversations (id, last_seq, updated_at) VALUES ($1, 0, $2) ON CONFLICT (id) DO NOTHING',
          [conv, ts],
        );
        // The row lock: every other append to this conversation waits here until this one ends.
        const next = await client.query<{ last_seq: number }>(
          'UPDATE conversations SET last_seq = last_seq + 1, updated_at = $2 WHERE id = $1 RETURNING last_seq',
          [conv, ts],
        );
        if (!next.rows[0]) throw new Error(`conversation ${conv} vanished inside its transaction`);
        const seq = next.rows[0].last_seq;
        await client.query('INSERT INTO members (conv, user_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING', [
          conv,
          [...message.members].sort(),
        ]);
        // Waits for a concurrent insert of the same (sender, cid) to end; if it committed, nothing is inserted.
        const inserted = await client.query(
          `INSERT INTO messages (conv, seq, cid, sender, kind, body, ts) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (sender, cid) DO NOTHING`,
          [conv, seq, message.cid, message.from, message.kind, message.body, ts],
        );
        if (inserted.rowCount === 0) throw new LostRace();
        // The sender has read everything up to what they just wrote.
        await client.query('UPDATE members SET read_seq = $3 WHERE conv = $1 AND user_id = $2 AND read_seq < $3', [
          conv,
          message.from,
          seq,
        ]);
        return {
          message: { conv, seq, cid: message.cid, from: message.from, kind: message.kind, body: message.body, ts },
          duplicate: false,
        };
      });
    } catch (error) {
      if (!(error instanceof LostRace)) throw error;
      // Rolled back, so the seq it took is free again; the answer is the message stored first.
      const stored = await this.byCid(message.from, message.cid);
      if (!stored) throw new Error(`the message for cid ${message.cid} vanished`);
      return { message: stored, duplicate: true };
    }
  }

  async history(conv: string, before: number | undefined, limit: number): Promise<HistoryPage> {
    const { rows } = await this.pool.query<MessageRow>(
      'SELECT * FROM messages WHERE conv = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3',
      [conv, before ?? Number.MAX_SAFE_INTEGER, limit + 1],
    );
    const hasMore = rows.length > limit;
    return { messages: rows.slice(0, limit).reverse().map(toMessage), hasMore };
  }

  async messagesAfter(conv: string, afterSeq: number, limit: number): Promise<ChatMessage[]> {
    const { rows } = await this.pool.query<MessageRow>(
      'SELECT * FROM messages WHERE conv = $1 AND seq > $2 ORDER BY seq ASC LIMIT $3',
      [conv, afterSeq, limit],
    );
    return rows.map(toMessage);
  }

  async sessionsOf(userId: string): Promise<SessionEntry[]> {
    const { rows } = await this.pool.query<SessionRow>(
      `SELECT c.id AS conv, c.last_seq, me.read_seq, peer.user_id AS peer_id, peer.read_seq AS peer_read_seq,
              u.nickname, u.avatar,
              (SELECT count(*) FROM messages m
                WHERE m.conv = c.id AND m.seq > me.read_seq AND m.sender <> me.user_id) AS unread,
              lm.seq AS m_seq, lm.cid AS m_cid, lm.sender AS m_sender, lm.kind AS m_kind,
              lm.body AS m_body, lm.ts AS m_ts
       FROM members me
       JOIN conversations c ON c.id = me.conv
       JOIN members peer ON peer.conv = c.id AND peer.user_id <> me.user_id
       JOIN users u ON u.id = peer.user_id
       LEFT JOIN messages lm ON lm.conv = c.id AND lm.seq = c.last_seq
       WHERE me.user_id = $1
       ORDER BY c.updated_at DESC, c.id COLLATE "C"`,
      [userId],
    );
    return rows.map(toSession);
  }

  async peersOf(userId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ user_id: string }>(
      `SELECT DISTINCT peer.user_id FROM members me
       JOIN members peer ON peer.conv = me.conv AND peer.user_id <> me.user_id
       WHERE me.user_id = $1`,
      [userId],
    );
    return rows.map((row) => row.user_id);
  }

  async membersOf(conv: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ user_id: string }>(
      'SELECT user_id FROM members WHERE conv = $1 ORDER BY user_id COLLATE "C"',
      [conv],
    );
    return rows.map((row) => row.user_id);
  }

  async advanceRead(conv: string, userId: string, seq: number): Promise<number | null> {
    // One statement: a concurrent advance of the same row waits, then re-checks `read_seq <`.
    const { rows } = await this.pool.query<{ read_seq: number }>(
      `UPDATE members SET read_seq = least($3::bigint, c.last_seq)
       FROM conversations c
       WHERE c.id = $1 AND members.conv = $1 AND members.user_id = $2 AND members.read_seq < least($3::bigint, c.last_seq)
       RETURNING members.read_seq`,
      [conv, userId, seq],
    );
    return rows[0] ? rows[0].read_seq : null;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
