/**
 * WeChat's content security check (docs/protocol.md, "Safety"; WX_CONTENT_CHECK=1):
 *
 * - Texts (chat texts, nicknames, group names and notices) go through `POST /wxa/msg_sec_check`
 *   version 2 with the author's openid before they are stored: `risky` → refused
 *   (`content_refused`), `review` → stored and flagged for moderators, `pass` → as without the check.
 * - Images and voice go through `POST /wxa/media_check_async` once stored (off the send path);
 *   WeChat pushes the verdict to `POST /wechat/events` (http/wechat-events.ts), and a `risky` one
 *   recalls the message as a moderator's recall would and flags it.
 *
 * Calls use the process's one access token (notify/wechat-api.ts `WechatAccessToken`, shared with
 * reminders; fetched once more on 40001/42001), at most `concurrency` under way at once, each
 * bounded by `timeoutMs` (waiting for a place included). When WeChat does not answer in time (or
 * fails), `fail` decides: `open` stores the text and flags it for review, `closed` refuses it.
 * A user without an openid (development login) is not checked.
 */
import crypto from 'node:crypto';
import type { Logger } from 'pino';
import type { ChatMessage } from '../../../contract/frames';
import {
  postJson,
  TOKEN_EXPIRED,
  WechatApiError,
  type WechatAccessToken,
  type WechatApiMetrics,
  type WechatApiName,
} from '../notify/wechat-api';
import type { Store } from '../store/types';

/** WeChat's `result.suggest`. */
export type Suggest = 'pass' | 'review' | 'risky';

/**
 * What a text is, for WeChat's `scene` (msgSecCheck v2: 1 资料 profile, 2 评论 comment, 3 论坛
 * forum, 4 社交日志 social log): nicknames and group names are profile data (1); chat texts and
 * group notices are what people post for others to read, the nearest of which is a comment (2).
 */
export type TextKind = 'chat' | 'nickname' | 'group_name' | 'group_notice';

const SCENES: Record<TextKind, number> = { chat: 2, nickname: 1, group_name: 1, group_notice: 2 };
/** mediaCheckAsync's `scene` for chat images and voice: comment, as chat texts. */
const MEDIA_SCENE = 2;
/** mediaCheckAsync's `media_type`: 1 audio, 2 image. */
const MEDIA_TYPES = { image: 2, voice: 1 } as const;

/** The reasons a flag carries in the moderators' queue (a report by `SYSTEM_REPORTER`). */
export const FLAG_REASONS = {
  review: '内容审核：疑似违规',
  unanswered: '内容审核：微信未答复，待人工审核',
  mediaRisky: '内容审核：违规图片或语音，已撤回',
  mediaReview: '内容审核：疑似违规图片或语音',
} as const;

/** The reporter of a flag: no user has this id (ids are random base64url of another length). */
export const SYSTEM_REPORTER = 'system';

export type FailMode = 'open' | 'closed';

export interface ContentCheckOptions {
  store: Store;
  tokens: WechatAccessToken;
  apiBase: string;
  metrics: WechatApiMetrics;
  log: Logger;
  /** WX_CONTENT_CHECK_FAIL: what an unanswered check means (default open). */
  fail: FailMode;
  /** The whole wait for one verdict, a place among the calls under way included (ms). */
  timeoutMs: number;
  /** Calls to WeChat under way at once. */
  concurrency: number;
  /** Whether images and voice are checked (WX_PUSH_TOKEN set: the verdicts can arrive). */
  media: boolean;
  /** Recalls a message as a moderator's recall (a system `recalled` event). */
  recall: (conv: string, seq: number, cid: string) => Promise<unknown>;
  signal?: AbortSignal;
  clock?: () => number;
}

/** A text's outcome: whether it may be stored, and whether moderators should look at it. */
export interface TextVerdict {
  refused: boolean;
  /** The reason to flag it with once stored; undefined: not flagged. */
  flag?: string;
}

const PASS: TextVerdict = { refused: false };

class Timeout extends Error {}

/** At most `size` holders at once; a waiter gives up at its deadline. */
class Slots {
  private used = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  acquire(deadline: number, clock: () => number): Promise<void> {
    if (this.used < this.size) {
      this.used++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        clearTimeout(timer);
        this.used++;
        resolve();
      };
      const timer = setTimeout(
        () => {
          const index = this.waiting.indexOf(grant);
          if (index >= 0) this.waiting.splice(index, 1);
          reject(new Timeout());
        },
        Math.max(0, deadline - clock()),
      );
      this.waiting.push(grant);
    });
  }

  release(): void {
    this.used--;
    this.waiting.shift()?.();
  }
}

export class ContentCheck {
  private readonly slots: Slots;
  private readonly clock: () => number;

  constructor(private readonly options: ContentCheckOptions) {
    this.slots = new Slots(options.concurrency);
    this.clock = options.clock ?? Date.now;
  }

  /** Checks a text by `userId` before it is stored. */
  async text(userId: string, content: string, kind: TextKind): Promise<TextVerdict> {
    const openid = await this.options.store.safety.openidOf(userId);
    if (openid === null) return PASS;
    let suggest: Suggest;
    try {
      suggest = await this.bounded('msg_sec_check', async (timeoutMs, token) => {
        const answer = await postJson(
          'msg_sec_check',
          `${this.options.apiBase}/wxa/msg_sec_check?access_token=${encodeURIComponent(token)}`,
          { content, version: 2, scene: SCENES[kind], openid },
          timeoutMs,
          this.options.signal,
        );
        return suggestOf(answer);
      });
    } catch (error) {
      const failure = this.failed('msg_sec_check', error);
      this.options.log.warn(
        { errcode: failure.errcode, reason: failure.message, fail: this.options.fail, kind },
        'msg_sec_check: no verdict',
      );
      return this.options.fail === 'open' ? { refused: false, flag: FLAG_REASONS.unanswered } : { refused: true };
    }
    if (suggest === 'risky') return { refused: true };
    if (suggest === 'review') return { refused: false, flag: FLAG_REASONS.review };
    return PASS;
  }

  /**
   * A stored message: a flagged text is listed for moderators; an image or a voice message is
   * sent to mediaCheckAsync. Never throws, never waits for WeChat (the caller does not await it).
   */
  async stored(message: ChatMessage, flag: string | undefined): Promise<void> {
    try {
      if (flag !== undefined) await this.flag(message.conv, message.seq, message.from, flag);
      if (this.options.media && (message.kind === 'image' || message.kind === 'voice')) await this.media(message);
    } catch (error) {
      this.options.log.error({ err: error, conv: message.conv, seq: message.seq }, 'content check: not recorded');
    }
  }

  /** Lists something for moderators: a report by the system, about `from`'s message (or conversation). */
  async flag(conv: string, seq: number | null, from: string, reason: string): Promise<void> {
    await this.options.store.safety.addReport({
      id: 'r' + crypto.randomBytes(9).toString('base64url'),
      reporter: SYSTEM_REPORTER,
      conv,
      seq,
      reported: from,
      reason,
      createdAt: this.clock(),
      status: 'open',
      closedAt: null,
    });
  }

  /**
   * WeChat's verdict on an image or a voice message (its push, already verified): `risky` recalls
   * the message and flags it, `review` flags it; an unknown or already answered trace_id is ignored.
   */
  async mediaVerdict(traceId: string, suggest: Suggest): Promise<void> {
    const target = await this.options.store.safety.takeMediaCheck(traceId);
    if (!target) return;
    if (suggest === 'pass') return;
    const message = await this.options.store.message(target.conv, target.seq);
    if (!message || message.kind === 'recalled' || message.kind === 'system') return;
    if (suggest === 'risky') {
      await this.options.recall(target.conv, target.seq, `wx:${crypto.randomBytes(9).toString('base64url')}`);
      this.options.log.info({ conv: target.conv, seq: target.seq }, 'media_check: risky, the message was recalled');
    }
    await this.flag(
      target.conv,
      target.seq,
      message.from,
      suggest === 'risky' ? FLAG_REASONS.mediaRisky : FLAG_REASONS.mediaReview,
    );
  }

  private async media(message: ChatMessage): Promise<void> {
    const openid = await this.options.store.safety.openidOf(message.from);
    if (openid === null) return;
    const mediaType = MEDIA_TYPES[message.kind as 'image' | 'voice'];
    let traceId: string;
    try {
      traceId = await this.bounded('media_check_async', async (timeoutMs, token) => {
        const answer = await postJson(
          'media_check_async',
          `${this.options.apiBase}/wxa/media_check_async?access_token=${encodeURIComponent(token)}`,
          { media_url: message.body, media_type: mediaType, version: 2, scene: MEDIA_SCENE, openid },
          timeoutMs,
          this.options.signal,
        );
        if (typeof answer.trace_id !== 'string' || answer.trace_id === '') {
          throw new WechatApiError('media_check_async', 'bad_answer', 'WeChat answered without a trace_id');
        }
        return answer.trace_id;
      });
    } catch (error) {
      const failure = this.failed('media_check_async', error);
      // Not flagged: a moderator still sees it if someone reports it.
      this.options.log.warn(
        { errcode: failure.errcode, reason: failure.message, conv: message.conv, seq: message.seq },
        'media_check_async: the image or voice message was not sent for checking',
      );
      return;
    }
    await this.options.store.safety.addMediaCheck(traceId.slice(0, 200), message.conv, message.seq, this.clock());
  }

  /**
   * One call within the deadline and a place among `concurrency`: with the shared token, and once
   * more with a fresh one when WeChat calls it expired.
   */
  private async bounded<T>(api: WechatApiName, call: (timeoutMs: number, token: string) => Promise<T>): Promise<T> {
    const deadline = this.clock() + this.options.timeoutMs;
    try {
      await this.slots.acquire(deadline, this.clock);
    } catch {
      throw new WechatApiError(
        api,
        'timeout',
        `no place among the calls under way within ${this.options.timeoutMs} ms`,
      );
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new WechatApiError(api, 'timeout', `WeChat did not answer within ${this.options.timeoutMs} ms`)),
        Math.max(0, deadline - this.clock()),
      );
    });
    const remaining = () => Math.max(1, deadline - this.clock());
    const attempt = async (): Promise<T> => {
      const token = await this.options.tokens.get();
      try {
        return await call(remaining(), token);
      } catch (error) {
        if (!(error instanceof WechatApiError) || !TOKEN_EXPIRED.has(error.errcode)) throw error;
        this.options.tokens.invalidate(token);
        return call(remaining(), await this.options.tokens.get());
      }
    };
    try {
      return await Promise.race([attempt(), late]);
    } finally {
      clearTimeout(timer);
      this.slots.release();
    }
  }

  private failed(api: WechatApiName, error: unknown): WechatApiError {
    const failure = error instanceof WechatApiError ? error : new WechatApiError(api, 'unreachable', String(error));
    // A token failure was counted as stable_token's already.
    if (failure.api === api) this.options.metrics.wechatError(api, failure.errcode);
    return failure;
  }
}

function suggestOf(answer: Record<string, unknown>): Suggest {
  const result = answer.result as { suggest?: unknown } | undefined;
  const suggest = typeof result === 'object' && result !== null ? result.suggest : undefined;
  if (suggest === 'pass' || suggest === 'review' || suggest === 'risky') return suggest;
  throw new WechatApiError('msg_sec_check', 'bad_answer', 'WeChat answered without result.suggest');
}

/** Whether a push's `signature` is sha1 of the sorted [token, timestamp, nonce], joined. */
export function validPushSignature(
  token: string,
  query: { signature?: string; timestamp?: string; nonce?: string },
): boolean {
  const { signature, timestamp, nonce } = query;
  if (!signature || !timestamp || !nonce) return false;
  const expected = crypto.createHash('sha1').update([token, timestamp, nonce].sort().join('')).digest('hex');
  const given = Buffer.from(signature.toLowerCase());
  return given.length === expected.length && crypto.timingSafeEqual(given, Buffer.from(expected));
}

export function isSuggest(value: unknown): value is Suggest {
  return value === 'pass' || value === 'review' || value === 'risky';
}
