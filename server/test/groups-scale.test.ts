/**
 * A 500-member group across three instances on PostgreSQL and Redis: one message reaches every
 * member's connection exactly once, wherever it is connected, and is published on the Redis bus
 * once (not once per member or per instance). Skipped without DATABASE_URL and REDIS_URL, like
 * the other multi-instance tests (.ci/run sets both).
 */
import { Redis } from 'ioredis';
import type { ServerFrame } from '../../contract/frames';
import { startServerProcess, type ServerProcess } from '../../test/support/server-process';
import { useSockets } from './support/fixture';
import { api, endpoints, login, settle, TestSocket } from './support/server';
import { DATABASE_URL, REDIS_URL, dropSchema, newRedisPrefix, newSchemaName, warnSkipped } from './support/services';
import { waitFor } from './support/wait';
import type { GroupView } from '../src/chat/groups';

const MEMBERS = 500;
/** Logins and socket opens at once (a bounded pool, not 500 at a time). */
const PARALLEL = 25;

const sockets = useSockets();
const enabled = Boolean(DATABASE_URL && REDIS_URL);
if (!enabled) {
  warnSkipped(
    'the 500-member group across instances (server/test/groups-scale.test.ts)',
    [DATABASE_URL ? '' : 'DATABASE_URL', REDIS_URL ? '' : 'REDIS_URL'].filter(Boolean),
  );
}
const describeCluster = enabled ? describe : describe.skip;

/** Runs `work` for 0..count-1, at most `parallel` at a time; the results in order. */
async function pool<T>(count: number, parallel: number, work: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await work(i);
      }
    }),
  );
  return results;
}

describeCluster('a 500-member group on three instances (PostgreSQL and Redis)', () => {
  const schema = newSchemaName('groups_scale');
  const prefix = newRedisPrefix('groups-scale');
  const instances: ServerProcess[] = [];
  let watcher: Redis | undefined;

  afterAll(async () => {
    watcher?.disconnect();
    await Promise.all(instances.map((instance) => instance.kill()));
    if (DATABASE_URL) await dropSchema(DATABASE_URL, schema);
    if (REDIS_URL) {
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });

  it('delivers one message to every connection but the sender’s exactly once, published once', async () => {
    const env = {
      DATABASE_URL: DATABASE_URL ?? '',
      DATABASE_SCHEMA: schema,
      DATABASE_POOL_SIZE: '4',
      REDIS_URL: REDIS_URL ?? '',
      REDIS_PREFIX: prefix,
      TOKEN_SECRET: 'groups-scale-secret-0123456789abcdef',
      GROUP_MAX_MEMBERS: String(MEMBERS),
      // Limits off: one test client opens every socket and logs every user in from 127.0.0.1.
      SEND_RATE: '100000',
      SEND_BURST: '100000',
      FRAME_RATE: '100000',
      FRAME_BURST: '100000',
      MAX_CONNECTIONS: '100000',
    };
    // The first migrates the schema; the other two start together after it.
    instances.push(await startServerProcess({ env }));
    instances.push(...(await Promise.all([startServerProcess({ env }), startServerProcess({ env })])));
    const urls = instances.map((instance) => endpoints(instance.url));

    // Every publish on the bus's channel, as another instance would receive it.
    watcher = new Redis(REDIS_URL ?? '');
    const published: string[] = [];
    watcher.on('message', (_channel: string, text: string) => published.push(text));
    await watcher.subscribe(`${prefix}deliver`);

    const users = await pool(MEMBERS, PARALLEL, (i) => login(urls[i % 3].url, `scale-${schema}-${i}`));
    const [owner, ...others] = users;
    const created = await api(urls[0].url, 'POST', '/api/groups', {
      token: owner.token,
      json: { name: '五百人', members: others.map((user) => user.user.id) },
    });
    expect(created.status).toBe(201);
    const group = (created.body as { group: GroupView }).group;
    expect(group.memberCount).toBe(MEMBERS);

    // Every member connected to one of the three instances, round robin.
    const connections = await pool(MEMBERS, PARALLEL, async (i) => {
      const socket = await TestSocket.open(urls[i % 3].wsUrl, users[i].token);
      sockets.push(socket);
      return socket;
    });
    // Each socket answered a ping: its instance has it registered for deliveries.
    await pool(MEMBERS, PARALLEL, (i) => settle(connections[i]));

    const sender = connections[1];
    const cid = 'scale-1';
    sender.send({ type: 'send', cid, conv: group.conv, kind: 'text', body: '大家好' });
    const ack = await sender.next('ack', (frame) => frame.cid === cid, 15_000);
    expect(ack.seq).toBe(2);
    await pool(MEMBERS, PARALLEL, async (i) => {
      if (i === 1) return;
      await connections[i].next('message', (frame) => frame.cid === cid && frame.seq === ack.seq, 15_000);
    });
    // Anything doubled would have come by now: every instance handled its deliveries in order.
    await pool(MEMBERS, PARALLEL, (i) => settle(connections[i]));
    const isIt = (frame: ServerFrame) => frame.type === 'message' && frame.cid === cid;
    // next() took each one's frame: none is left over (no second copy), and the sender got none.
    for (const socket of connections) expect(socket.frames.filter(isIt)).toHaveLength(0);

    // One publish of that message on the bus, naming every member.
    await waitFor(() => published.some((text) => text.includes(`"cid":"${cid}"`)), "the message's publish");
    const ofIt = published.filter((text) => {
      const [envelope, frame] = [text.slice(0, text.indexOf('\n')), text.slice(text.indexOf('\n') + 1)];
      return (JSON.parse(envelope) as { t?: string }).t === 'message' && frame.includes(`"cid":"${cid}"`);
    });
    expect(ofIt).toHaveLength(1);
    const envelope = JSON.parse(ofIt[0].slice(0, ofIt[0].indexOf('\n'))) as { u: string[] };
    expect(envelope.u).toHaveLength(MEMBERS);
  }, 90_000);
});
