/**
 * Reminders across instances (docs/protocol.md, "Reaching a user whose app is closed"): two server
 * instances on one PostgreSQL schema and one Redis prefix, WeChat a local stand-in. A user
 * connected to either instance is online (Redis presence) and gets no reminder; the cooldown and
 * the credits live in the store, so two instances storing messages for one offline user at the
 * same moment send one reminder and spend one credit. Skipped without DATABASE_URL and REDIS_URL,
 * like the other multi-instance tests (.ci/run sets both).
 */
import type { LoginResponse, SubscriptionState } from '../../contract/http';
import { parseSubscribeFields } from '../src/notify/fields';
import { api, startTestServer, TestSocket, type TestServer } from './support/server';
import { DATABASE_URL, REDIS_URL, dropSchema, newRedisPrefix, newSchemaName, warnSkipped } from './support/services';
import { WechatApiStandIn } from './support/wechat-stand-in';

const APP_ID = 'wx5ab1e0cluster001';
const SECRET = 'notify-cluster-secret-0123456789';
const TEMPLATE = 'tmpl-NewMessage-cluster';
const FIELDS = '{"thing1":"sender","thing2":"text","time3":"time"}';

const enabled = Boolean(DATABASE_URL && REDIS_URL);
if (!enabled) {
  warnSkipped(
    'reminders across instances (server/test/notify-cluster.test.ts)',
    [DATABASE_URL ? '' : 'DATABASE_URL', REDIS_URL ? '' : 'REDIS_URL'].filter(Boolean),
  );
}
const describeCluster = enabled ? describe : describe.skip;

describeCluster('reminders on two instances (PostgreSQL and Redis)', () => {
  const wechat = new WechatApiStandIn(APP_ID, SECRET);
  const schema = newSchemaName('notify');
  const sockets: TestSocket[] = [];
  let one: TestServer;
  let two: TestServer;

  beforeAll(async () => {
    const apiBase = await wechat.start();
    const shared = {
      databaseUrl: DATABASE_URL,
      databaseSchema: schema,
      databasePoolSize: 4,
      redisUrl: REDIS_URL,
      redisPrefix: newRedisPrefix('notify'),
      tokenSecret: 'notify-cluster-secret-0123456789abcdef',
      wechat: { appId: APP_ID, secret: SECRET, apiBase, timeoutMs: 2000 },
      subscribe: { templateId: TEMPLATE, keywords: parseSubscribeFields(FIELDS), miniprogramState: 'trial' as const },
      notifyCooldownS: 300,
    };
    // One after the other: the first one migrates the schema.
    one = await startTestServer(shared);
    two = await startTestServer(shared);
  });
  beforeEach(() => wechat.reset());
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.ws.terminate();
  });
  afterAll(async () => {
    await Promise.all([one?.stop(), two?.stop()]);
    await wechat.stop();
    if (DATABASE_URL) await dropSchema(DATABASE_URL, schema);
  });

  let openids = 0;
  interface User {
    id: string;
    token: string;
    openid: string;
  }

  async function user(server: TestServer): Promise<User> {
    const openid = `o_cluster_${++openids}_${Math.random().toString(36).slice(2, 8)}`;
    const answer = await api(server.url, 'POST', '/api/login', { json: { code: openid } });
    expect(answer.status).toBe(200);
    const login = answer.body as LoginResponse;
    return { id: login.user.id, token: login.token, openid };
  }

  async function connect(server: TestServer, who: User): Promise<TestSocket> {
    const socket = await TestSocket.open(server.wsUrl, who.token);
    sockets.push(socket);
    return socket;
  }

  async function credit(server: TestServer, who: User, count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const answer = await api(server.url, 'POST', '/api/subscriptions', {
        token: who.token,
        json: { templateId: TEMPLATE, result: 'accept' },
      });
      expect(answer.status).toBe(200);
    }
  }

  async function creditsOf(server: TestServer, who: User): Promise<number> {
    return ((await api(server.url, 'GET', '/api/subscriptions', { token: who.token })).body as SubscriptionState)
      .credits;
  }

  let cids = 0;
  async function send(socket: TestSocket, to: string, body: string) {
    const cid = `nc-${++cids}`;
    socket.send({ type: 'send', cid, kind: 'text', body, to });
    return socket.next('ack', (frame) => frame.cid === cid);
  }

  const done = () => Promise.all([one.reminders?.idle(), two.reminders?.idle()]);

  it('a user connected to the other instance is online: no reminder; once they are gone everywhere, one', async () => {
    const [ann, ben] = [await user(one), await user(two)];
    await credit(two, ben, 2);
    const annSocket = await connect(one, ann);
    const benSocket = await connect(two, ben);
    await send(annSocket, ben.id, 'hello from one');
    await benSocket.next('message');
    await done();
    expect(wechat.sends).toEqual([]);
    benSocket.close();
    await annSocket.next('presence', (frame) => frame.user === ben.id && !frame.online);
    await send(annSocket, ben.id, 'you left');
    await done();
    expect(
      wechat.sends.map((sent) => [sent.body.touser, sent.body.data.thing2.value, sent.body.miniprogram_state]),
    ).toEqual([[ben.openid, 'you left', 'trial']]);
    expect(await creditsOf(one, ben)).toBe(1);
  });

  it('two instances storing messages for one offline user at once: one reminder, one credit spent', async () => {
    const [ann, cat, ben] = [await user(one), await user(two), await user(one)];
    await credit(one, ben, 5);
    const annSocket = await connect(one, ann);
    const catSocket = await connect(two, cat);
    await Promise.all([
      send(annSocket, ben.id, 'from ann 1'),
      send(catSocket, ben.id, 'from cat 1'),
      send(annSocket, ben.id, 'from ann 2'),
      send(catSocket, ben.id, 'from cat 2'),
    ]);
    await done();
    expect(wechat.sends.filter((sent) => sent.body.touser === ben.openid)).toHaveLength(1);
    expect(await creditsOf(two, ben)).toBe(4);
    // Later, still within the cooldown: nothing more, from either instance.
    await send(catSocket, ben.id, 'from cat 3');
    await send(annSocket, ben.id, 'from ann 3');
    await done();
    expect(wechat.sends).toHaveLength(1);
    expect(await creditsOf(one, ben)).toBe(4);
  });

  it('every call of one instance shares its cached token', async () => {
    const ann = await user(one);
    const others = [await user(one), await user(one), await user(one)];
    for (const other of others) await credit(one, other, 1);
    const annSocket = await connect(one, ann);
    for (const other of others) await send(annSocket, other.id, 'hi');
    await one.reminders?.idle();
    const tokens = new Set(wechat.sends.map((sent) => sent.token));
    expect(wechat.sends).toHaveLength(3);
    expect(tokens.size).toBe(1);
  });
});
