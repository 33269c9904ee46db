/**
 * A ban across instances (docs/protocol.md, "Safety"): three server instances on one PostgreSQL
 * schema and one Redis prefix; a moderator bans through one, and the user's sockets on every one
 * close with 4003 (through the bus), their token is refused on all, and an unban through another
 * lets them back on all. Skipped without DATABASE_URL and REDIS_URL (.ci/run sets both).
 */
import { CLOSE_CODES } from '../../contract/limits';
import { useSockets } from './support/fixture';
import {
  api,
  expectFailure,
  person,
  refusedUpgrade,
  settle,
  startTestServer,
  TestSocket,
  type TestServer,
} from './support/server';
import { DATABASE_URL, REDIS_URL, dropSchema, newRedisPrefix, newSchemaName, warnSkipped } from './support/services';

const ADMIN_TOKEN = 'cluster-admin-token-0123456789abcdef';
const sockets = useSockets();
const enabled = Boolean(DATABASE_URL && REDIS_URL);
if (!enabled) {
  warnSkipped(
    'the ban across instances (server/test/safety-cluster.test.ts)',
    [DATABASE_URL ? '' : 'DATABASE_URL', REDIS_URL ? '' : 'REDIS_URL'].filter(Boolean),
  );
}
const describeCluster = enabled ? describe : describe.skip;

describeCluster('a ban on three instances (PostgreSQL and Redis)', () => {
  let one: TestServer;
  let two: TestServer;
  let three: TestServer;
  const schema = newSchemaName('safety_cluster');

  beforeAll(async () => {
    const shared = {
      databaseUrl: DATABASE_URL,
      databaseSchema: schema,
      databasePoolSize: 4,
      redisUrl: REDIS_URL,
      redisPrefix: newRedisPrefix('safety-cluster'),
      tokenSecret: 'safety-cluster-secret-0123456789abcdef',
      adminToken: ADMIN_TOKEN,
    };
    // One after the other: the first one migrates the schema.
    one = await startTestServer(shared);
    two = await startTestServer(shared);
    three = await startTestServer(shared);
  });
  afterAll(async () => {
    await Promise.all([one?.stop(), two?.stop(), three?.stop()]);
    if (DATABASE_URL) await dropSchema(DATABASE_URL, schema);
  });

  it("closes the user's sockets on every instance with 4003 and refuses their token everywhere until unbanned", async () => {
    const bystander = await person(two, sockets);
    const bad = await person(one, sockets);
    const elsewhere = await TestSocket.open(two.wsUrl, bad.token);
    const third = await TestSocket.open(three.wsUrl, bad.token);
    sockets.push(elsewhere, third);
    await settle(bad.socket, elsewhere, third);

    const ban = await api(one.url, 'POST', `/api/admin/users/${bad.id}/ban`, {
      token: ADMIN_TOKEN,
      json: { reason: '诈骗' },
    });
    expect(ban.status).toBe(200);
    for (const socket of [bad.socket, elsewhere, third]) {
      expect(await socket.closed).toEqual({ code: CLOSE_CODES.banned, reason: 'banned' });
    }
    await settle(bystander.socket);
    for (const server of [one, two, three]) {
      expectFailure(await api(server.url, 'GET', '/api/me', { token: bad.token }), 401, 'unauthorized');
      expect((await refusedUpgrade(server.wsUrl, { authorization: `Bearer ${bad.token}` })).status).toBe(401);
    }

    const unban = await api(two.url, 'DELETE', `/api/admin/users/${bad.id}/ban`, { token: ADMIN_TOKEN });
    expect(unban.status).toBe(204);
    for (const server of [one, two, three]) {
      expect((await api(server.url, 'GET', '/api/me', { token: bad.token })).status).toBe(200);
    }
    // Both actions in the one audit log, whichever instance took them.
    const audit = await api(one.url, 'GET', '/api/admin/audit', { token: ADMIN_TOKEN });
    const entries = (audit.body as { entries: Array<{ action: string; target: string }> }).entries;
    expect(entries.map((e) => e.action).sort()).toEqual(['ban', 'unban']);
  });
});
