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
  },
  [],
  Instance,
  true
>({
  data: { user: null, nickname: '', saving: false, error: '' },
  observers: {
    // Another user after logout and login, or a saved change: the field follows.
    user(user: PublicUser | null) {
      this.setData({ nickname: user ? user.nickname : '' });
    },
  },
  lifetimes: {
    attached() {
      this.chat = getApp<IAppOption>().client;
      const { me } = this.chat.stores;
      this.unbind = bindData(this, { user: () => me.user });
    },
    detached() {
      this.unbind?.();
    },
  },
  methods: {
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
      } catch {
        this.setData({ error: '保存失败，请稍后再试' });
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
  },
});
