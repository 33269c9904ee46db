import { directPeer } from '../../../contract/conversations';
import type { PublicUser } from '../../../contract/frames';
import type { ChatClient } from '../../core/client';
import { bindData, type Unbind } from '../../utils/bind';

export interface ChatSettingsData {
  /** The other member of the conversation; null until known (a conversation id from nowhere). */
  peer: PublicUser | null;
  muted: boolean;
  pinned: boolean;
  /** The peer is on the user's 黑名单 (加入黑名单). */
  blocked: boolean;
  /** 清空聊天记录 is under way (older pages are being fetched to be deleted too). */
  clearing: boolean;
}

interface Instance {
  /** The app's chat client, looked up once when the page attaches. */
  chat: ChatClient;
  unbind?: Unbind;
}

/** Pages of older history 清空聊天记录 fetches at most before deleting what is held. */
const MAX_PAGES = 200;

// 聊天信息 of a one-to-one conversation (from the message page's ···): the peer with + (a new
// group with them already ticked), 消息免打扰, 置顶聊天, 清空聊天记录 (this device only), 加入黑名单
// and 投诉 (the report form).
// `conv` arrives from the page query.
Component<
  ChatSettingsData,
  { conv: StringConstructor },
  {
    startGroup(): void;
    onMute(event: WechatMiniprogram.SwitchChange): void;
    onPin(event: WechatMiniprogram.SwitchChange): void;
    clearHistory(): Promise<void>;
    onBlock(event: WechatMiniprogram.SwitchChange): Promise<void>;
    report(): void;
    fetchAll(): Promise<void>;
  },
  [],
  Instance,
  true
>({
  properties: { conv: String },
  data: {
    peer: null,
    muted: false,
    pinned: false,
    blocked: false,
    clearing: false,
  },
  lifetimes: {
    attached() {
      this.chat = getApp<IAppOption>().client;
      const conv = this.properties.conv;
      const { sessions, people, me, blocks } = this.chat.stores;
      const session = () => sessions.find(conv);
      this.unbind = bindData(this, {
        peer: () => {
          const peer = session()?.peer ?? people.profile(directPeer(conv, me.id) ?? '');
          return peer ? { id: peer.id, nickname: peer.nickname, avatar: peer.avatar } : null;
        },
        // The switches follow the store: a change from another device, or a refusal, moves them.
        muted: () => !!session()?.muted,
        pinned: () => !!session()?.pinned,
        blocked: () => {
          const peer = directPeer(conv, me.id);
          return !!peer && blocks.has(peer);
        },
      });
      // The 黑名单 is fetched on demand: here, once, so the switch says where the peer stands.
      if (!blocks.loaded && !blocks.loading) this.chat.loadBlocks().catch(() => undefined);
    },
    detached() {
      this.unbind?.();
    },
  },
  methods: {
    /** +: 发起群聊 with the peer already ticked (and kept ticked). */
    startGroup() {
      const peer = this.data.peer;
      if (!peer) return;
      void wx.navigateTo({ url: `/pages/group-create/group-create?with=${peer.id}` });
    },
    onMute(event) {
      void this.chat.mute(this.properties.conv, event.detail.value);
    },
    onPin(event) {
      void this.chat.pin(this.properties.conv, event.detail.value);
    },
    /**
     * 加入黑名单 after WeChat's question (its 朋友圈 part dropped: this app has none); off: 移出.
     * The switch goes back where the store says when the user cancels or the server refuses.
     */
    async onBlock(event) {
      const peer = this.data.peer;
      const on = event.detail.value;
      const restore = () => this.setData({ blocked: !!peer && this.chat.stores.blocks.has(peer.id) });
      if (!peer) return restore();
      if (on) {
        const answer = await wx.showModal({ content: '加入黑名单后，你将不再收到对方的消息', confirmText: '确定' });
        if (!answer.confirm) return restore();
      }
      try {
        if (on) await this.chat.block(peer);
        else await this.chat.unblock(peer.id);
      } catch {
        void wx.showToast({ title: '操作失败，请稍后重试', icon: 'none' });
      }
      restore();
    },
    /** 投诉: the report form for the whole conversation. */
    report() {
      void wx.navigateTo({ url: `/pages/report/report?conv=${this.properties.conv}` });
    },
    async clearHistory() {
      if (this.data.clearing) return;
      const nickname = this.data.peer?.nickname ?? '';
      try {
        await wx.showActionSheet({
          alertText: nickname ? `确定删除和${nickname}的聊天记录吗？` : '确定删除聊天记录吗？',
          itemList: ['清空聊天记录'],
          itemColor: '#fa5151',
        });
      } catch {
        return; // Cancelled.
      }
      const conv = this.properties.conv;
      this.setData({ clearing: true });
      void wx.showLoading({ title: '正在清空', mask: true });
      try {
        await this.fetchAll();
        const keys = this.chat.stores.messages
          .view(conv)
          .items.filter((item) => item.seq > 0 && !item.deleted)
          .map((item) => item.key);
        this.chat.deleteMessages(conv, keys);
      } finally {
        void wx.hideLoading();
        this.setData({ clearing: false });
      }
      void wx.showToast({ title: '已清空', icon: 'success' });
    },
    /**
     * Brings the conversation's older pages to the phone, so that every stored message is held
     * and deleted (else scrolling up would bring them back). Stops when no page comes (no network).
     */
    async fetchAll() {
      const conv = this.properties.conv;
      const { messages } = this.chat.stores;
      const oldest = () => messages.view(conv).items.find((item) => item.seq > 0)?.seq ?? 0;
      for (let page = 0; page < MAX_PAGES; page++) {
        const view = messages.view(conv);
        if (view.loaded && !view.hasMore) return;
        const before = oldest();
        const wasLoaded = view.loaded;
        await this.chat.loadOlder(conv);
        if (wasLoaded && oldest() === before) return;
        if (!wasLoaded && !messages.view(conv).loaded) return;
      }
    },
  },
});
