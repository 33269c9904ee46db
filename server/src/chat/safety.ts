import crypto from 'node:crypto';
import { directConversationMembers, isGroupConversationId } from '../../../contract/conversations';
import type { PublicUser } from '../../../contract/frames';
import type { ReportCreated, ReportRequest } from '../../../contract/http';
import type { BanRecord } from '../store/safety-types';
import type { Store } from '../store/types';
import { ChatError } from './errors';
import type { KnownUsers } from './known-users';
import { conversationMembers } from './membership';

export interface SafetyOptions {
  users: KnownUsers;
  /** Reports one user may make per rolling hour (REPORT_RATE); past it `rate_limited`. */
  reportsPerHour: number;
  clock?: () => number;
}

const HOUR_MS = 3600_000;

/**
 * What users do for their own safety (docs/protocol.md, "Safety"): block (拉黑) and report (举报),
 * and the ban check every login, token and upgrade goes through. Moderators' actions are in
 * moderation.ts.
 */
export class SafetyService {
  readonly clock: () => number;

  constructor(
    private readonly store: Store,
    private readonly options: SafetyOptions,
  ) {
    this.clock = options.clock ?? Date.now;
  }

  /** `PUT /api/blocks/:userId`: yourself → `bad_frame` (400), an unknown user → `not_found`. */
  async block(userId: string, targetId: string): Promise<void> {
    if (targetId === userId) throw new ChatError('bad_frame', 'you cannot block yourself');
    if (!(await this.options.users.exists(targetId))) throw new ChatError('not_found', `no user ${targetId}`);
    await this.store.safety.block(userId, targetId, this.clock());
  }

  /** `DELETE /api/blocks/:userId`: unblocking someone not blocked changes nothing. */
  async unblock(userId: string, targetId: string): Promise<void> {
    if (targetId === userId) throw new ChatError('bad_frame', 'you cannot block yourself');
    if (!(await this.options.users.exists(targetId))) throw new ChatError('not_found', `no user ${targetId}`);
    await this.store.safety.unblock(userId, targetId);
  }

  blockList(userId: string): Promise<PublicUser[]> {
    return this.store.safety.blockList(userId);
  }

  /**
   * `POST /api/reports`: a member of `conv` reports message `seq` of it (one they can see), or the
   * conversation as a whole. At most `reportsPerHour` reports per user per rolling hour.
   */
  async report(userId: string, request: ReportRequest): Promise<ReportCreated> {
    const now = this.clock();
    const made = await this.store.safety.reportCountSince(userId, now - HOUR_MS);
    if (made >= this.options.reportsPerHour) {
      throw new ChatError('rate_limited', `at most ${this.options.reportsPerHour} reports an hour: try again later`);
    }
    const { conv, seq } = request;
    await conversationMembers(this.store, this.options.users, userId, conv);
    let reported: string | null = null;
    if (seq !== undefined) {
      const message = await this.store.message(conv, seq);
      if (!message || !(await this.visible(userId, conv, seq))) {
        throw new ChatError('not_found', `${conv} has no message ${seq}`);
      }
      reported = message.from;
    } else if (!isGroupConversationId(conv)) {
      const pair = directConversationMembers(conv);
      reported = pair ? (pair[0] === userId ? pair[1] : pair[0]) : null;
    }
    const id = 'r' + crypto.randomBytes(9).toString('base64url');
    await this.store.safety.addReport({
      id,
      reporter: userId,
      conv,
      seq: seq ?? null,
      reported,
      reason: request.reason,
      createdAt: now,
      status: 'open',
      closedAt: null,
    });
    return { id };
  }

  /** A group member sees the messages from the one that added them on. */
  private async visible(userId: string, conv: string, seq: number): Promise<boolean> {
    if (!isGroupConversationId(conv)) return true;
    const membership = await this.store.groupMembership(conv.slice(2), userId);
    return membership !== null && seq >= membership.joinedSeq;
  }

  /** The user's ban while it lasts: a timed one ends by itself once its `until` has passed. */
  async activeBan(userId: string): Promise<BanRecord | null> {
    const ban = await this.store.safety.getBan(userId);
    if (!ban || (ban.until !== null && ban.until <= this.clock())) return null;
    return ban;
  }
}
