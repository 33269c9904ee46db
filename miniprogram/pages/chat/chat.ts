import type { MessageItem } from '../../stores/messages';
import { bindFields, type Unbind } from '../../utils/bind';

interface Instance {
  unbind?: Unbind;
}

interface Data {
  messages: MessageItem[];
  hasMore: boolean;
  banner: string;
  draft: string;
  anchor: string;
  loadingOlder: boolean;
  meInitial: string;
  peerInitial: string;
}

function client() {
  return getApp<IAppOption>().client;
}

// The message page: the newest page of a conversation at once, older pages on demand, sends
// shown immediately and confirmed in place. `conv` arrives from the page query.
Component<
  Data,
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
      // Stay at the newest message unless the user is reading older ones.
      if (!this.data.loadingOlder && messages.length > 0) this.setData({ anchor: `m${messages.length - 1}` });
    },
  },
  lifetimes: {
    attached() {
      const conv = this.data.conv;
      const { messages, sessions, connection, me } = client().stores;
      const session = sessions.find(conv);
      const peer = session ? session.peer.nickname : '';
      if (peer) void wx.setNavigationBarTitle({ title: peer });
      this.setData({ meInitial: (me.user?.nickname ?? '我').slice(0, 1), peerInitial: peer.slice(0, 1) });
      this.unbind = bindFields(this, {
        messages: () => messages.view(conv).items,
        hasMore: () => messages.view(conv).hasMore,
        banner: () => connection.banner,
      });
      client().openConversation(conv);
    },
    detached() {
      this.unbind?.();
      client().closeConversation(this.data.conv);
    },
  },
  methods: {
    onInput(event) {
      this.setData({ draft: event.detail.value });
    },
    send() {
      if (!this.data.draft.trim()) return;
      client().sendText(this.data.conv, this.data.draft);
      this.setData({ draft: '' });
    },
    resend(event) {
      client().resend(String(event.currentTarget.dataset.cid));
    },
    loadOlder() {
      if (!this.data.hasMore || this.data.loadingOlder) return;
      const firstKey = this.data.messages.length > 0 ? this.data.messages[0].key : '';
      this.setData({ loadingOlder: true });
      void client()
        .loadOlder(this.data.conv)
        .then(() => {
          // Keep the message that was first in view where it was, instead of jumping.
          const index = this.data.messages.findIndex((item) => item.key === firstKey);
          this.setData({ loadingOlder: false, anchor: index >= 0 ? `m${index}` : this.data.anchor });
        });
    },
  },
});
