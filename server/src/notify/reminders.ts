/**
 * Reminders of a user whose app is closed: a WeChat subscription message when a message is stored
 * for someone with no open connection on any instance, a credit, and the conversation not muted;
 * at most one per user per cooldown (docs/protocol.md, "Reaching a user whose app is closed").
 *
 * Off the message path: the chat service hands each stored message over (`messageStored`, which
 * only queues) after its ack; the work happens here, bounded, and WeChat's slowness or failure
 * never reaches chat. Two stages, each with a bound:
 * 1. who: the recipients the store says could be reminded (a member, not muted, a credit, no
 *    reminder within the cooldown, an openid: one query per message), then of those the ones who
 *    are offline (presence, across instances);
 * 2. send: at most one reminder waiting per user; a mention takes the place of a waiting plain
 *    message (when the cooldown allows only one, it is the mention), and mentions go first. A
 *    credit is spent and the cooldown set in one atomic store statement before WeChat is called,
 *    so two instances never both remind a user within the cooldown.
 */
import type { Logger } from 'pino';
import { isGroupConversationId } from '../../../contract/conversations';
import type { ChatMessage } from '../../../contract/frames';
import type { MiniprogramState } from '../config';
import type { Store } from '../store/types';
import { messageData, type FieldValues, type Keyword } from './fields';
import { WechatApiError, type SubscribeMessage } from './wechat-api';

/** Most credits a user keeps per template (each `accept` gives one). */
export const NOTIFY_MAX_CREDITS = 50;
/** Stored messages waiting for stage 1; past it a message reminds nobody (counted as dropped). */
const MAX_WAITING_MESSAGES = 1000;
/** Reminders waiting for stage 2 (one per user); past it a new one is dropped. */
const MAX_WAITING_REMINDERS = 10_000;
/** Messages looked at at once (stage 1). */
const WHO_CONCURRENCY = 2;
/** Calls to WeChat under way at once (stage 2), by default. */
const DEFAULT_SEND_CONCURRENCY = 4;

/** What reminders count for /metrics (besides WeChat's errors, which the API reports). */
export interface ReminderMetrics {
  reminderSent(): void;
  /** A message or a reminder was dropped: a queue was full. */
  reminderDropped(): void;
}

/** Sends one subscription message (`WechatSubscribeApi`); throws a `WechatApiError` when WeChat did not take it. */
export interface SubscribeSender {
  send(message: SubscribeMessage): Promise<void>;
}

export interface RemindersOptions {
  store: Pick<
    Store,
    'notifyTargets' | 'takeNotifyCredit' | 'addNotifyCredit' | 'clearNotifyCredits' | 'getUser' | 'getGroup'
  >;
  /** Whether the user has a connection on any instance. */
  isOnline: (userId: string) => Promise<boolean>;
  sender: SubscribeSender;
  templateId: string;
  keywords: readonly Keyword[];
  miniprogramState: MiniprogramState;
  cooldownMs: number;
  metrics: ReminderMetrics;
  log: Logger;
  clock?: () => number;
  /** Calls to WeChat under way at once (default 4). */
  sendConcurrency?: number;
}

interface Reminder {
  userId: string;
  openid: string;
  message: ChatMessage;
  mentioned: boolean;
}

/** The excerpt a reminder shows of a message. */
export function excerpt(message: Pick<ChatMessage, 'kind' | 'body'>): string {
  if (message.kind === 'image') return '[图片]';
  if (message.kind === 'voice') return '[语音]';
  return message.body;
}

export class Reminders {
  private readonly waitingMessages: Array<{ message: ChatMessage; members: readonly string[] }> = [];
  /** Stage 2: by user, in arrival order. */
  private readonly waiting = new Map<string, Reminder>();
  private looking = 0;
  private sending = 0;
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  private readonly clock: () => number;
  private readonly sendConcurrency: number;

  constructor(private readonly options: RemindersOptions) {
    this.clock = options.clock ?? Date.now;
    this.sendConcurrency = options.sendConcurrency ?? DEFAULT_SEND_CONCURRENCY;
  }

  /** A message was stored and delivered: queue it (never waits, never throws). */
  messageStored(message: ChatMessage, members: readonly string[]): void {
    if (this.closed || message.kind === 'system' || message.kind === 'recalled') return;
    if (!members.some((member) => member !== message.from)) return;
    if (this.waitingMessages.length >= MAX_WAITING_MESSAGES) {
      this.options.metrics.reminderDropped();
      return;
    }
    this.waitingMessages.push({ message, members });
    this.pump();
  }

  /** Resolves once nothing is queued or under way (tests wait for this). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** What is queued or under way: messages whose recipients are being found, reminders waiting, calls to WeChat. */
  backlog(): { messages: number; reminders: number; sending: number } {
    return {
      messages: this.waitingMessages.length + this.looking,
      reminders: this.waiting.size,
      sending: this.sending,
    };
  }

  /** Drops what waits; what is under way ends with its own timeout (or the abort of the API's signal). */
  async close(): Promise<void> {
    this.closed = true;
    this.waitingMessages.length = 0;
    this.waiting.clear();
    await this.idle();
  }

  private isIdle(): boolean {
    return this.looking === 0 && this.sending === 0 && this.waitingMessages.length === 0 && this.waiting.size === 0;
  }

  private pump(): void {
    while (this.looking < WHO_CONCURRENCY && this.waitingMessages.length > 0) {
      const job = this.waitingMessages.shift() as { message: ChatMessage; members: readonly string[] };
      this.looking++;
      void this.who(job.message, job.members).finally(() => {
        this.looking--;
        this.pump();
      });
    }
    while (this.sending < this.sendConcurrency && this.waiting.size > 0) {
      const reminder = this.nextReminder();
      this.sending++;
      void this.send(reminder).finally(() => {
        this.sending--;
        this.pump();
      });
    }
    if (this.isIdle()) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** The next reminder to send: the oldest mention, else the oldest. */
  private nextReminder(): Reminder {
    let chosen: Reminder | undefined;
    for (const reminder of this.waiting.values()) {
      if (reminder.mentioned) {
        chosen = reminder;
        break;
      }
      chosen ??= reminder;
    }
    const reminder = chosen as Reminder;
    this.waiting.delete(reminder.userId);
    return reminder;
  }

  /** Stage 1: whom this message may remind. */
  private async who(message: ChatMessage, members: readonly string[]): Promise<void> {
    try {
      const recipients = members.filter((member) => member !== message.from);
      // The store first (one query): few members have credits, and only they need a presence look-up.
      const candidates = await this.options.store.notifyTargets(
        message.conv,
        recipients,
        this.options.templateId,
        this.clock() - this.options.cooldownMs,
      );
      if (candidates.length === 0 || this.closed) return;
      const online = await Promise.all(candidates.map((target) => this.options.isOnline(target.userId)));
      const targets = candidates.filter((_, i) => !online[i]);
      const mentions = new Set(message.mentions ?? []);
      for (const target of targets) {
        this.offer({
          userId: target.userId,
          openid: target.openid,
          message,
          mentioned: mentions.has('all') || mentions.has(target.userId),
        });
      }
    } catch (error) {
      this.options.log.warn({ err: error, conv: message.conv }, 'reminders: could not tell whom a message reminds');
    }
  }

  /** One reminder waiting per user: a mention replaces a waiting plain one; anything else waits behind it. */
  private offer(reminder: Reminder): void {
    if (this.closed) return;
    const waiting = this.waiting.get(reminder.userId);
    if (waiting) {
      if (reminder.mentioned && !waiting.mentioned) this.waiting.set(reminder.userId, reminder);
      return;
    }
    if (this.waiting.size >= MAX_WAITING_REMINDERS) {
      this.options.metrics.reminderDropped();
      return;
    }
    this.waiting.set(reminder.userId, reminder);
  }

  /** Stage 2: spend a credit (atomically, with the cooldown), then ask WeChat to send. */
  private async send(reminder: Reminder): Promise<void> {
    const { store, templateId, log } = this.options;
    const { userId, message } = reminder;
    let taken = false;
    try {
      // Still offline? They may have opened the app while this waited.
      if (await this.options.isOnline(userId)) return;
      const now = this.clock();
      taken = await store.takeNotifyCredit(userId, templateId, now, now - this.options.cooldownMs);
      if (!taken) return;
      await this.options.sender.send(await this.subscribeMessage(reminder));
      this.options.metrics.reminderSent();
      log.debug({ user: userId, conv: message.conv }, 'reminders: sent');
    } catch (error) {
      if (!taken) {
        log.warn({ err: error, user: userId }, 'reminders: could not spend a credit');
        return;
      }
      try {
        if (error instanceof WechatApiError && error.errcode === '43101') {
          // The user withdrew their consent (or has none left at WeChat): nothing to spend any more.
          await store.clearNotifyCredits(userId, templateId);
          log.info({ user: userId }, 'reminders: WeChat says the user withdrew (43101): their credits are 0');
        } else {
          // WeChat did not take it, so the user's consent is unspent: the credit goes back (the cooldown stays).
          await store.addNotifyCredit(userId, templateId, NOTIFY_MAX_CREDITS);
          if (!(error instanceof WechatApiError)) log.warn({ err: error, user: userId }, 'reminders: not sent');
        }
      } catch (storeError) {
        log.warn({ err: storeError, user: userId }, 'reminders: could not record a failed reminder');
      }
    }
  }

  private async subscribeMessage(reminder: Reminder): Promise<SubscribeMessage> {
    const { store } = this.options;
    const { message } = reminder;
    const sender = (await store.getUser(message.from))?.nickname ?? '';
    let values: FieldValues;
    if (isGroupConversationId(message.conv)) {
      const group = (await store.getGroup(message.conv.slice(2)))?.name ?? '群聊';
      values = { sender: `${group}: ${sender}`, text: excerpt(message), time: message.ts, conversation: group };
    } else {
      values = { sender, text: excerpt(message), time: message.ts, conversation: sender };
    }
    return {
      touser: reminder.openid,
      template_id: this.options.templateId,
      page: `pages/chat/chat?conv=${message.conv}`,
      data: messageData(this.options.keywords, values),
      miniprogram_state: this.options.miniprogramState,
      lang: 'zh_CN',
    };
  }
}
