import type { PublicUser } from '../../../contract/frames';

/** A moderator's ban of a user: permanent when `until` is null, else until that ms timestamp. */
export interface BanRecord {
  userId: string;
  reason: string;
  until: number | null;
  /** When the ban was made (ms). */
  since: number;
}

export type ReportStatus = 'open' | 'dismissed' | 'resolved';

/** A user's report (举报) of a message (`seq`) or of a conversation as a whole (`seq` null). */
export interface ReportRecord {
  id: string;
  reporter: string;
  conv: string;
  seq: number | null;
  /** Who is reported: the message's sender, a dm's peer; null for a group reported as a whole. */
  reported: string | null;
  reason: string;
  createdAt: number;
  status: ReportStatus;
  closedAt: number | null;
}

/** One moderator action (docs/protocol.md, "Safety"): who, from where, what, to whom, when, why. */
export interface AuditEntry {
  id: string;
  ts: number;
  /** `admin` (the ADMIN_TOKEN names no person). */
  actor: string;
  /** The request's address (X-Forwarded-For of a trusted proxy, else the peer). */
  ip: string;
  action: 'ban' | 'unban' | 'recall' | 'dismiss';
  /** The user, the `conv#seq` or the report acted on. */
  target: string;
  reason: string;
  /** JSON text of the action's particulars (`until`, `conv`, `seq`, `report`). */
  detail: string;
}

/** Where a page of a list ordered newest first continues: after (ts, id). */
export interface PageCursor {
  ts: number;
  id: string;
}

/** What the safety features keep (both stores; sql.ts `safetyMigration`). */
export interface SafetyStore {
  /** The user blocks (拉黑) `blockedId`; blocking again changes nothing. */
  block(userId: string, blockedId: string, ts: number): Promise<void>;
  unblock(userId: string, blockedId: string): Promise<void>;
  /** The people the user blocked, newest first. */
  blockList(userId: string): Promise<PublicUser[]>;
  /** Whether `userId` blocked `blockedId`. */
  isBlocked(userId: string, blockedId: string): Promise<boolean>;
  /** Everyone who blocked the user. */
  blockersOf(userId: string): Promise<string[]>;
  addReport(report: ReportRecord): Promise<void>;
  /** How many reports the user made after `since` (ms): a rolling window's count. */
  reportCountSince(reporter: string, since: number): Promise<number>;
  /** Open reports, newest first, after the cursor when given. */
  openReports(limit: number, after?: PageCursor): Promise<ReportRecord[]>;
  getReport(id: string): Promise<ReportRecord | null>;
  /** Closes an open report; false when there is no open report of that id. */
  closeReport(id: string, status: Exclude<ReportStatus, 'open'>, ts: number): Promise<boolean>;
  /** The newest reports against the user, open or closed. */
  reportsAgainst(userId: string, limit: number): Promise<ReportRecord[]>;
  /** Bans the user (replacing a ban they had). */
  setBan(ban: BanRecord): Promise<void>;
  /** Lifts the user's ban; false when they had none. */
  removeBan(userId: string): Promise<boolean>;
  /** The user's ban as stored (it may have run out: the caller compares `until` with its clock). */
  getBan(userId: string): Promise<BanRecord | null>;
  addAudit(entry: AuditEntry): Promise<void>;
  /** The audit log, newest first, after the cursor when given. */
  auditLog(limit: number, after?: PageCursor): Promise<AuditEntry[]>;
  /** The user's WeChat openid; null for a development login. */
  openidOf(userId: string): Promise<string | null>;
  /** Keeps which message a `mediaCheckAsync` call (its trace_id) is about. */
  addMediaCheck(traceId: string, conv: string, seq: number, ts: number): Promise<void>;
  /** The message a trace_id is about, taken (deleted): a verdict is acted on once. */
  takeMediaCheck(traceId: string): Promise<{ conv: string; seq: number } | null>;
}
