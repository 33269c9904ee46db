import { observable, runInAction, type IObservableValue } from 'mobx-miniprogram';
import type { ChatClient } from '../../core/client';
import { forwardItems, forwardPreview, type ForwardItem } from '../../core/forward';
import type { SessionItem } from '../../stores/sessions';
import { bindData, type Unbind } from '../../utils/bind';

/** At most this many conversations at once, as WeChat allows. */
export const FORWARD_MAX_TARGETS = 9;

/** One conversation of the picker: what its row draws. */
export interface ForwardRow {
  conv: string;
  title: string;
  avatar: string;
  /** A group without its own avatar: its members' faces ('' for one without). */
  faces: string[];
  isGroup: boolean;
}

export interface ForwardData {
  /** The user's conversations in the list's order (pinned first, newest next), the search applied. */
  rows: ForwardRow[];
  query: string;
  /** 多选: rows have check circles and 完成(N) sends to all those ticked. */
  multi: boolean;
  /** The conversations ticked, in the order ticked (the faces in the bottom bar). */
  picked: ForwardRow[];
  /** Ticked, by conversation: the rows' check circles. */
  checked: Record<string, boolean>;
}

interface Instance {
  /** The app's chat client, looked up once when the page attaches. */
  chat: ChatClient;
  /** The search as typed, observable so the rows follow it. */
  search: IObservableValue<string>;
  /** The conversation the messages come from, and their keys, from the page's query. */
  source: { conv: string; keys: string[] };
  /** A confirmation is open: another tap must not open a second one (and send twice). */
  asking: boolean;
  unbind?: Unbind;
}

/** The rows drawn from each session item, kept while the item is the same object (path setData). */
const rowCache = new WeakMap<SessionItem, ForwardRow>();

function rowOf(item: SessionItem): ForwardRow {
  let row = rowCache.get(item);
  if (!row) {
    row = { conv: item.conv, title: item.title, avatar: item.avatar, faces: item.faces, isGroup: item.isGroup };
    rowCache.set(item, row);
  }
  return row;
}

/** The message keys from the query: JSON, URL-encoded by the opener (decoded already, or not). */
export function parseKeys(raw: string): string[] {
  for (const text of [raw, safeDecode(raw)]) {
    try {
      const keys: unknown = JSON.parse(text);
      if (Array.isArray(keys)) return keys.filter((key): key is string => typeof key === 'string');
    } catch {
      // Not JSON as it is: try it decoded.
    }
  }
  return [];
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

// 转发: opened from the message page with the messages picked (`conv`, `keys`). The user's chats,
// recent first and searchable; a tap sends to one after a confirmation, 多选 to up to nine. Texts and
// images go as new messages from the user (images by their url); what cannot be forwarded is left out.
Component<
  ForwardData,
  { conv: StringConstructor; keys: StringConstructor },
  {
    onSearch(event: WechatMiniprogram.Input): void;
    toggleMulti(): void;
    tapRow(event: WechatMiniprogram.BaseEvent): void;
    unpick(event: WechatMiniprogram.BaseEvent): void;
    done(): void;
    items(): ForwardItem[];
    send(targets: ForwardRow[]): Promise<void>;
    nothingToForward(): void;
    onReachBottom(): void;
  },
  [],
  Instance,
  true
>({
  properties: { conv: String, keys: String },
  data: { rows: [], query: '', multi: false, picked: [], checked: {} },
  lifetimes: {
    attached() {
      this.chat = getApp<IAppOption>().client;
      this.search = observable.box('');
      this.asking = false;
      this.source = { conv: this.properties.conv, keys: parseKeys(this.properties.keys) };
      if (this.items().length === 0) {
        this.nothingToForward();
        return;
      }
      const { sessions } = this.chat.stores;
      this.unbind = bindData(this, {
        rows: () => {
          const query = this.search.get().toLowerCase();
          // Groups the user is no longer in take no messages.
          return sessions.list
            .filter((item) => !item.left && (!query || item.title.toLowerCase().includes(query)))
            .map(rowOf);
        },
      });
    },
    detached() {
      this.unbind?.();
    },
  },
  methods: {
    onSearch(event) {
      const query = event.detail.value.trim();
      this.setData({ query });
      runInAction(() => this.search.set(query));
    },
    toggleMulti() {
      // Leaving 多选 drops the ticks, as WeChat does.
      this.setData({ multi: !this.data.multi, picked: [], checked: {} });
    },
    tapRow(event) {
      const row = this.data.rows[Number(event.currentTarget.dataset.index)];
      if (!row) return;
      if (!this.data.multi) {
        void this.send([row]);
        return;
      }
      const { picked, checked } = this.data;
      if (checked[row.conv]) {
        this.setData({
          picked: picked.filter((other) => other.conv !== row.conv),
          checked: { ...checked, [row.conv]: false },
        });
        return;
      }
      if (picked.length >= FORWARD_MAX_TARGETS) {
        void wx.showToast({ title: `最多只能选择${FORWARD_MAX_TARGETS}个聊天`, icon: 'none' });
        return;
      }
      this.setData({ picked: [...picked, row], checked: { ...checked, [row.conv]: true } });
    },
    unpick(event) {
      const conv = String(event.currentTarget.dataset.conv);
      this.setData({
        picked: this.data.picked.filter((row) => row.conv !== conv),
        checked: { ...this.data.checked, [conv]: false },
      });
    },
    done() {
      if (this.data.picked.length > 0) void this.send(this.data.picked);
    },
    /** The picked messages as they are now (one may have been recalled or deleted meanwhile). */
    items() {
      const { conv, keys } = this.source;
      return forwardItems(this.chat.stores.messages.view(conv).items, keys);
    },
    /** Asks as WeChat does (发送给：…), then sends and goes back to the conversation. */
    async send(targets) {
      if (this.asking) return;
      const before = this.items();
      if (before.length === 0) return this.nothingToForward();
      this.asking = true;
      let confirm = false;
      try {
        ({ confirm } = await wx.showModal({
          title: `发送给：${targets.map((row) => row.title).join('、')}`,
          content: forwardPreview(before),
          confirmText: '发送',
          confirmColor: '#07C160',
        }));
      } finally {
        this.asking = false;
      }
      if (!confirm) return;
      const items = this.items();
      if (items.length === 0) return this.nothingToForward();
      this.chat.forward(
        targets.map((row) => row.conv),
        items,
      );
      void wx.showToast({ title: '已发送', icon: 'success' });
      void wx.navigateBack();
    },
    nothingToForward() {
      void wx.showToast({ title: '所选消息不支持转发', icon: 'none' });
      void wx.navigateBack();
    },
    onReachBottom() {
      // The list may hold only the first pages of the user's chats: the next comes from the server.
      this.chat.loadMoreSessions();
    },
  },
});
