import type { ChatClient } from '../../core/client';
import type { DirectoryEntry } from '../../../contract/frames';

export interface ContactsData {
  users: DirectoryEntry[];
  query: string;
  loading: boolean;
  error: string;
}

interface Instance {
  /** The app's chat client, looked up once when the page attaches. */
  chat: ChatClient;
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
  data: { users: [], query: '', loading: false, error: '' },
  lifetimes: {
    attached() {
      this.chat = getApp<IAppOption>().client;
      void this.refresh();
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
        const users = await this.chat.directory(query);
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
