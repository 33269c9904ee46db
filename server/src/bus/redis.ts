import crypto from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { ServerFrame } from '../../../contract/frames';
import type { Bus, LocalDelivery, PresenceListener } from './types';

export interface RedisBusOptions {
  /** `redis://[:password@]host:6379[/db]`. */
  url: string;
  /** Prefix of every key and of the channel, so deployments (and test runs) sharing a Redis never meet. */
  prefix: string;
  /** An instance that has not renewed its entry for this long is taken for dead and its presence removed. */
  instanceTtlMs: number;
  log: Logger;
  /** How long start() waits for Redis before serving without it (default 5000 ms). */
  connectTimeoutMs?: number;
}

/** Publishes made while Redis is away wait in memory up to this many; past it they are dropped and every instance resyncs. */
const MAX_QUEUED_PUBLISHES = 10_000;
/** A turn's deliveries past this many characters go in more than one publish. */
const MAX_PUBLISH_CHARS = 256 * 1024;

/** First across all instances: 1 when the user had no instance before. KEYS presence, instance's users; ARGV instance, user. */
const JOIN = `
redis.call('SADD', KEYS[2], ARGV[2])
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 and redis.call('SCARD', KEYS[1]) == 1 then return 1 end
return 0`;

/** Last across all instances: 1 when no instance has the user any more. Same keys and arguments. */
const LEAVE = `
redis.call('SREM', KEYS[2], ARGV[2])
if redis.call('SREM', KEYS[1], ARGV[1]) == 1 and redis.call('SCARD', KEYS[1]) == 0 then return 1 end
return 0`;

/**
 * Removes an instance's presence entries: its own at a stop (ARGV[3] = "self"), or a dead one's
 * (its marker expired; only the instance that removes it from the set does the work). Returns
 * the users who are now on no instance. KEYS instances, instance's users, instance marker;
 * ARGV instance, key prefix, mode.
 */
const REAP = `
if ARGV[3] ~= 'self' and redis.call('EXISTS', KEYS[3]) == 1 then return {} end
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 and ARGV[3] ~= 'self' then return {} end
local offline = {}
for _, user in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local key = ARGV[2] .. 'presence:' .. user
  if redis.call('SREM', key, ARGV[1]) == 1 and redis.call('SCARD', key) == 0 then
    offline[#offline + 1] = user
  end
end
redis.call('DEL', KEYS[2], KEYS[3])
return offline`;

/**
 * What travels on the channel, per delivery: a JSON header line, then a line with the frame's JSON
 * text (empty for other requests). JSON text never holds a raw newline, so one published message
 * carries several of them one after another: those of one event-loop turn.
 */
interface Envelope {
  /** The publishing instance, which has already delivered to its own connections. */
  o: string;
  /** A delivery: the users, the frame's type, the connection to skip. */
  u?: string[];
  t?: ServerFrame['type'];
  x?: string;
  /** A resync request: deliveries were dropped, every instance's clients sync again. */
  r?: '*';
  /** A disconnect of the users `u` (a ban): the close code and reason. */
  k?: [number, string];
}

/**
 * Fan-out over Redis pub/sub, the pattern of Socket.IO's Redis adapter: every instance publishes
 * each delivery on one channel and delivers what it hears to its own connections.
 *
 * Redis away: deliveries to this instance's own connections go on, publishes wait in memory
 * (bounded) until Redis is back. Pub/sub keeps nothing for a subscriber that is gone, so after
 * its subscription was lost an instance closes every connection with 4002 (`CLOSE_CODES.resync`)
 * once it is subscribed again: the clients reconnect and `sync`, and storage fills the gap.
 *
 * Presence: `<prefix>presence:<user>` is the set of instances where the user has a connection;
 * `<prefix>instance:<id>` a marker renewed every third of the TTL; `<prefix>instance:<id>:users`
 * the users an instance has, so a crashed instance's entries can be removed by the others.
 */
export class RedisBus implements Bus {
  readonly instanceId = crypto.randomUUID();
  private readonly channel: string;
  private pub?: Redis;
  private sub?: Redis;
  private local?: LocalDelivery;
  private listener?: PresenceListener;
  private timer?: NodeJS.Timeout;
  private closing = false;
  /** Counts lost subscriptions, so a recovery that another loss overtook stops. */
  private generation = 0;
  /** Set when the subscription was lost; cleared when it is back and the clients were told. */
  private gap = false;
  private everReady = false;
  private firstReady?: () => void;
  /** Presence writes skipped while Redis was away: the entries are rebuilt from this instance's connections. */
  private presenceDirty = false;
  private queued = 0;
  /** Publishes were dropped or failed: every instance must have its clients resync. */
  private dropped = false;
  private lastErrorLog = 0;
  /** A heartbeat is under way (one at a time, however slow Redis answers). */
  private ticking = false;
  /** This turn's deliveries, published together once it ends. */
  private outbox: string[] = [];
  private outboxBytes = 0;

  constructor(private readonly options: RedisBusOptions) {
    this.channel = `${options.prefix}deliver`;
  }

  private key(...parts: string[]): string {
    return this.options.prefix + parts.join(':');
  }

  async start(local: LocalDelivery, presence: PresenceListener): Promise<void> {
    this.local = local;
    this.listener = presence;
    const common: RedisOptions = {
      // Back within a second of Redis coming back, however long it was away.
      retryStrategy: (times) => Math.min(times * 100, 1000),
      maxRetriesPerRequest: null,
      // A socket still connecting when the bus closes is cut after this, not after ioredis's 2 s.
      disconnectTimeout: 300,
      connectionName: `chat-${this.instanceId}`,
    };
    const pub = (this.pub = new Redis(this.options.url, common));
    const sub = (this.sub = new Redis(this.options.url, { ...common, autoResubscribe: true }));
    for (const client of [pub, sub]) client.on('error', (error: Error) => this.redisError(error));
    pub.on('ready', () => {
      this.queued = 0;
      if (this.dropped) void this.requestResync();
    });
    sub.on('message', (_channel: string, text: string) => this.received(text));
    sub.on('close', () => this.lost());
    sub.on('ready', () => this.recover());

    const ready = new Promise<boolean>((resolve) => (this.firstReady = () => resolve(true)));
    const timeoutMs = this.options.connectTimeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const connected = await Promise.race([ready, timedOut]);
    clearTimeout(timer);
    if (!connected) {
      // Served alone until Redis answers; then the clients that came meanwhile sync again.
      this.gap = true;
      this.options.log.error(
        `Redis (REDIS_URL) did not answer within ${timeoutMs} ms: serving this instance's connections only until it does`,
      );
    }
    this.timer = setInterval(
      () => {
        if (this.ticking) return;
        this.ticking = true;
        this.tick()
          .catch((error: unknown) => this.options.log.debug({ err: error }, 'bus heartbeat failed'))
          .finally(() => (this.ticking = false));
      },
      Math.max(100, Math.floor(this.options.instanceTtlMs / 3)),
    );
    this.timer.unref();
  }

  deliver(userIds: readonly string[], frame: ServerFrame, exceptConnectionId?: string): void {
    if (!this.local) return;
    const text = JSON.stringify(frame);
    this.local.deliverText(userIds, frame.type, text, exceptConnectionId);
    if (userIds.length === 0) return;
    const envelope: Envelope = { o: this.instanceId, u: [...userIds], t: frame.type };
    if (exceptConnectionId !== undefined) envelope.x = exceptConnectionId;
    this.publish(`${JSON.stringify(envelope)}\n${text}`);
  }

  disconnect(userIds: readonly string[], code: number, reason: string): void {
    if (!this.local || userIds.length === 0) return;
    this.local.disconnect(userIds, code, reason);
    const envelope: Envelope = { o: this.instanceId, u: [...userIds], k: [code, reason] };
    this.publish(`${JSON.stringify(envelope)}\n`);
  }

  async connected(userId: string): Promise<boolean> {
    return this.presence(JOIN, userId);
  }

  async disconnected(userId: string): Promise<boolean> {
    return this.presence(LEAVE, userId);
  }

  async isOnline(userId: string): Promise<boolean> {
    if (this.local?.isOnline(userId)) return true;
    if (this.pub?.status !== 'ready') return false;
    try {
      return (await this.pub.scard(this.key('presence', userId))) > 0;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.flush();
    this.closing = true;
    clearInterval(this.timer);
    const { pub, sub } = this;
    if (!pub || !sub) return;
    if (pub.status === 'ready') {
      const cleanUp = async () => {
        const offline = await this.reap(this.instanceId, 'self');
        if (offline.length > 0) await this.listener?.presenceChanged(offline, false);
      };
      let timer: NodeJS.Timeout | undefined;
      // Bounded: a Redis that does not answer must not hold the stop; the others reap us after the TTL.
      const timedOut = new Promise<void>((_, reject) => {
        timer = setTimeout(() => reject(new Error('Redis did not answer within 2 s')), 2000);
      });
      try {
        await Promise.race([cleanUp(), timedOut]);
      } catch (error) {
        this.options.log.warn({ err: error }, 'could not remove this instance from Redis');
      } finally {
        clearTimeout(timer);
      }
    }
    sub.disconnect();
    // QUIT after whatever is still queued (the last presence frames) has been sent.
    if (pub.status === 'ready') await pub.quit().catch(() => pub.disconnect());
    else pub.disconnect();
    this.local = undefined;
    this.listener = undefined;
  }

  /**
   * Queues a delivery for this turn's publish: one Redis message for all of a turn's deliveries
   * (a batch of stored messages acked together, each with its `states`), not one each.
   */
  private publish(payload: string): void {
    if (!this.pub) return;
    if (this.outbox.length === 0) process.nextTick(() => this.flush());
    this.outbox.push(payload);
    this.outboxBytes += payload.length;
    if (this.outboxBytes >= MAX_PUBLISH_CHARS) this.flush();
  }

  private flush(): void {
    if (this.outbox.length === 0) return;
    const payload = this.outbox.join('\n');
    this.outbox = [];
    this.outboxBytes = 0;
    const pub = this.pub;
    if (!pub) return;
    if (pub.status !== 'ready') {
      // Redis is away: the publish waits in ioredis's offline queue, up to a bound.
      if (this.queued >= MAX_QUEUED_PUBLISHES) {
        this.dropped = true;
        return;
      }
      this.queued++;
    }
    pub.publish(this.channel, payload).catch((error: unknown) => {
      this.dropped = true;
      this.options.log.warn({ err: error }, 'a delivery could not be published');
    });
  }

  /** Deliveries were dropped: every other instance's clients sync again (this one's got them). */
  private async requestResync(): Promise<void> {
    if (!this.pub || this.pub.status !== 'ready') return;
    this.dropped = false;
    const envelope: Envelope = { o: this.instanceId, r: '*' };
    try {
      await this.pub.publish(this.channel, `${JSON.stringify(envelope)}\n`);
      this.options.log.warn('deliveries were dropped while Redis was away: every client syncs again');
    } catch {
      this.dropped = true;
    }
  }

  /** A published message: its deliveries, each a header line and a text line, in order. */
  private received(text: string): void {
    let start = 0;
    while (start < text.length) {
      const newline = text.indexOf('\n', start);
      const headerEnd = newline < 0 ? text.length : newline;
      const textEnd = newline < 0 ? text.length : text.indexOf('\n', newline + 1);
      const end = textEnd < 0 ? text.length : textEnd;
      this.receivedOne(text.slice(start, headerEnd), newline < 0 ? '' : text.slice(newline + 1, end));
      start = end + 1;
    }
  }

  private receivedOne(header: string, text: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(header) as Envelope;
    } catch {
      this.options.log.warn('an unreadable message on the bus channel was ignored');
      return;
    }
    if (envelope.o === this.instanceId || !this.local) return;
    if (envelope.r === '*') {
      this.local.resync();
      return;
    }
    if (envelope.u && envelope.k) {
      this.local.disconnect(envelope.u, envelope.k[0], envelope.k[1]);
      return;
    }
    if (!envelope.u || !envelope.t) return;
    this.local.deliverText(envelope.u, envelope.t, text, envelope.x);
  }

  private async presence(script: string, userId: string): Promise<boolean> {
    const pub = this.pub;
    // Not queued while Redis is away: the entries are rebuilt from the connections when it is back.
    if (!pub || pub.status !== 'ready') {
      this.presenceDirty = true;
      return false;
    }
    try {
      const result = await pub.eval(
        script,
        2,
        this.key('presence', userId),
        this.key('instance', this.instanceId, 'users'),
        this.instanceId,
        userId,
      );
      return result === 1;
    } catch (error) {
      this.presenceDirty = true;
      this.options.log.debug({ err: error }, 'presence not recorded in Redis');
      return false;
    }
  }

  private async reap(instanceId: string, mode: 'self' | 'dead'): Promise<string[]> {
    if (!this.pub) return [];
    const result = await this.pub.eval(
      REAP,
      3,
      this.key('instances'),
      this.key('instance', instanceId, 'users'),
      this.key('instance', instanceId),
      instanceId,
      this.options.prefix,
      mode,
    );
    return Array.isArray(result) ? result.map(String) : [];
  }

  /**
   * Makes Redis say what this instance's connections say: this instance in the set with a fresh
   * marker, and exactly its users in their presence sets. Users found or lost on the way are
   * announced.
   */
  private async register(): Promise<void> {
    const { pub, local, listener } = this;
    if (!pub || !local || !listener) return;
    this.presenceDirty = false;
    await pub.set(this.key('instance', this.instanceId), '1', 'PX', this.options.instanceTtlMs);
    await pub.sadd(this.key('instances'), this.instanceId);
    const recorded = await pub.smembers(this.key('instance', this.instanceId, 'users'));
    // Read the connections only now and issue every write at once: a connect or close after this point
    // sends its own write later on the same connection, so it lands after these.
    const here = local.users();
    const hereSet = new Set(here);
    const writes = [
      ...recorded.filter((user) => !hereSet.has(user)).map((user) => ({ user, online: false })),
      ...here.map((user) => ({ user, online: true })),
    ];
    const results = await Promise.all(writes.map(({ user, online }) => this.presence(online ? JOIN : LEAVE, user)));
    const online = writes.filter((write, i) => write.online && results[i]).map((write) => write.user);
    const offline = writes.filter((write, i) => !write.online && results[i]).map((write) => write.user);
    if (offline.length > 0) await listener.presenceChanged(offline, false);
    if (online.length > 0) await listener.presenceChanged(online, true);
  }

  /** Every third of the TTL: renew this instance's marker, repair presence, remove dead instances. */
  private async tick(): Promise<void> {
    const pub = this.pub;
    if (this.closing || !pub || pub.status !== 'ready' || this.gap) return;
    await pub.set(this.key('instance', this.instanceId), '1', 'PX', this.options.instanceTtlMs);
    // Not in the set any more: another instance took this one for dead (a long pause) and removed it.
    const readded = (await pub.sadd(this.key('instances'), this.instanceId)) === 1;
    if (readded || this.presenceDirty) await this.register();
    if (this.dropped) await this.requestResync();
    for (const other of await pub.smembers(this.key('instances'))) {
      if (other === this.instanceId) continue;
      const offline = await this.reap(other, 'dead');
      if (offline.length > 0) {
        this.options.log.info({ instance: other, offline: offline.length }, 'removed a dead instance from presence');
        await this.listener?.presenceChanged(offline, false);
      }
    }
  }

  private lost(): void {
    if (this.closing) return;
    this.generation++;
    if (!this.gap && this.everReady) {
      this.options.log.warn('lost the Redis subscription: delivering to this instance only until it is back');
    }
    this.gap = true;
  }

  /** Subscribed again: confirm the subscription, rebuild presence, then have every client sync. */
  private recover(): void {
    const generation = this.generation;
    const { sub, pub } = this;
    if (!sub || !pub || this.closing) return;
    void (async () => {
      // ioredis resubscribes by itself; this one's answer proves the subscription is live.
      await sub.subscribe(this.channel);
      if (pub.status !== 'ready') await new Promise<void>((resolve) => pub.once('ready', () => resolve()));
      if (generation !== this.generation || this.closing) return;
      await this.register();
      if (generation !== this.generation || this.closing) return;
      const hadGap = this.gap;
      this.gap = false;
      if (hadGap && this.everReady) {
        this.options.log.warn('the Redis subscription is back: every client of this instance syncs again');
      }
      this.everReady = true;
      this.firstReady?.();
      this.firstReady = undefined;
      if (hadGap) this.local?.resync();
    })().catch((error: unknown) => {
      // Redis went away again; its next 'ready' tries again.
      this.options.log.debug({ err: error }, 'bus recovery interrupted');
    });
  }

  private redisError(error: Error): void {
    const now = Date.now();
    if (now - this.lastErrorLog < 10_000) return;
    this.lastErrorLog = now;
    this.options.log.warn({ err: error.message }, 'Redis connection error');
  }
}
