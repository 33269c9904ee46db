import { makeAutoObservable, observable } from 'mobx-miniprogram';
import type { SubscriptionState } from '../../contract/http';

/** The most credits the server keeps (docs/protocol.md). */
export const MAX_REMINDER_CREDITS = 50;

/**
 * What WeChat remembers of the user's choice for the template: `accept` or `reject` when they
 * ticked 总是保持以上选择 (or `reject` when they turned subscriptions off altogether), '' otherwise.
 */
export type KeptChoice = 'accept' | 'reject' | '';

/**
 * New-message reminders (WeChat one-time subscription messages, issue #18): whether the server
 * sends them, the template, how many the user has left, what WeChat keeps of their choice, and
 * the conversations whose 开启新消息提醒 bar was closed or where the user sent (this session only).
 */
export class RemindersStore {
  enabled = false;
  templateId = '';
  credits = 0;
  kept: KeptChoice = '';
  /** The user accepted at least once on this device: credits at 0 then read 已用完, not 未开启. */
  accepted = false;
  /** Conversations where the user sent a message this session (the bar shows only after a send). */
  sentIn: Record<string, boolean> = {};
  /** Conversations whose bar the user closed (✕) this session. */
  dismissed: Record<string, boolean> = {};

  constructor() {
    makeAutoObservable(this, { sentIn: observable.ref, dismissed: observable.ref });
  }

  /** The switch on the profile page: on while reminders are left. */
  get on(): boolean {
    return this.credits > 0;
  }

  /** What the profile page says of the reminders, in plain words. */
  get label(): string {
    if (this.credits > 0) return `还可以收到${this.credits}次提醒`;
    if (this.kept === 'reject') return '已拒绝，可在设置中开启';
    if (this.accepted || this.kept === 'accept') return '已开启，提醒次数已用完，点击续订';
    return '未开启';
  }

  /** The 对方离线时，开启新消息提醒 bar of a one-to-one conversation whose peer is offline. */
  offersBar(conv: string): boolean {
    return (
      this.enabled &&
      this.credits === 0 &&
      this.kept !== 'reject' &&
      this.sentIn[conv] === true &&
      !this.dismissed[conv]
    );
  }

  setState(state: SubscriptionState): void {
    this.enabled = state.enabled;
    this.templateId = state.enabled ? state.templateId : '';
    this.credits = state.enabled ? state.credits : 0;
  }

  setCredits(credits: number): void {
    this.credits = credits;
  }

  setKept(kept: KeptChoice): void {
    this.kept = kept;
  }

  markAccepted(): void {
    this.accepted = true;
  }

  markSent(conv: string): void {
    if (!this.sentIn[conv]) this.sentIn = { ...this.sentIn, [conv]: true };
  }

  dismiss(conv: string): void {
    if (!this.dismissed[conv]) this.dismissed = { ...this.dismissed, [conv]: true };
  }

  clear(): void {
    this.enabled = false;
    this.templateId = '';
    this.credits = 0;
    this.kept = '';
    this.accepted = false;
    this.sentIn = {};
    this.dismissed = {};
  }
}

export type RemindersView = Pick<
  RemindersStore,
  'enabled' | 'templateId' | 'credits' | 'kept' | 'accepted' | 'on' | 'label' | 'offersBar' | 'sentIn' | 'dismissed'
>;
