/**
 * Reminders of a user whose app is closed (docs/protocol.md, "Reaching a user whose app is closed"):
 * credits through `/api/subscriptions`, and WeChat subscription messages sent through a local
 * stand-in for WeChat's API on loopback (code2session, stable_token, subscribe/send). One server
 * (SQLite) per test; the multi-instance cases are in notify-cluster.test.ts.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { directConversationId } from '../../contract/conversations';
import type { LoginResponse, SubscriptionCredits, SubscriptionState } from '../../contract/http';
import { loadConfig, type ServerConfig } from '../src/config';
import { parseSubscribeFields } from '../src/notify/fields';
import { useOwnServers } from './support/fixture';
import {
  api,
  expectFailure,
  readMetrics,
  settle,
  startTestServer,
  TestSocket,
  uploadImage,
  type TestServer,
} from './support/server';
import { sleep, waitFor } from './support/wait';
import { WechatApiStandIn } from './support/wechat-stand-in';

const APP_ID = 'wx5ab1e0notify0001';
const SECRET = 'notify-secret-0123456789abcdef';
const TEMPLATE = 'tmpl-NewMessage-0001';
const FIELDS = '{"name1":"sender","thing2":"text","time3":"time","thing4":"conversation"}';

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
  // Whatever a test left held back is answered, so its server stops at once.
  wechat.release();
});

/** A server with reminders on (cooldown 0 unless the test sets one). */
function remindingServer(overrides: Partial<ServerConfig> = {}): Promise<TestServer> {
  return ownServer({
    wechat: { appId: APP_ID, secret: SECRET, apiBase, timeoutMs: 2000 },
    subscribe: { templateId: TEMPLATE, keywords: parseSubscribeFields(FIELDS), miniprogramState: 'formal' },
    notifyCooldownS: 0,
    ...overrides,
  });
}

let openids = 0;
interface User {
  id: string;
  token: string;
  openid: string;
}

/** A WeChat user (their openid is the code), logged in, no socket open: their app is closed. */
async function user(server: TestServer, nickname?: string): Promise<User> {
  const openid = `o_notify_${++openids}_${Math.random().toString(36).slice(2, 8)}`;
  const answer = await api(server.url, 'POST', '/api/login', { json: { code: openid } });
  expect(answer.status).toBe(200);
  const login = answer.body as LoginResponse;
  if (nickname !== undefined) {
    const renamed = await api(server.url, 'PUT', '/api/profile', { token: login.token, json: { nickname } });
    expect(renamed.status).toBe(200);
  }
  return { id: login.user.id, token: login.token, openid };
}

async function connect(server: TestServer, who: User): Promise<TestSocket> {
  const socket = await TestSocket.open(server.wsUrl, who.token);
  sockets.push(socket);
  return socket;
}

async function report(server: TestServer, who: User, result: string, templateId = TEMPLATE) {
  return api(server.url, 'POST', '/api/subscriptions', { token: who.token, json: { templateId, result } });
}

async function credit(server: TestServer, who: User, count = 1): Promise<void> {
  for (let i = 0; i < count; i++) expect((await report(server, who, 'accept')).status).toBe(200);
}

async function creditsOf(server: TestServer, who: User): Promise<number> {
  const answer = await api(server.url, 'GET', '/api/subscriptions', { token: who.token });
  expect(answer.status).toBe(200);
  return (answer.body as SubscriptionState).credits;
}

let cids = 0;
/** Sends a message and waits for its ack. */
async function send(socket: TestSocket, to: { to: string } | { conv: string }, body = 'hello', extra = {}) {
  const cid = `n-${++cids}`;
  socket.send({ type: 'send', cid, kind: 'text', body, ...to, ...extra });
  return socket.next('ack', (frame) => frame.cid === cid);
}

/** Everything the server queued for WeChat has been done. */
async function remindersDone(server: TestServer): Promise<void> {
  await server.reminders?.idle();
}

const sendsTo = (who: User) => wechat.sends.filter((send) => send.body.touser === who.openid);

async function createGroup(server: TestServer, owner: User, name: string, members: User[]): Promise<string> {
  const answer = await api(server.url, 'POST', '/api/groups', {
    token: owner.token,
    json: { name, members: members.map((member) => member.id) },
  });
  expect(answer.status).toBe(201);
  return `g:${(answer.body as { group: { id: string } }).group.id}`;
}

describe('/api/subscriptions', () => {
  it('accept gives one credit (at most 50); reject, ban and filter change nothing; GET says it', async () => {
    const server = await remindingServer();
    const ann = await user(server);
    expect(await api(server.url, 'GET', '/api/subscriptions', { token: ann.token })).toMatchObject({
      status: 200,
      body: { enabled: true, templateId: TEMPLATE, credits: 0 },
    });
    expect(await report(server, ann, 'reject')).toMatchObject({
      status: 200,
      body: { templateId: TEMPLATE, credits: 0 },
    });
    expect(await report(server, ann, 'accept')).toMatchObject({
      status: 200,
      body: { templateId: TEMPLATE, credits: 1 },
    });
    expect(await report(server, ann, 'accept')).toMatchObject({ status: 200, body: { credits: 2 } });
    for (const result of ['reject', 'ban', 'filter']) {
      expect(await report(server, ann, result)).toMatchObject({ status: 200, body: { credits: 2 } });
    }
    await credit(server, ann, 48);
    expect(await creditsOf(server, ann)).toBe(50);
    expect((await report(server, ann, 'accept')).body).toEqual({
      templateId: TEMPLATE,
      credits: 50,
    } satisfies SubscriptionCredits);
    expect(await creditsOf(server, ann)).toBe(50);
  });

  it('refuses another template (400), a bad body (400) and no token (401)', async () => {
    const server = await remindingServer();
    const ann = await user(server);
    expectFailure(await report(server, ann, 'accept', 'tmpl-other'), 400, 'bad_request');
    expectFailure(await report(server, ann, 'maybe'), 400, 'bad_request');
    expectFailure(
      await api(server.url, 'POST', '/api/subscriptions', { token: ann.token, json: { templateId: TEMPLATE } }),
      400,
      'bad_request',
    );
    expectFailure(
      await api(server.url, 'POST', '/api/subscriptions', { json: { templateId: TEMPLATE, result: 'accept' } }),
      401,
      'unauthorized',
    );
    expectFailure(await api(server.url, 'GET', '/api/subscriptions'), 401, 'unauthorized');
    expect(await creditsOf(server, ann)).toBe(0);
  });

  it('allows 60 reports a minute per user; the next one is 429 rate_limited with Retry-After', async () => {
    const server = await remindingServer();
    const [ann, ben] = [await user(server), await user(server)];
    const answers = await Promise.all(Array.from({ length: 60 }, () => report(server, ann, 'reject')));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    const refused = await api(server.url, 'POST', '/api/subscriptions', {
      token: ann.token,
      json: { templateId: TEMPLATE, result: 'accept' },
    });
    expectFailure(refused, 429, 'rate_limited');
    const raw = await fetch(`${server.url}/api/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ann.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ templateId: TEMPLATE, result: 'accept' }),
    });
    expect(raw.status).toBe(429);
    expect(Number(raw.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another user's budget is their own; GET is not counted.
    expect((await report(server, ben, 'accept')).status).toBe(200);
    expect(await creditsOf(server, ann)).toBe(0);
  });

  it('reminders not configured: GET says enabled false, POST answers 0 credits and stores nothing, nothing is sent', async () => {
    // WeChat login, but no template.
    const server = await ownServer({ wechat: { appId: APP_ID, secret: SECRET, apiBase, timeoutMs: 2000 } });
    expect(server.reminders).toBeUndefined();
    const [ann, ben] = [await user(server), await user(server)];
    expect((await api(server.url, 'GET', '/api/subscriptions', { token: ben.token })).body).toEqual({
      enabled: false,
      templateId: '',
      credits: 0,
    } satisfies SubscriptionState);
    expect(await report(server, ben, 'accept', 'any-template')).toMatchObject({
      status: 200,
      body: { templateId: 'any-template', credits: 0 },
    });
    const socket = await connect(server, ann);
    await send(socket, { to: ben.id });
    await settle(socket);
    await sleep(100);
    expect(wechat.sends).toEqual([]);
    expect(wechat.tokenFetches).toEqual([]);
  });

  it('a template without WX_APPID/WX_SECRET (development login) is off too', async () => {
    const server = await ownServer({
      subscribe: { templateId: TEMPLATE, keywords: parseSubscribeFields(FIELDS), miniprogramState: 'formal' },
    });
    expect(server.reminders).toBeUndefined();
    const answer = await api(server.url, 'POST', '/api/login', { json: { code: 'x', devId: 'dev-notify-0001' } });
    const { token } = answer.body as LoginResponse;
    expect((await api(server.url, 'GET', '/api/subscriptions', { token })).body).toEqual({
      enabled: false,
      templateId: '',
      credits: 0,
    });
  });
});

describe('who gets a reminder', () => {
  it('an offline user with a credit gets one, with the template, page, state, lang and fields; the credit is spent', async () => {
    const server = await remindingServer();
    const ann = await user(server, 'Ann');
    const ben = await user(server, 'Ben');
    await credit(server, ben, 1);
    const socket = await connect(server, ann);
    const ack = await send(socket, { to: ben.id }, '晚上一起吃饭吗？');
    await remindersDone(server);
    const conv = directConversationId(ann.id, ben.id);
    expect(wechat.sends).toHaveLength(1);
    expect(wechat.sends[0]).toEqual({
      token: 'token-1',
      body: {
        touser: ben.openid,
        template_id: TEMPLATE,
        page: `pages/chat/chat?conv=${conv}`,
        miniprogram_state: 'formal',
        lang: 'zh_CN',
        data: {
          name1: { value: 'Ann' },
          thing2: { value: '晚上一起吃饭吗？' },
          time3: { value: expect.stringMatching(/^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}$/) },
          thing4: { value: 'Ann' },
        },
      },
    });
    // The time is the message's, in China Standard Time.
    const cst = new Date(ack.ts + 8 * 3600_000);
    expect(wechat.sends[0].body.data.time3.value).toBe(
      `${cst.getUTCFullYear()}年${cst.getUTCMonth() + 1}月${cst.getUTCDate()}日 ${String(cst.getUTCHours()).padStart(2, '0')}:${String(cst.getUTCMinutes()).padStart(2, '0')}`,
    );
    expect(await creditsOf(server, ben)).toBe(0);
    // No credit left: the next message sends nothing.
    await send(socket, { to: ben.id }, 'again');
    await remindersDone(server);
    expect(wechat.sends).toHaveLength(1);
  });

  it('an online user gets none; once their last connection closed they do', async () => {
    const server = await remindingServer();
    const [ann, ben] = [await user(server), await user(server)];
    await credit(server, ben, 3);
    const annSocket = await connect(server, ann);
    const benSocket = await connect(server, ben);
    await send(annSocket, { to: ben.id }, 'are you there?');
    await benSocket.next('message');
    await remindersDone(server);
    expect(wechat.sends).toEqual([]);
    // A second device, then both close: offline only when the last one is gone.
    const benPhone2 = await connect(server, ben);
    benSocket.close();
    await sleep(50);
    await send(annSocket, { to: ben.id }, 'still one device');
    await benPhone2.next('message');
    await remindersDone(server);
    expect(wechat.sends).toEqual([]);
    benPhone2.close();
    await annSocket.next('presence', (frame) => frame.user === ben.id && !frame.online);
    await send(annSocket, { to: ben.id }, 'now?');
    await remindersDone(server);
    expect(sendsTo(ben)).toHaveLength(1);
    expect(sendsTo(ben)[0].body.data.thing2.value).toBe('now?');
    expect(await creditsOf(server, ben)).toBe(2);
  });

  it('at most one per user per NOTIFY_COOLDOWN_S: a message inside it sends nothing, then or later, and spends no credit', async () => {
    const server = await remindingServer({ notifyCooldownS: 300 });
    const [ann, ben, cat] = [await user(server), await user(server), await user(server)];
    await credit(server, ben, 3);
    const annSocket = await connect(server, ann);
    const catSocket = await connect(server, cat);
    await send(annSocket, { to: ben.id }, 'first');
    await remindersDone(server);
    await send(annSocket, { to: ben.id }, 'second');
    // Another conversation: still the same user's cooldown.
    await send(catSocket, { to: ben.id }, 'third');
    await remindersDone(server);
    await sleep(100);
    expect(sendsTo(ben).map((send) => send.body.data.thing2.value)).toEqual(['first']);
    expect(await creditsOf(server, ben)).toBe(2);
  });

  it('a muted conversation reminds nobody; its credit is kept; another conversation still reminds', async () => {
    const server = await remindingServer();
    const [ann, ben, cat] = [await user(server), await user(server), await user(server)];
    await credit(server, ben, 1);
    const conv = directConversationId(ann.id, ben.id);
    const muted = await api(server.url, 'PUT', `/api/conversations/${conv}`, {
      token: ben.token,
      json: { muted: true },
    });
    expect(muted.status).toBe(200);
    const annSocket = await connect(server, ann);
    await send(annSocket, { to: ben.id }, 'muted');
    await remindersDone(server);
    expect(wechat.sends).toEqual([]);
    expect(await creditsOf(server, ben)).toBe(1);
    const catSocket = await connect(server, cat);
    await send(catSocket, { to: ben.id }, 'not muted');
    await remindersDone(server);
    expect(sendsTo(ben).map((send) => send.body.data.thing2.value)).toEqual(['not muted']);
  });

  it('a group message reminds only members who are offline, have not muted it and have a credit; sender is "群名: 昵称"', async () => {
    const server = await remindingServer();
    const ann = await user(server, 'Ann');
    const [ben, cat, dan, eve] = [await user(server), await user(server), await user(server), await user(server)];
    const conv = await createGroup(server, ann, '周末爬山', [ben, cat, dan, eve]);
    await credit(server, ben, 1); // offline, credit: reminded
    // cat: offline, no credit
    await credit(server, dan, 1); // online, credit
    await credit(server, eve, 1); // offline, credit, muted
    await api(server.url, 'PUT', `/api/conversations/${conv}`, { token: eve.token, json: { muted: true } });
    const annSocket = await connect(server, ann);
    await connect(server, dan);
    await send(annSocket, { conv }, '明早七点集合');
    await remindersDone(server);
    expect(wechat.sends.map((send) => send.body.touser)).toEqual([ben.openid]);
    expect(wechat.sends[0].body).toMatchObject({
      page: `pages/chat/chat?conv=${conv}`,
      data: { name1: { value: '周末爬山: Ann' }, thing2: { value: '明早七点集合' }, thing4: { value: '周末爬山' } },
    });
    expect([await creditsOf(server, dan), await creditsOf(server, eve)]).toEqual([1, 1]);
  });

  it('an @ mention comes first when the cooldown allows only one', async () => {
    // One call to WeChat at a time, and the first one held back: what follows waits in the queue.
    const server = await remindingServer({ notifyCooldownS: 300, notifySendConcurrency: 1 });
    const ann = await user(server, 'Ann');
    const [ben, zed] = [await user(server), await user(server)];
    await credit(server, ben, 2);
    await credit(server, zed, 1);
    const conv = await createGroup(server, ann, 'team', [ben]);
    const annSocket = await connect(server, ann);
    wechat.sendAnswers = ['hang'];
    await send(annSocket, { to: zed.id }, 'for zed');
    await waitFor(() => wechat.holding === 1, 'the first reminder to be held');
    await send(annSocket, { conv }, 'plain, first');
    await send(annSocket, { conv }, '@ben look', { mentions: [ben.id] });
    await send(annSocket, { conv }, 'plain, after');
    const reminders = server.reminders;
    if (!reminders) throw new Error('reminders are off');
    await waitFor(() => reminders.backlog().messages === 0, 'the messages to be looked at');
    expect(reminders.backlog()).toMatchObject({ reminders: 1, sending: 1 });
    wechat.release();
    await remindersDone(server);
    expect(sendsTo(ben).map((send) => send.body.data.thing2.value)).toEqual(['@ben look']);
    expect(await creditsOf(server, ben)).toBe(1);
  });

  it('a user who opens the app while their reminder waits gets none, and keeps the credit', async () => {
    const server = await remindingServer({ notifySendConcurrency: 1 });
    const [ann, ben, zed] = [await user(server), await user(server), await user(server)];
    await credit(server, ben, 1);
    await credit(server, zed, 1);
    const annSocket = await connect(server, ann);
    wechat.sendAnswers = ['hang'];
    await send(annSocket, { to: zed.id }, 'for zed');
    await waitFor(() => wechat.holding === 1, 'the first reminder to be held');
    await send(annSocket, { to: ben.id }, 'for ben');
    const reminders = server.reminders;
    if (!reminders) throw new Error('reminders are off');
    await waitFor(() => reminders.backlog().reminders === 1, "ben's reminder to wait");
    await connect(server, ben);
    await annSocket.next('presence', (frame) => frame.user === ben.id && frame.online);
    wechat.release();
    await remindersDone(server);
    expect(sendsTo(ben)).toEqual([]);
    expect(await creditsOf(server, ben)).toBe(1);
  });

  it('fits each field to its keyword type: thing ≤ 20, name ≤ 10, [图片] for a picture', async () => {
    const server = await remindingServer();
    const ann = await user(server, '一二三四五六七八九十十一十二');
    const ben = await user(server);
    await credit(server, ben, 1);
    const annSocket = await connect(server, ann);
    await send(annSocket, { to: ben.id }, '这是一条非常非常长的消息，长到订阅消息的 thing 字段放不下它的全部内容');
    await remindersDone(server);
    const { data } = wechat.sends[0].body;
    expect(data.name1.value).toBe('一二三四五六七八九十');
    expect(Array.from(data.thing2.value)).toHaveLength(20);
    expect(data.thing2.value).toBe('这是一条非常非常长的消息，长到订阅消息…');
    expect(Array.from(data.thing4.value).length).toBeLessThanOrEqual(20);
    // A picture shows as [图片].
    const url = await uploadImage(server.url, ann.token);
    await credit(server, ben, 1);
    annSocket.send({ type: 'send', cid: 'n-image', kind: 'image', body: url, to: ben.id });
    await annSocket.next('ack', (frame) => frame.cid === 'n-image');
    await remindersDone(server);
    expect(wechat.sends[1].body.data.thing2.value).toBe('[图片]');
  });
});

describe('the access token', () => {
  it('is fetched once and shared: concurrent reminders wait for one stable_token call', async () => {
    const server = await remindingServer();
    const ann = await user(server, 'Ann');
    const others = [await user(server), await user(server), await user(server)];
    for (const other of others) await credit(server, other, 2);
    const conv = await createGroup(server, ann, 'herd', others);
    wechat.tokenAnswer = 'hang';
    const annSocket = await connect(server, ann);
    await send(annSocket, { conv }, 'all at once');
    await waitFor(() => wechat.holding === 1, 'the token fetch to be held');
    await sleep(100);
    expect(wechat.tokenFetches).toHaveLength(1);
    expect(wechat.tokenFetches[0]).toMatchObject({ grant_type: 'client_credential', appid: APP_ID, secret: SECRET });
    wechat.tokenAnswer = 'ok';
    wechat.release();
    await remindersDone(server);
    expect(wechat.sends.map((send) => send.token)).toEqual(['token-1', 'token-1', 'token-1']);
    // Later reminders use the cached one.
    await send(annSocket, { conv }, 'again');
    await remindersDone(server);
    expect(wechat.tokenFetches).toHaveLength(1);
    expect(wechat.sends.map((send) => send.token)).toEqual(Array(6).fill('token-1'));
  });

  it('is fetched again before it expires', async () => {
    // WeChat gives it 2 s: the server fetches a new one once less than half is left.
    wechat.tokenExpiresIn = 2;
    {
      const server = await remindingServer();
      const [ann, ben] = [await user(server), await user(server)];
      await credit(server, ben, 2);
      const annSocket = await connect(server, ann);
      await send(annSocket, { to: ben.id }, 'one');
      await remindersDone(server);
      await sleep(1100);
      await send(annSocket, { to: ben.id }, 'two');
      await remindersDone(server);
      expect(wechat.sends.map((send) => send.token)).toEqual(['token-1', 'token-2']);
    }
  });

  it.each([40001, 42001])('on %i it is fetched again once and the send tried once more; no loop', async (errcode) => {
    const server = await remindingServer();
    const [ann, ben, cat] = [await user(server), await user(server), await user(server)];
    await credit(server, ben, 2);
    await credit(server, cat, 1);
    const annSocket = await connect(server, ann);
    wechat.sendAnswers = [errcode];
    await send(annSocket, { to: ben.id }, 'first try refused');
    await remindersDone(server);
    expect(wechat.sends.map((send) => send.token)).toEqual(['token-1', 'token-2']);
    expect(wechat.tokenFetches).toHaveLength(2);
    expect(await creditsOf(server, ben)).toBe(1);
    // Refused however often: one refetch, one more try, then the reminder is given up (credit back).
    wechat.expired.add('token-2').add('token-3').add('token-4');
    await send(annSocket, { to: cat.id }, 'never taken');
    await remindersDone(server);
    expect(wechat.sends.map((send) => send.token)).toEqual(['token-1', 'token-2', 'token-2', 'token-3']);
    expect(wechat.tokenFetches).toHaveLength(3);
    expect(await creditsOf(server, cat)).toBe(1);
    const metrics = await readMetrics(server.url);
    // The scripted refusal, then the two of the expired tokens (40001).
    expect(metrics.get(`chat_wechat_errors_total{api="subscribe_send",errcode="${errcode}"}`)).toBe(
      errcode === 40001 ? 3 : 1,
    );
    expect(metrics.get('chat_wechat_errors_total{api="subscribe_send",errcode="40001"}')).toBe(
      errcode === 40001 ? 3 : 2,
    );
    expect(metrics.get('chat_reminders_sent_total')).toBe(1);
  });
});

describe('WeChat refuses, fails or hangs', () => {
  it('43101 (the user withdrew) sets their credits to 0; /metrics counts it by errcode', async () => {
    const server = await remindingServer();
    const [ann, ben] = [await user(server), await user(server)];
    await credit(server, ben, 5);
    wechat.sendAnswers = [43101];
    const annSocket = await connect(server, ann);
    await send(annSocket, { to: ben.id });
    await remindersDone(server);
    expect(await creditsOf(server, ben)).toBe(0);
    expect(wechat.sends).toHaveLength(1);
    const metrics = await readMetrics(server.url);
    expect(metrics.get('chat_wechat_errors_total{api="subscribe_send",errcode="43101"}')).toBe(1);
    expect(metrics.get('chat_reminders_sent_total')).toBe(0);
  });

  it('another errcode or a 500 is logged and counted, the credit given back, nothing retried', async () => {
    const server = await remindingServer();
    const [ann, ben, cat] = [await user(server), await user(server), await user(server)];
    await credit(server, ben, 1);
    await credit(server, cat, 1);
    wechat.sendAnswers = [47003, 'http500'];
    const annSocket = await connect(server, ann);
    await send(annSocket, { to: ben.id });
    await remindersDone(server);
    await send(annSocket, { to: cat.id });
    await remindersDone(server);
    await sleep(100);
    expect(wechat.sends).toHaveLength(2);
    expect([await creditsOf(server, ben), await creditsOf(server, cat)]).toEqual([1, 1]);
    const metrics = await readMetrics(server.url);
    expect(metrics.get('chat_wechat_errors_total{api="subscribe_send",errcode="47003"}')).toBe(1);
    expect(metrics.get('chat_wechat_errors_total{api="subscribe_send",errcode="http_500"}')).toBe(1);
  });

  it('a hanging WeChat delays no ack and no delivery: they arrive while it still holds the reminder', async () => {
    const server = await remindingServer();
    const [ann, ben, cat] = [await user(server), await user(server), await user(server)];
    await credit(server, ben, 1);
    wechat.sendAnswers = ['hang'];
    const annSocket = await connect(server, ann);
    const catSocket = await connect(server, cat);
    await send(annSocket, { to: ben.id }, 'held at WeChat');
    await waitFor(() => wechat.holding === 1, 'WeChat to hold the reminder');
    for (let i = 0; i < 5; i++) {
      const ack = await send(annSocket, { to: cat.id }, `chat goes on ${i}`);
      const delivered = await catSocket.next('message', (frame) => frame.seq === ack.seq);
      expect(delivered.body).toBe(`chat goes on ${i}`);
      // Still unanswered: the ack and the delivery did not wait for WeChat.
      expect(wechat.holding).toBe(1);
    }
    expect(server.reminders?.backlog().sending).toBe(1);
    wechat.release();
    await remindersDone(server);
    expect(await creditsOf(server, ben)).toBe(0);
  });

  it('a token fetch that hangs past the timeout: counted by errcode, the credit given back', async () => {
    const server = await remindingServer({ wechat: { appId: APP_ID, secret: SECRET, apiBase, timeoutMs: 200 } });
    const [ann, ben] = [await user(server), await user(server)];
    await credit(server, ben, 1);
    wechat.tokenAnswer = 'hang';
    const annSocket = await connect(server, ann);
    await send(annSocket, { to: ben.id });
    await remindersDone(server);
    expect(await creditsOf(server, ben)).toBe(1);
    expect((await readMetrics(server.url)).get('chat_wechat_errors_total{api="stable_token",errcode="timeout"}')).toBe(
      1,
    );
  });

  it('WeChat unreachable (its port closed): the send is acked and delivered, the failure counted, the credit back', async () => {
    // A WeChat of its own, stopped once the users have logged in through it.
    const gone = new WechatApiStandIn(APP_ID, SECRET);
    const goneBase = await gone.start();
    const server = await remindingServer({
      wechat: { appId: APP_ID, secret: SECRET, apiBase: goneBase, timeoutMs: 500 },
    });
    const [ann, ben] = [await user(server), await user(server)];
    await credit(server, ben, 1);
    await gone.stop();
    const annSocket = await connect(server, ann);
    const benPhone = await connect(server, ben);
    benPhone.close();
    await annSocket.next('presence', (frame) => frame.user === ben.id && !frame.online).catch(() => undefined);
    const ack = await send(annSocket, { to: ben.id }, 'nobody at WeChat');
    expect(ack.seq).toBeGreaterThan(0);
    await remindersDone(server);
    expect(await creditsOf(server, ben)).toBe(1);
    expect(
      (await readMetrics(server.url)).get('chat_wechat_errors_total{api="stable_token",errcode="unreachable"}'),
    ).toBe(1);
  });
});

describe('start-up settings', () => {
  /** The start-up log lines (msg) of a server with these settings. */
  async function startupLog(overrides: Partial<ServerConfig>): Promise<string[]> {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push((JSON.parse(chunk.toString()) as { msg: string }).msg);
        done();
      },
    });
    const server = await startTestServer(overrides, pino({ level: 'info' }, sink));
    await server.stop();
    return lines;
  }

  it('the start-up log says whether reminders are on, and which settings are missing', async () => {
    const on = await startupLog({
      wechat: { appId: APP_ID, secret: SECRET, apiBase },
      subscribe: { templateId: TEMPLATE, keywords: parseSubscribeFields(FIELDS), miniprogramState: 'formal' },
    });
    expect(on).toContain('reminders are on: a user whose app is closed gets a WeChat subscription message');
    const off = await startupLog({ wechat: { appId: APP_ID, secret: SECRET, apiBase } });
    expect(off).toContain('reminders are off (WX_SUBSCRIBE_TEMPLATE_ID, WX_SUBSCRIBE_FIELDS not set)');
    const dev = await startupLog({});
    expect(dev).toContain(
      'reminders are off (WX_APPID, WX_SECRET, WX_SUBSCRIBE_TEMPLATE_ID, WX_SUBSCRIBE_FIELDS not set)',
    );
  });

  const base = { WX_APPID: APP_ID, WX_SECRET: SECRET, WX_SUBSCRIBE_TEMPLATE_ID: TEMPLATE };

  it('reads the template, the fields, the state and the cooldown', () => {
    const config = loadConfig({
      ...base,
      WX_SUBSCRIBE_FIELDS: FIELDS,
      WX_MINIPROGRAM_STATE: 'trial',
      NOTIFY_COOLDOWN_S: '60',
    });
    expect(config.subscribe).toEqual({
      templateId: TEMPLATE,
      keywords: [
        { key: 'name1', type: 'name', field: 'sender' },
        { key: 'thing2', type: 'thing', field: 'text' },
        { key: 'time3', type: 'time', field: 'time' },
        { key: 'thing4', type: 'thing', field: 'conversation' },
      ],
      miniprogramState: 'trial',
    });
    expect(config.notifyCooldownS).toBe(60);
    expect(loadConfig({}).notifyCooldownS).toBe(300);
    expect(loadConfig({}).subscribe).toBeUndefined();
    expect(loadConfig({ ...base, WX_SUBSCRIBE_FIELDS: FIELDS }).subscribe?.miniprogramState).toBe('formal');
  });

  it.each([
    ['not JSON', '{thing1: sender}', /WX_SUBSCRIBE_FIELDS must be a JSON object.*not JSON/],
    ['an array', '["sender"]', /WX_SUBSCRIBE_FIELDS must be a non-empty JSON object/],
    [
      'an unknown field',
      '{"thing1":"avatar"}',
      /maps "thing1" to "avatar", which is not a field: use one of sender, text, time, conversation/,
    ],
    ['a type that cannot carry it', '{"time1":"sender"}', /the time key "time1" to "sender"/],
    ['an unknown key type', '{"number1":"text"}', /the key "number1", whose type "number"/],
  ])('fails with one sentence for %s', (_what, fields, message) => {
    expect(() => loadConfig({ ...base, WX_SUBSCRIBE_FIELDS: fields })).toThrow(message);
  });

  it('fails for a template without fields, and for a bad WX_MINIPROGRAM_STATE', () => {
    expect(() => loadConfig(base)).toThrow(/WX_SUBSCRIBE_TEMPLATE_ID and WX_SUBSCRIBE_FIELDS go together/);
    expect(() => loadConfig({ WX_MINIPROGRAM_STATE: 'beta' })).toThrow(
      'WX_MINIPROGRAM_STATE must be developer, trial or formal, got "beta"',
    );
  });
});
