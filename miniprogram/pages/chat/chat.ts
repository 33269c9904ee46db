import { observable, runInAction, type IObservableValue } from 'mobx-miniprogram';
import type { ChatClient } from '../../core/client';
import { LIMITS } from '../../../contract/limits';
import type { MessageItem } from '../../stores/messages';
import { bindData, type Unbind } from '../../utils/bind';
import { EMOJI } from '../../utils/emoji';
import { createTimeline, type TimelineItem } from '../../utils/timeline';

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
  /** The reader is at the newest message (not scrolled up): new messages keep the view there. */
  atBottom: boolean;
  /** How many messages the page showed at its last update, to count arrivals. */
  shownLength: number;
  peerName: string;
}

export interface ChatData {
  messages: TimelineItem[];
  hasMore: boolean;
  banner: string;
  draft: string;
  anchor: string;
  loadingOlder: boolean;
  meInitial: string;
  peerInitial: string;
  meAvatar: string;
  peerAvatar: string;
  /** The peer is typing (shown in the title, as WeChat does). */
  typing: boolean;
  /** Messages that arrived while the reader was scrolled up. */
  newCount: number;
  showEmoji: boolean;
  emoji: readonly string[];
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
    onScroll(event: WechatMiniprogram.ScrollViewScroll): void;
    onReachBottom(): void;
    jumpToNewest(): void;
    toggleEmoji(): void;
    insertEmoji(event: WechatMiniprogram.BaseEvent): void;
    chooseImage(): Promise<void>;
    previewImage(event: WechatMiniprogram.BaseEvent): void;
    copy(event: WechatMiniprogram.BaseEvent): void;
    showTitle(): void;
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
    meAvatar: '',
    peerAvatar: '',
    typing: false,
    newCount: 0,
    showEmoji: false,
    emoji: EMOJI,
  },
  observers: {
    // `.**`: path updates (messages[12]) change the list too, not only whole-array sets.
    'messages.**'(messages: TimelineItem[]) {
      const added = messages.length - this.shownLength;
      this.shownLength = messages.length;
      if (this.anchorKey) {
        // Older messages arrived above: keep the previously first one where it was, no jump.
        const index = messages.findIndex((item) => item.key === this.anchorKey);
        if (index > 0) {
          this.anchorKey = '';
          this.setData({ anchor: `m${index}`, loadingOlder: false });
        }
        return;
      }
      const last = messages[messages.length - 1];
      if (!last) return;
      if (this.atBottom || last.mine) {
        // At the newest message (or just sent one): stay there.
        this.atBottom = true;
        this.setData({ anchor: `m${messages.length - 1}`, newCount: 0 });
      } else if (added > 0) {
        // Reading older messages: don't pull the view away; say that new ones came.
        this.setData({ newCount: this.data.newCount + added });
      }
    },
    typing() {
      this.showTitle();
    },
  },
  lifetimes: {
    attached() {
      const conv = this.data.conv;
      this.chat = getApp<IAppOption>().client;
      this.atBottom = true;
      this.shownLength = 0;
      const { messages, sessions, connection, me, people } = this.chat.stores;
      const session = sessions.find(conv);
      this.peerName = session ? session.title : '';
      this.showTitle();
      this.setData({
        meInitial: (me.user?.nickname ?? '我').slice(0, 1),
        meAvatar: me.user?.avatar ?? '',
        peerInitial: this.peerName.slice(0, 1),
        peerAvatar: session ? session.avatar : '',
      });
      const items = () => messages.view(conv).items;
      const timeline = createTimeline();
      this.shownFrom = observable.box(windowStart(items(), storedCount(items()), PAGE));
      this.unbind = bindData(this, {
        messages: () =>
          timeline(
            items().slice(firstShownIndex(items(), this.shownFrom.get())),
            sessions.find(conv)?.peerReadSeq ?? 0,
          ),
        hasMore: () => messages.view(conv).hasMore || firstShownIndex(items(), this.shownFrom.get()) > 0,
        banner: () => connection.banner,
        typing: () => people.isTyping(conv),
      });
      this.chat.openConversation(conv);
    },
    detached() {
      this.unbind?.();
      this.chat.closeConversation(this.data.conv);
    },
  },
  methods: {
    showTitle() {
      const title = this.data.typing ? '对方正在输入…' : this.peerName;
      if (title) void wx.setNavigationBarTitle({ title });
    },
    onInput(event) {
      this.setData({ draft: event.detail.value });
      if (event.detail.value) this.chat.typing(this.data.conv);
    },
    send() {
      const text = this.data.draft.trim();
      if (!text) return;
      // The server counts UTF-16 units (an emoji is two); the draft stays so nothing typed is lost.
      if (text.length > LIMITS.maxTextLength) {
        void wx.showToast({ title: `消息过长，最多${LIMITS.maxTextLength}字`, icon: 'none' });
        return;
      }
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
    onScroll(event) {
      // deltaY > 0: the content moved down, the reader scrolled towards older messages.
      if (event.detail.deltaY > 0) this.atBottom = false;
    },
    onReachBottom() {
      this.atBottom = true;
      if (this.data.newCount > 0) this.setData({ newCount: 0 });
    },
    jumpToNewest() {
      this.atBottom = true;
      this.setData({ anchor: `m${this.data.messages.length - 1}`, newCount: 0 });
    },
    toggleEmoji() {
      this.setData({ showEmoji: !this.data.showEmoji });
    },
    insertEmoji(event) {
      this.setData({ draft: this.data.draft + String(event.currentTarget.dataset.emoji) });
    },
    async chooseImage() {
      try {
        const chosen = await wx.chooseMedia({ count: 1, mediaType: ['image'], sizeType: ['compressed'] });
        const file = chosen.tempFiles[0];
        if (!file) return;
        // Smaller uploads, faster sends; the original stays on the phone.
        const compressed = await wx.compressImage({ src: file.tempFilePath, quality: 80 });
        this.chat.sendImage(this.data.conv, compressed.tempFilePath);
      } catch {
        // The user closed the picker: nothing to send.
      }
    },
    previewImage(event) {
      const current = String(event.currentTarget.dataset.url);
      const urls = this.data.messages.filter((item) => item.kind === 'image').map((item) => item.body);
      void wx.previewImage({ current, urls });
    },
    copy(event) {
      const text = String(event.currentTarget.dataset.text);
      void wx.setClipboardData({ data: text });
    },
  },
});
