import type { PublicUser } from '../../../contract/frames';
import type { ChatClient } from '../../core/client';
import { bindData, type Unbind } from '../../utils/bind';

export interface ContactsData {
  /** The directory's answer to the query. */
  users: PublicUser[];
  /** Who is online, by user id: the people store's, which `presence` frames keep current. */
  online: Record<string, boolean>;
  query: string;
  loading: boolean;
  error: string;
}

interface Instance {
  /** The app's chat client, looked up once when the page attaches. */
  chat: ChatClient;
  unbind?: Unbind;
}

// The directory: everyone on the server but oneself; tap to open (or start) the conversation.
Component<
  ContactsData,
  WechatMiniprogram.Component.PropertyOption,
  {
    refresh(): Promise<void>;
    onSearch(event: WechatMiniprogram.Input): void;
    open(event: WechatMiniprogram.BaseEvent): void;
  },
  [],
  Instance,
  true
>({
  data: { users: [], online: {}, query: '', loading: false, error: '' },
  lifetimes: {
    attached() {
      this.chat = getApp<IAppOption>().client;
      const { people } = this.chat.stores;
      this.unbind = bindData(this, { online: () => people.online });
      void this.refresh();
    },
    detached() {
      this.unbind?.();
    },
  },
  pageLifetimes: {
    show() {
      void this.refresh();
    },
  },
  methods: {
    async refresh() {
      const query = this.data.query;
      this.setData({ loading: true });
      try {
        const found = await this.chat.directory(query);
        const users = found.map(({ id, nickname, avatar }) => ({ id, nickname, avatar }));
        // A slower answer to an older query must not overwrite the newer one.
        if (query === this.data.query) this.setData({ users, error: '' });
      } catch {
        this.setData({ error: '加载失败，点击重试' });
      } finally {
        this.setData({ loading: false });
      }
    },
    onSearch(event) {
      this.setData({ query: event.detail.value.trim() });
      void this.refresh();
    },
    open(event) {
      const user = this.data.users[Number(event.currentTarget.dataset.index)];
      if (!user) return;
      const conv = this.chat.conversationWith(user);
      void wx.navigateTo({ url: `/pages/chat/chat?conv=${conv}` });
    },
  },
});
