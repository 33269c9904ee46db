import type { PublicUser } from '../../../contract/frames';
import type { ChatClient } from '../../core/client';
import { bindData, type Unbind } from '../../utils/bind';

export interface BlacklistData {
  /** The people the user blocked, newest first. */
  people: PublicUser[];
  loaded: boolean;
  /** The first fetch failed: a line to tap to try again. */
  error: string;
  /** The one being unblocked ('' for none). */
  busy: string;
}

interface Instance {
  chat: ChatClient;
  unbind?: Unbind;
}

// 黑名单 (from 我): the people the user blocked, each with 移出黑名单. The list is fetched on opening.
Component<
  BlacklistData,
  WechatMiniprogram.Component.PropertyOption,
  {
    load(): Promise<void>;
    unblock(event: WechatMiniprogram.BaseEvent): Promise<void>;
  },
  [],
  Instance,
  true
>({
  data: {
    people: [],
    loaded: false,
    error: '',
    busy: '',
  },
  lifetimes: {
    attached() {
      this.chat = getApp<IAppOption>().client;
      const { blocks } = this.chat.stores;
      this.unbind = bindData(this, {
        people: () => blocks.list.map(({ id, nickname, avatar }) => ({ id, nickname, avatar })),
        loaded: () => blocks.loaded,
      });
      void this.load();
    },
    detached() {
      this.unbind?.();
    },
  },
  methods: {
    async load() {
      this.setData({ error: '' });
      try {
        await this.chat.loadBlocks();
      } catch {
        // A list fetched before stays as it was; with none, a line to try again.
        if (!this.chat.stores.blocks.loaded) this.setData({ error: '加载失败，点击重试' });
      }
    },
    async unblock(event) {
      const id = String(event.currentTarget.dataset.id);
      if (this.data.busy) return;
      this.setData({ busy: id });
      try {
        await this.chat.unblock(id);
        void wx.showToast({ title: '已移出黑名单', icon: 'none' });
      } catch {
        void wx.showToast({ title: '操作失败，请稍后重试', icon: 'none' });
      } finally {
        this.setData({ busy: '' });
      }
    },
  },
});
