/**
 * The safety store (blocks, reports, bans, the audit log) over either database: the statements
 * are written once in the shared dialect (sql.ts) and run through a `SqlRunner` each store makes.
 */
import type { PublicUser } from '../../../contract/frames';
import type { Dialect } from './sql';
import type { AuditEntry, BanRecord, PageCursor, ReportRecord, ReportStatus, SafetyStore } from './safety-types';

/** How a store runs one statement: rows of a query, or the count of rows a write changed. */
export interface SqlRunner {
  all<R>(sql: string, params: ReadonlyArray<string | number | null>): Promise<R[]>;
  run(sql: string, params: ReadonlyArray<string | number | null>): Promise<number>;
}

interface ReportRow {
  id: string;
  reporter: string;
  conv: string;
  seq: number | string | null;
  reported: string | null;
  reason: string;
  created_at: number | string;
  status: string;
  closed_at: number | string | null;
}

interface BanRow {
  user_id: string;
  reason: string;
  banned_until: number | string | null;
  created_at: number | string;
}

interface AuditRow {
  id: string;
  ts: number | string;
  actor: string;
  ip: string;
  action: string;
  target: string;
  reason: string;
  detail: string;
}

const REPORT = 'id, reporter, conv, seq, reported, reason, created_at, status, closed_at';
const AUDIT = 'id, ts, actor, ip, action, target, reason, detail';

/** The first page: before every real (ts, id). */
const START: PageCursor = { ts: Number.MAX_SAFE_INTEGER, id: '' };

function nullableNumber(value: number | string | null): number | null {
  return value === null ? null : Number(value);
}

function toReport(row: ReportRow): ReportRecord {
  return {
    id: row.id,
    reporter: row.reporter,
    conv: row.conv,
    seq: nullableNumber(row.seq),
    reported: row.reported,
    reason: row.reason,
    createdAt: Number(row.created_at),
    status: row.status as ReportStatus,
    closedAt: nullableNumber(row.closed_at),
  };
}

function toAudit(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    ts: Number(row.ts),
    actor: row.actor,
    ip: row.ip,
    action: row.action as AuditEntry['action'],
    target: row.target,
    reason: row.reason,
    detail: row.detail,
  };
}

function safetyStatements(d: Dialect) {
  const p = d.param;
  /** (ts, ts, id): rows after the cursor in (ts desc, id desc) order. */
  const after = (ts: string, id: string) =>
    `(${ts} < ${p(1)} OR (${ts} = ${p(2)} AND (${p(3)} = '' OR ${id}${d.byteOrder} < ${p(4)})))`;
  return {
    /** (userId, blockedId, ts). */
    block: `INSERT INTO blocks (user_id, blocked_id, created_at) VALUES (${p(1)}, ${p(2)}, ${p(3)})
       ON CONFLICT (user_id, blocked_id) DO NOTHING`,
    /** (userId, blockedId). */
    unblock: `DELETE FROM blocks WHERE user_id = ${p(1)} AND blocked_id = ${p(2)}`,
    /** (userId) → PublicUser[], newest first. */
    blockList: `SELECT u.id, u.nickname, u.avatar FROM blocks b JOIN users u ON u.id = b.blocked_id
       WHERE b.user_id = ${p(1)} ORDER BY b.created_at DESC, b.blocked_id${d.byteOrder}`,
    /** (userId, blockedId) → a row when blocked. */
    isBlocked: `SELECT user_id FROM blocks WHERE user_id = ${p(1)} AND blocked_id = ${p(2)}`,
    /** () → {user_id}[]: everyone who blocks anyone. */
    everyBlocker: `SELECT DISTINCT user_id FROM blocks`,
    /** (userId) → {user_id}[]: who blocked them. */
    blockers: `SELECT user_id FROM blocks WHERE blocked_id = ${p(1)}`,
    /** (id, reporter, conv, seq, reported, reason, createdAt, status, closedAt). */
    insertReport: `INSERT INTO reports (${REPORT})
       VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)})`,
    /** (reporter, since) → {n}: the reports made after `since`. */
    reportCount: `SELECT count(*) AS n FROM reports WHERE reporter = ${p(1)} AND created_at > ${p(2)}`,
    /** (ts, ts, id, id, limit) → ReportRow[]. */
    openReports: `SELECT ${REPORT} FROM reports WHERE status = 'open' AND ${after('created_at', 'id')}
       ORDER BY created_at DESC, id${d.byteOrder} DESC LIMIT ${p(5)}`,
    /** (id) → ReportRow. */
    report: `SELECT ${REPORT} FROM reports WHERE id = ${p(1)}`,
    /** (status, closedAt, id). */
    closeReport: `UPDATE reports SET status = ${p(1)}, closed_at = ${p(2)} WHERE id = ${p(3)} AND status = 'open'`,
    /** (userId, limit) → ReportRow[]. */
    reportsAgainst: `SELECT ${REPORT} FROM reports WHERE reported = ${p(1)}
       ORDER BY created_at DESC, id${d.byteOrder} DESC LIMIT ${p(2)}`,
    /** (userId, reason, until, createdAt). */
    setBan: `INSERT INTO bans (user_id, reason, banned_until, created_at) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})
       ON CONFLICT (user_id) DO UPDATE SET reason = excluded.reason, banned_until = excluded.banned_until,
         created_at = excluded.created_at`,
    /** (userId). */
    removeBan: `DELETE FROM bans WHERE user_id = ${p(1)}`,
    /** (userId) → BanRow. */
    ban: `SELECT user_id, reason, banned_until, created_at FROM bans WHERE user_id = ${p(1)}`,
    /** (id, ts, actor, ip, action, target, reason, detail). */
    insertAudit: `INSERT INTO audit_log (${AUDIT})
       VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)})`,
    /** (ts, ts, id, id, limit) → AuditRow[]. */
    audit: `SELECT ${AUDIT} FROM audit_log WHERE ${after('ts', 'id')}
       ORDER BY ts DESC, id${d.byteOrder} DESC LIMIT ${p(5)}`,
    /** (userId) → {openid}. */
    openid: `SELECT external_id AS openid FROM identities WHERE user_id = ${p(1)} AND provider = 'wechat' LIMIT 1`,
    /** (traceId, conv, seq, ts). */
    addMediaCheck: `INSERT INTO media_checks (trace_id, conv, seq, created_at) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})
       ON CONFLICT (trace_id) DO NOTHING`,
    /** (traceId) → {conv, seq}. */
    mediaCheck: `SELECT conv, seq FROM media_checks WHERE trace_id = ${p(1)}`,
    /** (traceId). */
    deleteMediaCheck: `DELETE FROM media_checks WHERE trace_id = ${p(1)}`,
  };
}

/** The safety store of one database. */
export class SqlSafetyStore implements SafetyStore {
  private readonly sql;
  /**
   * With one process owning the database (SQLite), everyone who blocks anyone, known in memory:
   * `isBlocked`, asked on every one-to-one send, answers most senders without a query. Null until
   * first needed, and always null when other processes write the same database (PostgreSQL).
   */
  private blockers: Set<string> | null = null;

  constructor(
    dialect: Dialect,
    private readonly db: SqlRunner,
    private readonly options: { onlyWriter?: boolean } = {},
  ) {
    this.sql = safetyStatements(dialect);
  }

  async block(userId: string, blockedId: string, ts: number): Promise<void> {
    await this.db.run(this.sql.block, [userId, blockedId, ts]);
    // Added once stored; an unblock leaves it (the set may say "maybe" for one who blocks nobody now).
    this.blockers?.add(userId);
  }

  async unblock(userId: string, blockedId: string): Promise<void> {
    await this.db.run(this.sql.unblock, [userId, blockedId]);
  }

  blockList(userId: string): Promise<PublicUser[]> {
    return this.db.all<PublicUser>(this.sql.blockList, [userId]);
  }

  async isBlocked(userId: string, blockedId: string): Promise<boolean> {
    if (this.options.onlyWriter) {
      this.blockers ??= new Set(
        (await this.db.all<{ user_id: string }>(this.sql.everyBlocker, [])).map((row) => row.user_id),
      );
      if (!this.blockers.has(userId)) return false;
    }
    return (await this.db.all(this.sql.isBlocked, [userId, blockedId])).length > 0;
  }

  async blockersOf(userId: string): Promise<string[]> {
    return (await this.db.all<{ user_id: string }>(this.sql.blockers, [userId])).map((row) => row.user_id);
  }

  async addReport(r: ReportRecord): Promise<void> {
    await this.db.run(this.sql.insertReport, [
      r.id,
      r.reporter,
      r.conv,
      r.seq,
      r.reported,
      r.reason,
      r.createdAt,
      r.status,
      r.closedAt,
    ]);
  }

  async reportCountSince(reporter: string, since: number): Promise<number> {
    const rows = await this.db.all<{ n: number | string }>(this.sql.reportCount, [reporter, since]);
    return Number(rows[0]?.n ?? 0);
  }

  async openReports(limit: number, after: PageCursor = START): Promise<ReportRecord[]> {
    const rows = await this.db.all<ReportRow>(this.sql.openReports, [after.ts, after.ts, after.id, after.id, limit]);
    return rows.map(toReport);
  }

  async getReport(id: string): Promise<ReportRecord | null> {
    const rows = await this.db.all<ReportRow>(this.sql.report, [id]);
    return rows[0] ? toReport(rows[0]) : null;
  }

  async closeReport(id: string, status: Exclude<ReportStatus, 'open'>, ts: number): Promise<boolean> {
    return (await this.db.run(this.sql.closeReport, [status, ts, id])) > 0;
  }

  async reportsAgainst(userId: string, limit: number): Promise<ReportRecord[]> {
    return (await this.db.all<ReportRow>(this.sql.reportsAgainst, [userId, limit])).map(toReport);
  }

  async setBan(ban: BanRecord): Promise<void> {
    await this.db.run(this.sql.setBan, [ban.userId, ban.reason, ban.until, ban.since]);
  }

  async removeBan(userId: string): Promise<boolean> {
    return (await this.db.run(this.sql.removeBan, [userId])) > 0;
  }

  async getBan(userId: string): Promise<BanRecord | null> {
    const row = (await this.db.all<BanRow>(this.sql.ban, [userId]))[0];
    if (!row) return null;
    return {
      userId: row.user_id,
      reason: row.reason,
      until: nullableNumber(row.banned_until),
      since: Number(row.created_at),
    };
  }

  async addAudit(e: AuditEntry): Promise<void> {
    await this.db.run(this.sql.insertAudit, [e.id, e.ts, e.actor, e.ip, e.action, e.target, e.reason, e.detail]);
  }

  async auditLog(limit: number, after: PageCursor = START): Promise<AuditEntry[]> {
    const rows = await this.db.all<AuditRow>(this.sql.audit, [after.ts, after.ts, after.id, after.id, limit]);
    return rows.map(toAudit);
  }

  async openidOf(userId: string): Promise<string | null> {
    const rows = await this.db.all<{ openid: string }>(this.sql.openid, [userId]);
    return rows[0]?.openid ?? null;
  }

  async addMediaCheck(traceId: string, conv: string, seq: number, ts: number): Promise<void> {
    await this.db.run(this.sql.addMediaCheck, [traceId, conv, seq, ts]);
  }

  async takeMediaCheck(traceId: string): Promise<{ conv: string; seq: number } | null> {
    const rows = await this.db.all<{ conv: string; seq: number | string }>(this.sql.mediaCheck, [traceId]);
    const row = rows[0];
    if (!row) return null;
    // Only the caller whose delete took the row acts on it (two pushes of one verdict act once).
    if ((await this.db.run(this.sql.deleteMediaCheck, [traceId])) === 0) return null;
    return { conv: row.conv, seq: Number(row.seq) };
  }
}
