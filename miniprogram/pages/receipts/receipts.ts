import type { PublicUser } from '../../../contract/frames';
import type { ChatClient } from '../../core/client';

/** Someone in either list: a member's name and face as the app knows them. */
export interface ReceiptPerson {
  id: string;
  nickname: string;
  avatar: string;
  initial: string;
}

export type ReceiptTab = 'read' | 'unread';

export interface ReceiptsData {
  read: ReceiptPerson[];
  unread: ReceiptPerson[];
  /** Which list shows: 未读 first while anyone has not read the message, as it was tapped for. */
  tab: ReceiptTab;
  /** The list of the tab that shows. */
  shown: ReceiptPerson[];
  loading: boolean;
  /** The lists could not be fetched ('' when they were). */
  error: string;
}

interface Instance {
  chat: ChatClient;
}

// Who has read one of the user's messages in a group (`N人未读` on the message page leads here):
// 已读 and 未读 as two tabs, members with avatars and names. `conv` and `seq` come from the query.
Component<
  ReceiptsData,
  { conv: StringConstructor; seq: StringConstructor },
  {
    load(): Promise<void>;
    switchTab(event: WechatMiniprogram.BaseEvent): void;
  },
  [],
  Instance,
  true
>({
  properties: { conv: String, seq: String },
  data: { read: [], unread: [], tab: 'unread', shown: [], loading: true, error: '' },
  lifetimes: {
    attached() {
      this.chat = getApp<IAppOption>().client;
      void this.load();
    },
  },
  methods: {
    async load() {
      const conv = this.data.conv;
      const seq = Number(this.data.seq);
      const { groups } = this.chat.stores;
      // The member list has the current names; the answer's own profiles cover those who left since.
      const person = (user: PublicUser): ReceiptPerson => {
        const member = groups.details(conv)?.members.find((item) => item.id === user.id);
        const nickname = member?.nickname || user.nickname;
        return { id: user.id, nickname, avatar: member?.avatar || user.avatar, initial: nickname.slice(0, 1) };
      };
      this.setData({ loading: true, error: '' });
      try {
        if (!groups.details(conv)) await this.chat.groups.load(conv).catch(() => undefined);
        const answer = await this.chat.groups.receipts(conv, seq);
        const read = answer.read.map(person);
        const unread = answer.unread.map(person);
        const tab: ReceiptTab = unread.length > 0 ? 'unread' : 'read';
        this.setData({ read, unread, tab, shown: tab === 'read' ? read : unread, loading: false });
      } catch {
        this.setData({ loading: false, error: '加载失败，点击重试' });
      }
    },
    switchTab(event) {
      const tab = String(event.currentTarget.dataset.tab) === 'read' ? 'read' : 'unread';
      this.setData({ tab, shown: tab === 'read' ? this.data.read : this.data.unread });
    },
  },
});
