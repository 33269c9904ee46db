/**
 * Production login: `POST /api/login` exchanges the code through WeChat's code2session. A real local
 * HTTP server stands in for api.weixin.qq.com and answers as WeChat documents; the js_code picks its
 * answer. Also: the openid, the secret and the session_key never reach a client, and `loadConfig`.
 */
import type http from 'node:http';
import net from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { directConversationId } from '../../contract/conversations';
import { isDirectSession, type DirectoryEntry } from '../../contract/frames';
import type { LoginResponse } from '../../contract/http';
import { WechatLogin, WechatLoginError } from '../src/auth/wechat';
import { loadConfig } from '../src/config';
import { useOwnServers, useTestServer } from './support/fixture';
import { api, expectFailure, settle, type ApiAnswer, type TestServer as Server } from './support/server';
import { WechatStandIn } from './support/wechat-stand-in';

const APP_ID = 'wx0123456789abcdef';
const SECRET = 'SeCrEt-of-the-app-4f9d2b7e61c0a8';
const SESSION_KEY = 'SeSsIoN-kEy-tF0pXq9Lm3Vz8w==';
const TIMEOUT_MS = 300;

/** What the stand-in received. */
interface Received {
  method: string;
  path: string;
  query: Record<string, string>;
}

/**
 * WeChat's code2session as documented, chosen by js_code:
 * `user:<openid>` success · `user0:<openid>` success with `errcode: 0` · `errcode:<n>` that error (HTTP 200) ·
 * `http500` a 500 page · `html` a 200 HTML page · `array` JSON that is not an object · `noopenid` 200 JSON
 * without an openid · `hang` never answers. A wrong appid, secret, grant_type or path gets errcode 40013.
 */
class FakeWechat extends WechatStandIn {
  readonly received: Received[] = [];

  protected answer(request: http.IncomingMessage, response: http.ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://stand-in');
    const query = Object.fromEntries(url.searchParams);
    this.received.push({ method: request.method ?? '', path: url.pathname, query });
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (
      request.method !== 'GET' ||
      url.pathname !== '/sns/jscode2session' ||
      query.appid !== APP_ID ||
      query.secret !== SECRET ||
      query.grant_type !== 'authorization_code' ||
      !query.js_code
    ) {
      return json(200, { errcode: 40013, errmsg: 'invalid appid' });
    }
    const [kind, arg = ''] = query.js_code.split(':');
    switch (kind) {
      case 'user':
        return json(200, { openid: arg, session_key: SESSION_KEY, unionid: `union-${arg}` });
      case 'user0':
        return json(200, { errcode: 0, errmsg: 'ok', openid: arg, session_key: SESSION_KEY });
      case 'errcode':
        return json(200, { errcode: Number(arg), errmsg: `error ${arg}, rid: 6650a1b2-1234` });
      case 'http500':
        response.writeHead(500, { 'content-type': 'text/plain' });
        return void response.end('Internal Server Error');
      case 'html':
        response.writeHead(200, { 'content-type': 'text/html' });
        return void response.end('<html><body>gateway maintenance</body></html>');
      case 'array':
        return json(200, [1, 2, 3]);
      case 'noopenid':
        return json(200, { session_key: SESSION_KEY });
      case 'hang':
        return; // never answers; stop() cuts the connection
      default:
        return json(200, { errcode: 40029, errmsg: 'invalid code' });
    }
  }
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** An openid unique to this run; it ends in characters that are not hex, so a hex nickname cannot end with them. */
function openid(label: string): string {
  return `oXy_${label}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}_QZ`;
}

const wechat = new FakeWechat();
let apiBase: string;
beforeAll(async () => {
  apiBase = await wechat.start();
});
const server = useTestServer(() => ({ wechat: { appId: APP_ID, secret: SECRET, apiBase, timeoutMs: TIMEOUT_MS } }));
// Declared after the server's hooks, so it stops after the server.
afterAll(() => wechat.stop());
const ownServer = useOwnServers();

/** Every answer the chat server gave in this file, to check that no secret is in any of them. */
const answered: string[] = [];

async function call(target: Server, method: string, route: string, options: Parameters<typeof api>[3] = {}) {
  const answer = await api(target.url, method, route, options);
  const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
  answered.push(text);
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain(SESSION_KEY);
  return answer;
}

function loginWith(code: string, target: Server = server, extra: Record<string, unknown> = {}): Promise<ApiAnswer> {
  return call(target, 'POST', '/api/login', { json: { code, ...extra } });
}

async function loggedIn(id: string, extra: Record<string, unknown> = {}): Promise<LoginResponse> {
  const answer = await loginWith(`user:${id}`, server, extra);
  expect(answer.status).toBe(200);
  return answer.body as LoginResponse;
}

describe('POST /api/login (production mode, WeChat code2session)', () => {
  it('asks code2session with the appid, the secret, the js_code and grant_type=authorization_code', async () => {
    const id = openid('ask');
    const before = wechat.received.length;
    await loggedIn(id);
    expect(wechat.received.slice(before)).toEqual([
      {
        method: 'GET',
        path: '/sns/jscode2session',
        query: { appid: APP_ID, secret: SECRET, js_code: `user:${id}`, grant_type: 'authorization_code' },
      },
    ]);
  });

  it('answers {token, user, expiresAt}; the token works for the directory and the socket', async () => {
    const id = openid('ok');
    const answer = await loggedIn(id);
    expect(answer).toEqual({
      token: expect.any(String),
      user: { id: expect.stringMatching(/^u[A-Za-z0-9_-]{12}$/), nickname: expect.any(String), avatar: '' },
      expiresAt: expect.any(Number),
    });
    expect(answer.user.nickname).toMatch(/^微信用户[A-Za-z0-9]{4}$/);

    const directory = await call(server, 'GET', '/api/users', { token: answer.token });
    expect(directory.status).toBe(200);

    const socket = await server.open(answer.token);
    await settle(socket);
  });

  it('gives the same openid the same user, a different openid a different user', async () => {
    const id = openid('same');
    const first = await loggedIn(id);
    const second = await loggedIn(id);
    expect(second.user.id).toBe(first.user.id);
    const other = await loggedIn(openid('other'));
    expect(other.user.id).not.toBe(first.user.id);
  });

  it('accepts a success that carries errcode 0', async () => {
    const id = openid('zero');
    const first = await loggedIn(id);
    const answer = await loginWith(`user0:${id}`);
    expect(answer.status).toBe(200);
    expect((answer.body as LoginResponse).user.id).toBe(first.user.id);
  });

  it('ignores a devId: the openid alone names the user', async () => {
    const id = openid('devid');
    const first = await loggedIn(id, { devId: 'device-aaaaaaaa' });
    const second = await loggedIn(id, { devId: 'device-bbbbbbbb' });
    expect(second.user.id).toBe(first.user.id);
    // And a devId alone is no way in: the code still goes to WeChat.
    const refused = await loginWith('errcode:40029', server, { devId: 'device-aaaaaaaa' });
    expectFailure(refused, 401, 'invalid_code');
  });

  it('never shows the openid (or unionid): not in the login answer, the directory, the profile or a socket frame', async () => {
    const aliceOpenid = openid('alice');
    const bobOpenid = openid('bob');
    const alice = await loggedIn(aliceOpenid);
    const bob = await loggedIn(bobOpenid);
    const secrets = [aliceOpenid, bobOpenid, aliceOpenid.slice(-4), bobOpenid.slice(-4), 'union-'];
    const expectClean = (text: string) => {
      for (const secret of secrets) expect(text).not.toContain(secret);
    };
    expectClean(JSON.stringify(alice));
    expectClean(JSON.stringify(bob));

    const profile = await call(server, 'PUT', '/api/profile', { token: alice.token, json: {} });
    expect(profile.status).toBe(200);
    expectClean(JSON.stringify(profile.body));

    const query = encodeURIComponent(alice.user.nickname);
    const directory = await call(server, 'GET', `/api/users?q=${query}`, { token: bob.token });
    const entries = directory.body as DirectoryEntry[];
    expect(entries.find((entry) => entry.id === alice.user.id)).toEqual({ ...alice.user, online: false });
    expectClean(JSON.stringify(entries));

    const aliceSocket = await server.open(alice.token);
    const bobSocket = await server.open(bob.token);
    aliceSocket.send({ type: 'send', cid: 'hello-1', to: bob.user.id, kind: 'text', body: 'hello bob' });
    await aliceSocket.next('ack', (ack) => ack.cid === 'hello-1');
    const message = await bobSocket.next('message', (frame) => frame.cid === 'hello-1');
    expect(message.from).toBe(alice.user.id);

    bobSocket.send({ type: 'sync', cursors: {} });
    const sessions = await bobSocket.next('sessions');
    const conv = directConversationId(alice.user.id, bob.user.id);
    expect(sessions.sessions.filter(isDirectSession).find((entry) => entry.conv === conv)?.peer).toEqual(alice.user);
    await bobSocket.next('synced');
    await settle(aliceSocket, bobSocket);

    for (const text of [...aliceSocket.texts, ...bobSocket.texts]) {
      expectClean(text);
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(SESSION_KEY);
    }
  });

  it.each([
    [40029, 401, 'invalid_code'],
    [40163, 401, 'invalid_code'],
    [45011, 429, 'rate_limited'],
    [-1, 503, 'wechat_busy'],
    [40226, 403, 'forbidden'],
    [40013, 502, 'wechat_unavailable'],
    [99999, 502, 'wechat_unavailable'],
  ])('maps errcode %i to %i %s', async (errcode, status, code) => {
    const message = expectFailure(await loginWith(`errcode:${errcode}`), status, code);
    expect(message.length).toBeGreaterThan(0);
    if (status === 502) expect(message).toMatch(/WeChat answered unexpectedly/);
  });

  it.each([
    ['an HTTP 500', 'http500', /WeChat answered unexpectedly \(HTTP 500\)/],
    ['a body that is not JSON', 'html', /WeChat answered unexpectedly/],
    ['JSON that is not an object', 'array', /WeChat answered unexpectedly/],
    ['an answer without an openid', 'noopenid', /WeChat answered unexpectedly/],
  ])('answers 502 wechat_unavailable for %s', async (_label, code, pattern) => {
    expect(expectFailure(await loginWith(code), 502, 'wechat_unavailable')).toMatch(pattern);
  });

  it('answers 502 wechat_unavailable when WeChat does not answer within the timeout', async () => {
    const started = Date.now();
    const message = expectFailure(await loginWith('hang'), 502, 'wechat_unavailable');
    expect(message).toMatch(/WeChat could not be reached/);
    expect(message).toContain(`${TIMEOUT_MS} ms`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 3000);
  });

  it('answers 502 wechat_unavailable when nothing listens at the WeChat address', async () => {
    const port = await closedPort();
    const offline = await ownServer({
      wechat: { appId: APP_ID, secret: SECRET, apiBase: `http://127.0.0.1:${port}`, timeoutMs: TIMEOUT_MS },
    });
    const message = expectFailure(await loginWith(`user:${openid('closed')}`, offline), 502, 'wechat_unavailable');
    expect(message).toMatch(/WeChat could not be reached/);
  });

  it('still checks the body: no code → 400', async () => {
    expectFailure(await call(server, 'POST', '/api/login', { json: { devId: 'device-aaaaaaaa' } }), 400, 'bad_request');
  });

  it('has put neither the secret nor a session_key in any answer of this file', () => {
    expect(answered.length).toBeGreaterThan(20);
    for (const text of answered) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(SESSION_KEY);
    }
  });
});

describe('WechatLogin (the exchange on its own)', () => {
  /** A WechatLogin whose log lines are kept. */
  function withLog(base: string): { login: WechatLogin; lines: string[] } {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const login = new WechatLogin(
      { appId: APP_ID, secret: SECRET, apiBase: base, timeoutMs: TIMEOUT_MS },
      pino({ level: 'info' }, stream),
    );
    return { login, lines };
  }

  async function failure(login: WechatLogin, code: string): Promise<WechatLoginError> {
    const error = await login.exchange(code).then(
      () => new Error('the exchange succeeded'),
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(WechatLoginError);
    return error as WechatLoginError;
  }

  it('returns the openid and unionid, and drops the session_key', async () => {
    const { login } = withLog(apiBase);
    const id = openid('unit');
    expect(await login.exchange(`user:${id}`)).toEqual({ openid: id, unionid: `union-${id}` });
  });

  it('logs the errcode, never the secret, the code or a session key', async () => {
    const { login, lines } = withLog(apiBase);
    const refused = await failure(login, 'errcode:45011');
    expect(refused).toMatchObject({ status: 429, code: 'rate_limited', errcode: 45011 });
    await failure(login, 'hang');
    await failure(login, 'html');
    const offline = withLog(`http://127.0.0.1:${await closedPort()}`);
    await failure(offline.login, 'user:x');
    lines.push(...offline.lines);
    const log = lines.join('');
    expect(log).toContain('"errcode":45011');
    expect(log).toContain('did not answer in time');
    expect(log).toContain('"reason":"ECONNREFUSED"');
    for (const line of lines) {
      expect(line).not.toContain(SECRET);
      expect(line).not.toContain(SESSION_KEY);
      expect(line).not.toContain('errcode:45011'); // the js_code
    }
  });
});

describe('loadConfig: WeChat settings', () => {
  it('is development mode (no wechat) when neither WX_APPID nor WX_SECRET is set', () => {
    expect(loadConfig({}).wechat).toBeUndefined();
  });

  it('refuses to start a production environment in development login mode unless DEV_LOGIN=1 says so', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/WX_APPID and WX_SECRET are not set/);
    expect(loadConfig({ NODE_ENV: 'production', DEV_LOGIN: '1' }).wechat).toBeUndefined();
    expect(loadConfig({ NODE_ENV: 'production', WX_APPID: APP_ID, WX_SECRET: SECRET }).wechat?.appId).toBe(APP_ID);
  });

  it('refuses WX_APPID without WX_SECRET, and the other way round, with a clear error', () => {
    expect(() => loadConfig({ WX_APPID: APP_ID })).toThrow(/WX_APPID and WX_SECRET go together/);
    expect(() => loadConfig({ WX_SECRET: SECRET })).toThrow(/WX_APPID and WX_SECRET go together/);
  });

  it('is production mode with both, at api.weixin.qq.com unless WX_API_BASE says otherwise', () => {
    expect(loadConfig({ WX_APPID: APP_ID, WX_SECRET: SECRET }).wechat).toEqual({
      appId: APP_ID,
      secret: SECRET,
      apiBase: 'https://api.weixin.qq.com',
    });
    expect(loadConfig({ WX_APPID: APP_ID, WX_SECRET: SECRET, WX_API_BASE: 'http://127.0.0.1:9/' }).wechat).toEqual({
      appId: APP_ID,
      secret: SECRET,
      apiBase: 'http://127.0.0.1:9',
    });
  });
});
