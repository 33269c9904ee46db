/**
 * @jest-environment node
 *
 * (Node's environment: the PostgreSQL driver needs its TextEncoder, and no page is rendered here.)
 *
 * Groups through the app's client with its members on three server instances (PostgreSQL and
 * Redis): what a phone on one instance does reaches the phones on the others, in order and once.
 * Skipped without DATABASE_URL and REDIS_URL, like every multi-instance test (.ci/run sets both).
 */
import { Redis } from 'ioredis';
import {
  DATABASE_URL,
  REDIS_URL,
  dropSchema,
  newRedisPrefix,
  newSchemaName,
  warnSkipped,
} from '../../server/test/support/services';
import { startPhone, waitFor, type Phone } from '../support/app';
import { startServerProcess, type ServerProcess } from '../support/server-process';

const enabled = Boolean(DATABASE_URL && REDIS_URL);
if (!enabled) {
  warnSkipped(
    'groups through the client on three instances (test/client/groups-cluster.test.ts)',
    [DATABASE_URL ? '' : 'DATABASE_URL', REDIS_URL ? '' : 'REDIS_URL'].filter(Boolean),
  );
}
const describeCluster = enabled ? describe : describe.skip;

/** What a phone holds of a conversation: each stored message's seq and body (a tip's event). */
function held(phone: Phone, conv: string): string[] {
  return phone.client.stores.messages
    .view(conv)
    .items.filter((item) => item.seq > 0)
    .map(
      (item) =>
        `${item.seq}:${item.kind === 'system' ? (JSON.parse(item.body) as { event: string }).event : item.body}`,
    );
}

describeCluster('groups through the client, members on three instances', () => {
  const schema = newSchemaName('app_groups');
  const prefix = newRedisPrefix('app-groups');
  const instances: ServerProcess[] = [];
  const phones: Phone[] = [];

  afterAll(async () => {
    for (const phone of phones) phone.client.stop();
    await Promise.all(instances.map((instance) => instance.kill()));
    if (DATABASE_URL) await dropSchema(DATABASE_URL, schema);
    if (REDIS_URL) {
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });

  it('create, mention, invite, remove, leave and dismiss reach every phone, wherever it is connected', async () => {
    const env = {
      DATABASE_URL: DATABASE_URL ?? '',
      DATABASE_SCHEMA: schema,
      DATABASE_POOL_SIZE: '4',
      REDIS_URL: REDIS_URL ?? '',
      REDIS_PREFIX: prefix,
      TOKEN_SECRET: 'app-groups-cluster-secret-0123456789',
    };
    // The first migrates the schema; the other two start after it.
    instances.push(await startServerProcess({ env }));
    instances.push(...(await Promise.all([startServerProcess({ env }), startServerProcess({ env })])));
    const phone = async (instance: number) => {
      const started = await startPhone(instances[instance].url);
      phones.push(started);
      return started;
    };
    const [alice, bob, carol, dave] = [await phone(0), await phone(1), await phone(2), await phone(0)];
    const idOf = (p: Phone) => p.client.stores.me.id;

    // Alice (instance 0) creates the group with bob (1) and carol (2).
    const conv = await alice.client.groups.create([bob, carol].map((p) => p.client.stores.me.user!));
    for (const member of [bob, carol]) {
      await waitFor(() => member.client.stores.sessions.find(conv)?.lastSeq === 1, 'the group on every instance');
    }

    // A mention of bob crosses instances: his entry says [有人@我], carol's does not.
    alice.client.sendText(conv, '@bob 周六爬山', { mentions: [idOf(bob)] });
    await waitFor(() => bob.client.stores.sessions.find(conv)?.lastSeq === 2, 'bob to get it');
    expect(bob.client.stores.sessions.find(conv)).toMatchObject({ mentioned: true, unread: 1 });
    await waitFor(() => carol.client.stores.sessions.find(conv)?.lastSeq === 2, 'carol to get it');
    expect(carol.client.stores.sessions.find(conv)!.mentioned).toBe(false);

    // Carol (instance 2) invites dave (instance 0): he sees only what follows.
    await carol.client.groups.invite(conv, [idOf(dave)]);
    await waitFor(() => dave.client.stores.sessions.find(conv)?.lastSeq === 3, 'dave to list the group');
    bob.client.sendText(conv, '好的');
    await waitFor(() => dave.client.stores.sessions.find(conv)?.last?.body === '好的', 'dave to get the next one');
    dave.client.openConversation(conv);
    await waitFor(() => held(dave, conv).length === 2, 'dave to hold his part');
    await dave.client.loadOlder(conv);
    expect(held(dave, conv)).toEqual(['3:joined', '4:好的']);

    // Alice removes bob; carol leaves; alice dismisses: each phone ends where the server says.
    await alice.client.groups.remove(conv, idOf(bob));
    await waitFor(() => bob.client.stores.sessions.find(conv)?.left === true, 'bob out, on instance 1');
    await carol.client.groups.leave(conv);
    await alice.client.groups.dismiss(conv);
    await waitFor(() => dave.client.stores.sessions.find(conv)?.left === true, 'dave to see it dismissed');
    expect(dave.client.stores.sessions.find(conv)!.preview).toBe('群主已解散该群聊');

    // Everyone who was there from the start holds the same messages, once each, up to where they left.
    alice.client.openConversation(conv);
    await waitFor(() => held(alice, conv).length === 7, 'alice to hold all seven');
    expect(held(alice, conv)).toEqual([
      '1:created',
      '2:@bob 周六爬山',
      '3:joined',
      '4:好的',
      '5:removed',
      '6:left',
      '7:dismissed',
    ]);
    bob.client.openConversation(conv);
    await waitFor(() => held(bob, conv).length === 5, 'bob to hold up to his removal');
    expect(held(bob, conv)).toEqual(held(alice, conv).slice(0, 5));
    carol.client.openConversation(conv);
    await waitFor(() => held(carol, conv).length === 6, 'carol to hold up to her leaving');
    expect(held(carol, conv)).toEqual(held(alice, conv).slice(0, 6));
  }, 60_000);
});
