import { directPeer, isGroupConversationId } from '../../contract/conversations';
import type { ChatMessage, ClientFrame, ReplyRef, SendKind, ServerFrameOf } from '../../contract/frames';
import { TokenBucket } from '../../contract/token-bucket';
import type { ErrorsStore } from '../stores/errors';
import type { MessagesStore } from '../stores/messages';
import { ApiError, type Api } from './api';
import { newCid } from './ids';
import type { Outbox, OutboxEntry } from './outbox';

/** The `send` frame of an outbox entry: `to` the peer in a dm (which creates it), `conv` in a group. */
function sendFrame(entry: OutboxEntry): ClientFrame {
  const { cid, to, conv, kind, body, mentions, reply } = entry;
  const frame: Extract<ClientFrame, { type: 'send' }> = to
    ? { type: 'send', cid, to, kind, body }
    : { type: 'send', cid, conv, kind, body };
  if (mentions && !to) frame.mentions = mentions;
  if (reply) frame.reply = reply.seq;
  if (entry.duration !== undefined) frame.duration = entry.duration;
  return frame;
}

/** What a text may carry besides its body. */
export interface TextExtras {
  /** A group message's mentions: member ids, or `["all"]`. */
  mentions?: readonly string[];
  /** The message it replies to (引用), as quoted. */
  reply?: ReplyRef;
}

/** Refusals of a reply for its quote (the quoted message gone or recalled meanwhile). */
const REPLY_REFUSALS = new Set(['not_found', 'forbidden', 'bad_frame']);

/** A message whose body is an upload's url: a picture or a recording. */
function isUpload(entry: OutboxEntry): boolean {
  return entry.kind === 'image' || entry.kind === 'voice';
}

/** Still to be uploaded before it can be sent. */
function needsUpload(entry: OutboxEntry): boolean {
  return isUpload(entry) && !entry.body;
}

/** A send refused for the moment (rate_limited) goes again after this, plus up to as much jitter. */
const RETRY_AFTER_REFUSAL_MS = 1000;

/** The client's own pace for sends: half the server's default limit (20/s, burst 40). */
const SEND_PACE = { perSecond: 10, burst: 20 };

/** Refusals that say nothing about the message itself: it goes again later with the same cid. */
const TRY_AGAIN = new Set(['rate_limited', 'internal']);

/**
 * Refusals for what the message is, final (no retry; a tap on the red ! tries once more), with the
 * notice WeChat shows under the failed bubble.
 */
export const REFUSAL_NOTICES: Readonly<Record<string, string>> = {
  /** The recipient blocked the sender (拉黑): WeChat's own words. */
  blocked: '消息已发出，但被对方拒收了',
  /** WeChat's content check judged the text risky. */
  content_refused: '内容含有违规信息，发送失败',
};

/** An upload refused for the moment (429: too many a minute) goes again after this, doubling each time. */
const UPLOAD_RETRY_MS = 15_000;

/** What the user is told when a picture or a recording cannot be sent, by the server's reason. */
function uploadFailure(kind: SendKind, code: string, detail: string): string {
  const what = kind === 'voice' ? '语音' : '图片';
  switch (code) {
    case 'quota_exceeded':
      return `${what}发送失败：今天的上传额度已用完，请明天再试`;
    case 'too_large':
      return `${what}发送失败：${kind === 'voice' ? '语音' : '图片'}太大`;
    case 'unsupported_type':
      return `${what}发送失败：不支持的${kind === 'voice' ? '音频' : '图片'}格式`;
    case 'rate_limited':
      return `${what}发送失败：发送太频繁，请稍后点击重试`;
    default:
      return `${what}发送失败：${detail}`;
  }
}

export interface SendQueueOptions {
  outbox: Outbox;
  api: Api;
  messages: MessagesStore;
  errors: ErrorsStore;
  /** A connection has synced: sends may go out. */
  ready(): boolean;
  /** Hands a frame to the connection; false when it could not (the entry stays). */
  transmit(frame: ClientFrame): boolean;
  /** The logged-in user's id ('' before the first login). */
  me(): string;
  random: () => number;
  /** Times a message is handed to a socket before it shows as failed. */
  maxSendTries: number;
  /** A send not acked within this long on an open connection goes again (same cid). */
  ackTimeoutMs: number;
  /** The first wait before an upload refused with 429 goes again (doubling); default 15 s. */
  uploadRetryMs?: number;
  /** Deletes a file of the app's own that a sent message no longer needs (a recording). */
  discardFile?: (path: string) => void;
}

/**
 * Everything between "the user sent it" and "the server has it": the durable outbox, uploads of
 * images before they are sent, handing entries to the connection in order and paced below the
 * server's rate limit, ack timers, and refusals. The messages store shows each entry as sending,
 * failed or (once acked) stored.
 */
export class SendQueue {
  /** Outbox entries handed to the current connection and not yet answered. */
  private readonly inFlight = new Set<string>();
  /** Image sends whose upload is under way. */
  private readonly uploading = new Set<string>();
  /** Counts connections, so an ack timer of an earlier one knows it is stale. */
  private connection = 0;
  private readonly pace = new TokenBucket(SEND_PACE.perSecond, SEND_PACE.burst);
  private pumpTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly options: SendQueueOptions) {}

  /** A text, shown at once and sent as soon as a connection is ready; its cid, or null. */
  sendText(conv: string, body: string, extras: TextExtras = {}): string | null {
    const text = body.trim();
    const entry = text ? this.newEntry(conv, 'text', text) : null;
    if (!entry) return null;
    const { mentions, reply } = extras;
    if (mentions && mentions.length > 0 && isGroupConversationId(conv)) entry.mentions = [...new Set(mentions)];
    if (reply) entry.reply = reply;
    this.options.outbox.add(entry);
    this.show(entry);
    this.pump();
    return entry.cid;
  }

  /**
   * A message whose body the server already holds (a forwarded image: the upload's url), shown at
   * once and sent like a text, with no upload; its cid, or null.
   */
  sendUploaded(conv: string, kind: SendKind, body: string): string | null {
    if (kind === 'text') return this.sendText(conv, body);
    const entry = body ? this.newEntry(conv, kind, body) : null;
    if (!entry) return null;
    this.options.outbox.add(entry);
    this.show(entry);
    this.pump();
    return entry.cid;
  }

  /** An image from the phone: shown at once with its upload progress, uploaded, then sent like a text. */
  sendImage(conv: string, localPath: string): string | null {
    const entry = localPath ? this.newEntry(conv, 'image', '', localPath) : null;
    if (!entry) return null;
    this.options.outbox.add(entry);
    this.show(entry);
    this.upload(entry);
    return entry.cid;
  }

  /**
   * A voice recording (a file of the app's own, see core/voice.ts): shown at once with its upload
   * progress, uploaded, then sent with its duration; the file is deleted once the server has it.
   */
  sendVoice(conv: string, localPath: string, duration: number): string | null {
    const entry = localPath ? this.newEntry(conv, 'voice', '', localPath) : null;
    if (!entry) return null;
    entry.duration = duration;
    this.options.outbox.add(entry);
    this.show(entry);
    this.upload(entry);
    return entry.cid;
  }

  /** A failed message, tried again with its original cid (and uploaded again if it never was). */
  resend(cid: string): void {
    const { outbox, messages } = this.options;
    const entry = outbox.all().find((candidate) => candidate.cid === cid);
    if (!entry) return;
    outbox.remove(cid);
    const { failReason: _reason, ...again } = entry;
    outbox.add({ ...again, tries: 0 });
    messages.setStatus(entry.conv, cid, 'sending');
    this.inFlight.delete(cid);
    if (needsUpload(entry)) this.upload(entry);
    this.pump();
  }

  /** Shows every outbox entry as a pending bubble (at launch, and after the store was emptied). */
  showAll(): void {
    for (const entry of this.options.outbox.all()) this.show(entry);
  }

  /** A new connection opened: nothing is in flight on it yet. */
  connectionOpened(): void {
    this.connection++;
    this.inFlight.clear();
  }

  /**
   * The connection has synced: everything not yet acked goes again, in order, with its cid (the
   * server stores each cid once). Images whose upload was cut short, or never started before a
   * relaunch, upload again.
   */
  connectionReady(): void {
    for (const entry of this.options.outbox.all()) {
      if (needsUpload(entry) && entry.tries < this.options.maxSendTries) this.upload(entry);
    }
    this.pump();
  }

  /** The server stored a send: the pending bubble becomes the stored message. Returns it, or null for a stale ack. */
  acked(frame: ServerFrameOf<'ack'>): ChatMessage | null {
    this.inFlight.delete(frame.cid);
    const entry = this.options.outbox.remove(frame.cid);
    if (!entry) return null;
    this.sent(entry);
    const me = this.options.me();
    this.options.messages.confirm(frame.conv, frame.cid, frame.seq, frame.ts, me, entry.body);
    return {
      conv: frame.conv,
      seq: frame.seq,
      cid: frame.cid,
      ts: frame.ts,
      from: me,
      kind: entry.kind,
      body: entry.body,
      ...(entry.mentions ? { mentions: entry.mentions } : {}),
      ...(entry.reply ? { reply: entry.reply } : {}),
      ...(entry.duration !== undefined ? { duration: entry.duration } : {}),
    };
  }

  /**
   * One's own messages as the server holds them (a sync replay, a history page): an entry with the
   * same cid has arrived even if its ack was lost, and must not wait for ever (after its last try
   * it would never be sent, so never acked).
   */
  delivered(messages: readonly ChatMessage[]): void {
    const me = this.options.me();
    for (const message of messages) {
      const entry = message.from === me && message.cid ? this.options.outbox.remove(message.cid) : undefined;
      if (!entry) continue;
      this.inFlight.delete(entry.cid);
      this.sent(entry);
    }
  }

  /** An `error` frame: true when it answered one of the queue's sends. */
  refused(frame: ServerFrameOf<'error'>): boolean {
    const { outbox, messages, maxSendTries } = this.options;
    const entry = frame.ref ? outbox.all().find((candidate) => candidate.cid === frame.ref) : undefined;
    if (!entry) return false;
    this.inFlight.delete(entry.cid);
    if (TRY_AGAIN.has(frame.code)) {
      // Not refused for what it is: the same cid goes again a little later (and on every new
      // connection), until it is acked or its tries run out.
      this.schedulePump(RETRY_AFTER_REFUSAL_MS + Math.floor(this.options.random() * RETRY_AFTER_REFUSAL_MS));
      return true;
    }
    if (entry.reply && REPLY_REFUSALS.has(frame.code)) {
      // The quoted message is gone or was recalled meanwhile: what the user wrote still goes, as a
      // plain message (same cid: nothing was stored), rather than failing for someone else's recall.
      outbox.update(entry.cid, { reply: undefined });
      messages.dropReply(entry.conv, entry.cid);
      this.pump();
      return true;
    }
    // Refused for good (not a member, no such user, malformed; blocked by the recipient, or refused
    // by the content check — with a notice under the bubble): failed, kept (last) for a manual retry.
    // An image the server does not hold (its upload was removed, unused for too long) is uploaded
    // again on that retry.
    const body = isUpload(entry) && frame.code === 'bad_frame' && entry.localPath ? '' : entry.body;
    const failReason = REFUSAL_NOTICES[frame.code];
    outbox.remove(entry.cid);
    outbox.add({ ...entry, body, tries: maxSendTries, ...(failReason ? { failReason } : {}) });
    messages.setStatus(entry.conv, entry.cid, 'failed', failReason);
    return true;
  }

  /** The server has the message: a recording kept for it is not needed any more. */
  private sent(entry: OutboxEntry): void {
    if (entry.kind === 'voice' && entry.localPath) this.options.discardFile?.(entry.localPath);
  }

  /** Stops the timers (the entries stay in the outbox). */
  stop(): void {
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    this.pumpTimer = null;
  }

  /** Logout: the unsent messages go with the user. */
  clear(): void {
    this.stop();
    this.inFlight.clear();
    this.options.outbox.clear();
  }

  /**
   * Hands outbox entries to the connection in order, each once per connection, paced below the
   * server's rate limit so a long outbox never gets refused (and never reordered by a retry).
   */
  private pump(): void {
    if (!this.options.ready()) return;
    const { outbox, messages, maxSendTries } = this.options;
    for (const entry of outbox.all()) {
      if (this.inFlight.has(entry.cid)) continue;
      // A picture or a recording goes out once its upload has given it a url.
      if (needsUpload(entry)) continue;
      if (entry.tries >= maxSendTries) {
        messages.setStatus(entry.conv, entry.cid, 'failed', entry.failReason);
        continue;
      }
      if (!this.pace.take()) {
        this.schedulePump(1000 / SEND_PACE.perSecond);
        return;
      }
      if (!this.options.transmit(sendFrame(entry))) return;
      this.inFlight.add(entry.cid);
      this.awaitAck(entry.cid);
      outbox.tried([entry.cid]);
    }
  }

  /**
   * A send unanswered for long on a connection that stays open (its frame lost on the way) goes
   * again with the same cid: the server stores a cid once, so a resend is harmless.
   */
  private awaitAck(cid: string): void {
    const connection = this.connection;
    setTimeout(() => {
      if (connection !== this.connection || !this.inFlight.has(cid)) return;
      this.inFlight.delete(cid);
      this.pump();
    }, this.options.ackTimeoutMs);
  }

  private schedulePump(delayMs: number): void {
    if (this.pumpTimer) return;
    this.pumpTimer = setTimeout(() => {
      this.pumpTimer = null;
      this.pump();
    }, delayMs);
  }

  private upload(entry: OutboxEntry, attempt = 0): void {
    const { api, outbox, messages, errors, maxSendTries } = this.options;
    if (!entry.localPath || this.uploading.has(entry.cid)) return;
    this.uploading.add(entry.cid);
    let again = false;
    api
      .upload(entry.localPath, (percent) => messages.setProgress(entry.conv, entry.cid, percent))
      .then(({ url }) => {
        outbox.update(entry.cid, { body: url });
        messages.setProgress(entry.conv, entry.cid, undefined);
        this.pump();
      })
      .catch((error: unknown) => {
        messages.setProgress(entry.conv, entry.cid, undefined);
        // Too many uploads a minute: not the image's fault, so it waits (still sending) and goes
        // again, a bounded number of times. Anything else (the day's quota spent, too large, not
        // an image, no network) fails at once: a tap on the bubble uploads it again.
        if (error instanceof ApiError && error.status === 429 && attempt + 1 < maxSendTries) {
          again = true;
          const base = this.options.uploadRetryMs ?? UPLOAD_RETRY_MS;
          const delay = base * 2 ** attempt + Math.floor(this.options.random() * base);
          setTimeout(() => {
            this.uploading.delete(entry.cid);
            const current = outbox.all().find((candidate) => candidate.cid === entry.cid);
            if (current && !current.body) this.upload(current, attempt + 1);
          }, delay);
          return;
        }
        const code = error instanceof ApiError ? error.code : 'upload_failed';
        errors.tell(code, uploadFailure(entry.kind, code, error instanceof Error ? error.message : String(error)));
        outbox.update(entry.cid, { tries: maxSendTries });
        messages.setStatus(entry.conv, entry.cid, 'failed');
      })
      .finally(() => {
        if (!again) this.uploading.delete(entry.cid);
      });
  }

  /** A new outbox entry for a dm or a group of the logged-in user, or null. */
  private newEntry(conv: string, kind: SendKind, body: string, localPath?: string): OutboxEntry | null {
    const me = this.options.me();
    if (!me) return null;
    const to = isGroupConversationId(conv) ? '' : directPeer(conv, me);
    if (to === null) return null;
    const entry: OutboxEntry = {
      cid: newCid(this.options.random),
      conv,
      to,
      from: me,
      kind,
      body,
      createdAt: Date.now(),
      tries: 0,
    };
    if (localPath) entry.localPath = localPath;
    return entry;
  }

  private show(entry: OutboxEntry): void {
    const { messages, maxSendTries } = this.options;
    messages.addPending({
      conv: entry.conv,
      cid: entry.cid,
      // Entries made before groups have no `from`: the member of the dm they do not go to.
      from: entry.from ?? directPeer(entry.conv, entry.to) ?? '',
      kind: entry.kind,
      // An image not yet uploaded shows from the phone's own file.
      body: entry.body || entry.localPath || '',
      ts: entry.createdAt,
      ...(entry.reply ? { reply: entry.reply } : {}),
      ...(entry.duration !== undefined ? { duration: entry.duration } : {}),
    });
    if (entry.tries >= maxSendTries) messages.setStatus(entry.conv, entry.cid, 'failed', entry.failReason);
  }
}
