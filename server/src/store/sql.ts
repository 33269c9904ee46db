/**
 * What the SQLite and the PostgreSQL store share: the tables, and the statements both run,
 * each written once. A `Dialect` carries the few words in which the two databases differ.
 */
import { LIMITS } from '../../../contract/limits';

/** How one database spells what the shared SQL needs. */
export interface Dialect {
  /**
   * The placeholder of the n-th parameter (from 1). SQLite's `?` binds by position, so every
   * statement below names each parameter once and in order; a value needed twice is passed twice.
   */
  param: (n: number) => string;
  /** Column type of ids and texts. */
  text: string;
  /** Column type of seqs and millisecond times (beyond 2^31, far below 2^53). */
  integer: string;
  /** Written after the first migration's `messages` table. */
  messagesTableOptions: string;
  /**
   * Appended to a text ORDER BY so both stores sort by bytes, as clients compare ids: SQLite's
   * default already does, PostgreSQL's follows the database's locale unless told `COLLATE "C"`.
   */
  byteOrder: string;
  /** A condition: `haystack` contains `needle`. */
  contains: (haystack: string, needle: string) => string;
  /** The two-argument minimum function (SQLite's `min`, PostgreSQL's `least`). */
  least: string;
  /**
   * A condition: `column` is one of the ids in the parameter `param`, bound as one value (SQLite:
   * a JSON array text; PostgreSQL: a text array), however many ids it holds.
   */
  inList: (column: string, param: string) => string;
}

/** The columns of a `messages` row, in table order. */
function messageColumns({ text, integer }: Dialect): string {
  return `    conv ${text} NOT NULL,
    seq ${integer} NOT NULL,
    cid ${text} NOT NULL,
    sender ${text} NOT NULL,
    kind ${text} NOT NULL,
    body ${text} NOT NULL,
    ts ${integer} NOT NULL`;
}

/**
 * The first migration of both stores: every table and index. Shipped: its text must stay what
 * it was (a database made by it is never migrated again), so a change to the tables is a new
 * migration in each store.
 */
export function firstMigration(d: Dialect): string {
  const { text, integer } = d;
  return `
  CREATE TABLE meta (key ${text} PRIMARY KEY, value ${text} NOT NULL);
  CREATE TABLE users (
    id ${text} PRIMARY KEY,
    nickname ${text} NOT NULL,
    avatar ${text} NOT NULL DEFAULT '',
    created_at ${integer} NOT NULL
  );
  CREATE TABLE identities (
    provider ${text} NOT NULL,
    external_id ${text} NOT NULL,
    user_id ${text} NOT NULL REFERENCES users(id),
    PRIMARY KEY (provider, external_id)
  );
  CREATE TABLE conversations (
    id ${text} PRIMARY KEY,
    last_seq ${integer} NOT NULL DEFAULT 0,
    updated_at ${integer} NOT NULL
  );
  CREATE TABLE members (
    conv ${text} NOT NULL REFERENCES conversations(id),
    user_id ${text} NOT NULL REFERENCES users(id),
    read_seq ${integer} NOT NULL DEFAULT 0,
    PRIMARY KEY (conv, user_id)
  );
  CREATE INDEX members_by_user ON members (user_id);
  CREATE TABLE messages (
${messageColumns(d)},
    PRIMARY KEY (conv, seq),
    UNIQUE (sender, cid)
  )${d.messagesTableOptions};
  `;
}

/** SQLite's second migration rebuilds `messages` with the same columns (sqlite.ts says why). */
export function messagesTable(d: Dialect, name: string): string {
  return `CREATE TABLE ${name} (
${messageColumns(d)}
  );`;
}

/**
 * The uploads table (a later migration of both stores): one row per stored image file, so that
 * an image body or an avatar can be checked against what this server holds, a user's daily bytes
 * counted across instances, and files nothing refers to removed. `referenced` is 0 or 1 (SQLite
 * has no boolean); once 1 it stays 1. The partial index keeps the sweep's search to the few rows
 * still waiting to be used.
 */
export function uploadsTable({ text, integer }: Dialect): string {
  return `
  CREATE TABLE uploads (
    name ${text} PRIMARY KEY,
    owner ${text} NOT NULL,
    bytes ${integer} NOT NULL,
    created_at ${integer} NOT NULL,
    referenced ${integer} NOT NULL DEFAULT 0
  );
  CREATE INDEX uploads_by_owner ON uploads (owner, created_at);
  CREATE INDEX uploads_unreferenced ON uploads (created_at) WHERE referenced = 0;
  `;
}

/**
 * Groups (a later migration of both stores). A group's conversation is `g:<id>`; its members are
 * rows of `members` like a dm's (the read cursor), with the group columns: `role` (`owner`,
 * `admin`, `member`; null in a dm), `joined_seq` (the seq of the system message that added them)
 * and `left_seq` (the seq of the one that said they left or were removed; null while a member).
 * A message is one row whatever the group's size. The table is `chat_groups`: `groups` is a
 * keyword of both databases' window clauses.
 */
export function groupsMigration({ text, integer }: Dialect): string {
  return `
  CREATE TABLE chat_groups (
    id ${text} PRIMARY KEY,
    name ${text} NOT NULL,
    avatar ${text} NOT NULL DEFAULT '',
    notice ${text} NOT NULL DEFAULT '',
    owner ${text} NOT NULL,
    created_at ${integer} NOT NULL,
    dismissed ${integer} NOT NULL DEFAULT 0
  );
  ALTER TABLE members ADD COLUMN role ${text};
  ALTER TABLE members ADD COLUMN joined_seq ${integer} NOT NULL DEFAULT 0;
  ALTER TABLE members ADD COLUMN left_seq ${integer};
  `;
}

/**
 * Mentions (a later migration of both stores). A message's `mentions` is the JSON text of the ids it
 * mentions, or of `["all"]`; null when it mentions nobody. A member's `mention_seq` is the newest
 * seq of the group that mentions them (or `all`), set when that message is stored, in its
 * transaction: `mentioned` in `sessions` is then `mention_seq > read_seq`, read from the member's
 * own row. Cheaper than looking through the unread messages' mentions: the session list is read
 * far more often than anyone is mentioned, and its query stays one row per conversation however
 * many messages are unread; a mention costs one UPDATE (of at most `LIMITS.mentionsMax` rows, or
 * the group's members for `all`), no row per member per message.
 */
export function mentionsMigration({ text, integer }: Dialect): string {
  return `
  ALTER TABLE messages ADD COLUMN mentions ${text};
  ALTER TABLE members ADD COLUMN mention_seq ${integer} NOT NULL DEFAULT 0;
  `;
}

/**
 * Message actions (a later migration of both stores). A message's `reply` is the JSON text of what
 * it quotes (`{seq, from, kind, excerpt}`, as it was when the reply was stored), null when it
 * replies to none. A recall needs no column: it rewrites the recalled row itself to
 * `kind = 'recalled'`, `body = ''`, no mentions, no reply, so nothing of it can reach an answer.
 * A member's `muted` and `pinned` (0 or 1) are their own settings of the conversation.
 */
export function actionsMigration({ text, integer }: Dialect): string {
  return `
  ALTER TABLE messages ADD COLUMN reply ${text};
  ALTER TABLE members ADD COLUMN muted ${integer} NOT NULL DEFAULT 0;
  ALTER TABLE members ADD COLUMN pinned ${integer} NOT NULL DEFAULT 0;
  `;
}

/**
 * Voice messages (a later migration of both stores). A message's `duration` is a voice message's
 * length in whole seconds as its sender gave it (null for other kinds). An upload's `duration_ms`
 * is the real length of an audio upload, read from the file once when it was stored, so a voice
 * send only compares two numbers (null for images).
 */
export function voiceMigration({ integer }: Dialect): string {
  return `
  ALTER TABLE messages ADD COLUMN duration ${integer};
  ALTER TABLE uploads ADD COLUMN duration_ms ${integer};
  `;
}

/**
 * Reminders of a user whose app is closed (a later migration of both stores): WeChat subscription
 * messages. A row per user and template: `credits` (each `accept` of `wx.requestSubscribeMessage`
 * gives one, at most `NOTIFY_MAX_CREDITS` kept; a reminder spends one) and `notified_at` (ms, the
 * last reminder sent: the cooldown across every instance sharing the store). A credit is spent and
 * the cooldown set by one conditional UPDATE, so two instances never both spend one for one
 * cooldown. `identities_by_user` finds a user's openid.
 */
export function notifyMigration({ text, integer }: Dialect): string {
  return `
  CREATE TABLE notify_credits (
    user_id ${text} NOT NULL,
    template_id ${text} NOT NULL,
    credits ${integer} NOT NULL DEFAULT 0,
    notified_at ${integer} NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, template_id)
  );
  CREATE INDEX identities_by_user ON identities (user_id);
  `;
}

const MESSAGE = 'conv, seq, cid, sender, kind, body, ts, mentions, reply, duration';

/**
 * The statements both stores run. The parameters of each, in order, are in its comment; the
 * rows come back as `rows.ts` describes them.
 */
export function statements(d: Dialect) {
  const p = d.param;
  return {
    epoch: `SELECT value FROM meta WHERE key = 'epoch'`,
    /** (epoch): run by the first migration, with `newEpoch()`. */
    insertEpoch: `INSERT INTO meta (key, value) VALUES ('epoch', ${p(1)})`,
    /** (id) → PublicUser. */
    user: `SELECT id, nickname, avatar FROM users WHERE id = ${p(1)}`,
    /** (provider, externalId) → PublicUser. */
    userByIdentity: `SELECT u.id, u.nickname, u.avatar FROM identities i JOIN users u ON u.id = i.user_id
       WHERE i.provider = ${p(1)} AND i.external_id = ${p(2)}`,
    /** (id, nickname, avatar, createdAt). */
    insertUser: `INSERT INTO users (id, nickname, avatar, created_at) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})`,
    /** (provider, externalId, userId). */
    insertIdentity: `INSERT INTO identities (provider, external_id, user_id) VALUES (${p(1)}, ${p(2)}, ${p(3)})`,
    /** (nickname or null, avatar or null, id) → PublicUser; null leaves a field as it is. */
    updateProfile: `UPDATE users SET nickname = coalesce(${p(1)}, nickname), avatar = coalesce(${p(2)}, avatar)
       WHERE id = ${p(3)} RETURNING id, nickname, avatar`,
    /** (excludeId, query, limit) → PublicUser[]. `lower` folds ASCII only in SQLite, hence the documented rule. */
    search: `SELECT id, nickname, avatar FROM users
       WHERE id <> ${p(1)} AND ${d.contains('lower(nickname)', `lower(${p(2)})`)}
       ORDER BY nickname${d.byteOrder}, id${d.byteOrder} LIMIT ${p(3)}`,
    /** (sender, cid) → MessageRow. */
    byCid: `SELECT ${MESSAGE} FROM messages WHERE sender = ${p(1)} AND cid = ${p(2)}`,
    /** (conv, ts): a conversation starts with its first message. */
    insertConversation: `INSERT INTO conversations (id, last_seq, updated_at) VALUES (${p(1)}, 0, ${p(2)})
       ON CONFLICT (id) DO NOTHING`,
    /** (ts, conv) → {last_seq}: the next seq, taken under the conversation's row lock. */
    nextSeq: `UPDATE conversations SET last_seq = last_seq + 1, updated_at = ${p(1)} WHERE id = ${p(2)}
       RETURNING last_seq`,
    /**
     * (conv, seq, cid, sender, kind, body, ts, mentions: JSON text or null, reply: JSON text or null,
     * duration: whole seconds or null).
     */
    insertMessage: `INSERT INTO messages (${MESSAGE})
       VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)}, ${p(10)})`,
    /** (conv, seq) → MessageRow. */
    message: `SELECT ${MESSAGE} FROM messages WHERE conv = ${p(1)} AND seq = ${p(2)}`,
    /**
     * (conv, seq): the message is recalled, nothing of it kept; changes no row when it is a system
     * message or recalled already (the caller's transaction then rolls back).
     */
    recallMark: `UPDATE messages SET kind = 'recalled', body = '', mentions = NULL, reply = NULL, duration = NULL
       WHERE conv = ${p(1)} AND seq = ${p(2)} AND kind <> 'system' AND kind <> 'recalled'`,
    /**
     * (conv, userId, muted, pinned, muted, pinned) → {muted, pinned}: the user's settings of the
     * conversation, null leaving one as it is. The row is made when missing (a dm before its first
     * message: the caller's row only, so the conversation is nobody else's business yet).
     */
    setPrefs: `INSERT INTO members (conv, user_id, muted, pinned) VALUES (${p(1)}, ${p(2)}, coalesce(${p(3)}, 0), coalesce(${p(4)}, 0))
       ON CONFLICT (conv, user_id) DO UPDATE SET muted = coalesce(${p(5)}, members.muted), pinned = coalesce(${p(6)}, members.pinned)
       RETURNING muted, pinned`,
    /**
     * (seq, conv, sender, all: 1 or 0, ids): the current members a message mentions (every one but
     * its sender when `all` is 1, else those in `ids`) have it as their newest mention. One
     * statement under the conversation's row lock, so `mention_seq` only grows.
     */
    mention: `UPDATE members SET mention_seq = ${p(1)}
       WHERE conv = ${p(2)} AND left_seq IS NULL AND user_id <> ${p(3)}
         AND (${p(4)} = 1 OR ${d.inList('user_id', p(5))})`,
    /** (seq, conv, sender, seq): the sender has read everything up to what they just wrote. */
    senderRead: `UPDATE members SET read_seq = ${p(1)} WHERE conv = ${p(2)} AND user_id = ${p(3)} AND read_seq < ${p(4)}`,
    /** (conv, before, limit) → MessageRow[], newest first. */
    history: `SELECT ${MESSAGE} FROM messages WHERE conv = ${p(1)} AND seq < ${p(2)} ORDER BY seq DESC LIMIT ${p(3)}`,
    /** (conv, afterSeq, limit) → MessageRow[], ascending. */
    after: `SELECT ${MESSAGE} FROM messages WHERE conv = ${p(1)} AND seq > ${p(2)} ORDER BY seq ASC LIMIT ${p(3)}`,
    /** (userId) → {user_id}[]. */
    peers: `SELECT DISTINCT peer.user_id FROM members me
       JOIN members peer ON peer.conv = me.conv AND peer.user_id <> me.user_id
       WHERE me.user_id = ${p(1)} AND me.role IS NULL`,
    /** (conv) → {user_id}[], sorted: the current members (a group's who left are not). */
    members: `SELECT user_id FROM members WHERE conv = ${p(1)} AND left_seq IS NULL ORDER BY user_id${d.byteOrder}`,
    /**
     * (seq, conv, conv, userId, seq) → {read_seq}, or no row when nothing moved. One statement:
     * a concurrent advance of the same row waits for it, then checks `read_seq <` again.
     */
    advanceRead: `UPDATE members SET read_seq = ${d.least}(${p(1)}, c.last_seq)
       FROM conversations c
       WHERE c.id = ${p(2)} AND members.conv = ${p(3)} AND members.user_id = ${p(4)}
         AND members.read_seq < ${d.least}(${p(5)}, c.last_seq)
       RETURNING members.read_seq`,
    /** (conv) → {updated_at}: where a conversation stands in the session list's order. */
    position: `SELECT updated_at FROM conversations WHERE id = ${p(1)}`,
    /**
     * (userId, afterTs, afterTs, afterConv, limit) → SessionRow[]: the session list's keyset page
     * on (last activity desc, conv) after the position (afterTs, afterConv), most recent first:
     * dms (with their peer) and groups (with the group; for a former member up to their leaving).
     * The page's conversations are chosen first, so the counts, the peer and the last message are
     * read for them alone; a text's body comes as at most `excerptLength` characters (code points:
     * the store cuts that to UTF-16 units), so a long body is never handed over whole.
     */
    sessionsPage: `WITH page AS (
         SELECT c.id, c.updated_at, me.user_id, me.read_seq, me.role, me.joined_seq, me.left_seq, me.mention_seq,
                me.muted, me.pinned,
                CASE WHEN me.left_seq IS NULL THEN c.last_seq ELSE me.left_seq END AS last_seq
         FROM members me JOIN conversations c ON c.id = me.conv
         WHERE me.user_id = ${p(1)} AND c.last_seq > 0
           AND (c.updated_at < ${p(2)} OR (c.updated_at = ${p(3)} AND c.id${d.byteOrder} > ${p(4)}))
         ORDER BY c.updated_at DESC, c.id${d.byteOrder}
         LIMIT ${p(5)}
       )
       SELECT page.id AS conv, page.last_seq, page.read_seq, page.role, page.left_seq, page.muted, page.pinned,
              CASE WHEN page.mention_seq > page.read_seq AND page.mention_seq >= page.joined_seq
                     AND page.mention_seq <= page.last_seq
                     AND NOT EXISTS (SELECT 1 FROM messages mm
                       WHERE mm.conv = page.id AND mm.seq = page.mention_seq AND mm.kind = 'recalled')
                   THEN 1 ELSE 0 END AS mentioned,
              peer.user_id AS peer_id, peer.read_seq AS peer_read_seq, u.nickname, u.avatar,
              g.id AS group_id, g.name AS group_name, g.avatar AS group_avatar,
              CASE WHEN page.role IS NULL THEN 0 ELSE
                (SELECT count(*) FROM members gm WHERE gm.conv = page.id AND gm.left_seq IS NULL) END AS member_count,
              (SELECT count(*) FROM messages m
                WHERE m.conv = page.id AND m.seq > page.read_seq AND m.seq >= page.joined_seq
                  AND m.seq <= page.last_seq AND m.sender <> page.user_id AND m.kind <> 'system'
                  AND m.kind <> 'recalled') AS unread,
              lm.seq AS m_seq, lm.cid AS m_cid, lm.sender AS m_sender, lm.kind AS m_kind,
              CASE WHEN lm.kind = 'text' THEN substr(lm.body, 1, ${LIMITS.excerptLength}) ELSE lm.body END AS m_body,
              lm.ts AS m_ts, lm.mentions AS m_mentions, lm.reply AS m_reply, lm.duration AS m_duration
       FROM page
       LEFT JOIN members peer ON page.role IS NULL AND peer.conv = page.id AND peer.user_id <> page.user_id
       LEFT JOIN users u ON u.id = peer.user_id
       LEFT JOIN chat_groups g ON page.role IS NOT NULL AND g.id = substr(page.id, 3)
       LEFT JOIN messages lm ON lm.conv = page.id AND lm.seq = page.last_seq
       ORDER BY page.updated_at DESC, page.id${d.byteOrder}`,
    /**
     * (userId, convs) → {conv, last_seq, joined_seq}[], most recent first: of the listed
     * conversations, those the user is or was a member of, with the last seq they may see (a
     * group's former member: the message that said they left) and the seq they joined at (0 in a
     * dm): what `sync` replays for cursors off the first page.
     */
    lastSeqs: `SELECT c.id AS conv, CASE WHEN me.left_seq IS NULL THEN c.last_seq ELSE me.left_seq END AS last_seq,
         me.joined_seq
       FROM members me JOIN conversations c ON c.id = me.conv
       WHERE me.user_id = ${p(1)} AND ${d.inList('me.conv', p(2))}
       ORDER BY c.updated_at DESC, c.id${d.byteOrder}`,
    /** (id, name, avatar, notice, owner, createdAt). */
    insertGroup: `INSERT INTO chat_groups (id, name, avatar, notice, owner, created_at)
       VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)})`,
    /** (conv, id) → GroupRow: the group with its count of current members. */
    group: `SELECT g.id, g.name, g.avatar, g.notice, g.owner, g.dismissed,
         (SELECT count(*) FROM members m WHERE m.conv = ${p(1)} AND m.left_seq IS NULL) AS member_count
       FROM chat_groups g WHERE g.id = ${p(2)}`,
    /** (conv) → GroupMemberRow[]: the current members, longest-standing first. */
    groupMembers: `SELECT u.id, u.nickname, u.avatar, m.role, m.joined_seq, m.read_seq FROM members m JOIN users u ON u.id = m.user_id
       WHERE m.conv = ${p(1)} AND m.left_seq IS NULL
       ORDER BY m.joined_seq, CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, m.user_id${d.byteOrder}`,
    /** (conv, userId) → {role, joined_seq, left_seq}: the user's place in a group, past or present. */
    membership: `SELECT role, joined_seq, left_seq FROM members WHERE conv = ${p(1)} AND user_id = ${p(2)} AND role IS NOT NULL`,
    /** (conv, userId, role, joinedSeq): joins (again: a former member's row starts over, its read cursor kept). */
    joinGroup: `INSERT INTO members (conv, user_id, role, joined_seq) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})
       ON CONFLICT (conv, user_id) DO UPDATE SET role = excluded.role, joined_seq = excluded.joined_seq, left_seq = NULL`,
    /** (leftSeq, conv, userId): a member leaves (or is removed). */
    leaveGroup: `UPDATE members SET left_seq = ${p(1)} WHERE conv = ${p(2)} AND user_id = ${p(3)} AND left_seq IS NULL`,
    /** (leftSeq, conv): every current member leaves (the group was dismissed). */
    leaveAll: `UPDATE members SET left_seq = ${p(1)} WHERE conv = ${p(2)} AND left_seq IS NULL`,
    /** (role, conv, userId). */
    setRole: `UPDATE members SET role = ${p(1)} WHERE conv = ${p(2)} AND user_id = ${p(3)}`,
    /** (name or null, avatar or null, notice or null, owner or null, dismissed or null, id); null leaves a field. */
    updateGroup: `UPDATE chat_groups SET name = coalesce(${p(1)}, name), avatar = coalesce(${p(2)}, avatar),
         notice = coalesce(${p(3)}, notice), owner = coalesce(${p(4)}, owner), dismissed = coalesce(${p(5)}, dismissed)
       WHERE id = ${p(6)}`,
    /** (name, owner, bytes, createdAt, referenced, durationMs or null); a name already recorded is left as it is. */
    insertUpload: `INSERT INTO uploads (name, owner, bytes, created_at, referenced, duration_ms)
       VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}) ON CONFLICT (name) DO NOTHING`,
    /** (name) → UploadRow: one recorded upload. */
    upload: `SELECT name, owner, bytes, created_at, referenced, duration_ms FROM uploads WHERE name = ${p(1)}`,
    /** () → a row when any upload is recorded. */
    anyUpload: `SELECT name FROM uploads LIMIT 1`,
    /** (owner, since) → {bytes}: what the owner uploaded since then (deleted uploads no longer count). */
    uploadBytesSince: `SELECT coalesce(sum(bytes), 0) AS bytes FROM uploads WHERE owner = ${p(1)} AND created_at >= ${p(2)}`,
    /** (name) → {name}, or no row: the upload is now referenced, in the statement that finds it. */
    claimUpload: `UPDATE uploads SET referenced = 1 WHERE name = ${p(1)} RETURNING name`,
    /**
     * (before, limit) → {name}[]: removes up to `limit` unreferenced rows made before `before`.
     * `referenced = 0` is checked again on the row being deleted, so a claim that wins the race
     * keeps its row (PostgreSQL re-checks a row another transaction updated; SQLite has one writer).
     */
    /** (userId, templateId, max) → {credits}: one more credit, at most `max` kept. */
    addNotifyCredit: `INSERT INTO notify_credits (user_id, template_id, credits, notified_at)
       VALUES (${p(1)}, ${p(2)}, 1, 0)
       ON CONFLICT (user_id, template_id) DO UPDATE SET credits = ${d.least}(notify_credits.credits + 1, ${p(3)})
       RETURNING credits`,
    /** (userId, templateId) → {credits}, or no row (none ever). */
    notifyCredits: `SELECT credits FROM notify_credits WHERE user_id = ${p(1)} AND template_id = ${p(2)}`,
    /**
     * (now, userId, templateId, notBefore) → {credits}, or no row: spends one credit and records the
     * reminder at `now`, only if there is a credit and no reminder after `notBefore`. One statement:
     * a concurrent take of the same row (another instance) waits for it and checks both again.
     */
    takeNotifyCredit: `UPDATE notify_credits SET credits = credits - 1, notified_at = ${p(1)}
       WHERE user_id = ${p(2)} AND template_id = ${p(3)} AND credits > 0 AND notified_at <= ${p(4)}
       RETURNING credits`,
    /** (userId, templateId): WeChat says the user withdrew (43101): no credit left. */
    clearNotifyCredits: `UPDATE notify_credits SET credits = 0 WHERE user_id = ${p(1)} AND template_id = ${p(2)}`,
    /**
     * (conv, templateId, notBefore, ids) → NotifyTargetRow[]: of the listed users, the current
     * members of the conversation who have not muted it, have a credit for the template, were not
     * reminded after `notBefore`, and logged in with WeChat (their openid).
     */
    notifyTargets: `SELECT m.user_id, i.external_id AS openid, n.credits
       FROM members m
       JOIN notify_credits n ON n.user_id = m.user_id
       JOIN identities i ON i.user_id = m.user_id AND i.provider = 'wechat'
       WHERE m.conv = ${p(1)} AND n.template_id = ${p(2)} AND n.notified_at <= ${p(3)}
         AND ${d.inList('m.user_id', p(4))} AND m.left_seq IS NULL AND m.muted = 0 AND n.credits > 0
       ORDER BY m.user_id${d.byteOrder}`,
    deleteStaleUploads: `DELETE FROM uploads WHERE referenced = 0 AND name IN (
         SELECT name FROM uploads WHERE referenced = 0 AND created_at < ${p(1)} ORDER BY created_at LIMIT ${p(2)}
       ) RETURNING name`,
  };
}

export type Statements = ReturnType<typeof statements>;

/** The epoch row's value; a database without one was damaged outside the server. */
export function epochOf(row: { value: string } | undefined): string {
  if (!row) throw new Error('the store has no epoch: its meta table is damaged');
  return row.value;
}

/**
 * Safety (a later migration of both stores): blocks (拉黑), reports (举报), bans and the audit log
 * of moderator actions. `reports.seq` is null when a conversation is reported as a whole,
 * `reported` null for a group reported as a whole; `bans.banned_until` null for a permanent ban.
 */
export function safetyMigration({ text, integer }: Dialect): string {
  return `
  CREATE TABLE blocks (
    user_id ${text} NOT NULL,
    blocked_id ${text} NOT NULL,
    created_at ${integer} NOT NULL,
    PRIMARY KEY (user_id, blocked_id)
  );
  CREATE INDEX blocks_by_blocked ON blocks (blocked_id);
  CREATE TABLE reports (
    id ${text} PRIMARY KEY,
    reporter ${text} NOT NULL,
    conv ${text} NOT NULL,
    seq ${integer},
    reported ${text},
    reason ${text} NOT NULL,
    created_at ${integer} NOT NULL,
    status ${text} NOT NULL DEFAULT 'open',
    closed_at ${integer}
  );
  CREATE INDEX reports_open ON reports (status, created_at);
  CREATE INDEX reports_by_reporter ON reports (reporter, created_at);
  CREATE INDEX reports_by_reported ON reports (reported, created_at);
  CREATE TABLE bans (
    user_id ${text} PRIMARY KEY,
    reason ${text} NOT NULL,
    banned_until ${integer},
    created_at ${integer} NOT NULL
  );
  CREATE TABLE audit_log (
    id ${text} PRIMARY KEY,
    ts ${integer} NOT NULL,
    actor ${text} NOT NULL,
    ip ${text} NOT NULL,
    action ${text} NOT NULL,
    target ${text} NOT NULL,
    reason ${text} NOT NULL,
    detail ${text} NOT NULL
  );
  CREATE INDEX audit_by_ts ON audit_log (ts);
  `;
}

/** Content check: which stored message each pending `mediaCheckAsync` (its trace_id) is about. */
export function contentCheckMigration({ text, integer }: Dialect): string {
  return `
  CREATE TABLE media_checks (
    trace_id ${text} PRIMARY KEY,
    conv ${text} NOT NULL,
    seq ${integer} NOT NULL,
    created_at ${integer} NOT NULL
  );
  `;
}
