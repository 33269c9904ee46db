import type { SubscribeResult } from '../../contract/http';
import type { RemindersStore } from '../stores/reminders';
import { MAX_REMINDER_CREDITS, type KeptChoice } from '../stores/reminders';
import type { Api } from './api';
import type { Platform } from './platform';

export type RemindersPlatform = Pick<Platform, 'requestSubscribeMessage' | 'getSetting'>;

/** The quiet top-up asks WeChat at most this often (a chatty user does not call it on every send). */
export const TOP_UP_INTERVAL_MS = 60_000;

/** What a tap on 新消息提醒 led to: WeChat's prompt (or its kept answer), or nothing to ask. */
export type AskOutcome = 'asked' | 'off' | 'refused';

const RESULTS: readonly string[] = ['accept', 'reject', 'ban', 'filter'];

/**
 * New-message reminders (WeChat one-time subscription messages): each accept is one notification
 * the server may send while the app is closed. WeChat shows its prompt only from a tap, so `ask`
 * and `afterSend` call `wx.requestSubscribeMessage` synchronously — a page calls them straight
 * from its tap handler, with nothing awaited before. Every answer is reported to the server.
 */
export class Reminders {
  private lastTopUp = -Infinity;
  /** WeChat's panel is open (a second tap meanwhile asks nothing more). */
  private busy = false;

  constructor(
    private readonly platform: RemindersPlatform,
    private readonly api: Api,
    private readonly store: RemindersStore,
    private readonly options: { topUpIntervalMs?: number; now?: () => number } = {},
  ) {}

  /** Reads the server's state and what WeChat keeps of the user's choice (after login, on each sync). */
  async refresh(): Promise<void> {
    try {
      this.store.setState(await this.api.subscriptions());
    } catch {
      // An older server, or no network: reminders stay as they were.
      return;
    }
    if (this.store.enabled) await this.readKept();
  }

  /**
   * The user tapped the profile switch or the conversation's bar: WeChat's prompt now, in the tap's
   * own call stack. `refused`: WeChat will not ask (the user turned it off for good: 去设置).
   */
  ask(): AskOutcome {
    if (!this.store.enabled) return 'off';
    if (this.store.kept === 'reject') return 'refused';
    if (this.busy) return 'asked';
    this.request();
    return 'asked';
  }

  /**
   * The user sent a message in `conv` (a tap the app already handles): the conversation may offer
   * its bar, and with 总是保持以上选择 accepted the credits are topped up without a prompt — not
   * when they are full, at most once per interval.
   */
  afterSend(conv: string): void {
    this.store.markSent(conv);
    const now = (this.options.now ?? Date.now)();
    const { enabled, kept, credits } = this.store;
    if (!enabled || kept !== 'accept' || credits >= MAX_REMINDER_CREDITS || this.busy) return;
    if (now - this.lastTopUp < (this.options.topUpIntervalMs ?? TOP_UP_INTERVAL_MS)) return;
    this.lastTopUp = now;
    this.request();
  }

  /** ✕ on the bar: not offered again in that conversation this session. */
  dismiss(conv: string): void {
    this.store.dismiss(conv);
  }

  private request(): void {
    const templateId = this.store.templateId;
    this.busy = true;
    this.platform.requestSubscribeMessage({
      tmplIds: [templateId],
      success: (answer) => {
        // The panel is closed: the next tap may ask again while this answer goes to the server
        // (each report counts on its own there).
        this.busy = false;
        const result = answer[templateId];
        if (RESULTS.includes(result)) void this.report(templateId, result as SubscribeResult);
      },
      fail: () => {
        // Not from a tap, no network, or the main switch off: what WeChat keeps says which.
        this.busy = false;
        void this.readKept();
      },
    });
  }

  private async report(templateId: string, result: SubscribeResult): Promise<void> {
    try {
      if (result === 'accept') this.store.markAccepted();
      const { credits } = await this.api.reportSubscription({ templateId, result });
      if (templateId === this.store.templateId) this.store.setCredits(credits);
    } catch {
      // Lost: the next accept reports again; the server's count is the truth on the next refresh.
    }
    await this.readKept();
  }

  /** getSetting's subscriptionsSetting: whether the user ticked 总是保持以上选择, and how. */
  private readKept(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.platform.getSetting({
        withSubscriptions: true,
        success: (setting) => {
          const subscriptions = setting.subscriptionsSetting as WechatMiniprogram.SubscriptionsSetting | undefined;
          const item: unknown = subscriptions?.itemSettings?.[this.store.templateId];
          let kept: KeptChoice = item === 'accept' || item === 'reject' ? item : '';
          if (subscriptions && subscriptions.mainSwitch === false) kept = 'reject';
          this.store.setKept(kept);
          resolve();
        },
        fail: () => resolve(),
      });
    });
  }
}
