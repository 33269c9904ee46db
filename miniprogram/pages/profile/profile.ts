import { ApiError } from '../../core/api';
import type { ChatClient } from '../../core/client';
import type { PublicUser } from '../../../contract/frames';
import { bindData, type Unbind } from '../../utils/bind';

interface Instance {
  /** The app's chat client, looked up once when the page attaches. */
  chat: ChatClient;
  unbind?: Unbind;
}

export interface ProfileData {
  user: PublicUser | null;
  /** The nickname being edited. */
  nickname: string;
  saving: boolean;
  error: string;
  /** The server sends new-message reminders: the 新消息提醒 cell shows. */
  remindersShown: boolean;
  /** Reminders are left (the switch is on). */
  remindersOn: boolean;
  /** `还可以收到3次提醒` / `已开启，提醒次数已用完，点击续订` / `未开启`. */
  remindersLabel: string;
}

// The profile: avatar and nickname the way WeChat requires today (button open-type
// "chooseAvatar", input type "nickname"), saved to the server; logout.
Component<
  ProfileData,
  WechatMiniprogram.Component.PropertyOption,
  {
    chooseAvatar(event: WechatMiniprogram.CustomEvent<{ avatarUrl: string }>): Promise<void>;
    onNickname(event: WechatMiniprogram.Input): void;
    saveNickname(): Promise<void>;
    save(update: { nickname?: string; avatarPath?: string }): Promise<void>;
    logout(): Promise<void>;
    login(): void;
    tapReminders(): void;
    openBlacklist(): void;
    openReminderSettings(): Promise<void>;
  },
  [],
  Instance,
  true
>({
  data: {
    user: null,
    nickname: '',
    saving: false,
    error: '',
    remindersShown: false,
    remindersOn: false,
    remindersLabel: '',
  },
  observers: {
    // Another user after logout and login, or a saved change: the field follows.
    user(user: PublicUser | null) {
      this.setData({ nickname: user ? user.nickname : '' });
    },
  },
  lifetimes: {
    attached() {
      this.chat = getApp<IAppOption>().client;
      const { me, reminders } = this.chat.stores;
      this.unbind = bindData(this, {
        user: () => me.user,
        remindersShown: () => reminders.enabled,
        remindersOn: () => reminders.on,
        remindersLabel: () => reminders.label,
      });
    },
    detached() {
      this.unbind?.();
    },
  },
  methods: {
    /** 黑名单: the people the user blocked, to unblock. */
    openBlacklist() {
      void wx.navigateTo({ url: '/pages/blacklist/blacklist' });
    },
    async chooseAvatar(event) {
      await this.save({ avatarPath: event.detail.avatarUrl });
    },
    onNickname(event) {
      this.setData({ nickname: event.detail.value.trim() });
    },
    async saveNickname() {
      const user = this.data.user;
      if (!this.data.nickname || (user && this.data.nickname === user.nickname)) return;
      await this.save({ nickname: this.data.nickname });
    },
    async save(update) {
      this.setData({ saving: true, error: '' });
      try {
        const user = await this.chat.updateProfile(update);
        this.setData({ nickname: user.nickname });
        void wx.showToast({ title: '已保存', icon: 'success' });
      } catch (error) {
        // WeChat's content check refused the nickname: say so, rather than "try again later".
        const refused = error instanceof ApiError && error.code === 'content_refused';
        this.setData({ error: refused ? '昵称含有违规信息，请修改后再试' : '保存失败，请稍后再试' });
      } finally {
        this.setData({ saving: false });
      }
    },
    async logout() {
      const { confirm } = await wx.showModal({
        title: '退出登录',
        content: '退出后不会删除任何聊天记录',
        confirmText: '退出',
      });
      if (!confirm) return;
      this.chat.logout();
    },
    login() {
      this.chat.start();
    },
    tapReminders() {
      // WeChat's panel only from a tap: asked here, in the tap's own call stack, nothing awaited first.
      if (this.chat.reminders.ask() === 'refused') void this.openReminderSettings();
    },
    async openReminderSettings() {
      // 总是保持以上选择 with 拒绝 (or notifications off): WeChat will not ask again; its settings can.
      const { confirm } = await wx.showModal({
        title: '新消息提醒',
        content: '你已拒绝接收新消息提醒，可在设置的「通知管理」中开启',
        confirmText: '去设置',
      });
      if (!confirm) return;
      await wx.openSetting({ withSubscriptions: true });
      await this.chat.reminders.refresh();
    },
  },
});
