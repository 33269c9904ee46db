import type { ChatClient } from '../../core/client';
import type { MessageItem } from '../../stores/messages';
import { bindFields, type Unbind } from '../../utils/bind';

interface Instance {
  /** The app's chat client, looked up once when the page attaches. */
  chat: ChatClient;
  unbind?: Unbind;
  /** While older messages load: the key of the message that was first, to keep it in view. */
  anchorKey?: string;
}

export interface ChatData {
  messages: MessageItem[];
  hasMore: boolean;
  banner: string;
  draft: string;
  anchor: string;
  loadingOlder: boolean;
  meInitial: string;
  peerInitial: string;
}

// The message page: the newest page of a conversation at once, older pages on demand, sends
// shown immediately and confirmed in place. `conv` arrives from the page query.
Component<
  ChatData,
  { conv: StringConstructor },
  {
    onInput(event: WechatMiniprogram.Input): void;
    send(): void;
    resend(event: WechatMiniprogram.BaseEvent): void;
    loadOlder(): void;
  },
  [],
  Instance,
  true
>({
  properties: { conv: String },
  data: {
    messages: [],
    hasMore: false,
    banner: '',
    draft: '',
    anchor: '',
    loadingOlder: false,
    meInitial: '',
    peerInitial: '',
  },
  observers: {
    messages(messages: MessageItem[]) {
      if (this.anchorKey) {
        // Older messages arrived above: keep the previously first one where it was, no jump.
        const index = messages.findIndex((item) => item.key === this.anchorKey);
        if (index > 0) {
          this.anchorKey = '';
          this.setData({ anchor: `m${index}`, loadingOlder: false });
        }
        return;
      }
      // Otherwise stay at the newest message.
      if (messages.length > 0) this.setData({ anchor: `m${messages.length - 1}` });
    },
  },
  lifetimes: {
    attached() {
      const conv = this.data.conv;
      this.chat = getApp<IAppOption>().client;
      const { messages, sessions, connection, me } = this.chat.stores;
      const session = sessions.find(conv);
      const peer = session ? session.peer.nickname : '';
      if (peer) void wx.setNavigationBarTitle({ title: peer });
      this.setData({ meInitial: (me.user?.nickname ?? '我').slice(0, 1), peerInitial: peer.slice(0, 1) });
      this.unbind = bindFields(this, {
        messages: () => messages.view(conv).items,
        hasMore: () => messages.view(conv).hasMore,
        banner: () => connection.banner,
      });
      this.chat.openConversation(conv);
    },
    detached() {
      this.unbind?.();
      this.chat.closeConversation(this.data.conv);
    },
  },
  methods: {
    onInput(event) {
      this.setData({ draft: event.detail.value });
    },
    send() {
      if (!this.data.draft.trim()) return;
      this.chat.sendText(this.data.conv, this.data.draft);
      this.setData({ draft: '' });
    },
    resend(event) {
      this.chat.resend(String(event.currentTarget.dataset.cid));
    },
    loadOlder() {
      if (!this.data.hasMore || this.data.loadingOlder) return;
      this.anchorKey = this.data.messages.length > 0 ? this.data.messages[0].key : '';
      this.setData({ loadingOlder: true });
      void this.chat.loadOlder(this.data.conv).then(() => {
        // The store's change reaches this.data on the next tick; after it, an anchor still
        // pending means nothing older arrived.
        wx.nextTick(() => {
          if (!this.anchorKey) return;
          this.anchorKey = '';
          this.setData({ loadingOlder: false });
        });
      });
    },
  },
});
