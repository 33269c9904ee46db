import { createStores, type Stores } from '../stores/index';
import type { SessionPrefs } from '../stores/sessions';
import type { ConnectionState } from '../stores/connection';
import { Api, ApiError } from './api';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';
import { CACHE_LIMITS, LocalCache, type CacheSnapshot } from './cache';
import { newCid, newDeviceId } from './ids';
import { Outbox, type OutboxEntry } from './outbox';
import type { Platform } from './platform';
import { directConversationId, directConversationMembers } from '../../contract/conversations';
import { LIMITS } from '../../contract/limits';
import type {
  ChatMessage,
  HistoryFrame,
  ClientFrame,
  DirectoryEntry,
  PublicUser,
  ServerFrame,
  ServerFrameOf,
} from '../../contract/frames';
import type { LoginResponse, ProfileUpdate } from '../../contract/http';
import { ChatSocket, type SocketState } from './socket';
import { TokenBucket } from '../../contract/token-bucket';

export interface ChatClientOptions {
  platform: Platform;
  /** The server's HTTP base, e.g. http://192.168.1.5:3000; the socket is its /ws. */
  serverUrl: string;
  heartbeatMs?: number;
  heartbeatTimeoutMs?: number;
  /** Reconnect (and login retry) delays; PROTOCOL.md's 0.5 s doubling to 30 s by default. */
  backoff?: BackoffOptions;
  /** Failed connection attempts in a row before the banner offers a manual retry. */
  maxAttempts?: number;
  /** Times a message is handed to a socket before it shows as failed. */
  maxSendTries?: number;
  /** A send not acked within this long on an open connection goes again (same cid). */
  ackTimeoutMs?: number;
  random?: () => number;
}

/** A send refused for the moment (rate_limited) goes again after this, plus up to as much jitter. */
const RETRY_AFTER_REFUSAL_MS = 1000;

/** A send not acked within this long on an open connection is sent again (same cid). */
const ACK_TIMEOUT_MS = 10_000;

/** The client's own pace for sends: half the server's default limit (20/s, burst 40). */
const SEND_PACE = { perSecond: 10, burst: 20 };

/** A `typing` hint goes out at most this often while the user types, and shows this long. */
const TYPING_SEND_INTERVAL_MS = 3000;
const TYPING_SHOW_MS = 5000;

const STORAGE = {
  deviceId: 'chat.deviceId',
  session: 'chat.session',
  epoch: 'chat.epoch',
  /** The user's pins and deletions on this device (SessionPrefs), with the user they belong to. */
  prefs: 'chat.prefs',
} as const;

/**
 * The app's one chat service, created by app.ts and shared by every page: logs in, keeps the
 * socket alive, syncs after every connect, sends through the durable outbox and keeps the
 * stores right. Pages call its methods and read its stores; they never see a frame.
 */
export class ChatClient {
  readonly stores: Stores = createStores();
  private readonly platform: Platform;
  private readonly api: Api;
  private readonly socket: ChatSocket;
  private readonly outbox: Outbox;
  private readonly cache: LocalCache;
  private readonly maxSendTries: number;
  private readonly random: () => number;
  private readonly backoff: BackoffOptions;
  private readonly ackTimeoutMs: number;
  private session: LoginResponse | null = null;
  private started = false;
  private ready = false;
  /** The current connection has finished its first sync (later syncs only refresh sessions). */
  private connectionSynced = false;
  private activeConv = '';
  /** Known users, so a conversation can be shown before the server lists it. */
  private readonly people = new Map<string, PublicUser>();
  private readonly historyWaiters = new Map<string, Array<() => void>>();
  private loginTimer: ReturnType<typeof setTimeout> | null = null;
  private loginAttempts = 0;
  private resyncQueued = false;
  private checkingSession = false;
  private refreshWaiters: Array<() => void> = [];
  private readonly typingSentAt = new Map<string, number>();
  private readonly typingTimers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Image sends whose upload is under way. */
  private readonly uploading = new Set<string>();
  /** Outbox entries handed to the current connection and not yet answered. */
  private readonly inFlight = new Set<string>();
  /** Counts connections, so a timer of an earlier one knows it is stale. */
  private connectionCount = 0;
  private readonly sendPace = new TokenBucket(SEND_PACE.perSecond, SEND_PACE.burst);
  private pumpTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(options: ChatClientOptions) {
    this.platform = options.platform;
    this.maxSendTries = options.maxSendTries ?? 5;
    this.random = options.random ?? Math.random;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.ackTimeoutMs = options.ackTimeoutMs ?? ACK_TIMEOUT_MS;
    this.api = new Api(this.platform, options.serverUrl.replace(/\/$/, ''), () => this.session?.token);
    this.outbox = new Outbox(this.platform);
    const wsUrl = options.serverUrl.replace(/^http/, 'ws').replace(/\/$/, '') + '/ws';
    this.socket = new ChatSocket({
      platform: this.platform,
      endpoint: () => ({ url: wsUrl, header: { authorization: `Bearer ${this.session?.token ?? ''}` } }),
      heartbeatMs: options.heartbeatMs,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs,
      maxAttempts: options.maxAttempts,
      backoff: this.backoff,
      random: this.random,
      events: {
        state: (state) => this.socketState(state),
        open: () => this.opened(),
        text: (text) => this.received(text),
        authExpired: () => this.reauthenticate(),
        // Told before the state changes: still `connecting` means this connection never opened.
        close: () => {
          if (this.socket.current === 'connecting') this.checkSession();
        },
      },
    });
    this.cache = new LocalCache(this.platform);
    this.restore();
  }

  /**
   * The first screen from storage, before any network: the last user, their session list and
   * the newest messages of recent conversations, then the sends still waiting in the outbox.
   */
  private restore(): void {
    const saved = this.platform.getStorageSync<LoginResponse | ''>(STORAGE.session);
    if (saved && saved.user) this.useSession(saved);
    const me = this.stores.me.id;
    this.restorePrefs();
    const snapshot = me ? this.cache.load(me) : null;
    if (snapshot && snapshot.epoch === this.platform.getStorageSync<string>(STORAGE.epoch)) {
      this.stores.sessions.replaceAll(snapshot.sessions);
      for (const session of snapshot.sessions) this.people.set(session.peer.id, session.peer);
      for (const [conv, messages] of Object.entries(snapshot.messages)) {
        if (messages.length === 0) continue;
        this.stores.messages.addHistory(conv, messages, messages[0].seq > 1, me, true);
      }
    }
    for (const entry of this.outbox.all()) this.showPending(entry);
  }

  private restorePrefs(): void {
    const saved = this.platform.getStorageSync<(SessionPrefs & { userId: string }) | ''>(STORAGE.prefs);
    if (saved && saved.userId === this.stores.me.id) {
      this.stores.sessions.setPrefs({ pins: saved.pins ?? {}, hidden: saved.hidden ?? {} });
    }
  }

  private savePrefs(): void {
    this.platform.setStorageSync(STORAGE.prefs, { userId: this.stores.me.id, ...this.stores.sessions.prefs });
  }

  /** What the local cache keeps: see cache.ts. */
  private snapshot(): CacheSnapshot | null {
    const epoch = this.platform.getStorageSync<string>(STORAGE.epoch);
    const userId = this.stores.me.id;
    if (!epoch || !userId) return null;
    const sessions = this.stores.sessions.list
      .slice(0, CACHE_LIMITS.conversations)
      .map(({ conv, peer, last, lastSeq, readSeq, peerReadSeq, unread }) => ({
        conv,
        peer,
        last,
        lastSeq,
        readSeq,
        peerReadSeq,
        unread,
      }));
    const messages: Record<string, ChatMessage[]> = {};
    for (const session of sessions) {
      const stored = this.stores.messages.view(session.conv).items.filter((item) => item.seq > 0);
      messages[session.conv] = stored
        .slice(-CACHE_LIMITS.messagesPerConversation)
        .map(({ conv, seq, cid, from, kind, body, ts }) => ({ conv, seq, cid, from, kind, body, ts }));
    }
    return { epoch, userId, sessions, messages };
  }

  private persistSoon(): void {
    this.cache.saveSoon(() => this.snapshot());
  }

  /** Logs in if needed, then connects. Safe to call more than once. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const saved = this.platform.getStorageSync<LoginResponse | ''>(STORAGE.session);
    if (saved && saved.token && saved.expiresAt > Date.now() + 60_000) {
      this.useSession(saved);
      this.socket.start();
    } else {
      void this.login();
    }
  }

  /** Stops the socket and timers; the stores and storage stay as they are. */
  stop(): void {
    this.started = false;
    if (this.loginTimer) clearTimeout(this.loginTimer);
    this.loginTimer = null;
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    this.pumpTimer = null;
    for (const timer of this.typingTimers.values()) clearTimeout(timer);
    this.typingTimers.clear();
    this.cache.saveNow(() => this.snapshot());
    this.socket.stop();
  }

  /** App.onShow: a socket that died in the background comes back at once. */
  onShow(): void {
    if (this.started) this.socket.reconnectNow();
  }

  /** The banner's retry button after the try limit. */
  retry(): void {
    if (!this.session) void this.login();
    else this.socket.reconnectNow();
  }

  /** The one-to-one conversation with a user, listed at once even before its first message. */
  conversationWith(peer: PublicUser): string {
    this.people.set(peer.id, peer);
    const conv = directConversationId(this.stores.me.id, peer.id);
    this.stores.sessions.ensure(conv, peer);
    return conv;
  }

  /** The message page opened a conversation: fetch its newest page once, mark it read. */
  openConversation(conv: string): void {
    this.activeConv = conv;
    if (!this.stores.messages.view(conv).loaded) void this.requestHistory(conv);
    this.markRead(conv);
  }

  closeConversation(conv: string): void {
    if (this.activeConv === conv) this.activeConv = '';
  }

  /** Fetches the page before the oldest message held; resolves when it has arrived. */
  loadOlder(conv: string): Promise<void> {
    const first = this.stores.messages.view(conv).items.find((item) => item.seq > 0);
    return this.requestHistory(conv, first ? first.seq : undefined);
  }

  /** Marks everything held in a conversation read, here at once and on the server. */
  markRead(conv: string): void {
    const session = this.stores.sessions.find(conv);
    const seq = Math.max(session ? session.lastSeq : 0, this.stores.messages.cursor(conv));
    if (seq <= 0) return;
    this.stores.sessions.markRead(conv, seq);
    this.transmit({ type: 'read', conv, seq });
    this.persistSoon();
  }

  /** Shows the message at once and sends it as soon as a connection has synced. */
  sendText(conv: string, body: string): string | null {
    const text = body.trim();
    const members = directConversationMembers(conv);
    const me = this.stores.me.id;
    if (!text || !members || !me) return null;
    const entry: OutboxEntry = {
      cid: newCid(this.random),
      conv,
      to: members[0] === me ? members[1] : members[0],
      kind: 'text',
      body: text,
      createdAt: Date.now(),
      tries: 0,
    };
    this.outbox.add(entry);
    this.showPending(entry);
    this.pump();
    return entry.cid;
  }

  /** Sends a failed message again, with its original cid. */
  resend(cid: string): void {
    const entry = this.outbox.all().find((candidate) => candidate.cid === cid);
    if (!entry) return;
    this.outbox.remove(cid);
    this.outbox.add({ ...entry, tries: 0 });
    this.stores.messages.setStatus(entry.conv, cid, 'sending');
    this.inFlight.delete(cid);
    if (entry.kind === 'image' && !entry.body) this.upload(entry);
    this.pump();
  }

  /**
   * Sends an image from the phone: shown at once with its upload progress, uploaded, then sent
   * as an image message through the outbox like any other.
   */
  sendImage(conv: string, localPath: string): string | null {
    const members = directConversationMembers(conv);
    const me = this.stores.me.id;
    if (!localPath || !members || !me) return null;
    const entry: OutboxEntry = {
      cid: newCid(this.random),
      conv,
      to: members[0] === me ? members[1] : members[0],
      kind: 'image',
      body: '',
      localPath,
      createdAt: Date.now(),
      tries: 0,
    };
    this.outbox.add(entry);
    this.showPending(entry);
    this.upload(entry);
    return entry.cid;
  }

  /** Pins a conversation to the top of the list (on this device), or unpins it. */
  pin(conv: string, pinned: boolean): void {
    this.stores.sessions.pin(conv, pinned);
    this.savePrefs();
    this.persistSoon();
  }

  /** Deletes a conversation from the list until a new message arrives in it. */
  removeConversation(conv: string): void {
    this.stores.sessions.hide(conv);
    this.savePrefs();
    this.persistSoon();
  }

  /**
   * Pull-down refresh: syncs again and resolves when the server has answered, or at once
   * (after asking for a reconnect) when no connection is up.
   */
  refresh(): Promise<void> {
    if (!this.ready) {
      this.retry();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.refreshWaiters.push(resolve);
      this.sync();
    });
  }

  /** The user is typing in a conversation: tells the peer, at most every few seconds. */
  typing(conv: string): void {
    const now = Date.now();
    if (now - (this.typingSentAt.get(conv) ?? 0) < TYPING_SEND_INTERVAL_MS) return;
    if (this.transmit({ type: 'typing', conv })) this.typingSentAt.set(conv, now);
  }

  /** Saves the nickname and/or a new avatar (a file on the phone, uploaded first). */
  async updateProfile(update: { nickname?: string; avatarPath?: string }): Promise<PublicUser> {
    const profile: ProfileUpdate = {};
    if (update.nickname !== undefined) profile.nickname = update.nickname.trim();
    if (update.avatarPath) profile.avatar = (await this.api.upload(update.avatarPath)).url;
    const user = await this.api.updateProfile(profile);
    if (this.session) {
      this.session = { ...this.session, user };
      this.platform.setStorageSync(STORAGE.session, this.session);
    }
    this.people.set(user.id, user);
    this.stores.me.setUser(user);
    return user;
  }

  /**
   * Logs out on this device: closes the connection and forgets the token, the cache, unsent
   * messages and this user's list arrangement. `start()` logs in again.
   */
  logout(): void {
    this.stop();
    for (const key of [STORAGE.session, STORAGE.epoch, STORAGE.prefs]) this.platform.removeStorageSync(key);
    this.cache.clear();
    this.outbox.clear();
    this.session = null;
    this.stores.me.setUser(null);
    this.stores.sessions.clear();
    this.stores.sessions.setPrefs({ pins: {}, hidden: {} });
    this.stores.messages.clear();
    this.stores.connection.setState('idle');
  }

  /** The directory, for starting a conversation. */
  async directory(query = ''): Promise<DirectoryEntry[]> {
    const users = await this.api.users(query);
    for (const user of users) this.people.set(user.id, user);
    return users;
  }

  // -------------------------------------------------------------------------------------------
  // Login

  private async login(): Promise<void> {
    if (this.loginTimer) return;
    this.stores.connection.setState('connecting');
    try {
      const { code } = await new Promise<WechatMiniprogram.LoginSuccessCallbackResult>((resolve, reject) =>
        this.platform.login({ success: resolve, fail: reject }),
      );
      const session = await this.api.login({ code, devId: this.deviceId() });
      this.platform.setStorageSync(STORAGE.session, session);
      this.loginAttempts = 0;
      this.useSession(session);
      if (!this.started) return;
      if (this.socket.current === 'idle') this.socket.start();
      else this.socket.reconnectNow();
    } catch (error) {
      this.stores.connection.setError(error instanceof Error ? error.message : String(error));
      if (!this.started) return;
      // The server is unreachable or refused: try again later, like the socket would.
      const delay = backoffDelay(this.loginAttempts++, this.backoff, this.random);
      this.stores.connection.setState('waiting', Date.now() + delay);
      this.loginTimer = setTimeout(() => {
        this.loginTimer = null;
        void this.login();
      }, delay);
    }
  }

  private reauthenticate(): void {
    this.platform.removeStorageSync(STORAGE.session);
    this.session = null;
    void this.login();
  }

  /**
   * A connection that never opened may have been refused for its token (expired while the app
   * stayed alive, or the server's secret or store replaced); wx does not say why, so the HTTP
   * side is asked. 401 (a bad token) or 404 (its user is gone) means logging in again; any other
   * failure is the network, which the socket's backoff already handles.
   */
  private checkSession(): void {
    const token = this.session?.token;
    if (this.checkingSession || !token || !this.started) return;
    this.checkingSession = true;
    // An empty profile update changes nothing and answers for the user the token names.
    this.api.updateProfile({}).then(
      () => {
        this.checkingSession = false;
      },
      (error: unknown) => {
        this.checkingSession = false;
        // 404 only as our server says it (not_found), not as any proxy in between might.
        const refused =
          error instanceof ApiError && (error.status === 401 || (error.status === 404 && error.code === 'not_found'));
        if (refused && this.started && this.session?.token === token) this.reauthenticate();
      },
    );
  }

  private useSession(session: LoginResponse): void {
    this.session = session;
    this.people.set(session.user.id, session.user);
    this.stores.me.setUser(session.user);
  }

  private deviceId(): string {
    let id = this.platform.getStorageSync<string>(STORAGE.deviceId);
    if (!id) {
      id = newDeviceId(this.random);
      this.platform.setStorageSync(STORAGE.deviceId, id);
    }
    return id;
  }

  // -------------------------------------------------------------------------------------------
  // Connection

  private socketState(state: SocketState): void {
    if (state !== 'open') this.ready = false;
    const mapped: Record<SocketState, ConnectionState> = {
      idle: 'idle',
      connecting: 'connecting',
      open: 'syncing',
      waiting: 'waiting',
      offline: 'offline',
      failed: 'failed',
    };
    this.stores.connection.setState(mapped[state], this.socket.retryAt);
  }

  private opened(): void {
    this.connectionSynced = false;
    this.inFlight.clear();
    this.connectionCount++;
    this.sync();
  }

  private sync(): void {
    const cursors: Record<string, number> = {};
    for (const conv of this.stores.messages.conversations()) {
      const cursor = this.stores.messages.cursor(conv);
      if (cursor > 0) cursors[conv] = cursor;
    }
    const epoch = this.platform.getStorageSync<string>(STORAGE.epoch);
    this.socket.sendText(JSON.stringify(epoch ? { type: 'sync', epoch, cursors } : { type: 'sync', cursors }));
  }

  private received(text: string): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text) as ServerFrame;
    } catch {
      return;
    }
    this.apply(frame);
    if (frame.type !== 'pong' && frame.type !== 'typing' && frame.type !== 'presence') this.persistSoon();
  }

  private apply(frame: ServerFrame): void {
    switch (frame.type) {
      case 'sessions':
        for (const session of frame.sessions) this.people.set(session.peer.id, session.peer);
        this.stores.sessions.replaceAll(frame.sessions);
        return;
      case 'message':
        return this.incoming(frame);
      case 'synced':
        return this.synced(frame);
      case 'ack':
        return this.acked(frame);
      case 'history':
        return this.historyArrived(frame);
      case 'states':
        if (frame.user === this.stores.me.id) this.stores.sessions.markRead(frame.conv, frame.readSeq);
        else this.stores.sessions.setPeerRead(frame.conv, frame.readSeq);
        return;
      case 'error':
        return this.refused(frame);
      case 'presence':
        this.stores.people.setOnline(frame.user, frame.online);
        return;
      case 'typing':
        return this.peerTyping(frame.conv);
      default:
        return;
    }
  }

  private peerTyping(conv: string): void {
    this.stores.people.setTyping(conv, Date.now() + TYPING_SHOW_MS);
    const previous = this.typingTimers.get(conv);
    if (previous) clearTimeout(previous);
    this.typingTimers.set(
      conv,
      setTimeout(() => {
        this.typingTimers.delete(conv);
        this.stores.people.stopTyping(conv);
      }, TYPING_SHOW_MS),
    );
  }

  private synced(frame: ServerFrameOf<'synced'>): void {
    const known = this.platform.getStorageSync<string>(STORAGE.epoch);
    if (known !== frame.epoch) {
      this.platform.setStorageSync(STORAGE.epoch, frame.epoch);
      if (known) {
        // The server's store was replaced: nothing held locally can be trusted. Start over.
        this.stores.messages.clear();
        this.cache.clear();
        // Unsent messages are the user's, not the old store's: they stay, and go to the new one.
        for (const entry of this.outbox.all()) this.showPending(entry);
        this.sync();
        return;
      }
    }
    // A truncated conversation has a hole below the newest messages: forget what lies below,
    // older pages come from `history` when scrolled to.
    for (const conv of frame.truncated) this.stores.messages.addHistory(conv, [], true, this.stores.me.id, true);
    this.ready = true;
    for (const resolve of this.refreshWaiters.splice(0)) resolve();
    if (this.connectionSynced) return;
    this.connectionSynced = true;
    this.socket.markHealthy();
    this.stores.connection.setState('ready');
    if (this.activeConv) {
      if (!this.stores.messages.view(this.activeConv).loaded) void this.requestHistory(this.activeConv);
      this.markRead(this.activeConv);
    }
    // Everything not yet acked goes again, in order, with its cid: the server stores each once.
    // Images whose upload was cut short (or never started before a relaunch) upload again.
    for (const entry of this.outbox.all()) {
      if (entry.kind === 'image' && !entry.body && entry.tries < this.maxSendTries) this.upload(entry);
    }
    this.pump();
  }

  // -------------------------------------------------------------------------------------------
  // Messages

  private incoming(message: ChatMessage): void {
    const me = this.stores.me.id;
    if (message.from !== me) this.stores.people.stopTyping(message.conv);
    const cursor = this.stores.messages.cursor(message.conv);
    this.stores.messages.addStored([message], me);
    this.delivered([message]);
    // A live message beyond the next seq means frames were missed (sync replays come in order):
    // fetch the hole now rather than at the next connection.
    if (this.connectionSynced && cursor > 0 && message.seq > cursor + 1) {
      void this.requestHistory(message.conv, message.seq, Math.min(LIMITS.historyMax, message.seq - cursor - 1));
    }
    const active = message.conv === this.activeConv;
    const known = this.stores.sessions.applyMessage(message, me, active, this.peerOf(message.conv));
    if (!known) this.queueResync();
    if (active && message.from !== me && this.ready) this.markRead(message.conv);
  }

  /**
   * One's own messages as the server holds them (a sync replay, a history page): an outbox entry
   * with the same cid has arrived even if its ack was lost, and must not wait there for ever
   * (after its last try it would never be sent, so never acked).
   */
  private delivered(messages: readonly ChatMessage[]): void {
    const me = this.stores.me.id;
    for (const message of messages) {
      if (message.from === me && message.cid && this.outbox.remove(message.cid)) this.inFlight.delete(message.cid);
    }
  }

  private acked(frame: ServerFrameOf<'ack'>): void {
    this.inFlight.delete(frame.cid);
    const entry = this.outbox.remove(frame.cid);
    if (!entry) return;
    const me = this.stores.me.id;
    this.stores.messages.confirm(frame.conv, frame.cid, frame.seq, frame.ts, me, entry.body);
    const message: ChatMessage = { ...frame, from: me, kind: entry.kind, body: entry.body };
    // A send restored from the outbox may go to a conversation the list has not heard of yet.
    if (!this.stores.sessions.applyMessage(message, me, true, this.peerOf(frame.conv))) this.queueResync();
  }

  private refused(frame: ServerFrameOf<'error'>): void {
    this.stores.connection.setError(`${frame.code}: ${frame.message}`);
    const entry = frame.ref ? this.outbox.all().find((candidate) => candidate.cid === frame.ref) : undefined;
    if (!entry) return;
    this.inFlight.delete(entry.cid);
    if (frame.code === 'rate_limited' || frame.code === 'internal') {
      // Not refused for what it is: the same cid goes again a little later (and on every new
      // connection), until it is acked or its tries run out.
      this.schedulePump(RETRY_AFTER_REFUSAL_MS + Math.floor(this.random() * RETRY_AFTER_REFUSAL_MS));
      return;
    }
    // Refused for good (not a member, no such user, malformed): show it failed, keep it for a
    // manual retry.
    this.outbox.tried([entry.cid]);
    this.outbox.remove(entry.cid);
    this.outbox.add({ ...entry, tries: this.maxSendTries });
    this.stores.messages.setStatus(entry.conv, entry.cid, 'failed');
  }

  /**
   * Hands outbox entries to the socket in order, each once per connection, paced below the
   * server's rate limit so a long outbox never gets refused (and never reordered by a retry).
   */
  private pump(): void {
    if (!this.ready) return;
    for (const entry of this.outbox.all()) {
      if (this.inFlight.has(entry.cid)) continue;
      // An image goes out once its upload has given it a url.
      if (entry.kind === 'image' && !entry.body) continue;
      if (entry.tries >= this.maxSendTries) {
        this.stores.messages.setStatus(entry.conv, entry.cid, 'failed');
        continue;
      }
      if (!this.sendPace.take()) {
        this.schedulePump(1000 / SEND_PACE.perSecond);
        return;
      }
      const frame: ClientFrame = { type: 'send', cid: entry.cid, to: entry.to, kind: entry.kind, body: entry.body };
      if (!this.socket.sendText(JSON.stringify(frame))) return;
      this.inFlight.add(entry.cid);
      this.awaitAck(entry.cid);
      this.outbox.tried([entry.cid]);
    }
  }

  /**
   * A send unanswered for long on a connection that stays open (its frame lost on the way) goes
   * again with the same cid: the server stores a cid once, so a resend is harmless.
   */
  private awaitAck(cid: string): void {
    const connection = this.connectionCount;
    setTimeout(() => {
      if (connection !== this.connectionCount || !this.inFlight.has(cid)) return;
      this.inFlight.delete(cid);
      this.pump();
    }, this.ackTimeoutMs);
  }

  private schedulePump(delayMs: number): void {
    if (this.pumpTimer) return;
    this.pumpTimer = setTimeout(() => {
      this.pumpTimer = null;
      this.pump();
    }, delayMs);
  }

  private upload(entry: OutboxEntry): void {
    if (!entry.localPath || this.uploading.has(entry.cid)) return;
    const localPath = entry.localPath;
    this.uploading.add(entry.cid);
    this.api
      .upload(localPath, (percent) => this.stores.messages.setProgress(entry.conv, entry.cid, percent))
      .then(({ url }) => {
        this.outbox.update(entry.cid, { body: url });
        this.stores.messages.setProgress(entry.conv, entry.cid, undefined);
        this.pump();
      })
      .catch((error: unknown) => {
        // Kept in the outbox as failed: a tap on the bubble uploads it again.
        this.stores.connection.setError(error instanceof Error ? error.message : String(error));
        this.outbox.update(entry.cid, { tries: this.maxSendTries });
        this.stores.messages.setProgress(entry.conv, entry.cid, undefined);
        this.stores.messages.setStatus(entry.conv, entry.cid, 'failed');
      })
      .finally(() => this.uploading.delete(entry.cid));
  }

  private showPending(entry: OutboxEntry): void {
    const from = directConversationMembers(entry.conv)?.find((member) => member !== entry.to) ?? '';
    this.stores.messages.addPending({
      conv: entry.conv,
      cid: entry.cid,
      from,
      kind: entry.kind,
      // An image not yet uploaded shows from the phone's own file.
      body: entry.body || entry.localPath || '',
      ts: entry.createdAt,
    });
    if (entry.tries >= this.maxSendTries) this.stores.messages.setStatus(entry.conv, entry.cid, 'failed');
  }

  private requestHistory(conv: string, before?: number, limit?: number): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.historyWaiters.get(conv);
      if (waiters) {
        waiters.push(resolve);
        return;
      }
      this.historyWaiters.set(conv, [resolve]);
      const frame: HistoryFrame = { type: 'history', conv };
      if (before !== undefined) frame.before = before;
      if (limit !== undefined) frame.limit = limit;
      // Not connected: the request is made again after the next sync (see `synced`).
      if (!this.transmit(frame)) {
        this.historyWaiters.delete(conv);
        resolve();
      }
    });
  }

  private historyArrived(frame: ServerFrameOf<'history'>): void {
    const view = this.stores.messages.view(frame.conv);
    const older = view.loaded && frame.messages.length > 0 && frame.messages[0].seq < (view.items[0]?.seq || Infinity);
    this.stores.messages.addHistory(frame.conv, frame.messages, frame.hasMore, this.stores.me.id, older);
    this.delivered(frame.messages);
    const newest = frame.messages[frame.messages.length - 1];
    if (newest) this.stores.sessions.applyMessage(newest, this.stores.me.id, frame.conv === this.activeConv);
    const waiters = this.historyWaiters.get(frame.conv) ?? [];
    this.historyWaiters.delete(frame.conv);
    for (const resolve of waiters) resolve();
  }

  /** The other member of a one-to-one conversation, if we know who they are. */
  private peerOf(conv: string): PublicUser | undefined {
    const members = directConversationMembers(conv);
    if (!members) return undefined;
    const peerId = members[0] === this.stores.me.id ? members[1] : members[0];
    return this.people.get(peerId);
  }

  /** A message for a conversation we have never listed: ask for the session list again. */
  private queueResync(): void {
    if (this.resyncQueued || !this.ready) return;
    this.resyncQueued = true;
    setTimeout(() => {
      this.resyncQueued = false;
      if (this.ready) this.sync();
    }, 0);
  }

  private transmit(frame: ClientFrame): boolean {
    return this.ready && this.socket.sendText(JSON.stringify(frame));
  }
}

export { ApiError };
