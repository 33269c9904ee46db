/**
 * WeChat's content check (docs/protocol.md, "Safety"; WX_CONTENT_CHECK=1) against the stand-in for
 * WeChat's API: msg_sec_check before a text, a nickname or a group's name or notice is stored
 * (pass, review, risky; WeChat down or slow, failing open and closed), media_check_async after an
 * image is stored and the verdict's signed push to /wechat/events, and the one access token the
 * check shares with reminders. One SQLite server per test.
 */
import { directConversationId } from '../../contract/conversations';
import type { ServerFrame } from '../../contract/frames';
import type { LoginResponse } from '../../contract/http';
import type { ContentCheckConfig, ServerConfig } from '../src/config';
import { loadConfig } from '../src/config';
import { FLAG_REASONS } from '../src/chat/content-check';
import { parseSubscribeFields } from '../src/notify/fields';
import { useOwnServers } from './support/fixture';
import { api, expectFailure, fullHistory, settle, TestSocket, uploadImage, type TestServer } from './support/server';
import { DATABASE_URL, dropSchema, newSchemaName, warnSkipped } from './support/services';
import { sleep, waitFor } from './support/wait';
import { mediaVerdictPush, pushQuery, WechatApiStandIn } from './support/wechat-stand-in';

const APP_ID = 'wx5ab1e0check00001';
const SECRET = 'check-secret-0123456789abcdef';
const PUSH_TOKEN = 'pushToken0123456789';
const ADMIN_TOKEN = 'test-admin-token-0123456789abcdefghij';

const wechat = new WechatApiStandIn(APP_ID, SECRET);
let apiBase: string;
beforeAll(async () => {
  apiBase = await wechat.start();
});
afterAll(() => wechat.stop());
beforeEach(() => wechat.reset());

const ownServer = useOwnServers();
const sockets: TestSocket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.ws.terminate();
  wechat.release();
});

function checkingServer(check: Partial<ContentCheckConfig> = {}, overrides: Partial<ServerConfig> = {}) {
  return ownServer({
    wechat: { appId: APP_ID, secret: SECRET, apiBase, timeoutMs: 2000 },
    contentCheck: { fail: 'open', timeoutMs: 1500, concurrency: 8, pushToken: PUSH_TOKEN, ...check },
    adminToken: ADMIN_TOKEN,
    ...overrides,
  });
}

let openids = 0;
interface User {
  id: string;
  token: string;
  openid: string;
  socket: TestSocket;
}

/** A WeChat user (their openid is the code), logged in, with a socket. */
async function user(server: TestServer): Promise<User> {
  const openid = `o_check_${++openids}_${Math.random().toString(36).slice(2, 8)}`;
  const answer = await api(server.url, 'POST', '/api/login', { json: { code: openid } });
  expect(answer.status).toBe(200);
  const login = answer.body as LoginResponse;
  const socket = await TestSocket.open(server.wsUrl, login.token);
  sockets.push(socket);
  return { id: login.user.id, token: login.token, openid, socket };
}

type Answer = Extract<ServerFrame, { type: 'ack' }> | Extract<ServerFrame, { type: 'error' }>;

function send(from: User, to: User, cid: string, body: string, kind = 'text'): Promise<Answer> {
  from.socket.send({ type: 'send', cid, kind, body, to: to.id });
  return Promise.race<Answer>([
    from.socket.next('ack', (frame) => frame.cid === cid),
    from.socket.next('error', (frame) => frame.ref === cid),
  ]);
}

interface Flag {
  conv: string;
  seq: number | null;
  reason: string;
  reporter: unknown;
  reported: { id: string } | null;
  message: { seq: number; kind: string } | null;
}

async function flags(server: TestServer): Promise<Flag[]> {
  const answer = await api(server.url, 'GET', '/api/admin/reports', { token: ADMIN_TOKEN });
  expect(answer.status).toBe(200);
  return (answer.body as { reports: Flag[] }).reports;
}

describe('texts through msg_sec_check', () => {
  it("pass: stored and delivered as without the check; version 2, scene 2 (comment), the author's openid", async () => {
    const server = await checkingServer();
    const [ann, ben] = [await user(server), await user(server)];
    const ack = await send(ann, ben, 'p1', '周末一起去爬山吗');
    expect(ack.type).toBe('ack');
    await ben.socket.next('message', (frame) => frame.cid === 'p1');
    expect(wechat.checks).toHaveLength(1);
    expect(wechat.checks[0]).toEqual({
      token: 'token-1',
      body: { content: '周末一起去爬山吗', version: 2, scene: 2, openid: ann.openid },
    });
    expect(await flags(server)).toEqual([]);
  });

  it('review: stored, delivered and listed for moderators', async () => {
    const server = await checkingServer();
    const [ann, ben] = [await user(server), await user(server)];
    const ack = await send(ann, ben, 'r1', 'REVIEW me');
    expect(ack.type).toBe('ack');
    await ben.socket.next('message', (frame) => frame.cid === 'r1');
    await waitFor(async () => (await flags(server)).length === 1, 'the flag');
    const [flag] = await flags(server);
    expect(flag).toMatchObject({
      seq: (ack as { seq: number }).seq,
      reason: FLAG_REASONS.review,
      reporter: null,
      reported: { id: ann.id },
      message: { kind: 'text' },
    });
  });

  it('risky: refused with content_refused (ref = cid), nothing stored or delivered', async () => {
    const server = await checkingServer();
    const [ann, ben] = [await user(server), await user(server)];
    const refused = await send(ann, ben, 'k1', 'something RISKY');
    expect(refused).toMatchObject({ type: 'error', code: 'content_refused', ref: 'k1' });
    // A resend of the cid is checked (and refused) again: nothing was stored under it.
    expect(await send(ann, ben, 'k1', 'something RISKY')).toMatchObject({ code: 'content_refused' });
    expect((await send(ann, ben, 'k2', 'fine')).type).toBe('ack');
    await ben.socket.next('message', (frame) => frame.cid === 'k2');
    await settle(ben.socket);
    expect(ben.socket.frames.some((frame) => frame.type === 'message' && frame.cid === 'k1')).toBe(false);
    const history = await fullHistory(ann.socket, directConversationId(ann.id, ben.id));
    expect(history.map((message) => message.cid)).toEqual(['k2']);
    expect(await flags(server)).toEqual([]);
  });

  for (const [what, answer] of [
    ['down (HTTP 500)', 'http500'],
    ['slow (no answer)', 'hang'],
  ] as const) {
    it(`WeChat ${what}, failing open: stored, delivered and flagged, within the timeout`, async () => {
      const server = await checkingServer({ timeoutMs: 400 });
      const [ann, ben] = [await user(server), await user(server)];
      wechat.checkAnswer = answer;
      const started = Date.now();
      expect((await send(ann, ben, 'o1', 'hello')).type).toBe('ack');
      expect(Date.now() - started).toBeLessThan(1500);
      await ben.socket.next('message', (frame) => frame.cid === 'o1');
      await waitFor(async () => (await flags(server)).length === 1, 'the flag');
      expect((await flags(server))[0]).toMatchObject({ reason: FLAG_REASONS.unanswered, reported: { id: ann.id } });
    });

    it(`WeChat ${what}, failing closed: refused with content_refused, nothing delivered`, async () => {
      const server = await checkingServer({ timeoutMs: 400, fail: 'closed' });
      const [ann, ben] = [await user(server), await user(server)];
      wechat.checkAnswer = answer;
      const started = Date.now();
      expect(await send(ann, ben, 'c1', 'hello')).toMatchObject({ type: 'error', code: 'content_refused', ref: 'c1' });
      expect(Date.now() - started).toBeLessThan(1500);
      wechat.checkAnswer = 'ok';
      expect((await send(ann, ben, 'c2', 'hello again')).type).toBe('ack');
      await ben.socket.next('message', (frame) => frame.cid === 'c2');
      expect(ben.socket.frames.some((frame) => frame.type === 'message' && frame.cid === 'c1')).toBe(false);
    });
  }

  it('keeps at most `concurrency` checks under way; the others wait for a place, within the timeout', async () => {
    const server = await checkingServer({ concurrency: 2, timeoutMs: 600 });
    const ben = await user(server);
    // A connection's frames are handled in turn: five senders, one text each, all at once.
    const senders = await Promise.all([1, 2, 3, 4, 5].map(() => user(server)));
    wechat.checkAnswer = 'hang';
    const answers = Promise.all(senders.map((sender, n) => send(sender, ben, `q${n}`, `text ${n}`)));
    await sleep(300);
    expect(wechat.holding).toBe(2);
    expect(wechat.checks).toHaveLength(2);
    // Failing open: every one is stored (and flagged) once its wait is over.
    expect((await answers).map((answer) => answer.type)).toEqual(['ack', 'ack', 'ack', 'ack', 'ack']);
  });
});

describe('nicknames and groups', () => {
  it('a risky nickname is refused (422 content_refused), a review one saved and flagged; scene 1 (profile)', async () => {
    const server = await checkingServer();
    const ann = await user(server);
    const refused = await api(server.url, 'PUT', '/api/profile', { token: ann.token, json: { nickname: 'RISKY名' } });
    expectFailure(refused, 422, 'content_refused');
    expect(wechat.checks[0].body).toMatchObject({ scene: 1, openid: ann.openid, content: 'RISKY名' });
    const me = await api(server.url, 'GET', '/api/me', { token: ann.token });
    expect((me.body as { nickname: string }).nickname).not.toBe('RISKY名');
    const saved = await api(server.url, 'PUT', '/api/profile', { token: ann.token, json: { nickname: 'REVIEW名' } });
    expect(saved.status).toBe(200);
    expect(await flags(server)).toEqual([
      expect.objectContaining({ reported: expect.objectContaining({ id: ann.id }), seq: null }),
    ]);
    expect((await flags(server))[0].reason).toContain(FLAG_REASONS.review);
  });

  it('group names and notices: risky refused (422), review saved and flagged', async () => {
    const server = await checkingServer();
    const [ann, ben] = [await user(server), await user(server)];
    expectFailure(
      await api(server.url, 'POST', '/api/groups', { token: ann.token, json: { name: 'RISKY群', members: [ben.id] } }),
      422,
      'content_refused',
    );
    const created = await api(server.url, 'POST', '/api/groups', {
      token: ann.token,
      json: { name: '爬山群', members: [ben.id] },
    });
    expect(created.status).toBe(201);
    const group = (created.body as { group: { id: string; name: string } }).group;
    expect(wechat.checks.map((check) => check.body.scene)).toEqual([1, 1]);
    expectFailure(
      await api(server.url, 'PATCH', `/api/groups/${group.id}`, { token: ann.token, json: { name: 'RISKY' } }),
      422,
      'content_refused',
    );
    // A member who may not change the group is told so (403), and WeChat is not asked.
    const asked = wechat.checks.length;
    expectFailure(
      await api(server.url, 'PATCH', `/api/groups/${group.id}`, { token: ben.token, json: { name: 'RISKY' } }),
      403,
      'forbidden',
    );
    expect(wechat.checks).toHaveLength(asked);
    const noticed = await api(server.url, 'PATCH', `/api/groups/${group.id}`, {
      token: ann.token,
      json: { notice: '周六REVIEW集合' },
    });
    expect(noticed.status).toBe(200);
    const [flag] = await flags(server);
    expect(flag).toMatchObject({ conv: `g:${group.id}`, seq: null, reported: { id: ann.id } });
    expect(flag.reason).toContain(FLAG_REASONS.review);
  });
});

describe('images and voice through media_check_async and the push', () => {
  async function imageSent(server: TestServer) {
    const [ann, ben] = [await user(server), await user(server)];
    const url = await uploadImage(server.url, ann.token);
    const ack = await send(ann, ben, 'img', url, 'image');
    if (ack.type !== 'ack') throw new Error(`the image was refused: ${JSON.stringify(ack)}`);
    await ben.socket.next('message', (frame) => frame.cid === 'img');
    await waitFor(() => wechat.mediaChecks.length === 1, 'the media check');
    expect(wechat.mediaChecks[0].body).toEqual({
      media_url: url,
      media_type: 2,
      version: 2,
      scene: 2,
      openid: ann.openid,
    });
    // The trace_id is kept once WeChat answered.
    await waitFor(async () => (await server.store.safety.takeMediaCheck('none')) === null, 'store');
    await sleep(50);
    return { ann, ben, ack };
  }

  function push(server: TestServer, body: unknown, query = pushQuery(PUSH_TOKEN)) {
    return api(server.url, 'POST', `/wechat/events?${query}`, { json: body });
  }

  it('a signed risky verdict recalls the message for both clients and flags it', async () => {
    const server = await checkingServer();
    const { ann, ben, ack } = await imageSent(server);
    const answer = await push(server, mediaVerdictPush(APP_ID, 'trace-1', 'risky'));
    expect(answer).toMatchObject({ status: 200, body: 'success' });
    const event = JSON.stringify({ event: 'recalled', seq: ack.seq });
    for (const socket of [ann.socket, ben.socket]) {
      await socket.next('message', (frame) => frame.kind === 'system' && frame.body === event);
    }
    const history = await fullHistory(ben.socket, ack.conv);
    expect(history.find((message) => message.seq === ack.seq)).toMatchObject({ kind: 'recalled' });
    expect(await flags(server)).toEqual([
      expect.objectContaining({ seq: ack.seq, reason: FLAG_REASONS.mediaRisky, reporter: null }),
    ]);
    // The same verdict again changes nothing.
    expect((await push(server, mediaVerdictPush(APP_ID, 'trace-1', 'risky'))).status).toBe(200);
    expect(await flags(server)).toHaveLength(1);
  });

  it('a forged push is refused (403) and changes nothing; a pass verdict changes nothing', async () => {
    const server = await checkingServer();
    const { ben, ack } = await imageSent(server);
    const verdict = mediaVerdictPush(APP_ID, 'trace-1', 'risky');
    expectFailure(await push(server, verdict, pushQuery('not-the-token')), 403, 'forbidden');
    expectFailure(await push(server, verdict, ''), 403, 'forbidden');
    const forged = new URLSearchParams(pushQuery(PUSH_TOKEN));
    forged.set('nonce', 'other');
    expectFailure(await push(server, verdict, forged.toString()), 403, 'forbidden');
    expect((await push(server, mediaVerdictPush(APP_ID, 'trace-1', 'pass'))).status).toBe(200);
    await settle(ben.socket);
    const history = await fullHistory(ben.socket, ack.conv);
    expect(history.find((message) => message.seq === ack.seq)).toMatchObject({ kind: 'image' });
    expect(await flags(server)).toEqual([]);
  });

  it('answers the GET URL verification with echostr when signed, 403 otherwise', async () => {
    const server = await checkingServer();
    const ok = await api(server.url, 'GET', `/wechat/events?${pushQuery(PUSH_TOKEN, { echostr: 'echo-123' })}`);
    expect(ok).toMatchObject({ status: 200, body: 'echo-123' });
    const forged = await api(server.url, 'GET', `/wechat/events?${pushQuery('wrong-token', { echostr: 'echo-123' })}`);
    expectFailure(forged, 403, 'forbidden');
  });

  it('has no /wechat/events without WX_PUSH_TOKEN', async () => {
    const server = await checkingServer({ pushToken: undefined });
    const answer = await api(server.url, 'GET', `/wechat/events?${pushQuery(PUSH_TOKEN, { echostr: 'x' })}`);
    expect(answer.status).toBe(404);
  });
});

describe('the access token', () => {
  it('is the one reminders use: one stable_token fetch for checks and reminders; fetched once more on 40001', async () => {
    const server = await checkingServer(
      {},
      {
        subscribe: {
          templateId: 'tmpl-check-0001',
          keywords: parseSubscribeFields('{"name1":"sender","thing2":"text","time3":"time","thing4":"conversation"}'),
          miniprogramState: 'formal',
        },
        notifyCooldownS: 0,
      },
    );
    const [ann, ben] = [await user(server), await user(server)];
    // Ben closes his app and has a credit: Ann's texts remind him.
    ben.socket.ws.terminate();
    for (let n = 0; n < 3; n++) {
      const answer = await api(server.url, 'POST', '/api/subscriptions', {
        token: ben.token,
        json: { templateId: 'tmpl-check-0001', result: 'accept' },
      });
      expect(answer.status).toBe(200);
    }
    await sleep(100);
    for (const n of [1, 2, 3]) expect((await send(ann, ben, `t${n}`, `text ${n}`)).type).toBe('ack');
    await server.reminders?.idle();
    expect(wechat.sends.length).toBeGreaterThanOrEqual(1);
    expect(wechat.sends.every((sent) => sent.token === 'token-1')).toBe(true);
    expect(wechat.checks.every((check) => check.token === 'token-1')).toBe(true);
    expect(wechat.tokenFetches).toHaveLength(1);
    // WeChat calls the token expired: one more fetch, and the check passes with the new one.
    wechat.expired.add('token-1');
    expect((await send(ann, ben, 't4', 'text 4')).type).toBe('ack');
    expect(wechat.tokenFetches).toHaveLength(2);
    expect(wechat.checks.at(-1)?.token).toBe('token-2');
    expect(await flags(server)).toEqual([]);
  });
});

if (DATABASE_URL) {
  const url = DATABASE_URL;
  describe('on PostgreSQL', () => {
    let schema = '';
    beforeAll(() => {
      schema = newSchemaName('ccheck');
    });
    afterAll(async () => {
      await dropSchema(url, schema);
    });

    it('flags a review text, refuses a risky one, and recalls an image on a signed risky verdict', async () => {
      const server = await checkingServer({}, { databaseUrl: url, databaseSchema: schema });
      const [ann, ben] = [await user(server), await user(server)];
      expect(await send(ann, ben, 'pk', 'RISKY')).toMatchObject({ code: 'content_refused', ref: 'pk' });
      const review = await send(ann, ben, 'pr', 'REVIEW');
      expect(review.type).toBe('ack');
      const image = await uploadImage(server.url, ann.token);
      const ack = await send(ann, ben, 'pi', image, 'image');
      if (ack.type !== 'ack') throw new Error('the image was refused');
      await waitFor(() => wechat.mediaChecks.length === 1, 'the media check');
      await sleep(100);
      const query = pushQuery(PUSH_TOKEN);
      const pushed = await api(server.url, 'POST', `/wechat/events?${query}`, {
        json: mediaVerdictPush(APP_ID, 'trace-1', 'risky'),
      });
      expect(pushed.status).toBe(200);
      const event = JSON.stringify({ event: 'recalled', seq: ack.seq });
      await ben.socket.next('message', (frame) => frame.kind === 'system' && frame.body === event);
      const reasons = (await flags(server)).map((flag) => flag.reason).sort();
      expect(reasons).toEqual([FLAG_REASONS.mediaRisky, FLAG_REASONS.review].sort());
    });
  });
} else {
  warnSkipped('the content check on PostgreSQL (server/test/content-check.test.ts)', ['DATABASE_URL']);
}

describe('settings', () => {
  const base = { WX_APPID: APP_ID, WX_SECRET: SECRET };
  it('WX_CONTENT_CHECK=1 needs WX_APPID and WX_SECRET; WX_CONTENT_CHECK_FAIL is open (default) or closed', () => {
    expect(() => loadConfig({ WX_CONTENT_CHECK: '1' })).toThrow(/WX_CONTENT_CHECK=1 needs WX_APPID and WX_SECRET/);
    expect(loadConfig({ ...base, WX_CONTENT_CHECK: '1' }).contentCheck).toEqual({
      fail: 'open',
      timeoutMs: 3000,
      concurrency: 8,
      pushToken: undefined,
    });
    expect(
      loadConfig({ ...base, WX_CONTENT_CHECK: '1', WX_CONTENT_CHECK_FAIL: 'closed', WX_PUSH_TOKEN: 't0ken' })
        .contentCheck,
    ).toMatchObject({ fail: 'closed', pushToken: 't0ken' });
    expect(() => loadConfig({ ...base, WX_CONTENT_CHECK: '1', WX_CONTENT_CHECK_FAIL: 'maybe' })).toThrow(
      /WX_CONTENT_CHECK_FAIL/,
    );
    expect(loadConfig(base).contentCheck).toBeUndefined();
  });
});
