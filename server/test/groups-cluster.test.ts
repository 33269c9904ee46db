/**
 * Group changes across instances (docs/protocol.md, "Groups", several instances): two server
 * instances on one PostgreSQL schema and one Redis prefix take the same group's changes at the same
 * moment. A change's checks and its write hold the group's lock in the store, so two invites that
 * together exceed GROUP_MAX_MEMBERS give one `200` and one `409 group_full`, and an owner leaving
 * while they dismiss (or leaving twice) leaves the group consistent. Skipped without DATABASE_URL
 * and REDIS_URL, like the other multi-instance tests (.ci/run sets both).
 */
import { useSockets } from './support/fixture';
import { api, person, startTestServer, type Person, type TestServer } from './support/server';
import { DATABASE_URL, REDIS_URL, dropSchema, newRedisPrefix, newSchemaName, warnSkipped } from './support/services';
import type { GroupView } from '../src/chat/groups';
import type { SystemEvent } from '../../contract/system-events';

const MAX = 4;
const sockets = useSockets();
const enabled = Boolean(DATABASE_URL && REDIS_URL);
if (!enabled) {
  warnSkipped(
    'the group races across instances (server/test/groups-cluster.test.ts)',
    [DATABASE_URL ? '' : 'DATABASE_URL', REDIS_URL ? '' : 'REDIS_URL'].filter(Boolean),
  );
}
const describeCluster = enabled ? describe : describe.skip;

describeCluster('group changes racing on two instances (PostgreSQL and Redis)', () => {
  let one: TestServer;
  let two: TestServer;
  const schema = newSchemaName('groups_race');

  beforeAll(async () => {
    const shared = {
      databaseUrl: DATABASE_URL,
      databaseSchema: schema,
      databasePoolSize: 4,
      redisUrl: REDIS_URL,
      redisPrefix: newRedisPrefix('groups-race'),
      tokenSecret: 'groups-race-secret-0123456789abcdef',
      groupMaxMembers: MAX,
    };
    // One after the other: the first one migrates the schema.
    one = await startTestServer(shared);
    two = await startTestServer(shared);
  });
  afterAll(async () => {
    await Promise.all([one?.stop(), two?.stop()]);
    if (DATABASE_URL) await dropSchema(DATABASE_URL, schema);
  });

  async function people(count: number): Promise<Person[]> {
    return Promise.all(Array.from({ length: count }, () => person(one, sockets)));
  }

  async function createGroup(owner: Person, members: Person[]): Promise<GroupView> {
    const answer = await api(one.url, 'POST', '/api/groups', {
      token: owner.token,
      json: { name: 'race', members: members.map((member) => member.id) },
    });
    expect(answer.status).toBe(201);
    return (answer.body as { group: GroupView }).group;
  }

  async function groupOf(server: TestServer, owner: Person, groupId: string) {
    const answer = await api(server.url, 'GET', `/api/groups/${groupId}`, { token: owner.token });
    return answer;
  }

  /** The group's system events, from its stored messages (read through the store of one instance). */
  async function events(groupId: string): Promise<SystemEvent[]> {
    const page = await one.store.history(`g:${groupId}`, undefined, 100);
    return page.messages
      .filter((message) => message.kind === 'system')
      .map((message) => JSON.parse(message.body) as SystemEvent);
  }

  it('two invites that together exceed GROUP_MAX_MEMBERS: exactly one succeeds, the other 409, never above the max', async () => {
    // Several groups at once, so the two instances' checks really overlap.
    const rounds = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const [owner, member, x1, y1] = await people(4);
        const group = await createGroup(owner, [member]);
        // 2 members + 2 = the max; either invite alone fits, both together do not.
        const [a, b] = await Promise.all([
          api(one.url, 'POST', `/api/groups/${group.id}/members`, { token: owner.token, json: { users: [x1.id] } }),
          api(two.url, 'POST', `/api/groups/${group.id}/members`, {
            token: member.token,
            json: { users: [y1.id, owner.id] },
          }),
        ]);
        return { owner, group, statuses: [a.status, b.status] };
      }),
    );
    for (const { owner, group, statuses } of rounds) {
      // Both fit here (2 + 1 + 1 = 4): both succeed, and the group holds exactly the max.
      expect(statuses).toEqual([200, 200]);
      const got = await groupOf(two, owner, group.id);
      expect((got.body as { group: GroupView }).group.memberCount).toBe(MAX);
    }
    const racing = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const [owner, member, x1, x2, y1, y2] = await people(6);
        const group = await createGroup(owner, [member]);
        const [a, b] = await Promise.all([
          api(one.url, 'POST', `/api/groups/${group.id}/members`, {
            token: owner.token,
            json: { users: [x1.id, x2.id] },
          }),
          api(two.url, 'POST', `/api/groups/${group.id}/members`, {
            token: member.token,
            json: { users: [y1.id, y2.id] },
          }),
        ]);
        return { owner, group, statuses: [a.status, b.status].sort() };
      }),
    );
    for (const { owner, group, statuses } of racing) {
      expect(statuses).toEqual([200, 409]);
      const got = await groupOf(one, owner, group.id);
      const body = got.body as { group: GroupView; members: unknown[] };
      expect(body.group.memberCount).toBe(MAX);
      expect(body.members).toHaveLength(MAX);
      // One `joined`, of two users.
      const joined = (await events(group.id)).filter((event) => event.event === 'joined');
      expect(joined).toHaveLength(1);
    }
  });

  it('the owner leaving on one instance while dismissing on the other: one of them happens, the group stays consistent', async () => {
    const results = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const [owner, admin, member] = await people(3);
        const group = await createGroup(owner, [admin, member]);
        expect(
          (await api(two.url, 'PUT', `/api/groups/${group.id}/admins/${admin.id}`, { token: owner.token })).status,
        ).toBe(200);
        const [leave, dismiss] = await Promise.all([
          api(one.url, 'DELETE', `/api/groups/${group.id}/members/${owner.id}`, { token: owner.token }),
          api(two.url, 'DELETE', `/api/groups/${group.id}`, { token: owner.token }),
        ]);
        return { owner, admin, member, group, statuses: [leave.status, dismiss.status] };
      }),
    );
    for (const { admin, member, group, statuses } of results) {
      const list = await events(group.id);
      const stored = await one.store.getGroup(group.id);
      const members = await one.store.groupMembers(group.id);
      if (statuses[0] === 204) {
        // Left first: the admin is owner now, and the dismissal by the former owner was refused.
        expect(statuses[1]).toBe(403);
        expect(stored).toMatchObject({ dismissed: false, owner: admin.id, memberCount: 2 });
        expect(members.map((m) => [m.id, m.role]).sort()).toEqual(
          [
            [admin.id, 'owner'],
            [member.id, 'member'],
          ].sort(),
        );
        expect(list.map((event) => event.event)).toEqual(['created', 'role', 'left', 'role']);
      } else {
        // Dismissed first: nobody is a member any more, and the leave was refused.
        expect(statuses).toEqual([403, 204]);
        expect(stored).toMatchObject({ dismissed: true, memberCount: 0 });
        expect(members).toEqual([]);
        expect(list.map((event) => event.event)).toEqual(['created', 'role', 'dismissed']);
      }
    }
  });

  it('the owner leaving twice at once (two instances): one `left`, one heir, exactly one owner', async () => {
    const results = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const [owner, a, b] = await people(3);
        const group = await createGroup(owner, [a, b]);
        const statuses = await Promise.all(
          [one, two].map(async (server) => {
            const answer = await api(server.url, 'DELETE', `/api/groups/${group.id}/members/${owner.id}`, {
              token: owner.token,
            });
            return answer.status;
          }),
        );
        return { group, statuses: statuses.sort() };
      }),
    );
    for (const { group, statuses } of results) {
      expect(statuses).toEqual([204, 403]);
      const members = await one.store.groupMembers(group.id);
      expect(members).toHaveLength(2);
      expect(members.filter((member) => member.role === 'owner')).toHaveLength(1);
      const stored = await one.store.getGroup(group.id);
      expect(stored?.owner).toBe(members.find((member) => member.role === 'owner')?.id);
      expect((await events(group.id)).map((event) => event.event)).toEqual(['created', 'left', 'role']);
    }
  });
});
