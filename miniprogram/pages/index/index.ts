import { observable, runInAction, type IObservableValue } from 'mobx-miniprogram';
import type { ChatClient } from '../../core/client';
import { SESSION_PAGE, type SessionItem } from '../../stores/sessions';
import { bindData, type Unbind } from '../../utils/bind';

interface Instance {
  /** The app's chat client, looked up once when the page attaches. */
  chat: ChatClient;
  /** How many sessions are rendered: a page more each time the list is scrolled to its end. */
  shown: IObservableValue<number>;
  unbind?: Unbind;
}

/** WeChat's 消息免打扰 mark: a grey bell struck through (an image: emoji bells differ by phone). */
const BELL_OFF_SVG =
  "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24' fill='none' stroke='%23b2b2b2' " +
  "stroke-width='1.8' stroke-linecap='round' stroke-linejoin='round'>" +
  "<path d='M12 4.2a5 5 0 0 0-5 5v4.3L5.3 16.3h13.4L17 13.5V9.2a5 5 0 0 0-5-5z'/>" +
  "<path d='M10 19a2 2 0 0 0 4 0'/><path d='M4.5 4.5l15 15'/></svg>";
export const BELL_OFF_ICON = `data:image/svg+xml;charset=utf-8,${BELL_OFF_SVG.replace(/</g, '%3C').replace(/>/g, '%3E')}`;

export interface IndexData {
  /** The top of the list, `SESSION_PAGE` more per scroll to the bottom. */
  sessions: SessionItem[];
  /** Sessions below the rendered ones: held here, or on the server (its next page). */
  more: boolean;
  /** The footer under the list: 加载中… while a page is on its way, 没有更多了 at the end of a long list. */
  footer: string;
  banner: string;
  /** The try limit was reached: the banner is a retry button. */
  canRetry: boolean;
  /** The muted mark's image. */
  bellOff: string;
}

// The session list: one entry per conversation (one per peer, however many messages), pinned first,
// then newest first; long-press to pin, mute or delete; pull down to refresh. A group shows its own
// avatar or a grid of its members' faces, `昵称: 内容`, [有人@我] while mentioned, and a bell when muted.
Component<
  IndexData,
  WechatMiniprogram.Component.PropertyOption,
  {
    open(event: WechatMiniprogram.BaseEvent): void;
    manage(event: WechatMiniprogram.BaseEvent): Promise<void>;
    retry(): void;
    goContacts(): void;
    onPullDownRefresh(): Promise<void>;
    onReachBottom(): void;
  },
  [],
  Instance,
  true
>({
  data: { sessions: [], more: false, footer: '', banner: '', canRetry: false, bellOff: BELL_OFF_ICON },
  lifetimes: {
    attached() {
      this.chat = getApp<IAppOption>().client;
      this.shown = observable.box(SESSION_PAGE);
      const { sessions, connection } = this.chat.stores;
      this.unbind = bindData(this, {
        sessions: () => sessions.list.slice(0, this.shown.get()),
        more: () => sessions.list.length > this.shown.get() || sessions.more,
        footer: () => {
          if (sessions.loadingMore) return '加载中…';
          if (sessions.list.length > this.shown.get() || sessions.more) return '上滑加载更多';
          // A list that fits one screen needs no end marker.
          return sessions.list.length > SESSION_PAGE ? '没有更多了' : '';
        },
        banner: () => connection.banner,
        canRetry: () => connection.state === 'failed',
      });
    },
    detached() {
      this.unbind?.();
    },
  },
  pageLifetimes: {
    show() {
      this.chat.sessionListShown();
    },
  },
  methods: {
    open(event) {
      const conv = String(event.currentTarget.dataset.conv);
      this.chat.markRead(conv);
      void wx.navigateTo({ url: `/pages/chat/chat?conv=${conv}` });
    },
    async manage(event) {
      const conv = String(event.currentTarget.dataset.conv);
      const session = this.chat.stores.sessions.find(conv);
      if (!session) return;
      const actions: Array<[string, () => void]> = [
        [session.pinned ? '取消置顶' : '置顶该聊天', () => this.chat.pin(conv, !session.pinned)],
        [session.muted ? '取消免打扰' : '消息免打扰', () => this.chat.mute(conv, !session.muted)],
        ['删除该聊天', () => this.chat.removeConversation(conv)],
      ];
      try {
        const { tapIndex } = await wx.showActionSheet({ itemList: actions.map(([label]) => label) });
        actions[tapIndex]?.[1]();
      } catch {
        // Cancelled.
      }
    },
    retry() {
      if (this.data.canRetry) this.chat.retry();
    },
    goContacts() {
      void wx.switchTab({ url: '/pages/contacts/contacts' });
    },
    async onPullDownRefresh() {
      await this.chat.refresh();
      void wx.stopPullDownRefresh();
    },
    onReachBottom() {
      const { sessions } = this.chat.stores;
      if (!this.data.more || sessions.loadingMore) return;
      const shown = Math.min(this.shown.get(), sessions.list.length) + SESSION_PAGE;
      runInAction(() => this.shown.set(shown));
      // Everything held shows: the server's next page comes in below (asked for once until it has come).
      if (sessions.list.length <= shown) this.chat.loadMoreSessions();
    },
  },
});
