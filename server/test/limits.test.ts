/**
 * Per-connection rate limits over real sockets: sends beyond the bucket are refused with
 * rate_limited and not stored; floods of any frame are dropped; other users are unaffected.
 */
import { LIMITS } from '../../contract/limits';
import { directConversationId } from '../../contract/conversations';
import { TokenBucket } from '../../contract/token-bucket';
import { UserBudgets } from '../src/ws/budgets';
import { useOwnServers, useSockets } from './support/fixture';
import { person } from './support/server';
import { sleep } from './support/wait';

const sockets = useSockets();
const ownServer = useOwnServers();

describe('TokenBucket', () => {
  it('allows the burst, then refills at the rate', () => {
    let now = 0;
    const bucket = new TokenBucket(2, 3, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    now = 499;
    expect(bucket.take()).toBe(false);
    now = 500;
    expect(bucket.take()).toBe(true);
    now = 100_000;
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
  });
});

describe('UserBudgets', () => {
  const limits = {
    requests: { perSecond: 2, burst: 2 },
    sends: { perMinute: 6, burst: 2 },
    bytesPerDay: 1000,
  };

  it('counts message bytes over a rolling day, and a refusal for the quota spends no send', () => {
    let now = Date.UTC(2026, 0, 1, 12);
    const budgets = new UserBudgets(limits, { now: () => now });
    expect(budgets.send('u', 600)).toBeUndefined();
    now += 1000;
    expect(budgets.send('u', 500)).toBe('quota');
    // The quota refusal took no token: a small one still goes.
    expect(budgets.send('u', 300)).toBeUndefined();
    expect(budgets.send('u', 1)).toBe('rate');
    // A day later the bytes of the first hour are forgotten.
    now += 24 * 3600 * 1000;
    expect(budgets.send('u', 999)).toBeUndefined();
  });

  it('forgets users whose budgets hold nothing, and never holds more than maxUsers', () => {
    let now = 0;
    const budgets = new UserBudgets(limits, { now: () => now, maxUsers: 3 });
    for (const user of ['a', 'b', 'c', 'd']) expect(budgets.request(user)).toBe(true);
    expect(budgets.size).toBe(3);
    // 'a', the least recently active, was forgotten: its budget is whole again.
    expect([budgets.request('a'), budgets.request('a'), budgets.request('a')]).toEqual([true, true, false]);
    now += 3 * 60_000;
    budgets.sweep();
    expect(budgets.size).toBe(0);
    // One who stored bytes today is kept, so that forgetting never gives the quota back.
    budgets.send('e', 900);
    now += 3 * 60_000;
    budgets.sweep();
    expect(budgets.size).toBe(1);
    expect(budgets.send('e', 200)).toBe('quota');
  });
});

describe('send rate limit', () => {
  it('refuses sends beyond the burst with rate_limited (ref = cid), stores none of them, and recovers', async () => {
    const server = await ownServer({ sendRate: { perSecond: 5, burst: 10 } });
    const alice = await person(server, sockets);
    const bob = await person(server, sockets);
    for (let i = 0; i < 30; i++) {
      alice.socket.send({ type: 'send', cid: `burst-${i}`, to: bob.id, kind: 'text', body: `m${i}` });
    }
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        Promise.race([
          alice.socket.next('ack', (ack) => ack.cid === `burst-${i}`),
          alice.socket.next('error', (error) => error.ref === `burst-${i}`),
        ]),
      ),
    );
    const acked = answers.filter((answer) => answer.type === 'ack');
    const refused = answers.filter((answer) => answer.type === 'error');
    expect(acked.length).toBeGreaterThanOrEqual(10);
    expect(acked.length).toBeLessThan(15);
    expect(refused.length).toBe(30 - acked.length);
    for (const error of refused) expect(error).toMatchObject({ code: 'rate_limited' });

    // Only the acked ones exist: gap-free seqs 1..n, and bob got exactly those.
    const conv = directConversationId(alice.id, bob.id);
    alice.socket.send({ type: 'history', conv, limit: LIMITS.historyMax });
    const history = await alice.socket.next('history');
    expect(history.messages.map((message) => message.seq)).toEqual(acked.map((_, i) => i + 1));
    expect(history.messages.map((message) => message.cid).sort()).toEqual(acked.map((ack) => ack.cid).sort());

    // After a pause the same cid goes through: the client's retry.
    await sleep(600);
    const retried = refused[0].ref!;
    alice.socket.send({ type: 'send', cid: retried, to: bob.id, kind: 'text', body: 'retry' });
    const ack = await alice.socket.next('ack', (answer) => answer.cid === retried);
    expect(ack.seq).toBe(acked.length + 1);
  });
});

describe('frame flood', () => {
  it('drops a flood with one rate_limited notice per second and keeps serving others', async () => {
    const server = await ownServer({ frameRate: { perSecond: 50, burst: 50 } });
    const flooder = await person(server, sockets);
    const alice = await person(server, sockets);
    const bob = await person(server, sockets);
    for (let i = 0; i < 2000; i++) flooder.socket.send({ type: 'ping' });
    await sleep(300);
    const pongs = flooder.socket.frames.filter((frame) => frame.type === 'pong').length;
    const notices = flooder.socket.frames.filter((frame) => frame.type === 'error');
    expect(pongs).toBeGreaterThanOrEqual(50);
    expect(pongs).toBeLessThan(100);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ code: 'rate_limited' });

    // Everyone else chats as usual, and so does the flooder once it slows down.
    alice.socket.send({ type: 'send', cid: 'x1', to: bob.id, kind: 'text', body: 'still here' });
    await alice.socket.next('ack', (ack) => ack.cid === 'x1');
    await bob.socket.next('message', (message) => message.cid === 'x1');
    await sleep(1100);
    flooder.socket.frames.length = 0;
    flooder.socket.send({ type: 'ping' });
    await flooder.socket.next('pong');
  });
});
