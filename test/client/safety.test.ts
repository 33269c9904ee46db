/**
 * Safety in the app (issue #19): 拉黑 (the recipient refuses a blocked sender's sends with
 * `blocked`: failed at once with WeChat's notice, final, no retries), unblock, 举报, the 黑名单, and
 * a ban (close 4003: no reconnect; the login's 403 banned: none either). Against the real server
 * (server/src/http/safety-routes.ts); the ban through the moderators' API
 * (`POST /api/admin/users/:id/ban` with ADMIN_TOKEN). `content_refused` (WeChat's content check,
 * off in tests) through the send queue itself.
 */
import type { ClientFrame } from '../../contract/frames';
import type { Platform } from '../../miniprogram/core/platform';
import { Outbox } from '../../miniprogram/core/outbox';
import { REFUSAL_NOTICES, SendQueue } from '../../miniprogram/core/send-queue';
import { ApiError } from '../../miniprogram/core/api';
import { createStores } from '../../miniprogram/stores/index';
import { createPhone, sleep, started, waitFor, type Phone } from '../support/app';
import { httpCall } from '../support/http-call';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { WxAdapter } from '../support/wx-adapter';

const BLOCKED = '消息已发出，但被对方拒收了';
/** The moderators' token of the test server (at least 24 characters). */
const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
const REFUSED = '内容含有违规信息，发送失败';

interface CountingPhone extends Phone {
  /** Socket connections attempted. */
  connects(): number;
  /** `send` frames handed to a socket, by cid. */
  sends(cid: string): number;
}

let running: ServerProcess;
const phones: Phone[] = [];

beforeAll(async () => {
  running = await startServerProcess({ env: { ADMIN_TOKEN } });
});
afterEach(() => {
  for (const phone of phones.splice(0)) phone.client.stop();
});
afterAll(async () => {
  await running.stop();
});

/** A phone that counts its connection attempts and the `send` frames it writes. */
function phone(): CountingPhone {
  let connects = 0;
  const frames: string[] = [];
  const made = createPhone(running.url, {
    backoff: { baseMs: 50, capMs: 200 },
    platform: (platform: Platform) => ({
      ...platform,
      connectSocket: (option) => {
        connects++;
        const task = platform.connectSocket(option);
        const send = task.send.bind(task);
        task.send = (message) => {
          if (typeof message.data === 'string' && message.data.includes('"type":"send"')) frames.push(message.data);
          return send(message);
        };
        return task;
      },
    }),
  });
  phones.push(made);
  return {
    ...made,
    connects: () => connects,
    sends: (cid) => frames.filter((frame) => frame.includes(`"cid":"${cid}"`)).length,
  };
}

async function pair(): Promise<{ me: CountingPhone; peer: CountingPhone; conv: string }> {
  const me = await started(phone());
  const peer = await started(phone());
  const conv = me.client.conversationWith(peer.client.stores.me.user!);
  peer.client.conversationWith(me.client.stores.me.user!);
  return { me, peer, conv };
}

function item(target: Phone, conv: string, cid: string) {
  return target.client.stores.messages.view(conv).items.find((candidate) => candidate.key === cid);
}

describe('拉黑: a blocked sender', () => {
  it('sends fail at once with WeChat’s notice, are final (sent once, no retries), and go again once unblocked', async () => {
    const { me, peer, conv } = await pair();
    const peerUser = peer.client.stores.me.user!;
    const meUser = me.client.stores.me.user!;
    // The peer blocks me (from their 聊天信息 or my profile card).
    await peer.client.block(meUser);
    expect(peer.client.stores.blocks.list.map((user) => user.id)).toEqual([meUser.id]);

    const cid = me.client.sendText(conv, '你好')!;
    await waitFor(() => item(me, conv, cid)?.status === 'failed', 'the send to fail');
    expect(item(me, conv, cid)?.failReason).toBe(BLOCKED);
    // Final: one frame, and none after the retry delay, an ack timeout or a reconnect.
    await sleep(1500);
    expect(me.sends(cid)).toBe(1);
    expect(item(me, conv, cid)?.status).toBe('failed');
    // The blocker sees nothing.
    expect(peer.client.stores.messages.view(conv).items).toEqual([]);

    // Unblocked: a tap on ! tries again (once), and it arrives.
    await peer.client.unblock(meUser.id);
    expect(peer.client.stores.blocks.list).toEqual([]);
    me.client.resend(cid);
    expect(item(me, conv, cid)?.failReason).toBeUndefined();
    await waitFor(() => item(me, conv, cid)?.status === 'sent', 'the resend acked');
    await waitFor(() => peer.client.stores.messages.view(conv).items.length === 1, 'the message at the peer');
    expect(me.sends(cid)).toBe(2);
    expect(peer.client.stores.messages.view(conv).items[0].from).not.toBe(peerUser.id);
  });

  it('the notice is kept with the unsent message across a relaunch', async () => {
    const { me, peer, conv } = await pair();
    await peer.client.block(me.client.stores.me.user!);
    const cid = me.client.sendText(conv, '还在吗')!;
    await waitFor(() => item(me, conv, cid)?.status === 'failed', 'the send to fail');
    me.client.stop();
    // The same installation, launched again: the failed bubble and its notice come from storage.
    const again = createPhone(running.url, { storage: new Map(me.adapter.storage) });
    phones.push(again);
    const relaunched = again.client.stores.messages.view(conv).items.find((candidate) => candidate.key === cid);
    expect(relaunched?.status).toBe('failed');
    expect(relaunched?.failReason).toBe(BLOCKED);
  });
});

describe('黑名单', () => {
  it('lists the people blocked, newest first, with their profiles; 移出 takes one off', async () => {
    const me = await started(phone());
    const a = await started(phone());
    const b = await started(phone());
    const userA = a.client.stores.me.user!;
    const userB = b.client.stores.me.user!;
    await me.client.block(userA);
    await me.client.block(userB);

    // Another device of mine, fetching it on demand.
    const other = await started(createPhone(running.url, { storage: new Map(me.adapter.storage) }));
    phones.push(other);
    expect(other.client.stores.blocks.loaded).toBe(false);
    await other.client.loadBlocks();
    expect(other.client.stores.blocks.list).toEqual([
      { id: userB.id, nickname: userB.nickname, avatar: userB.avatar },
      { id: userA.id, nickname: userA.nickname, avatar: userA.avatar },
    ]);
    await other.client.unblock(userB.id);
    await me.client.loadBlocks();
    expect(me.client.stores.blocks.list.map((user) => user.id)).toEqual([userA.id]);
  });
});

describe('举报', () => {
  it('a message or a whole conversation, by a member; a stranger is refused (403)', async () => {
    const { me, peer, conv } = await pair();
    peer.client.sendText(conv, '中奖了，点链接领取');
    await waitFor(() => me.client.stores.messages.view(conv).items.length === 1, 'the message');
    const seq = me.client.stores.messages.view(conv).items[0].seq;
    await expect(me.client.report(conv, '诈骗', seq)).resolves.toBeUndefined();
    await expect(me.client.report(conv, '其他：一直骚扰我')).resolves.toBeUndefined();

    const stranger = await started(phone());
    const refusal = await stranger.client.report(conv, '骚扰').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ApiError);
    expect((refusal as ApiError).status).toBe(403);

    // The answer is 201 {id} (as the app's Api gets it).
    const session = JSON.parse(me.adapter.storage.get('chat.session')!) as { token: string };
    const answer = await httpCall(running.port, 'POST', '/api/reports', {
      token: session.token,
      body: { conv, seq, reason: '骚扰' },
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toEqual({ id: expect.any(String) });
  });
});

describe('a ban (4003)', () => {
  it('closes the socket for good: no reconnect, the banner says so; the next launch’s login (403 banned) neither', async () => {
    const banned = await started(phone());
    const userId = banned.client.stores.me.id;
    const attempts = banned.connects();
    const answer = await httpCall(running.port, 'POST', `/api/admin/users/${userId}/ban`, {
      token: ADMIN_TOKEN,
      body: { reason: '诈骗' },
    });
    expect(answer.status).toBe(200);
    await waitFor(() => banned.client.stores.connection.state === 'banned', 'the banned state');
    expect(banned.client.stores.connection.banner).toBe('你的账号已被封禁');
    // Longer than several backoff steps (50 ms doubling): nothing tries again, not even a retry tap.
    await sleep(800);
    banned.client.retry();
    banned.client.onShow();
    await sleep(300);
    expect(banned.connects()).toBe(attempts);
    expect(banned.client.stores.connection.state).toBe('banned');

    // A fresh launch of the same installation with no token: the login answers 403 banned.
    banned.client.stop();
    const storage = new Map(banned.adapter.storage);
    storage.delete('chat.session');
    const again = createPhone(running.url, { storage, backoff: { baseMs: 50, capMs: 200 } });
    phones.push(again);
    again.client.start();
    await waitFor(() => again.client.stores.connection.state === 'banned', 'banned at login');
    expect(again.client.stores.connection.banner).toBe('你的账号已被封禁');
  });
});

describe('content_refused: the send queue', () => {
  it('a text refused by the content check fails at once with the notice, and is never sent again by itself', async () => {
    const adapter = new WxAdapter();
    const stores = createStores();
    stores.me.setUser({ id: 'u1', nickname: '我', avatar: '' });
    const transmitted: ClientFrame[] = [];
    const queue = new SendQueue({
      outbox: new Outbox(adapter.platform()),
      api: {} as never,
      messages: stores.messages,
      errors: stores.errors,
      ready: () => true,
      transmit: (frame) => {
        transmitted.push(frame);
        return true;
      },
      me: () => 'u1',
      random: () => 0,
      maxSendTries: 5,
      ackTimeoutMs: 50,
    });
    const conv = 'dm:u1:u2';
    const cid = queue.sendText(conv, '违规的话')!;
    expect(transmitted).toHaveLength(1);
    expect(queue.refused({ type: 'error', code: 'content_refused', message: 'risky', ref: cid })).toBe(true);
    const shown = () => stores.messages.view(conv).items.find((candidate) => candidate.key === cid);
    expect(shown()?.status).toBe('failed');
    expect(shown()?.failReason).toBe(REFUSED);
    expect(REFUSAL_NOTICES.content_refused).toBe(REFUSED);
    // No resend loop: past the ack timeout and the refusal's retry delay, nothing more goes out.
    await sleep(300);
    queue.connectionOpened();
    queue.connectionReady();
    await sleep(100);
    expect(transmitted).toHaveLength(1);
    // A tap on ! tries once more.
    queue.resend(cid);
    expect(transmitted).toHaveLength(2);
    expect(shown()?.status).toBe('sending');
    expect(shown()?.failReason).toBeUndefined();
    queue.stop();
  });
});
