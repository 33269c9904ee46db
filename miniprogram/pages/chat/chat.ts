import { observable, runInAction, type IObservableValue } from 'mobx-miniprogram';
import type { ReplyRef } from '../../../contract/frames';
import type { ChatClient } from '../../core/client';
import { isGroupConversationId } from '../../../contract/conversations';
import { LIMITS } from '../../../contract/limits';
import { bindData, type Unbind } from '../../utils/bind';
import { EMOJI } from '../../utils/emoji';
import { KEYBOARD_ICON, VOICE_ICON } from '../../utils/icons';
import {
  insertMention,
  mentionChoices,
  mentionIds,
  typedAt,
  type Mention,
  type MentionChoice,
} from '../../utils/mentions';
import { createTimeline, ownLastSeq, type GroupContext, type TimelineItem } from '../../utils/timeline';
import { excerptOf, menuFor, recallFailure, type MenuEntry } from './menu';
import { HoldToTalk, IDLE_VIEW } from './hold-to-talk';
import { PAGE, firstShownIndex, storedCount, windowStart } from './window';

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
  /** The conversation is a group's (`g:<id>`). */
  isGroup: boolean;
  /** Mentions picked for the draft; sent for those whose `@name` is still in the text. */
  mentions: Mention[];
  /** Where the `@` that opened the picker is in the draft. */
  mentionAt: number;
  /** Polls the receipt line while the page shows (a group's receipts are not pushed). */
  receiptTimer?: ReturnType<typeof setInterval>;
  /** A receipt request is on its way: the next waits for it. */
  receiptBusy: boolean;
  /** The page is on screen (not covered by another page or the app in the background). */
  shown: boolean;
  /** The message the draft replies to (引用), until it is sent or the quote is closed. */
  replyTo?: ReplyRef;
  /** 按住 说话: the gesture and its overlay. */
  holdToTalk: HoldToTalk;
}

export interface ChatData {
  /** The message whose long-press menu is open ('' for none), and what it offers. */
  menuKey: string;
  menuItems: MenuEntry[];
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
  /** A group conversation: senders' names, system tips, @ mentions, receipts. */
  isGroup: boolean;
  /** The title: the peer's nickname, or `群名(成员数)`. */
  title: string;
  /** The user is no longer in the group: `你已不在群聊中` replaces the input bar. */
  left: boolean;
  /** The seq of the user's own last message in a group (0: none): receipts are about it. */
  ownSeq: number;
  /** The draft's quote above the input (`张三：excerpt`), '' when it replies to nothing. */
  quote: string;
  /** The input bar shows 按住 说话 instead of the keyboard input. */
  voiceMode: boolean;
  voiceIcon: string;
  keyboardIcon: string;
  /** The finger is down on 按住 说话: the recording overlay shows. */
  holding: boolean;
  /** Slid up far enough: releasing cancels. */
  cancelZone: boolean;
  /** The time recorded so far, `0:07`. */
  recordLabel: string;
  /** Seconds left before the limit, from the 50th second on (0 before). */
  countdown: number;
  /** A recording runs (the store's): it may end by itself at the limit. */
  recordingActive: boolean;
  /** 多选: messages are ticked for 逐条转发 or 删除, and the input bar gives way to their actions. */
  selecting: boolean;
  /** The ticked messages' keys. */
  selected: Record<string, boolean>;
  selectedCount: number;
  /** The @ picker is open. */
  showPicker: boolean;
  pickerQuery: string;
  /** Whom the picker lists (filtered by `pickerQuery`), `所有人` first for the owner and admins. */
  pickerMembers: MentionChoice[];
  /** 对方离线时，开启新消息提醒: a dm whose peer is offline, after the user sent here (reminders on, none left). */
  reminderBar: boolean;
}

/** How often the receipt line is asked again while the page shows. */
export const RECEIPT_POLL_MS = 10_000;

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
    openMenu(event: WechatMiniprogram.BaseEvent): void;
    closeMenu(): void;
    menuAction(event: WechatMiniprogram.BaseEvent): Promise<void>;
    recall(item: TimelineItem): Promise<void>;
    confirmDelete(keys: string[], question: string): Promise<void>;
    forward(keys: string[]): void;
    closeQuote(): void;
    openQuote(event: WechatMiniprogram.BaseEvent): Promise<void>;
    showMessage(seq: number): void;
    reedit(event: WechatMiniprogram.BaseEvent): void;
    toggleSelected(event: WechatMiniprogram.BaseEvent): void;
    cancelSelecting(): void;
    forwardSelected(): void;
    deleteSelected(): Promise<void>;
    toggleVoice(): void;
    holdStart(event: WechatMiniprogram.TouchEvent): void;
    holdMove(event: WechatMiniprogram.TouchEvent): void;
    holdEnd(): void;
    playVoice(event: WechatMiniprogram.BaseEvent): void;
    showTitle(): void;
    openSettings(): void;
    openReceipts(): void;
    refreshReceipt(): void;
    startReceiptPolling(): void;
    stopReceiptPolling(): void;
    openPicker(query?: string): void;
    closePicker(): void;
    onPickerSearch(event: WechatMiniprogram.Input): void;
    pickMention(event: WechatMiniprogram.BaseEvent): void;
    askReminders(): void;
    closeReminderBar(): void;
  },
  [],
  Instance,
  true
>({
  properties: { conv: String },
  data: {
    menuKey: '',
    menuItems: [],
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
    isGroup: false,
    title: '',
    left: false,
    ownSeq: 0,
    quote: '',
    voiceMode: false,
    voiceIcon: VOICE_ICON,
    keyboardIcon: KEYBOARD_ICON,
    ...IDLE_VIEW,
    recordingActive: false,
    selecting: false,
    selected: {},
    selectedCount: 0,
    showPicker: false,
    pickerQuery: '',
    pickerMembers: [],
    reminderBar: false,
  },
  observers: {
    // Whatever changes the input (typing, a mention, an emoji, a send) is kept as the draft.
    draft(draft: string) {
      if (this.chat) this.chat.saveDraft(this.data.conv, draft);
    },
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
    'typing, title'() {
      this.showTitle();
    },
    ownSeq() {
      // The user's last message changed (sent, acked): ask who has read it.
      this.refreshReceipt();
    },
    recordingActive(active: boolean) {
      // Ended by itself (the 60 s limit, a call, a failure) with the finger still down.
      if (!active) this.holdToTalk.ended();
    },
  },
  lifetimes: {
    attached() {
      const conv = this.data.conv;
      this.chat = getApp<IAppOption>().client;
      this.atBottom = true;
      this.shownLength = 0;
      this.isGroup = isGroupConversationId(conv);
      this.mentions = [];
      this.mentionAt = -1;
      this.receiptBusy = false;
      this.shown = true;
      const { messages, sessions, connection, me, people, groups, voice, reminders } = this.chat.stores;
      this.holdToTalk = new HoldToTalk(this.chat.voice, conv, (patch) => this.setData(patch));
      const session = sessions.find(conv);
      this.peerName = session ? session.title : '';
      this.setData({
        // What was typed here and not sent, kept on the phone (also across a kill).
        draft: sessions.draftOf(conv),
        isGroup: this.isGroup,
        meInitial: (me.user?.nickname ?? '我').slice(0, 1),
        meAvatar: me.user?.avatar ?? '',
        peerInitial: this.peerName.slice(0, 1),
        peerAvatar: session ? session.avatar : '',
      });
      const items = () => messages.view(conv).items;
      const timeline = createTimeline();
      // A sender's name and face: the group's member list (fetched below), else a profile the app knows.
      const senderOf: GroupContext['senderOf'] = (userId) =>
        groups.details(conv)?.members.find((member) => member.id === userId) ?? people.profile(userId);
      const roleOf: GroupContext['roleOf'] = (userId) =>
        groups.details(conv)?.members.find((member) => member.id === userId)?.role;
      const group = (): GroupContext | undefined =>
        this.isGroup ? { meId: me.id, senderOf, receipt: groups.receipt(conv), roleOf } : undefined;
      // The user, a profile the app knows, or (in a dm) the peer as the session list names them.
      const nameOf = (userId: string): string => {
        if (userId === me.id) return me.user?.nickname ?? '';
        const peer = sessions.find(conv)?.peer;
        return people.profile(userId)?.nickname || (peer && peer.id === userId ? peer.nickname : '');
      };
      this.shownFrom = observable.box(windowStart(items(), storedCount(items()), PAGE));
      this.unbind = bindData(this, {
        messages: () =>
          timeline(items().slice(firstShownIndex(items(), this.shownFrom.get())), {
            peerReadSeq: sessions.find(conv)?.peerReadSeq ?? 0,
            group: group(),
            meId: me.id,
            nameOf,
            canReedit: (seq) => messages.recalledText(conv, seq) !== '',
            voice: { isPlayed: (key) => voice.isPlayed(key), playingKey: voice.playingKey },
          }),
        recordingActive: () => voice.recording,
        hasMore: () => messages.view(conv).hasMore || firstShownIndex(items(), this.shownFrom.get()) > 0,
        banner: () => connection.banner,
        typing: () => !this.isGroup && people.isTyping(conv),
        title: () => {
          const entry = sessions.find(conv);
          if (!this.isGroup) return entry ? entry.title : this.peerName;
          const details = groups.details(conv);
          const name = details?.group.name ?? entry?.title ?? '';
          const count = details?.group.memberCount ?? entry?.group?.memberCount ?? 0;
          // WeChat counts the members in a group's title; not once the user is out of it.
          return !name || entry?.left || details?.myRole === null || count <= 0 ? name : `${name}(${count})`;
        },
        left: () => this.isGroup && (sessions.find(conv)?.left === true || groups.details(conv)?.myRole === null),
        ownSeq: () => (this.isGroup ? ownLastSeq(items()) : 0),
        reminderBar: () => {
          const peerId = this.isGroup ? '' : (sessions.find(conv)?.peer?.id ?? '');
          return peerId !== '' && !people.isOnline(peerId) && reminders.offersBar(conv);
        },
      });
      this.chat.openConversation(conv);
      if (this.isGroup) {
        // Members' names and faces, the title's count, the user's role (for @所有人).
        this.chat.groups.load(conv).catch(() => undefined);
        this.startReceiptPolling();
      }
    },
    detached() {
      this.stopReceiptPolling();
      // Leaving the page: no voice plays on, no recording runs on.
      this.chat.voice.stopPlaying();
      if (this.holdToTalk.holding) this.chat.voice.cancel();
      this.holdToTalk.close();
      this.unbind?.();
      this.chat.closeConversation(this.data.conv);
    },
  },
  pageLifetimes: {
    show() {
      if (!this.chat) return;
      this.shown = true;
      this.refreshReceipt();
      this.startReceiptPolling();
    },
    hide() {
      this.shown = false;
      this.stopReceiptPolling();
      this.chat.voice.stopPlaying();
    },
  },
  methods: {
    showTitle() {
      const title = this.data.typing ? '对方正在输入…' : this.data.title || this.peerName;
      if (title) void wx.setNavigationBarTitle({ title });
    },
    onInput(event) {
      const before = this.data.draft;
      const value = event.detail.value;
      this.setData({ draft: value });
      if (!value) this.mentions = [];
      if (!this.isGroup) {
        if (value) this.chat.typing(this.data.conv);
        return;
      }
      // One `@` typed (not pasted, not deleted): pick whom it mentions, as WeChat does.
      const cursor = typeof event.detail.cursor === 'number' ? event.detail.cursor : value.length;
      const at = typedAt(before, value, cursor);
      if (!this.data.left && at >= 0) {
        this.mentionAt = at;
        this.openPicker();
      }
    },
    openPicker(query = '') {
      const { me, groups } = this.chat.stores;
      const details = groups.details(this.data.conv);
      const members = mentionChoices(details?.members ?? [], me.id, details?.myRole ?? null, query);
      this.setData({ showPicker: true, pickerQuery: query, pickerMembers: members, showEmoji: false });
    },
    closePicker() {
      this.setData({ showPicker: false, pickerQuery: '' });
    },
    onPickerSearch(event) {
      this.openPicker(event.detail.value.trim());
    },
    pickMention(event) {
      const id = String(event.currentTarget.dataset.id);
      const name = String(event.currentTarget.dataset.name);
      this.mentions.push({ id, name });
      const draft = insertMention(this.data.draft, this.mentionAt, name);
      this.setData({ draft, showPicker: false, pickerQuery: '' });
    },
    openSettings() {
      // 聊天信息: a group's, or the one of a one-to-one conversation.
      const page = this.isGroup ? 'group-settings' : 'chat-settings';
      void wx.navigateTo({ url: `/pages/${page}/${page}?conv=${this.data.conv}` });
    },
    openReceipts() {
      const receipt = this.chat.stores.groups.receipt(this.data.conv);
      const seq = receipt ? receipt.seq : this.data.ownSeq;
      if (seq > 0) void wx.navigateTo({ url: `/pages/receipts/receipts?conv=${this.data.conv}&seq=${seq}` });
    },
    refreshReceipt() {
      const conv = this.data.conv;
      const seq = this.data.ownSeq;
      if (!this.isGroup || !this.shown || this.receiptBusy || seq <= 0 || this.data.left) return;
      // Everyone has read it: that will not change until the user sends again.
      const held = this.chat.stores.groups.receipt(conv);
      if (held && held.seq === seq && held.unread === 0) return;
      this.receiptBusy = true;
      this.chat.groups
        .receipts(conv, seq)
        // Not the user's action: the line keeps what it had, the next poll tries again.
        .catch(() => undefined)
        .finally(() => {
          this.receiptBusy = false;
          // The user sent again meanwhile: ask about the newer message.
          if (this.data.ownSeq !== seq) this.refreshReceipt();
        });
    },
    startReceiptPolling() {
      if (!this.isGroup || this.receiptTimer !== undefined) return;
      this.receiptTimer = setInterval(() => this.refreshReceipt(), RECEIPT_POLL_MS);
    },
    stopReceiptPolling() {
      if (this.receiptTimer === undefined) return;
      clearInterval(this.receiptTimer);
      this.receiptTimer = undefined;
    },
    send() {
      const text = this.data.draft.trim();
      if (!text) return;
      // The server counts UTF-16 units (an emoji is two); the draft stays so nothing typed is lost.
      if (text.length > LIMITS.maxTextLength) {
        void wx.showToast({ title: `消息过长，最多${LIMITS.maxTextLength}字`, icon: 'none' });
        return;
      }
      const draft = this.data.draft;
      const mentions = mentionIds(draft, this.mentions);
      const reply = this.replyTo;
      this.mentions = [];
      this.replyTo = undefined;
      this.chat.sendText(this.data.conv, draft, { mentions, reply });
      // In the tap's own call stack: the bar may show, and kept-accept reminders are topped up.
      this.chat.reminders.afterSend(this.data.conv);
      this.setData({ draft: '', quote: '' });
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
      if (this.data.selecting) return;
      const current = String(event.currentTarget.dataset.url);
      const urls = this.data.messages.filter((item) => item.kind === 'image').map((item) => item.body);
      void wx.previewImage({ current, urls });
    },
    openMenu(event) {
      if (this.data.selecting) return;
      const key = String(event.currentTarget.dataset.key);
      const item = this.data.messages.find((message) => message.key === key);
      const role = this.isGroup ? this.chat.stores.groups.details(this.data.conv)?.myRole : null;
      const manager = !this.data.left && (role === 'owner' || role === 'admin');
      const entries = item ? menuFor(item, { now: Date.now(), manager }) : [];
      if (entries.length > 0) this.setData({ menuKey: key, menuItems: entries });
    },
    closeMenu() {
      if (this.data.menuKey) this.setData({ menuKey: '', menuItems: [] });
    },
    async menuAction(event) {
      const action = String(event.currentTarget.dataset.action) as MenuEntry['action'];
      const item = this.data.messages.find((message) => message.key === this.data.menuKey);
      this.closeMenu();
      if (!item) return;
      switch (action) {
        case 'copy':
          // WeChat's own toast (内容已复制) follows.
          void wx.setClipboardData({ data: item.body });
          return;
        case 'forward':
          return this.forward([item.key]);
        case 'reply': {
          const reply: ReplyRef = { seq: item.seq, from: item.from, kind: item.kind, excerpt: excerptOf(item) };
          this.replyTo = reply;
          const name = item.mine ? (this.chat.stores.me.user?.nickname ?? '') : item.senderName || this.peerName;
          this.setData({ quote: name ? `${name}：${reply.excerpt}` : reply.excerpt, showEmoji: false });
          return;
        }
        case 'recall':
          return this.recall(item);
        case 'delete':
          return this.confirmDelete([item.key], '确定删除该条消息？');
        case 'select':
          this.setData({ selecting: true, selected: { [item.key]: true }, selectedCount: 1, showEmoji: false });
          return;
        case 'report':
          void wx.navigateTo({ url: `/pages/report/report?conv=${this.data.conv}&seq=${item.seq}` });
          return;
      }
    },
    async recall(item) {
      try {
        await this.chat.recall(this.data.conv, item.seq);
      } catch (error) {
        void wx.showModal({
          content: recallFailure(error, item, Date.now()),
          showCancel: false,
          confirmText: '我知道了',
        });
      }
    },
    async confirmDelete(keys, question) {
      try {
        // As WeChat asks: a red 删除 under the question, or nothing.
        await wx.showActionSheet({ alertText: question, itemList: ['删除'], itemColor: '#fa5151' });
      } catch {
        return;
      }
      this.chat.deleteMessages(this.data.conv, keys);
      if (this.data.selecting) this.cancelSelecting();
    },
    forward(keys) {
      // Conversation ids are URL-safe; the keys are JSON, encoded (the picker decodes them).
      const query = `conv=${this.data.conv}&keys=${encodeURIComponent(JSON.stringify(keys))}`;
      void wx.navigateTo({ url: `/pages/forward/forward?${query}` });
    },
    closeQuote() {
      this.replyTo = undefined;
      this.setData({ quote: '' });
    },
    async openQuote(event) {
      if (this.data.selecting) return;
      const seq = Number(event.currentTarget.dataset.seq);
      const conv = this.data.conv;
      const held = () => this.chat.stores.messages.view(conv).items.find((item) => item.seq === seq);
      // Older than what is held: fetch pages back to it (a bounded number: a quote is recent).
      for (let page = 0; page < 10 && !held() && this.chat.stores.messages.view(conv).hasMore; page++) {
        await this.chat.loadOlder(conv);
      }
      const original = held();
      if (!original || original.deleted) {
        void wx.showToast({ title: '无法定位到该消息', icon: 'none' });
        return;
      }
      if (original.kind === 'recalled') {
        void wx.showToast({ title: '引用内容已撤回', icon: 'none' });
        return;
      }
      this.showMessage(seq);
    },
    showMessage(seq) {
      if (this.shownFrom.get() > seq) runInAction(() => this.shownFrom.set(seq));
      // The store's change reaches this.data on the next tick; then the message has its index.
      wx.nextTick(() => {
        const index = this.data.messages.findIndex((item) => item.seq === seq);
        if (index < 0) return;
        this.atBottom = false;
        this.setData({ anchor: `m${index}` });
      });
    },
    reedit(event) {
      const text = this.chat.stores.messages.recalledText(this.data.conv, Number(event.currentTarget.dataset.seq));
      if (text) this.setData({ draft: this.data.draft ? `${this.data.draft}${text}` : text, showEmoji: false });
    },
    toggleSelected(event) {
      if (!this.data.selecting) return;
      const key = String(event.currentTarget.dataset.key);
      const item = this.data.messages.find((message) => message.key === key);
      if (!item || item.seq <= 0 || item.kind === 'system' || item.kind === 'recalled') return;
      const selected = { ...this.data.selected };
      if (selected[key]) delete selected[key];
      else selected[key] = true;
      this.setData({ selected, selectedCount: Object.keys(selected).length });
    },
    cancelSelecting() {
      this.setData({ selecting: false, selected: {}, selectedCount: 0 });
    },
    forwardSelected() {
      // In the conversation's order, whatever order they were ticked in (逐条转发).
      const keys = this.data.messages.filter((item) => this.data.selected[item.key]).map((item) => item.key);
      if (keys.length === 0) return;
      this.forward(keys);
      this.cancelSelecting();
    },
    async deleteSelected() {
      const keys = Object.keys(this.data.selected);
      if (keys.length > 0) await this.confirmDelete(keys, `确定删除这${keys.length}条消息？`);
    },
    toggleVoice() {
      this.setData({ voiceMode: !this.data.voiceMode, showEmoji: false });
    },
    holdStart(event) {
      void this.holdToTalk.press(event.touches[0]?.clientY ?? 0);
    },
    holdMove(event) {
      const touch = event.touches[0];
      if (touch) this.holdToTalk.move(touch.clientY);
    },
    holdEnd() {
      void this.holdToTalk.release();
    },
    askReminders() {
      // WeChat's panel only from a tap: asked first thing, nothing awaited before.
      this.chat.reminders.ask();
    },
    closeReminderBar() {
      this.chat.reminders.dismiss(this.data.conv);
    },
    playVoice(event) {
      if (this.data.selecting) return;
      this.chat.voice.toggle(this.data.conv, String(event.currentTarget.dataset.key));
    },
  },
});
