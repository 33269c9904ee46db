/**
 * A local HTTP server that stands in for WeChat's api.weixin.qq.com in the tests: a subclass says
 * how it answers; this starts it on a free loopback port and stops it. `WechatApiStandIn` is the
 * one the reminder tests use (code2session, stable_token, subscribe/send).
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';

export abstract class WechatStandIn {
  private readonly server = http.createServer((request, response) => this.answer(request, response));

  /** Starts listening; answers the base URL to give the server as its WeChat `apiBase`. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  /** Stops listening, cutting any connection still open (an answer held back included). */
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Answers one request to the stand-in. */
  protected abstract answer(request: http.IncomingMessage, response: http.ServerResponse): void;
}

/** One subscription message the stand-in received. */
export interface ReceivedSend {
  /** The access_token of its URL. */
  token: string;
  body: {
    touser: string;
    template_id: string;
    page: string;
    data: Record<string, { value: string }>;
    miniprogram_state: string;
    lang: string;
  };
}

/** How the stand-in answers one subscribe/send: success, an errcode, a 500, or no answer until `release()`. */
export type SendAnswer = 'ok' | 'hang' | 'http500' | number;

/** One content check the stand-in received: msg_sec_check or media_check_async. */
export interface ReceivedCheck {
  token: string;
  body: Record<string, unknown>;
}

/** How the stand-in answers a msg_sec_check: a verdict from the content, an errcode, a 500, or no answer. */
export type CheckAnswer = 'ok' | 'hang' | 'http500' | number;

/**
 * Signs a message push as WeChat does (sha1 of the sorted [token, timestamp, nonce]) and answers
 * the query string to send it with.
 */
export function pushQuery(token: string, extra: Record<string, string> = {}): string {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = Math.random().toString(36).slice(2, 12);
  const signature = crypto.createHash('sha1').update([token, timestamp, nonce].sort().join('')).digest('hex');
  return new URLSearchParams({ signature, timestamp, nonce, ...extra }).toString();
}

/** WeChat's push of a media check's verdict (JSON, plain mode). */
export function mediaVerdictPush(appId: string, traceId: string, suggest: 'pass' | 'review' | 'risky') {
  return {
    ToUserName: 'gh_standin',
    FromUserName: 'o_system',
    CreateTime: Math.floor(Date.now() / 1000),
    MsgType: 'event',
    Event: 'wxa_media_check',
    appid: appId,
    trace_id: traceId,
    version: 2,
    detail: [{ strategy: 'content_model', errcode: 0, suggest, label: suggest === 'pass' ? 100 : 20002 }],
    errcode: 0,
    errmsg: 'ok',
    result: { suggest, label: suggest === 'pass' ? 100 : 20002 },
  };
}

/**
 * WeChat's API as reminders use it, on loopback: `GET /sns/jscode2session` (the js_code is the
 * openid), `POST /cgi-bin/stable_token` (grant_type client_credential: `token-1`, `token-2` … each
 * fetch a new one) and `POST /cgi-bin/message/subscribe/send` (recorded; answered as scripted in
 * `sendAnswers`, then `ok`; a token in `expired` answers 40001). Wrong credentials: errcode 40013.
 */
export class WechatApiStandIn extends WechatStandIn {
  readonly sends: ReceivedSend[] = [];
  /** Token fetches, in order (their bodies). */
  readonly tokenFetches: Array<Record<string, unknown>> = [];
  /** Answers for the next subscribe/send calls, taken one per call. */
  sendAnswers: SendAnswer[] = [];
  /** Tokens subscribe/send refuses with 40001. */
  readonly expired = new Set<string>();
  /** How stable_token answers: a token (7200 s), an errcode, or no answer until `release()`. */
  tokenAnswer: 'ok' | 'hang' | number = 'ok';
  /** `expires_in` of the tokens it hands out. */
  tokenExpiresIn = 7200;
  /**
   * msg_sec_check calls, in order. The verdict comes from the content: one holding `RISKY` is
   * risky, `REVIEW` review, anything else pass (unless `checkAnswers` says otherwise).
   */
  readonly checks: ReceivedCheck[] = [];
  /** Answers for the next msg_sec_check calls, taken one per call; empty: always `checkAnswer`. */
  checkAnswers: CheckAnswer[] = [];
  /** How msg_sec_check answers once `checkAnswers` is empty. */
  checkAnswer: CheckAnswer = 'ok';
  /** media_check_async calls, in order; the n-th is answered with trace_id `trace-<n>`. */
  readonly mediaChecks: ReceivedCheck[] = [];
  private held: Array<() => void> = [];
  private tokens = 0;

  constructor(
    private readonly appId: string,
    private readonly secret: string,
  ) {
    super();
  }

  /** Forgets what it received and was told (the next token is `token-1` again); answers what it held. */
  reset(): void {
    this.sends.length = 0;
    this.tokenFetches.length = 0;
    this.sendAnswers = [];
    this.expired.clear();
    this.tokenAnswer = 'ok';
    this.tokenExpiresIn = 7200;
    this.tokens = 0;
    this.checks.length = 0;
    this.checkAnswers = [];
    this.checkAnswer = 'ok';
    this.mediaChecks.length = 0;
    this.release();
  }

  /** Answers every request held back (`hang`), as success. */
  release(): void {
    for (const answer of this.held.splice(0)) answer();
  }

  /** Requests held back now. */
  get holding(): number {
    return this.held.length;
  }

  protected answer(request: http.IncomingMessage, response: http.ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://stand-in');
    const json = (status: number, body: unknown) => {
      if (response.destroyed) return;
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.method === 'GET' && url.pathname === '/sns/jscode2session') {
      const code = url.searchParams.get('js_code') ?? '';
      if (url.searchParams.get('appid') !== this.appId || url.searchParams.get('secret') !== this.secret) {
        return json(200, { errcode: 40013, errmsg: 'invalid appid' });
      }
      return json(200, { openid: code, session_key: 'stand-in-session-key' });
    }
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (text += chunk));
    request.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return json(200, { errcode: 47001, errmsg: 'data format error' });
      }
      if (request.method === 'POST' && url.pathname === '/cgi-bin/stable_token') {
        this.tokenFetches.push(body);
        if (body.grant_type !== 'client_credential' || body.appid !== this.appId || body.secret !== this.secret) {
          return json(200, { errcode: 40013, errmsg: 'invalid appid' });
        }
        const give = () => json(200, { access_token: `token-${++this.tokens}`, expires_in: this.tokenExpiresIn });
        if (this.tokenAnswer === 'hang') return void this.held.push(give);
        if (typeof this.tokenAnswer === 'number') {
          return json(200, { errcode: this.tokenAnswer, errmsg: `error ${this.tokenAnswer}` });
        }
        return give();
      }
      if (request.method === 'POST' && url.pathname === '/cgi-bin/message/subscribe/send') {
        const token = url.searchParams.get('access_token') ?? '';
        this.sends.push({ token, body: body as unknown as ReceivedSend['body'] });
        if (this.expired.has(token)) return json(200, { errcode: 40001, errmsg: 'invalid credential' });
        const scripted = this.sendAnswers.shift() ?? 'ok';
        const ok = () => json(200, { errcode: 0, errmsg: 'ok', msgid: this.sends.length });
        if (scripted === 'hang') return void this.held.push(ok);
        if (scripted === 'http500') {
          response.writeHead(500, { 'content-type': 'text/plain' });
          return void response.end('Internal Server Error');
        }
        if (typeof scripted === 'number') return json(200, { errcode: scripted, errmsg: `error ${scripted}` });
        return ok();
      }
      if (request.method === 'POST' && url.pathname === '/wxa/msg_sec_check') {
        const token = url.searchParams.get('access_token') ?? '';
        this.checks.push({ token, body });
        if (this.expired.has(token)) return json(200, { errcode: 40001, errmsg: 'invalid credential' });
        if (body.version !== 2 || typeof body.openid !== 'string' || typeof body.content !== 'string') {
          return json(200, { errcode: 47001, errmsg: 'data format error' });
        }
        const scripted = this.checkAnswers.shift() ?? this.checkAnswer;
        const content = body.content;
        const suggest = content.includes('RISKY') ? 'risky' : content.includes('REVIEW') ? 'review' : 'pass';
        const verdict = () =>
          json(200, {
            errcode: 0,
            errmsg: 'ok',
            trace_id: `check-${this.checks.length}`,
            result: { suggest, label: suggest === 'pass' ? 100 : 20001 },
            detail: [{ strategy: 'content_model', errcode: 0, suggest, label: suggest === 'pass' ? 100 : 20001 }],
          });
        if (scripted === 'hang') return void this.held.push(verdict);
        if (scripted === 'http500') {
          response.writeHead(500, { 'content-type': 'text/plain' });
          return void response.end('Internal Server Error');
        }
        if (typeof scripted === 'number') return json(200, { errcode: scripted, errmsg: `error ${scripted}` });
        return verdict();
      }
      if (request.method === 'POST' && url.pathname === '/wxa/media_check_async') {
        const token = url.searchParams.get('access_token') ?? '';
        this.mediaChecks.push({ token, body });
        if (this.expired.has(token)) return json(200, { errcode: 40001, errmsg: 'invalid credential' });
        return json(200, { errcode: 0, errmsg: 'ok', trace_id: `trace-${this.mediaChecks.length}` });
      }
      json(404, { errcode: -1, errmsg: 'no such api' });
    });
  }
}
