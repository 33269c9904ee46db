/**
 * A local HTTP server that stands in for WeChat's api.weixin.qq.com in the tests: a subclass says
 * how it answers; this starts it on a free loopback port and stops it. `WechatApiStandIn` is the
 * one the reminder tests use (code2session, stable_token, subscribe/send).
 */
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
      json(404, { errcode: -1, errmsg: 'no such api' });
    });
  }
}
