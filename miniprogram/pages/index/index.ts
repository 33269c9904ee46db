import type { ChatClient } from '../../core/client';
import type { SessionItem } from '../../stores/sessions';
import { bindData, type Unbind } from '../../utils/bind';

interface Instance {
  /** The app's chat client, looked up once when the page attaches. */
  chat: ChatClient;
  unbind?: Unbind;
}

// The session list: one entry per conversation (the seeds' dedupe by fromId), newest first.
export interface IndexData {
  sessions: SessionItem[];
  banner: string;
}

Component<
  IndexData,
  WechatMiniprogram.Component.PropertyOption,
  {
    open(event: WechatMiniprogram.BaseEvent): void;
    retry(): void;
    goContacts(): void;
  },
  [],
  Instance,
  true
>({
  data: { sessions: [], banner: '' },
  lifetimes: {
    attached() {
      this.chat = getApp<IAppOption>().client;
      const { sessions, connection } = this.chat.stores;
      this.unbind = bindData(this, { sessions: () => sessions.list, banner: () => connection.banner });
    },
    detached() {
      this.unbind?.();
    },
  },
  methods: {
    open(event) {
      const conv = String(event.currentTarget.dataset.conv);
      this.chat.markRead(conv);
      void wx.navigateTo({ url: `/pages/chat/chat?conv=${conv}` });
    },
    retry() {
      this.chat.retry();
    },
    goContacts() {
      void wx.switchTab({ url: '/pages/contacts/contacts' });
    },
  },
});
