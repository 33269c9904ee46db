import type { SubscribeResult, SubscriptionCredits, SubscriptionState } from '../../../contract/http';
import type { Store } from '../store/types';
import { ChatError } from './errors';
import { NOTIFY_MAX_CREDITS } from '../notify/reminders';

/**
 * A user's reminder credits (`/api/subscriptions`): each `accept` the app reports after
 * `wx.requestSubscribeMessage` is one WeChat subscription message the server may send them. With
 * reminders off (`templateId` undefined) nothing is stored and every answer says 0 credits.
 */
export class SubscriptionsService {
  constructor(
    private readonly store: Pick<Store, 'addNotifyCredit' | 'notifyCredits'>,
    /** The configured template; undefined when reminders are off. */
    private readonly templateId: string | undefined,
  ) {}

  /** What `wx.requestSubscribeMessage` answered: `accept` adds one credit (at most 50 kept). */
  async report(userId: string, templateId: string, result: SubscribeResult): Promise<SubscriptionCredits> {
    if (this.templateId === undefined) return { templateId, credits: 0 };
    if (templateId !== this.templateId) {
      throw new ChatError('bad_frame', 'templateId is not the template this server sends reminders with');
    }
    const credits =
      result === 'accept'
        ? await this.store.addNotifyCredit(userId, templateId, NOTIFY_MAX_CREDITS)
        : await this.store.notifyCredits(userId, templateId);
    return { templateId, credits };
  }

  /** Whether reminders are on, their template, and the user's credits. */
  async state(userId: string): Promise<SubscriptionState> {
    if (this.templateId === undefined) return { enabled: false, templateId: '', credits: 0 };
    return {
      enabled: true,
      templateId: this.templateId,
      credits: await this.store.notifyCredits(userId, this.templateId),
    };
  }
}
