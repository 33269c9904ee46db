import crypto from 'node:crypto';
import type { ChatMessage, PublicUser } from '../../../contract/frames';
import type { AuditEntry, BanRecord, PageCursor, ReportRecord } from '../store/safety-types';
import type { Store } from '../store/types';
import { ChatError } from './errors';
import type { SafetyService } from './safety';
import type { ChatService } from './service';

/** Who acts: the admin token names no person, so `admin` and the request's address. */
export interface Moderator {
  ip: string;
}

/** A ban as the console shows it. */
export interface BanView {
  reason: string;
  /** ms timestamp; null: permanent. */
  until: number | null;
  since: number;
}

/** One open report with what a moderator needs to judge it. */
export interface ReportView {
  id: string;
  conv: string;
  /** null: the conversation is reported as a whole. */
  seq: number | null;
  reason: string;
  createdAt: number;
  reporter: PublicUser | null;
  /** The reported user's public profile and ban state; null for a group reported as a whole. */
  reported: (PublicUser & { ban: BanView | null }) | null;
  /** The reported message as stored now (a recalled one comes as `kind: "recalled"`). */
  message: ChatMessage | null;
  /** The messages around it (up to five either side, itself included), or the last ten. */
  context: ChatMessage[];
}

/** A user found by the console's search. */
export interface UserView extends PublicUser {
  ban: BanView | null;
  /** The newest reports against them, open or closed. */
  reports: Array<Pick<ReportRecord, 'id' | 'conv' | 'seq' | 'reason' | 'createdAt' | 'status'>>;
}

export interface Page<T> {
  items: T[];
  /** Pass as `before` for the next page; null when this was the last. */
  next: string | null;
}

/** The console's live panel: this server's own figures. */
export interface LiveStats {
  /** Users with a connection on this instance. */
  online: number;
  /** Messages this instance stored in the last 60 s. */
  messagesLastMinute: number;
}

export interface ModerationOptions {
  clock?: () => number;
  /** Closes every connection of a user on every instance (the bus). */
  disconnect: (userId: string) => void;
  stats: () => LiveStats;
}

/** How many reports against a user the search shows. */
const RECENT_REPORTS = 5;
/** How many users a search answers. */
const SEARCH_LIMIT = 20;

function cursorOf(ts: number, id: string): string {
  return `${ts}.${id}`;
}

/** A `before` cursor as the routes take it; `bad_frame` (400) when it is not one of ours. */
export function parseCursor(text: string | undefined): PageCursor | undefined {
  if (text === undefined || text === '') return undefined;
  const match = /^(\d{1,16})\.([A-Za-z0-9_-]{1,40})$/.exec(text);
  if (!match) throw new ChatError('bad_frame', '"before" must be the "next" of an earlier page');
  return { ts: Number(match[1]), id: match[2] };
}

function banView(ban: BanRecord | null): BanView | null {
  return ban ? { reason: ban.reason, until: ban.until, since: ban.since } : null;
}

/**
 * What moderators do through `/api/admin/*` (docs/protocol.md, "Safety"): work through reports,
 * recall messages, ban and unban, search users; every action is written to the audit log.
 */
export class ModerationService {
  private readonly clock: () => number;

  constructor(
    private readonly store: Store,
    private readonly chat: ChatService,
    private readonly safety: SafetyService,
    private readonly options: ModerationOptions,
  ) {
    this.clock = options.clock ?? safety.clock;
  }

  async reports(limit: number, before?: PageCursor): Promise<Page<ReportView>> {
    const reports = await this.store.safety.openReports(limit + 1, before);
    const page = reports.slice(0, limit);
    const items = await Promise.all(page.map((report) => this.view(report)));
    const last = page[page.length - 1];
    return { items, next: reports.length > limit && last ? cursorOf(last.createdAt, last.id) : null };
  }

  private async view(report: ReportRecord): Promise<ReportView> {
    const [reporter, reported, ban, message, context] = await Promise.all([
      this.store.getUser(report.reporter),
      report.reported === null ? null : this.store.getUser(report.reported),
      report.reported === null ? null : this.safety.activeBan(report.reported),
      report.seq === null ? null : this.store.message(report.conv, report.seq),
      this.store.history(report.conv, report.seq === null ? undefined : report.seq + 6, report.seq === null ? 10 : 11),
    ]);
    return {
      id: report.id,
      conv: report.conv,
      seq: report.seq,
      reason: report.reason,
      createdAt: report.createdAt,
      reporter,
      reported: reported ? { ...reported, ban: banView(ban) } : null,
      message,
      context: context.messages,
    };
  }

  async dismiss(moderator: Moderator, id: string, reason: string): Promise<void> {
    if (!(await this.store.safety.closeReport(id, 'dismissed', this.clock()))) {
      throw new ChatError('not_found', `no open report ${id}`);
    }
    await this.audit(moderator, 'dismiss', id, reason, { report: id });
  }

  /** Recalls a message (recall.ts `moderate`); closes the report it answers, if named. */
  async recall(
    moderator: Moderator,
    request: { conv: string; seq: number; reason?: string; report?: string },
  ): Promise<ChatMessage> {
    const cid = `mod:${crypto.randomBytes(9).toString('base64url')}`;
    const { message, sender } = await this.chat.moderatorRecall(request.conv, request.seq, cid);
    await this.resolve(request.report);
    await this.audit(moderator, 'recall', `${request.conv}#${request.seq}`, request.reason ?? '', {
      conv: request.conv,
      seq: request.seq,
      sender,
      event: message.seq,
      ...(request.report ? { report: request.report } : {}),
    });
    return message;
  }

  /**
   * Bans a user (a ban they had is replaced): their sockets close with 4003 on every instance, and
   * their login and tokens are refused while it lasts. `until` must lie ahead.
   */
  async ban(
    moderator: Moderator,
    userId: string,
    request: { reason: string; until?: number; report?: string },
  ): Promise<BanView> {
    const now = this.clock();
    if (!(await this.store.getUser(userId))) throw new ChatError('not_found', `no user ${userId}`);
    if (request.until !== undefined && request.until <= now) {
      throw new ChatError('bad_frame', '"until" must be a time ahead (ms since 1970), or absent for a permanent ban');
    }
    const ban: BanRecord = { userId, reason: request.reason, until: request.until ?? null, since: now };
    await this.store.safety.setBan(ban);
    this.options.disconnect(userId);
    await this.resolve(request.report);
    await this.audit(moderator, 'ban', userId, request.reason, {
      until: ban.until,
      ...(request.report ? { report: request.report } : {}),
    });
    return banView(ban) as BanView;
  }

  /** Lifts a ban (idempotent: a user not banned stays so, and nothing is audited). */
  async unban(moderator: Moderator, userId: string, reason: string): Promise<void> {
    if (!(await this.store.getUser(userId))) throw new ChatError('not_found', `no user ${userId}`);
    if (await this.store.safety.removeBan(userId)) await this.audit(moderator, 'unban', userId, reason, {});
  }

  /** Users whose id is `q`, then those whose nickname contains it; each with ban and recent reports. */
  async users(q: string): Promise<UserView[]> {
    const [exact, named] = await Promise.all([this.store.getUser(q), this.store.searchUsers(q, '', SEARCH_LIMIT)]);
    const found = exact ? [exact, ...named.filter((user) => user.id !== exact.id)] : named;
    return Promise.all(
      found.slice(0, SEARCH_LIMIT).map(async (user) => {
        const [ban, reports] = await Promise.all([
          this.safety.activeBan(user.id),
          this.store.safety.reportsAgainst(user.id, RECENT_REPORTS),
        ]);
        return {
          ...user,
          ban: banView(ban),
          reports: reports.map(({ id, conv, seq, reason, createdAt, status }) => ({
            id,
            conv,
            seq,
            reason,
            createdAt,
            status,
          })),
        };
      }),
    );
  }

  async auditLog(limit: number, before?: PageCursor): Promise<Page<AuditEntry>> {
    const entries = await this.store.safety.auditLog(limit + 1, before);
    const items = entries.slice(0, limit);
    const last = items[items.length - 1];
    return { items, next: entries.length > limit && last ? cursorOf(last.ts, last.id) : null };
  }

  stats(): LiveStats {
    return this.options.stats();
  }

  private async resolve(report: string | undefined): Promise<void> {
    if (report !== undefined) await this.store.safety.closeReport(report, 'resolved', this.clock());
  }

  private async audit(
    moderator: Moderator,
    action: AuditEntry['action'],
    target: string,
    reason: string,
    detail: Record<string, unknown>,
  ): Promise<void> {
    await this.store.safety.addAudit({
      id: 'a' + crypto.randomBytes(9).toString('base64url'),
      ts: this.clock(),
      actor: 'admin',
      ip: moderator.ip,
      action,
      target,
      reason,
      detail: JSON.stringify(detail),
    });
  }
}

/** Messages stored in the last minute, in one-second buckets (the console's live panel). */
export class MinuteCounter {
  private readonly buckets = new Array<number>(60).fill(0);
  private readonly stamps = new Array<number>(60).fill(0);

  constructor(private readonly clock: () => number = Date.now) {}

  add(): void {
    const second = Math.floor(this.clock() / 1000);
    const slot = second % 60;
    if (this.stamps[slot] !== second) {
      this.stamps[slot] = second;
      this.buckets[slot] = 0;
    }
    this.buckets[slot]++;
  }

  total(): number {
    const second = Math.floor(this.clock() / 1000);
    let sum = 0;
    for (let i = 0; i < 60; i++) if (second - this.stamps[i] < 60) sum += this.buckets[i];
    return sum;
  }
}
