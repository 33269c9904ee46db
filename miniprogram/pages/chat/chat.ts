import { observable, runInAction, type IObservableValue } from 'mobx-miniprogram';
import type { ChatClient } from '../../core/client';
import { LIMITS } from '../../core/protocol';
import type { MessageItem } from '../../stores/messages';
import { bindData, type Unbind } from '../../utils/bind';

interface Instance {
  /** The app's chat client, looked up once when the page attaches. */
  chat: ChatClient;
  unbind?: Unbind;
  /** While older messages load: the key of the message that was first, to keep it in view. */
  anchorKey?: string;
  /**
   * The oldest seq on screen (0: all). The page renders from there to the newest message, so a
   * long conversation opens as fast as a short one and an arriving message is an append.
   */
  shownFrom: IObservableValue<number>;
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

/** Messages shown per page, when opening and per step back in time. */
const PAGE = LIMITS.historyDefault;

/** Index of the first stored message with seq ≥ `fromSeq` (pending sends sort last). */
function firstShownIndex(items: readonly MessageItem[], fromSeq: number): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    const seq = items[mid].seq;
    if (seq !== 0 && seq < fromSeq) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The seq that starts a window of `count` stored messages ending at index `end`. */
function windowStart(items: readonly MessageItem[], end: number, count: number): number {
  const start = Math.max(0, end - count);
  return start === 0 || !items[start] ? 0 : items[start].seq;
}

function storedCount(items: readonly MessageItem[]): number {
  return firstShownIndex(items, Number.MAX_SAFE_INTEGER);
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
    // `.**`: path updates (messages[12]) change the list too, not only whole-array sets.
    'messages.**'(messages: MessageItem[]) {
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
      const items = () => messages.view(conv).items;
      this.shownFrom = observable.box(windowStart(items(), storedCount(items()), PAGE));
      this.unbind = bindData(this, {
        messages: () => items().slice(firstShownIndex(items(), this.shownFrom.get())),
        hasMore: () => messages.view(conv).hasMore || firstShownIndex(items(), this.shownFrom.get()) > 0,
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
      const view = () => this.chat.stores.messages.view(this.data.conv).items;
      // Reveal a page of what the store holds above the window; fetch a page first if it holds none.
      const reveal = () => {
        const first = view().findIndex((item) => item.key === this.anchorKey);
        runInAction(() => this.shownFrom.set(windowStart(view(), Math.max(0, first), PAGE)));
      };
      if (firstShownIndex(view(), this.shownFrom.get()) > 0) {
        reveal();
        return;
      }
      void this.chat.loadOlder(this.data.conv).then(() => {
        reveal();
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
