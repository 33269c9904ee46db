/**
 * The HTTP surface under attack (issue 14, rows 6, 11, 13, 14, 15, 16): each attack runs against
 * a real server on a loopback port, and a normal two-user chat (`chatStillWorks`) goes on while it
 * runs.
 */
import type http from 'node:http';
import net from 'node:net';
import type { DirectoryEntry, PublicUser } from '../../contract/frames';
import type { LoginResponse } from '../../contract/http';
import { loadConfig } from '../src/config';
import { useOwnServers } from './support/fixture';
import {
  api,
  chatStillWorks,
  closeAll,
  expectFailure,
  login,
  person,
  TestSocket,
  type TestServer,
} from './support/server';
import { sleep, waitFor } from './support/wait';
import { WechatStandIn } from './support/wechat-stand-in';

const startServer = useOwnServers();
const sockets: TestSocket[] = [];
afterEach(() => closeAll(sockets));

/** The defaults a public deployment gets: LOGIN_RATE 10 a minute, LOGIN_BURST 20. */
const DEFAULT_LOGIN = loadConfig({}).loginRate;

function devId(): string {
  return `dev-${Math.random().toString(36).slice(2, 14)}`;
}

/** Everyone the server has an account for. */
async function accounts(server: TestServer): Promise<number> {
  return (await server.store.searchUsers('', 'nobody', 100_000)).length;
}

/** A login as the proxy in front of the server reports it: from `address`. */
function loginFrom(server: TestServer, address: string, body: object) {
  return api(server.url, 'POST', '/api/login', { json: body, headers: { 'x-forwarded-for': address } });
}

/** Opens a raw TCP connection, writes `bytes` (if any), and resolves when the server closes it. */
function rawConnection(port: number, bytes?: string): { closed: Promise<string>; socket: net.Socket } {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString()));
  socket.on('error', () => {});
  if (bytes) socket.write(bytes);
  const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(received)));
  return { closed, socket };
}

/** WeChat's code2session stand-in: `dev-code` is a valid code for a new openid each time; others fail. */
class FakeCode2Session extends WechatStandIn {
  readonly codes: string[] = [];

  protected answer(request: http.IncomingMessage, response: http.ServerResponse): void {
    const code = new URL(request.url ?? '/', 'http://stand-in').searchParams.get('js_code') ?? '';
    this.codes.push(code);
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify(
        code === 'dev-code'
          ? { openid: `openid-${Math.random().toString(36).slice(2)}`, session_key: 'k' }
          : { errcode: 40029, errmsg: 'invalid code' },
      ),
    );
  }
}

describe('attack 6: many logins from one address', () => {
  // The attacker is one address behind the proxy (X-Forwarded-For); the two people of
  // chatStillWorks connect straight from 127.0.0.1, another address with its own budget.
  const behindProxy = { loginRate: DEFAULT_LOGIN, trustProxy: 'loopback' };

  it('makes at most LOGIN_BURST accounts of 500 development logins with new device ids, and answers 429', async () => {
    const server = await startServer(behindProxy);
    const before = await accounts(server);
    const attack = (async () => {
      const answers = [];
      for (let i = 0; i < 500; i++) answers.push(await loginFrom(server, '203.0.113.7', { code: 'x', devId: devId() }));
      return answers;
    })();
    await chatStillWorks(server);
    const answers = await attack;

    const taken = answers.filter((answer) => answer.status === 200).length;
    expect(taken).toBeLessThanOrEqual(DEFAULT_LOGIN.burst);
    expect(taken).toBeGreaterThan(0);
    const refused = answers.find((answer) => answer.status === 429)!;
    expectFailure(refused, 429, 'rate_limited');
    // chatStillWorks made two; the attacker at most the burst.
    expect((await accounts(server)) - before).toBeLessThanOrEqual(DEFAULT_LOGIN.burst + 2);
  });

  it('tells the client when to come back (Retry-After)', async () => {
    const server = await startServer({ loginRate: { perMinute: 1, burst: 1 } });
    expect((await api(server.url, 'POST', '/api/login', { json: { code: 'x', devId: devId() } })).status).toBe(200);
    const response = await fetch(`${server.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'x', devId: devId() }),
    });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('does not trust X-Forwarded-For without TRUST_PROXY: a new forged address per login changes nothing', async () => {
    const server = await startServer({ loginRate: DEFAULT_LOGIN });
    const before = await accounts(server);
    let taken = 0;
    for (let i = 0; i < 100; i++) {
      const answer = await loginFrom(server, `198.51.100.${i}`, { code: 'x', devId: devId() });
      if (answer.status === 200) taken++;
    }
    expect(taken).toBeLessThanOrEqual(DEFAULT_LOGIN.burst);
    expect((await accounts(server)) - before).toBeLessThanOrEqual(DEFAULT_LOGIN.burst);
  });

  it('lets at most LOGIN_BURST of 200 production logins with bad codes reach WeChat', async () => {
    const wechat = new FakeCode2Session();
    const apiBase = await wechat.start();
    try {
      const server = await startServer({
        ...behindProxy,
        wechat: { appId: 'wx0123456789abcdef', secret: 'secret', apiBase, timeoutMs: 2000 },
      });
      const attack = (async () => {
        const statuses: number[] = [];
        for (let i = 0; i < 200; i++) {
          statuses.push((await loginFrom(server, '203.0.113.9', { code: `bad-${i}` })).status);
        }
        return statuses;
      })();
      await chatStillWorks(server);
      const statuses = await attack;
      const reached = wechat.codes.filter((code) => code.startsWith('bad-'));
      expect(reached.length).toBeLessThanOrEqual(DEFAULT_LOGIN.burst);
      expect(statuses.filter((status) => status === 429).length).toBe(200 - reached.length);
    } finally {
      await wechat.stop();
    }
  });
});

describe('attack 11: idle connections', () => {
  const IDLE_MS = 300;

  it('closes connections that send nothing, stall mid-headers or mid-body, or idle after a request', async () => {
    const server = await startServer({ httpIdleTimeoutMs: IDLE_MS });
    const silent = Array.from({ length: 50 }, () => rawConnection(server.port));
    const midHeaders = rawConnection(server.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const midBody = rawConnection(
      server.port,
      'POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"co',
    );
    const keptAlive = rawConnection(server.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const all = [...silent, midHeaders, midBody, keptAlive];
    let closed = 0;
    for (const connection of all) void connection.closed.then(() => closed++);
    try {
      await chatStillWorks(server);
      await waitFor(() => closed === all.length, 'every idle connection to be closed', 10_000);
      // The kept-alive one got its answer first.
      expect(await keptAlive.closed).toContain('"status":"ok"');
    } finally {
      for (const connection of all) connection.socket.destroy();
    }
  });

  it('leaves a WebSocket that is quiet for longer than the HTTP timeout (but within its heartbeat) open', async () => {
    const server = await startServer({ httpIdleTimeoutMs: IDLE_MS, heartbeatMs: 10_000 });
    const alice = await person(server, sockets);
    let closedEarly = false;
    void alice.socket.closed.then(() => (closedEarly = true));
    await chatStillWorks(server);
    // Several HTTP timeouts (and the server's connection check) pass without a byte either way.
    await sleep(IDLE_MS * 5);
    expect(closedEarly).toBe(false);
    alice.socket.send({ type: 'ping' });
    await alice.socket.next('pong');
  });
});

describe('attack 13: /metrics without credentials', () => {
  it('answers 404 when METRICS_TOKEN is not set', async () => {
    const server = await startServer({ metricsToken: undefined });
    const attack = api(server.url, 'GET', '/metrics');
    await chatStillWorks(server);
    expectFailure(await attack, 404, 'not_found');
    expectFailure(await api(server.url, 'GET', '/metrics', { token: 'anything' }), 404, 'not_found');
  });

  it('answers 401 without the token or with a wrong one, and the figures with the right one', async () => {
    const server = await startServer({ metricsToken: 'right-token' });
    const attacks = Promise.all([
      api(server.url, 'GET', '/metrics'),
      api(server.url, 'GET', '/metrics', { token: 'wrong-token' }),
      api(server.url, 'GET', '/metrics', { headers: { authorization: 'Basic right-token' } }),
      api(server.url, 'GET', '/metrics', { token: 'right-token-and-more' }),
    ]);
    await chatStillWorks(server);
    for (const answer of await attacks) {
      expectFailure(answer, 401, 'unauthorized');
      expect(String(answer.body)).not.toContain('nodejs_version_info');
    }
    const figures = await api(server.url, 'GET', '/metrics', { token: 'right-token' });
    expect(figures.status).toBe(200);
    expect(figures.contentType).toMatch(/^text\/plain/);
    expect(figures.body).toContain('chat_connections_open');
  });
});

describe('attack 14: errors in our shape', () => {
  it('answers Fastify and Node failures as {error:{code,message}}, with 415 and no type coercion', async () => {
    const server = await startServer();
    const me = await login(server.url, devId());
    const attack = Promise.all([
      api(server.url, 'GET', '/%E0%A4%A'),
      api(server.url, 'POST', '/api/login', { raw: 'code=x', headers: { 'content-type': 'text/plain' } }),
      api(server.url, 'POST', '/api/login', {
        raw: '{"code": "x", devId',
        headers: { 'content-type': 'application/json' },
      }),
      api(server.url, 'POST', '/api/login', { json: { code: 'x', devId: 'abcdefgh12', pad: 'x'.repeat(64 * 1024) } }),
      api(server.url, 'PUT', '/api/profile', { token: me.token, json: { nickname: 123 } }),
    ]);
    await chatStillWorks(server);
    const [badUrl, textPlain, brokenJson, tooLarge, numberNickname] = await attack;
    expectFailure(badUrl, 400, 'bad_request');
    expectFailure(textPlain, 415, 'unsupported_media_type');
    expectFailure(brokenJson, 400, 'bad_request');
    expectFailure(tooLarge, 413, 'too_large');
    expectFailure(numberNickname, 400, 'bad_request');
    // 123 did not become "123".
    const profile = await api(server.url, 'GET', '/api/me', { token: me.token });
    expect((profile.body as PublicUser).nickname).toBe(me.user.nickname);
  });

  it('answers a garbage request line with our JSON and closes the connection', async () => {
    const server = await startServer();
    const garbage = rawConnection(server.port, 'HELLO THERE\r\n\r\n');
    await chatStillWorks(server);
    const answer = await garbage.closed;
    const [head, body] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect(head.toLowerCase()).toContain('content-type: application/json');
    expect(JSON.parse(body)).toEqual({ error: { code: 'bad_request', message: expect.any(String) } });
  });

  it('counts nickname lengths in UTF-16 units: 16 emoji fit in 32, 17 do not', async () => {
    const server = await startServer();
    const me = await login(server.url, devId());
    await chatStillWorks(server);
    const fits = await api(server.url, 'PUT', '/api/profile', { token: me.token, json: { nickname: '😀'.repeat(16) } });
    expect(fits.status).toBe(200);
    const over = await api(server.url, 'PUT', '/api/profile', { token: me.token, json: { nickname: '😀'.repeat(17) } });
    expectFailure(over, 400, 'bad_request');
  });
});

describe('attack 15: the directory', () => {
  async function directory(server: TestServer, token: string, query: string) {
    return api(server.url, 'GET', `/api/users${query}`, { token });
  }

  it('refuses a one-character search, and never shows a stranger online', async () => {
    const server = await startServer();
    const me = await person(server, sockets);
    const stranger = await person(server, sockets); // online now, never talked to me
    const attack = directory(server, me.token, '?q=a');
    await chatStillWorks(server);
    expectFailure(await attack, 400, 'bad_request');
    expectFailure(await directory(server, me.token, `?q=${encodeURIComponent('微')}`), 400, 'bad_request');

    const found = await directory(server, me.token, `?q=${encodeURIComponent(stranger.login.user.nickname)}`);
    expect(found.status).toBe(200);
    expect(found.body).toEqual([{ ...stranger.login.user, online: false }]);
  });

  it('lists only my peers without a query, with their presence, a page at a time', async () => {
    const server = await startServer();
    const me = await person(server, sockets);
    const peers: LoginResponse[] = [];
    for (let i = 0; i < 5; i++) {
      const peer = await person(server, sockets);
      peers.push(peer.login);
      me.socket.send({ type: 'send', cid: `hi-${i}`, to: peer.id, kind: 'text', body: '你好' });
      await me.socket.next('ack', (frame) => frame.cid === `hi-${i}`);
    }
    await person(server, sockets); // a stranger, online
    await chatStillWorks(server);

    const all = await directory(server, me.token, '');
    expect(all.status).toBe(200);
    const entries = all.body as DirectoryEntry[];
    expect(entries.map((entry) => entry.id).sort()).toEqual(peers.map((peer) => peer.user.id).sort());
    expect(entries.every((entry) => entry.online)).toBe(true);

    const first = (await directory(server, me.token, '?q=&limit=2')).body as DirectoryEntry[];
    const second = (await directory(server, me.token, '?limit=2&offset=2')).body as DirectoryEntry[];
    const third = (await directory(server, me.token, '?limit=2&offset=4')).body as DirectoryEntry[];
    expect([first.length, second.length, third.length]).toEqual([2, 2, 1]);
    expect([...first, ...second, ...third]).toEqual(entries);

    expectFailure(await directory(server, me.token, '?limit=51'), 400, 'bad_request');
    expectFailure(await directory(server, me.token, '?limit=0'), 400, 'bad_request');
    expectFailure(await directory(server, me.token, '?offset=-1'), 400, 'bad_request');
  });

  it('pages a search: 20 by default, at most 50', async () => {
    const server = await startServer();
    const me = await login(server.url, devId());
    for (let i = 0; i < 25; i++) await login(server.url, devId());
    await chatStillWorks(server);
    // Every default nickname starts with 微信用户.
    const q = `?q=${encodeURIComponent('微信用户')}`;
    const page = (await directory(server, me.token, q)).body as DirectoryEntry[];
    expect(page).toHaveLength(20);
    const rest = (await directory(server, me.token, `${q}&offset=20&limit=50`)).body as DirectoryEntry[];
    expect(rest.length).toBeGreaterThanOrEqual(5);
    expect(new Set([...page, ...rest].map((entry) => entry.id)).size).toBe(page.length + rest.length);
  });

  it('gives a new user a random default nickname, nothing of the device id', async () => {
    const server = await startServer();
    await chatStillWorks(server);
    const id = `${devId()}____`;
    const { user } = await login(server.url, id);
    expect(user.nickname).toMatch(/^微信用户[A-Za-z0-9]{4}$/);
    expect(user.nickname.endsWith('____')).toBe(false);
    const again = await login(server.url, `${devId()}____`);
    expect(again.user.nickname).toMatch(/^微信用户[A-Za-z0-9]{4}$/);
  });
});

describe('attack 16: response headers', () => {
  const PNG = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
    'base64',
  );

  function expectProtected(headers: Headers): void {
    expect(headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(headers.get('x-frame-options')).toBe('DENY');
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    expect(headers.get('referrer-policy')).toBe('no-referrer');
    // HSTS comes from the TLS proxy (deploy/nginx.conf), never from a server that may be plain HTTP.
    expect(headers.get('strict-transport-security')).toBeNull();
  }

  it('sends security headers on answers, errors and images; images may be embedded elsewhere', async () => {
    const server = await startServer();
    const me = await login(server.url, devId());
    const attack = Promise.all([
      fetch(`${server.url}/healthz`),
      fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${me.token}` } }),
      fetch(`${server.url}/nope`),
      fetch(`${server.url}/api/users`),
      fetch(`${server.url}/%E0%A4%A`),
    ]);
    await chatStillWorks(server);
    for (const response of await attack) expectProtected(response.headers);

    const form = new FormData();
    form.append('file', new Blob([PNG], { type: 'image/png' }), 'a.png');
    const upload = await fetch(`${server.url}/api/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${me.token}` },
      body: form,
    });
    expect(upload.status).toBe(200);
    const { url } = (await upload.json()) as { url: string };
    const image = await fetch(url);
    expect(image.status).toBe(200);
    expectProtected(image.headers);
    expect(image.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(Buffer.from(await image.arrayBuffer()).equals(PNG)).toBe(true);
  });
});
