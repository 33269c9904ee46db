import { LIMITS } from '../../../contract/limits';
import type { PublicUser } from '../../../contract/frames';
import type { ChatClient } from '../../core/client';
import { bindData, type Unbind } from '../../utils/bind';

export interface ContactsData {
  /** The directory's answer so far: the caller's peers (empty box) or the search's matches. */
  users: PublicUser[];
  /** Who is online, by user id: the people store's, which `presence` frames keep current. */
  online: Record<string, boolean>;
  query: string;
  /** Shown instead of asking the server: a search needs at least 2 characters. */
  hint: string;
  /** Whether the server may have another page (the last one was full). */
  more: boolean;
  loading: boolean;
  error: string;
}

interface Instance {
  /** The app's chat client, looked up once when the page attaches. */
  chat: ChatClient;
  unbind?: Unbind;
}

const PAGE = LIMITS.directoryPage;
const SHORT_QUERY_HINT = `请输入至少${LIMITS.directoryQueryMin}个字符`;

function listed(found: PublicUser[]): PublicUser[] {
  return found.map(({ id, nickname, avatar }) => ({ id, nickname, avatar }));
}

// 通讯录: with an empty box, the people one already talks to; a search finds anyone by nickname.
// Tap to open (or start) the conversation; scrolling to the bottom loads the next page. 发起群聊 on top
// picks people for a new group.
Component<
  ContactsData,
  WechatMiniprogram.Component.PropertyOption,
  {
    refresh(): Promise<void>;
    onReachBottom(): Promise<void>;
    onSearch(event: WechatMiniprogram.Input): void;
    open(event: WechatMiniprogram.BaseEvent): void;
    newGroup(): void;
  },
  [],
  Instance,
  true
>({
  data: { users: [], online: {}, query: '', hint: '', more: false, loading: false, error: '' },
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
      if (query.length > 0 && query.length < LIMITS.directoryQueryMin) {
        this.setData({ users: [], more: false, hint: SHORT_QUERY_HINT, error: '', loading: false });
        return;
      }
      this.setData({ loading: true, hint: '' });
      try {
        const found = await this.chat.directory(query, { limit: PAGE });
        // A slower answer to an older query must not overwrite the newer one.
        if (query === this.data.query) this.setData({ users: listed(found), more: found.length === PAGE, error: '' });
      } catch {
        this.setData({ error: '加载失败，点击重试' });
      } finally {
        this.setData({ loading: false });
      }
    },
    async onReachBottom() {
      if (!this.data.more || this.data.loading || this.data.hint) return;
      const { query } = this.data;
      const offset = this.data.users.length;
      this.setData({ loading: true });
      try {
        const found = await this.chat.directory(query, { limit: PAGE, offset });
        if (query !== this.data.query || offset !== this.data.users.length) return;
        // Someone listed twice (the list moved between pages) is shown once.
        const seen = new Set(this.data.users.map((user) => user.id));
        const added = listed(found).filter((user) => !seen.has(user.id));
        this.setData({ users: [...this.data.users, ...added], more: found.length === PAGE });
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
    newGroup() {
      void wx.navigateTo({ url: '/pages/group-create/group-create' });
    },
  },
});
