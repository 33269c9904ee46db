import { directConversationId } from '../../contract/conversations';
import type {
  ChatMessage,
  ClientFrame,
  DirectoryEntry,
  PublicUser,
  ServerFrame,
  ServerFrameOf,
} from '../../contract/frames';
import type { ProfileUpdate } from '../../contract/http';
import { createStores, type StoreViews, type Stores } from '../stores/index';
import { Api, ApiError } from './api';
import { ConversationSettings } from './conversation-settings';
import { GroupActions } from './groups';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff';
import type { ForwardItem } from './forward';
import { HistoryRequests } from './history';
import * as incoming from './incoming';
import { Lifecycle } from './lifecycle';
import { LocalState } from './local-state';
import { Outbox } from './outbox';
import type { Platform } from './platform';
import { RecallRequests } from './recalls';
import { Reminders } from './reminders';
import { SendQueue, type TextExtras } from './send-queue';
import { Session } from './session';
import { ChatSocket, type SocketState } from './socket';
import { Resync, syncFrame } from './sync';
import { TYPING_SHOW_MS, Typing } from './typing';
import { VoiceMessages } from './voice';

export interface ChatClientOptions {
  platform: Platform;
  /** The server's HTTP base, e.g. http://192.168.1.5:3000; the socket is its /ws. */
  serverUrl: string;
  heartbeatMs?: number;
  heartbeatTimeoutMs?: number;
  /** Reconnect (and login retry) delays; docs/protocol.md's 0.5 s doubling to 30 s by default. */
  backoff?: BackoffOptions;
  /** Failed connection attempts in a row before the banner offers a manual retry. */
  maxAttempts?: number;
  /** Times a message is handed to a socket before it shows as failed. */
  maxSendTries?: number;
  /** A send not acked within this long on an open connection goes again (same cid). */
  ackTimeoutMs?: number;
  /** The first wait before an image upload refused for the moment (429) goes again; default 15 s. */
  uploadRetryMs?: number;
  /** How long a recall may wait for a connection and the server's answer; default 15 s. */
  recallTimeoutMs?: number;
  random?: () => number;
  /** The quiet top-up of reminder credits asks WeChat at most this often; default 60 s. */
  reminderTopUpMs?: number;
  /** The clock the reminders' top-up interval is measured with (tests move it on); Date.now by default. */
  reminderClock?: () => number;
  /** The stores to keep the state in (tests pass their own to set up a screen); new ones by default. */
  stores?: Stores;
}

/** A send not acked within this long on an open connection is sent again (same cid). */
const ACK_TIMEOUT_MS = 10_000;

/** How long after recalling a text the user may put it back in the input (重新编辑). */
export const REEDIT_MS = 5 * 60_000;

/**
 * The app's one chat service, created by app.ts and shared by every page: the API pages call.
 * It is a facade over parts with one job each — the session (login and token), the socket
 * (connection, heartbeat, backoff), the lifecycle (the one state), the send queue (outbox, acks,
 * pacing, uploads), the frame handlers of incoming.ts, history requests, typing and what is kept
 * on the phone — and the only writer of the stores, which pages read through `stores`.
 */
export class ChatClient {
  private readonly state: Stores;
  private readonly platform: Platform;
  private readonly api: Api;
  private readonly session: Session;
  private readonly socket: ChatSocket;
  private readonly lifecycle: Lifecycle;
  private readonly sends: SendQueue;
  private readonly local: LocalState;
  private readonly history: HistoryRequests;
  private readonly typingHints: Typing;
  private readonly resync: Resync;
  /** Groups: create, details, members, roles, receipts (pages call these directly). */
  readonly groups: GroupActions;
  private readonly settings: ConversationSettings;
  private readonly recalls: RecallRequests;
  /** Voice messages: hold to record, release to send, playback (pages call these directly). */
  readonly voice: VoiceMessages;
  /**
   * New-message reminders (WeChat subscription messages): pages call `ask` / `afterSend` straight
   * from a tap handler (WeChat shows its prompt only from a tap) and `dismiss` for the bar's ✕.
   */
  readonly reminders: Reminders;
  /** The conversation the message page shows, '' when none. */
  private activeConv = '';
  /** The cursors of each `sync` sent on this connection and not yet answered by `synced`, in order. */
  private readonly syncsSent: Array<Readonly<Record<string, number>>> = [];

  constructor(options: ChatClientOptions) {
    const random = options.random ?? Math.random;
    const backoff = options.backoff ?? DEFAULT_BACKOFF;
    const base = options.serverUrl.replace(/\/$/, '');
    this.platform = options.platform;
    this.state = options.stores ?? createStores();
    this.api = new Api(this.platform, base, () => this.session.token);
    this.groups = new GroupActions(this.api, this.state);
    this.settings = new ConversationSettings(this.api, this.state, () => {
      this.local.savePrefs();
      this.local.saveSoon();
    });
    this.session = new Session(this.platform, this.api, random, (user) => this.showUser(user));
    this.lifecycle = new Lifecycle(this.state.connection);
    this.local = new LocalState(this.platform, this.state);
    this.history = new HistoryRequests((frame) => this.transmit(frame), random);
    this.recalls = new RecallRequests(
      (frame) => this.transmit(frame),
      random,
      options.recallTimeoutMs,
      // Answered after it was given up on: it happened, so it shows here as everywhere else (no
      // 重新编辑 offer: the user was told it failed).
      (ack, seq) => this.showRecall(ack, seq),
    );
    this.typingHints = new Typing(this.state.people, (frame) => this.transmit(frame));
    this.resync = new Resync(
      () => this.lifecycle.ready && this.sendSync(),
      // A refused sync goes again on the same connection, whether or not it has synced yet.
      () => (this.lifecycle.state === 'syncing' || this.lifecycle.ready) && this.sendSync(),
      random,
    );
    this.sends = new SendQueue({
      outbox: new Outbox(this.platform),
      api: this.api,
      messages: this.state.messages,
      errors: this.state.errors,
      ready: () => this.lifecycle.ready,
      transmit: (frame) => this.transmit(frame),
      me: () => this.state.me.id,
      random,
      maxSendTries: options.maxSendTries ?? 5,
      ackTimeoutMs: options.ackTimeoutMs ?? ACK_TIMEOUT_MS,
      uploadRetryMs: options.uploadRetryMs,
      discardFile: (filePath) => this.platform.getFileSystemManager().unlink({ filePath, fail: () => undefined }),
    });
    this.reminders = new Reminders(this.platform, this.api, this.state.reminders, {
      topUpIntervalMs: options.reminderTopUpMs,
      now: options.reminderClock,
    });
    this.voice = new VoiceMessages(this.platform, this.state, this.sends, () => this.local.saveVoicePlayed());
    const wsUrl = base.replace(/^http/, 'ws') + '/ws';
    this.socket = new ChatSocket({
      platform: this.platform,
      endpoint: async () => ({
        url: wsUrl,
        header: { authorization: `Bearer ${await this.session.connectToken()}` },
      }),
      isBanned: (error) => error instanceof ApiError && error.status === 403 && error.code === 'banned',
      heartbeatMs: options.heartbeatMs,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs,
      maxAttempts: options.maxAttempts,
      backoff,
      random,
      events: {
        state: (state) => this.socketChanged(state),
        open: () => this.opened(),
        text: (text) => this.received(text),
        authExpired: () => this.session.expire(),
        refused: () => void this.checkToken(),
        lost: (_code, reason) => this.lifecycle.failedBecause(reason),
      },
    });
    this.restore();
  }

  /** What pages read: every store, none of their writers. */
  get stores(): StoreViews {
    return this.state;
  }

  /** Logs in if needed, then connects. Safe to call more than once. */
  start(): void {
    this.socket.start();
  }

  /** Stops the socket and timers; the stores and storage stay as they are. */
  stop(): void {
    this.sends.stop();
    this.recalls.stop();
    this.voice.stopPlaying();
    this.typingHints.stop();
    this.resync.stop();
    this.local.saveNow();
    this.socket.stop();
  }

  /** App.onShow: a socket that died in the background comes back at once. */
  onShow(): void {
    this.socket.reconnectNow();
  }

  /** The banner's retry button after the try limit. */
  retry(): void {
    this.socket.reconnectNow();
  }

  /** The user acts: a connection another device of theirs replaced (4004) comes back now. */
  private resume(): void {
    if (this.lifecycle.state === 'paused') this.socket.reconnectNow();
  }

  /** The one-to-one conversation with a user, listed at once even before its first message. */
  conversationWith({ id, nickname, avatar }: PublicUser): string {
    const peer = { id, nickname, avatar };
    this.state.people.remember([peer]);
    const conv = directConversationId(this.state.me.id, id);
    this.state.sessions.ensure(conv, peer);
    return conv;
  }

  /** The message page opened a conversation: fetch its newest page once, mark it read. */
  openConversation(conv: string): void {
    this.resume();
    this.activeConv = conv;
    if (!this.state.messages.view(conv).loaded) void this.history.request(conv);
    this.markRead(conv);
  }

  closeConversation(conv: string): void {
    if (this.activeConv === conv) this.activeConv = '';
  }

  /** Fetches the page before the oldest message held; resolves when it has arrived. */
  loadOlder(conv: string): Promise<void> {
    this.resume();
    const first = this.state.messages.view(conv).items.find((item) => item.seq > 0);
    return this.history.request(conv, first ? first.seq : undefined);
  }

  /** Marks everything held in a conversation read, here at once and on the server. */
  markRead(conv: string): void {
    const session = this.state.sessions.find(conv);
    const seq = Math.max(session ? session.lastSeq : 0, this.state.messages.cursor(conv));
    if (seq <= 0) return;
    this.state.sessions.markRead(conv, seq);
    this.transmit({ type: 'read', conv, seq });
    this.local.saveSoon();
  }

  /**
   * Shows the message at once and sends it as soon as a connection has synced, with its mentions
   * (a group) and the message it replies to (引用); its cid, or null.
   */
  sendText(conv: string, body: string, extras?: TextExtras): string | null {
    this.resume();
    return this.sends.sendText(conv, body, extras);
  }

  /**
   * Recalls message `seq` (撤回): resolves once the server has stored the recall, which then shows
   * here at once (and on every other device through the server). Rejects with a `RecallError`:
   * the server's `forbidden` / `not_found`, or `offline` when no connection answered in time.
   * A text of one's own can be put back in the input for a few minutes (`recalledText`).
   */
  async recall(conv: string, seq: number): Promise<void> {
    this.resume();
    const original = this.state.messages.view(conv).items.find((item) => item.seq === seq);
    const ack = await this.recalls.recall(conv, seq);
    this.showRecall(ack, seq);
    if (original && original.mine && original.kind === 'text') {
      this.state.messages.keepRecalledText(conv, seq, original.body);
      setTimeout(() => this.state.messages.forgetRecalledText(conv, seq), REEDIT_MS);
    }
  }

  /**
   * A recall the server acked: its `recalled` system message, which the server sends to every
   * connection but this one (the ack is this one's answer), applied here at once.
   */
  private showRecall(ack: ServerFrameOf<'ack'>, seq: number): void {
    const event: ChatMessage = {
      conv: ack.conv,
      seq: ack.seq,
      cid: ack.cid,
      from: this.state.me.id,
      kind: 'system',
      body: JSON.stringify({ event: 'recalled', seq }),
      ts: ack.ts,
    };
    this.follow(incoming.applyMessage(this.state, event, { activeConv: this.activeConv, live: true }));
    this.local.saveSoon();
  }

  /** Sends an image from the phone: shown at once with its upload progress, then sent like a text. */
  sendImage(conv: string, localPath: string): string | null {
    this.resume();
    return this.sends.sendImage(conv, localPath);
  }

  /**
   * 转发: to each target conversation in order (a dm or a group), each message in order, sent anew
   * by the user through the outbox like any send (a new cid, shown at once, kept across a kill); an
   * image reuses its uploaded url. Returns how many messages were queued.
   */
  forward(targets: readonly string[], messages: readonly ForwardItem[]): number {
    this.resume();
    let queued = 0;
    for (const conv of targets) {
      this.listDirect(conv);
      for (const message of messages) if (this.sends.sendUploaded(conv, message.kind, message.body)) queued++;
    }
    return queued;
  }

  /** Sends a failed message again, with its original cid. */
  resend(cid: string): void {
    this.resume();
    this.sends.resend(cid);
  }

  // Safety (PROTOCOL.md, "Safety"): 拉黑 and 举报.

  /** Fetches the 黑名单 (the people the user blocked) into the blocks store. */
  async loadBlocks(): Promise<void> {
    const { blocks, people } = this.state;
    blocks.setLoading(true);
    try {
      const list = await this.api.blocks();
      people.remember(list);
      blocks.set(list);
    } finally {
      blocks.setLoading(false);
    }
  }

  /** 加入黑名单: the server refuses the user's dm sends from now on (`blocked`), and delivers none. */
  async block(user: PublicUser): Promise<void> {
    await this.api.block(user.id);
    this.state.blocks.add(user);
  }

  /** 移出黑名单. */
  async unblock(userId: string): Promise<void> {
    await this.api.unblock(userId);
    this.state.blocks.remove(userId);
  }

  /** 举报 a message (`seq`) or a whole conversation; rejects with the server's refusal (an ApiError). */
  async report(conv: string, reason: string, seq?: number): Promise<void> {
    await this.api.report(seq === undefined ? { conv, reason } : { conv, seq, reason });
  }

  /** Pins a conversation to the top of the list, on every device of the user (置顶), or unpins it. */
  pin(conv: string, pinned: boolean): Promise<void> {
    return this.settings.set(conv, { pinned });
  }

  /** Keeps the text typed in a conversation and not sent (written to storage at once: it survives a kill). */
  saveDraft(conv: string, text: string): void {
    if (this.state.sessions.draftOf(conv) === text) return;
    this.state.sessions.setDraft(conv, text);
    this.local.saveDrafts();
  }

  /** Deletes messages from this device only (WeChat's 删除): gone here and after a restart, kept elsewhere. */
  deleteMessages(conv: string, keys: readonly string[]): void {
    this.state.messages.deleteLocally(conv, keys);
    incoming.showNewestKept(this.state, conv);
    this.local.saveDeleted();
    this.local.saveSoon();
  }

  /** 消息免打扰 on every device of the user: a dot instead of a count, nothing added to the tab badge. */
  mute(conv: string, muted: boolean): Promise<void> {
    return this.settings.set(conv, { muted });
  }

  /** Deletes a conversation from the list until a new message arrives in it. */
  removeConversation(conv: string): void {
    this.state.sessions.hide(conv);
    this.local.savePrefs();
    this.local.saveSoon();
  }

  /**
   * The list was scrolled to its end: asks for the next page of sessions when the server holds
   * more and none is on its way. True when it asked.
   */
  loadMoreSessions(): boolean {
    const sessions = this.state.sessions;
    if (!sessions.more || sessions.loadingMore) return false;
    const after = sessions.nextPageAfter();
    if (!after || !this.transmit({ type: 'sessions', after })) return false;
    sessions.setLoadingMore(true);
    return true;
  }

  /** The session list is shown again: its relative times (刚刚 → HH:mm → 昨天) are read anew. */
  sessionListShown(): void {
    this.state.sessions.retime();
  }

  /**
   * Pull-down refresh: syncs again and resolves when the server has answered, or at once
   * (after asking for a reconnect) when no connection is up.
   */
  refresh(): Promise<void> {
    if (!this.lifecycle.ready) this.retry();
    return this.resync.refresh();
  }

  /** The user is typing in a conversation: tells the peer, at most every few seconds. */
  typing(conv: string): void {
    this.typingHints.userTyping(conv);
  }

  /** Saves the nickname and/or a new avatar (a file on the phone, uploaded first). */
  async updateProfile(update: { nickname?: string; avatarPath?: string }): Promise<PublicUser> {
    const profile: ProfileUpdate = {};
    if (update.nickname !== undefined) profile.nickname = update.nickname.trim();
    if (update.avatarPath) profile.avatar = (await this.api.upload(update.avatarPath)).url;
    const user = await this.api.updateProfile(profile);
    this.session.updateUser(user);
    this.showUser(user);
    return user;
  }

  /**
   * The directory, for starting a conversation: the caller's peers without a query, else a
   * search (at least 2 characters), a page at a time. Who is online goes to the people store.
   */
  async directory(query = '', page: { limit?: number; offset?: number } = {}): Promise<DirectoryEntry[]> {
    const users = await this.api.users(query, page);
    this.state.people.remember(users);
    for (const user of users) this.state.people.setOnline(user.id, user.online);
    return users;
  }

  /**
   * Logs out on this device: closes the connection and forgets the token, the cache, unsent
   * messages and this user's list arrangement. `start()` logs in again.
   */
  logout(): void {
    this.stop();
    this.session.clear();
    this.local.clear();
    this.sends.clear();
    const { me, sessions, messages, people, groups, errors, voice, reminders, blocks } = this.state;
    me.setUser(null);
    sessions.clear();
    sessions.setPrefs({ pins: {}, hidden: {}, mutes: {} });
    sessions.setDrafts({});
    messages.clear();
    messages.setDeleted({});
    people.clear();
    groups.clear();
    errors.clear();
    voice.clear();
    reminders.clear();
    blocks.clear();
  }

  // -------------------------------------------------------------------------------------------

  /** The first screen from storage, before any network: the last user, their list, their unsent messages. */
  private restore(): void {
    const user = this.session.restore();
    if (user) this.showUser(user);
    this.local.restore();
    this.sends.showAll();
  }

  /**
   * A dm the list has not heard of, with someone the app knows, is listed at once (as
   * `conversationWith` does); otherwise the ack's resync lists it.
   */
  private listDirect(conv: string): void {
    if (this.state.sessions.find(conv)) return;
    const peer = incoming.peerOf(this.state, conv);
    if (peer) this.state.sessions.ensure(conv, peer);
  }

  /** The user logged in, or their profile changed. */
  private showUser(user: PublicUser): void {
    this.state.people.remember([user]);
    this.state.me.setUser(user);
  }

  /** A socket that never opened may have been refused for its token: if so, log in again now. */
  private async checkToken(): Promise<void> {
    if (!(await this.session.refusedForToken())) return;
    // A connection that opened meanwhile proved the token good; stopped, there is nothing to redo.
    const state = this.lifecycle.state;
    if (state === 'idle' || state === 'syncing' || state === 'ready') return;
    this.session.expire();
    this.socket.reconnectNow();
  }

  private socketChanged(state: SocketState): void {
    this.lifecycle.socketChanged(state, this.socket.retryAt);
    if (state !== 'open') {
      this.history.connectionLost();
      // Answers asked for on the lost connection will not come.
      this.syncsSent.splice(0);
      this.state.sessions.setLoadingMore(false);
      this.resync.connectionLost();
    }
  }

  private opened(): void {
    this.sends.connectionOpened();
    this.sendSync();
  }

  /** Asks the server for what the app lacks (allowed while syncing, unlike other frames). */
  private sendSync(): boolean {
    const frame = syncFrame(this.state.messages, this.local.epoch);
    if (!this.socket.sendText(JSON.stringify(frame))) return false;
    this.syncsSent.push(frame.cursors);
    return true;
  }

  private received(text: string): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text) as ServerFrame;
    } catch {
      return;
    }
    this.dispatch(frame);
    if (frame.type !== 'pong' && frame.type !== 'typing' && frame.type !== 'presence') this.local.saveSoon();
  }

  /** Each frame to its handler: the pure ones of incoming.ts, and the parts that own the rest. */
  private dispatch(frame: ServerFrame): void {
    const stores = this.state;
    const context = { activeConv: this.activeConv, live: this.lifecycle.ready };
    switch (frame.type) {
      case 'sessions': {
        const added = incoming.applySessions(stores, frame);
        this.groups.prefetch();
        // A next page whose entries were all deleted on this device adds nothing to scroll to.
        if (frame.after !== undefined && added === 0) this.loadMoreSessions();
        return;
      }
      case 'message':
        this.sends.delivered([frame]);
        return this.follow(incoming.applyMessage(stores, frame, context));
      case 'synced':
        return this.synced(frame.epoch, frame.truncated);
      case 'ack': {
        if (this.recalls.acked(frame)) return;
        const message = this.sends.acked(frame);
        return message ? this.follow(incoming.applyAck(stores, message)) : undefined;
      }
      case 'history':
        incoming.applyHistory(stores, frame, context);
        this.sends.delivered(frame.messages);
        return this.history.arrived(frame.conv);
      case 'states':
        return incoming.applyStates(stores, frame);
      case 'conversation':
        incoming.applyConversation(stores, frame);
        return this.local.savePrefs();
      case 'presence':
        return incoming.applyPresence(stores, frame);
      case 'profile':
        incoming.applyProfile(stores, frame);
        return this.session.updateUser(frame.user);
      case 'typing':
        incoming.applyTyping(stores, frame, Date.now() + TYPING_SHOW_MS);
        return this.typingHints.expireLater(frame.conv);
      case 'error':
        if (this.sends.refused(frame) || this.recalls.refused(frame)) return;
        // A refused page request (its conversation is gone) must not block the next one.
        stores.sessions.setLoadingMore(false);
        // A request over the server's budget is asked again shortly; nothing to show.
        if (frame.code === 'rate_limited' && frame.ref === 'sync') return this.resync.refused();
        if (frame.code === 'rate_limited' && frame.ref !== undefined && this.history.refused(frame.ref)) return;
        stores.errors.record(frame.code, frame.message);
        return;
      default:
        return;
    }
  }

  private follow(followUps: readonly incoming.FollowUp[]): void {
    for (const followUp of followUps) {
      if (followUp.type === 'fetchHistory') void this.history.request(followUp.conv, followUp.before, followUp.limit);
      else if (followUp.type === 'markRead') this.markRead(followUp.conv);
      else if (followUp.type === 'groupChanged') this.groups.changed(followUp.conv, followUp.conv === this.activeConv);
      else if (this.lifecycle.ready) this.resync.soon();
    }
  }

  private synced(epoch: string, truncated: readonly string[]): void {
    const cursors = this.syncsSent.shift() ?? {};
    const known = this.local.epoch;
    if (known !== epoch) {
      this.local.epoch = epoch;
      if (known) {
        // The server's store was replaced: nothing held locally can be trusted. Start over; unsent
        // messages are the user's, not the old store's: they stay, and go to the new one.
        incoming.startOver(this.state);
        this.local.forgetCache();
        this.sends.showAll();
        this.sendSync();
        return;
      }
    }
    incoming.applyTruncated(this.state, truncated, cursors);
    this.resync.synced();
    if (!this.lifecycle.synced()) return;
    this.socket.markHealthy();
    if (this.activeConv) this.openConversation(this.activeConv);
    this.sends.connectionReady();
    this.recalls.connectionReady();
    void this.settings.roam();
    void this.reminders.refresh();
  }

  private transmit(frame: ClientFrame): boolean {
    return this.lifecycle.ready && this.socket.sendText(JSON.stringify(frame));
  }
}
