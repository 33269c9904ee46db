/**
 * The pieces of scaling out that need no PostgreSQL or Redis server: the settings, the store's
 * schema check, and the buses' local behaviour (the Redis one while Redis is unreachable).
 */
import pino from 'pino';
import type { ServerFrame } from '../../contract/frames';
import { LocalBus } from '../src/bus/local';
import { RedisBus } from '../src/bus/redis';
import type { LocalDelivery, PresenceListener } from '../src/bus/types';
import { loadConfig } from '../src/config';
import { PostgresStore } from '../src/store/postgres';

describe('settings', () => {
  it('keeps one SQLite instance with an in-process bus by default', () => {
    const config = loadConfig({});
    expect(config.databaseUrl).toBeUndefined();
    expect(config.databaseSchema).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.databasePoolSize).toBe(10);
    expect(config.redisPrefix).toBe('chat:');
    expect(config.redisInstanceTtlMs).toBe(15_000);
  });

  it('reads PostgreSQL and Redis from the environment', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://chat@db:5432/chat',
      DATABASE_SCHEMA: 'chat_eu',
      DATABASE_POOL_SIZE: '20',
      REDIS_URL: 'redis://cache:6379',
      REDIS_PREFIX: 'eu:',
      REDIS_INSTANCE_TTL_MS: '5000',
    });
    expect(config).toEqual(
      expect.objectContaining({
        databaseUrl: 'postgres://chat@db:5432/chat',
        databaseSchema: 'chat_eu',
        databasePoolSize: 20,
        redisUrl: 'redis://cache:6379',
        redisPrefix: 'eu:',
        redisInstanceTtlMs: 5000,
      }),
    );
    expect(() => loadConfig({ DATABASE_POOL_SIZE: 'many' })).toThrow(
      /DATABASE_POOL_SIZE must be a non-negative integer/,
    );
  });

  it('refuses a schema name that is not a plain identifier, before connecting', async () => {
    await expect(
      PostgresStore.open({ url: 'postgres://127.0.0.1:1/none', schema: 'x"; DROP TABLE users; --' }),
    ).rejects.toThrow(/DATABASE_SCHEMA must be a plain identifier/);
  });
});

/** A stand-in for the gateway that records what the bus hands it. */
function recordingEndpoint(users: string[] = []) {
  const delivered: Array<{ userIds: readonly string[]; text: string; except?: string }> = [];
  const resyncs: Array<readonly string[] | undefined> = [];
  const endpoint: LocalDelivery = {
    deliver: (userIds, frame, except) => delivered.push({ userIds, text: JSON.stringify(frame), except }),
    deliverText: (userIds, _type, text, except) => delivered.push({ userIds, text, except }),
    users: () => users,
    isOnline: (userId) => users.includes(userId),
    resync: (userIds) => resyncs.push(userIds),
    disconnect: () => {},
  };
  return { endpoint, delivered, resyncs };
}

/** Presence the bus finds out by itself: none in these tests (Redis is never reached). */
const nobodyListens: PresenceListener = { presenceChanged: async () => {} };

const frame: ServerFrame = { type: 'typing', conv: 'dm:a:b', user: 'a' };

describe('LocalBus', () => {
  it('hands deliveries to this instance and answers presence from its connections', async () => {
    const bus = new LocalBus();
    const { endpoint, delivered } = recordingEndpoint(['a']);
    await bus.start(endpoint, nobodyListens);
    bus.deliver(['b'], frame, 'conn-1');
    expect(delivered).toEqual([{ userIds: ['b'], text: JSON.stringify(frame), except: 'conn-1' }]);
    expect(await bus.connected()).toBe(true);
    expect(await bus.disconnected()).toBe(true);
    expect(await bus.isOnline('a')).toBe(true);
    expect(await bus.isOnline('b')).toBe(false);
    await bus.close();
  });
});

describe('RedisBus without Redis', () => {
  it('starts after its timeout and keeps delivering to this instance', async () => {
    const bus = new RedisBus({
      url: 'redis://127.0.0.1:1',
      prefix: 'unreachable:',
      instanceTtlMs: 1500,
      log: pino({ level: 'silent' }),
      connectTimeoutMs: 200,
    });
    const { endpoint, delivered, resyncs } = recordingEndpoint(['a']);
    const started = Date.now();
    await bus.start(endpoint, nobodyListens);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);

    bus.deliver(['a', 'b'], frame);
    expect(delivered).toEqual([{ userIds: ['a', 'b'], text: JSON.stringify(frame), except: undefined }]);
    // Presence falls back to what this instance knows, and claims no first or last connection.
    expect(await bus.isOnline('a')).toBe(true);
    expect(await bus.isOnline('b')).toBe(false);
    expect(await bus.connected('c')).toBe(false);
    expect(await bus.disconnected('c')).toBe(false);
    expect(resyncs).toEqual([]);
    await bus.close();
  });
});
