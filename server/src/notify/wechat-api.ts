/**
 * WeChat's server API as reminders use it: the access token (`/cgi-bin/stable_token`, one cached
 * token per process) and `/cgi-bin/message/subscribe/send`. Calls, timeouts and logging as in
 * `auth/wechat.ts` (code2session): a bounded wait, a short reason for a failure, never the
 * secret or the token in a log line. Nothing here retries in a loop: a send whose token WeChat
 * calls expired (`40001`, `42001`) fetches the token once more and tries once more; that is all.
 */
import type { Logger } from 'pino';
import { fetchFailure, type WechatOptions } from '../auth/wechat';

/** Which API a failure came from (the `api` label of `chat_wechat_errors_total`). */
export type WechatApiName = 'stable_token' | 'subscribe_send' | 'msg_sec_check' | 'media_check_async';

/** What reminders report for the server's metrics. */
export interface WechatApiMetrics {
  /** A failed call, by WeChat's errcode (or `timeout`, `unreachable`, `http_<status>`, `bad_answer`). */
  wechatError(api: WechatApiName, errcode: string): void;
}

/** A failed call: WeChat's errcode as text, or what went wrong before it could answer. */
export class WechatApiError extends Error {
  constructor(
    readonly api: WechatApiName,
    readonly errcode: string,
    message: string,
  ) {
    super(message);
  }
}

/** WeChat's errcodes that mean the access token is no good any more: fetch it again, once. */
export const TOKEN_EXPIRED = new Set(['40001', '42001']);
const DEFAULT_TIMEOUT_MS = 5000;
/** A token is fetched again this long before WeChat says it expires (at most half its life). */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;
/** After a failed token fetch, callers fail at once for this long instead of each asking WeChat again. */
const FAILED_FETCH_PAUSE_MS = 5000;

export interface WechatApiOptions extends WechatOptions {
  metrics: WechatApiMetrics;
  log: Logger;
  clock?: () => number;
  /** Aborts every call under way (the server stops). */
  signal?: AbortSignal;
  /** After a failed token fetch, how long callers fail at once (default 5000 ms). */
  failedFetchPauseMs?: number;
}

/** POSTs JSON to WeChat and answers the JSON object it answered with; any other outcome throws. */
export async function postJson(
  api: WechatApiName,
  url: string,
  body: unknown,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<Record<string, unknown>> {
  let status: number;
  let text: string;
  try {
    const timeout = AbortSignal.timeout(timeoutMs);
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    const reason = fetchFailure(error);
    if (reason === 'TimeoutError') {
      throw new WechatApiError(api, 'timeout', `WeChat did not answer within ${timeoutMs} ms`);
    }
    throw new WechatApiError(api, 'unreachable', `WeChat could not be reached (${reason})`);
  }
  if (status < 200 || status > 299) throw new WechatApiError(api, `http_${status}`, `WeChat answered HTTP ${status}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new WechatApiError(api, 'bad_answer', 'WeChat answered with something other than JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new WechatApiError(api, 'bad_answer', 'WeChat answered with JSON that is not an object');
  }
  const answer = parsed as Record<string, unknown>;
  if (answer.errcode !== undefined && answer.errcode !== 0 && answer.errcode !== '0') {
    const errcode =
      typeof answer.errcode === 'number' || typeof answer.errcode === 'string'
        ? String(answer.errcode).slice(0, 20)
        : 'bad_answer';
    const errmsg = typeof answer.errmsg === 'string' ? answer.errmsg.slice(0, 200) : '';
    throw new WechatApiError(api, errcode, `WeChat refused the call: errcode ${errcode} ${errmsg}`.trim());
  }
  return answer;
}

/**
 * The process's one access token from `POST /cgi-bin/stable_token` (grant_type client_credential):
 * cached until shortly before it expires; callers that ask while it is being fetched share that
 * one fetch (no thundering herd).
 */
export class WechatAccessToken {
  private cached?: { token: string; refreshAt: number };
  private fetching?: Promise<string>;
  private failed?: { until: number; error: WechatApiError };
  private readonly clock: () => number;

  constructor(private readonly options: WechatApiOptions) {
    this.clock = options.clock ?? Date.now;
  }

  /** A token that WeChat should still take. */
  get(): Promise<string> {
    const now = this.clock();
    if (this.cached && now < this.cached.refreshAt) return Promise.resolve(this.cached.token);
    if (this.fetching) return this.fetching;
    if (this.failed && now < this.failed.until) return Promise.reject(this.failed.error);
    this.fetching = this.fetch().finally(() => (this.fetching = undefined));
    return this.fetching;
  }

  /** WeChat refused `token` as expired: the next `get` fetches a new one (unless another caller already did). */
  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = undefined;
  }

  private async fetch(): Promise<string> {
    const { appId, secret, apiBase, log, metrics } = this.options;
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    try {
      const answer = await postJson(
        'stable_token',
        `${apiBase}/cgi-bin/stable_token`,
        { grant_type: 'client_credential', appid: appId, secret, force_refresh: false },
        timeoutMs,
        this.options.signal,
      );
      const token = answer.access_token;
      const expiresIn = Number(answer.expires_in);
      if (typeof token !== 'string' || token === '' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
        throw new WechatApiError(
          'stable_token',
          'bad_answer',
          'WeChat answered without an access_token and expires_in',
        );
      }
      const lifeMs = expiresIn * 1000;
      this.cached = { token, refreshAt: this.clock() + lifeMs - Math.min(REFRESH_MARGIN_MS, lifeMs / 2) };
      this.failed = undefined;
      log.info({ expiresIn }, 'stable_token: got an access token (reminders, content check)');
      return token;
    } catch (error) {
      const failure =
        error instanceof WechatApiError ? error : new WechatApiError('stable_token', 'unreachable', String(error));
      metrics.wechatError('stable_token', failure.errcode);
      log.warn({ errcode: failure.errcode, reason: failure.message }, 'stable_token: no access token');
      this.failed = {
        until: this.clock() + (this.options.failedFetchPauseMs ?? FAILED_FETCH_PAUSE_MS),
        error: failure,
      };
      throw failure;
    }
  }
}

/** The body of `POST /cgi-bin/message/subscribe/send`, but the token. */
export interface SubscribeMessage {
  touser: string;
  template_id: string;
  page: string;
  data: Record<string, { value: string }>;
  miniprogram_state: 'developer' | 'trial' | 'formal';
  lang: 'zh_CN';
}

/** Sends subscription messages with the process's access token. */
export class WechatSubscribeApi {
  constructor(
    private readonly options: WechatApiOptions,
    private readonly tokens: WechatAccessToken,
  ) {}

  /** Sends one message; throws a `WechatApiError` (already logged and counted) when WeChat did not take it. */
  async send(message: SubscribeMessage): Promise<void> {
    const token = await this.tokens.get();
    try {
      await this.post(token, message);
    } catch (error) {
      if (!(error instanceof WechatApiError) || !TOKEN_EXPIRED.has(error.errcode)) throw error;
      // Once: a fresh token and one more try; a second refusal is final.
      this.tokens.invalidate(token);
      await this.post(await this.tokens.get(), message);
    }
  }

  private async post(token: string, message: SubscribeMessage): Promise<void> {
    const { apiBase, log, metrics } = this.options;
    try {
      await postJson(
        'subscribe_send',
        `${apiBase}/cgi-bin/message/subscribe/send?access_token=${encodeURIComponent(token)}`,
        message,
        this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        this.options.signal,
      );
    } catch (error) {
      const failure =
        error instanceof WechatApiError ? error : new WechatApiError('subscribe_send', 'unreachable', String(error));
      metrics.wechatError('subscribe_send', failure.errcode);
      log.warn({ errcode: failure.errcode, reason: failure.message }, 'subscribe/send: the reminder was not sent');
      throw failure;
    }
  }
}
