import type { Logger } from 'pino';

/** Where and as whom to call WeChat: `config.wechat`, plus an optional timeout. */
export interface WechatOptions {
  appId: string;
  secret: string;
  /** `https://api.weixin.qq.com` in production; a local stand-in in tests. No trailing slash. */
  apiBase: string;
  /** How long to wait for WeChat's whole answer, in ms. Default 5000. */
  timeoutMs?: number;
}

/** Who WeChat says the code belongs to. The session_key is dropped: the app never needs it. */
export interface WechatIdentity {
  openid: string;
  unionid?: string;
}

/**
 * A failed exchange, already mapped to the status and `error.code` the login route answers with.
 * The message is safe to show: it never holds the secret, the code or a session key.
 */
export class WechatLoginError extends Error {
  constructor(
    readonly status: number,
    readonly code: 'invalid_code' | 'rate_limited' | 'wechat_busy' | 'forbidden' | 'wechat_unavailable',
    message: string,
    /** WeChat's errcode, when it answered with one. */
    readonly errcode?: number,
  ) {
    super(message);
  }
}

/** WeChat's documented errcodes of code2session and what the client is told. */
const ERRCODES = new Map<number, { status: number; code: WechatLoginError['code']; message: string }>([
  [40029, { status: 401, code: 'invalid_code', message: 'the login code is invalid; call wx.login again' }],
  [40163, { status: 401, code: 'invalid_code', message: 'the login code was already used; call wx.login again' }],
  [45011, { status: 429, code: 'rate_limited', message: 'too many logins for now; try again in a minute' }],
  [-1, { status: 503, code: 'wechat_busy', message: 'WeChat is busy; try again shortly' }],
  [40226, { status: 403, code: 'forbidden', message: 'WeChat refused this login (high-risk user)' }],
]);

const DEFAULT_TIMEOUT_MS = 5000;

function unavailable(message: string, errcode?: number): WechatLoginError {
  return new WechatLoginError(502, 'wechat_unavailable', message, errcode);
}

/**
 * A short reason for a failed fetch (`ECONNREFUSED`, `TimeoutError` …), never its URL: the URL holds
 * the secret. Duck-typed, since fetch's errors (a DOMException for a timeout) may come from another realm.
 */
export function fetchFailure(error: unknown): string {
  const { name, cause } = (error ?? {}) as { name?: unknown; cause?: { code?: unknown } };
  if (cause && typeof cause.code === 'string') return cause.code;
  return typeof name === 'string' ? name : 'unknown';
}

/**
 * Exchanges a `wx.login` code for the user's openid through WeChat's code2session
 * (`GET {apiBase}/sns/jscode2session`). One job: the call and the mapping of its answers.
 */
export class WechatLogin {
  private readonly timeoutMs: number;

  constructor(
    private readonly options: WechatOptions,
    private readonly log: Logger,
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  get appId(): string {
    return this.options.appId;
  }

  /** The identity behind `code`, or a `WechatLoginError`. */
  async exchange(code: string): Promise<WechatIdentity> {
    const query = new URLSearchParams({
      appid: this.options.appId,
      secret: this.options.secret,
      js_code: code,
      grant_type: 'authorization_code',
    });
    const url = `${this.options.apiBase}/sns/jscode2session?${query.toString()}`;

    let status: number;
    let text: string;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
      status = response.status;
      text = await response.text();
    } catch (error) {
      const reason = fetchFailure(error);
      if (reason === 'TimeoutError') {
        this.log.warn({ timeoutMs: this.timeoutMs }, 'code2session: WeChat did not answer in time');
        throw unavailable(`WeChat could not be reached: no answer within ${this.timeoutMs} ms`);
      }
      this.log.warn({ reason }, 'code2session: WeChat could not be reached');
      throw unavailable('WeChat could not be reached');
    }

    if (status < 200 || status > 299) {
      this.log.warn({ status }, 'code2session: WeChat answered with an HTTP error');
      throw unavailable(`WeChat answered unexpectedly (HTTP ${status})`);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      this.log.warn({ status, length: text.length }, 'code2session: WeChat answered with something other than JSON');
      throw unavailable('WeChat answered unexpectedly (not JSON)');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      this.log.warn('code2session: WeChat answered with JSON that is not an object');
      throw unavailable('WeChat answered unexpectedly (not a JSON object)');
    }

    const answer = body as { openid?: unknown; unionid?: unknown; errcode?: unknown; errmsg?: unknown };
    if (answer.errcode !== undefined && answer.errcode !== 0) {
      const errcode = typeof answer.errcode === 'number' ? answer.errcode : Number(answer.errcode);
      const errmsg = typeof answer.errmsg === 'string' ? answer.errmsg.slice(0, 200) : undefined;
      const known = ERRCODES.get(errcode);
      this.log.warn({ errcode, errmsg }, 'code2session: WeChat refused the code');
      if (known) throw new WechatLoginError(known.status, known.code, known.message, errcode);
      const shown = Number.isFinite(errcode) ? `errcode ${errcode}` : 'an errcode that is not a number';
      throw unavailable(`WeChat answered unexpectedly (${shown})`, Number.isFinite(errcode) ? errcode : undefined);
    }
    if (typeof answer.openid !== 'string' || answer.openid === '') {
      this.log.warn('code2session: WeChat answered without an openid');
      throw unavailable('WeChat answered unexpectedly (no openid)');
    }
    return {
      openid: answer.openid,
      ...(typeof answer.unionid === 'string' && answer.unionid !== '' ? { unionid: answer.unionid } : {}),
    };
  }
}
