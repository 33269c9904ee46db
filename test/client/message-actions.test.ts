import type { Phone } from '../support/app';
import { sleep, waitFor } from '../support/app';
import { useServer } from '../support/fixture';
import { RecallError } from '../../miniprogram/core/recalls';

/** What a phone holds of message `seq`: its kind and body. */
function held(phone: Phone, conv: string, seq: number): { kind: string; body: string } | undefined {
  const item = phone.client.stores.messages.view(conv).items.find((candidate) => candidate.seq === seq);
  return item ? { kind: item.kind, body: item.body } : undefined;
}

const nickname = (phone: Phone): string => phone.client.stores.me.user!.nickname;

/** The rejection of a promise, as the error it was rejected with. */
async function refusal(promise: Promise<unknown>): Promise<RecallError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RecallError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('撤回 and 引用 through the client, against the real server', () => {
  const fixture = useServer({ each: true });

  it('a recall shows on both sides at once, in both lists, and a device that held the message follows after reconnecting', async () => {
    const { me, peer, conv } = await fixture.pair();
    // The peer's second device, offline while the recall happens.
    const tablet = await fixture.phone({ storage: new Map(peer.adapter.storage) });
    me.client.sendText(conv, '说错话了');
    await waitFor(() => held(tablet, conv, 1)?.body === '说错话了', 'the tablet to hold the message');
    await waitFor(() => peer.client.stores.sessions.find(conv)?.unread === 1, 'the peer to count it');
    tablet.client.stop();

    await me.client.recall(conv, 1);
    // Here at once, without waiting for anything else.
    expect(held(me, conv, 1)).toEqual({ kind: 'recalled', body: '' });
    expect(held(me, conv, 2)?.kind).toBe('system');
    expect(me.client.stores.sessions.find(conv)?.preview).toBe('你撤回了一条消息');
    expect(me.client.stores.messages.recalledText(conv, 1)).toBe('说错话了');

    await waitFor(() => held(peer, conv, 1)?.kind === 'recalled', 'the peer to see it recalled');
    expect(held(peer, conv, 1)?.body).toBe('');
    expect(peer.client.stores.sessions.find(conv)).toMatchObject({
      preview: `"${nickname(me)}"撤回了一条消息`,
      // A recalled message counts for no badge.
      unread: 0,
    });
    // Only the recaller may edit it again.
    expect(peer.client.stores.messages.recalledText(conv, 1)).toBe('');

    tablet.client.start();
    await waitFor(() => held(tablet, conv, 1)?.kind === 'recalled', 'the tablet to follow after its sync');
    expect(held(tablet, conv, 1)?.body).toBe('');
    // Nothing of the text is kept in the tablet's storage either.
    await sleep(600);
    expect(JSON.stringify([...tablet.adapter.storage.values()])).not.toContain('说错话了');
  });

  it("a group's owner recalls a member's message: 群主撤回了一条成员消息 for the others", async () => {
    const owner = await fixture.phone();
    const bob = await fixture.phone();
    const carol = await fixture.phone();
    const conv = await owner.client.groups.create([bob.client.stores.me.user!, carol.client.stores.me.user!]);
    await waitFor(() => carol.client.stores.sessions.find(conv)?.lastSeq === 1, 'carol to list the group');
    bob.client.sendText(conv, '广告：低价出售');
    await waitFor(() => held(owner, conv, 2)?.kind === 'text', 'the owner to hold it');
    await waitFor(() => held(carol, conv, 2)?.kind === 'text', 'carol to hold it');
    await carol.client.groups.load(conv);

    await owner.client.recall(conv, 2);
    expect(owner.client.stores.sessions.find(conv)?.preview).toBe('你撤回了一条成员消息');
    // The owner may not put someone else's text back in its input.
    expect(owner.client.stores.messages.recalledText(conv, 2)).toBe('');
    await waitFor(() => carol.client.stores.sessions.find(conv)?.preview === '群主撤回了一条成员消息', 'carol');
    expect(held(carol, conv, 2)).toEqual({ kind: 'recalled', body: '' });
    await waitFor(() => held(bob, conv, 2)?.kind === 'recalled', 'bob to see his message recalled');
  });

  it('refusals say why: not the sender, a system message, already recalled, no such message', async () => {
    const { me, peer, conv } = await fixture.pair();
    me.client.sendText(conv, '我的消息');
    await waitFor(() => held(peer, conv, 1) !== undefined, 'the peer to hold it');
    expect((await refusal(peer.client.recall(conv, 1))).code).toBe('forbidden');
    expect((await refusal(me.client.recall(conv, 9))).code).toBe('not_found');
    await me.client.recall(conv, 1);
    expect((await refusal(me.client.recall(conv, 1))).code).toBe('forbidden');
    expect((await refusal(me.client.recall(conv, 2))).code).toBe('forbidden');
    // The refused ones stored nothing: the message and its one recall.
    await waitFor(() => held(peer, conv, 2)?.kind === 'system', 'the recall to reach the peer');
    expect(peer.client.stores.messages.view(conv).items.map((item) => item.kind)).toEqual(['recalled', 'system']);
  });

  it('a recall with no connection fails plainly once its time is up; the message stays', async () => {
    const { me, peer, conv } = await fixture.pair();
    me.client.sendText(conv, '还在');
    await waitFor(() => held(peer, conv, 1) !== undefined, 'the peer to hold it');
    // The same user, on a phone that cannot reach the server.
    const cut = fixture.unstarted('http://127.0.0.1:9', { storage: new Map(me.adapter.storage), recallTimeoutMs: 300 });
    cut.client.start();
    const error = await refusal(cut.client.recall(conv, 1));
    expect(error.code).toBe('offline');
    expect(held(peer, conv, 1)?.kind).toBe('text');
  });

  it('引用: the reply shows its quote at once, and the peer gets it with the same quote', async () => {
    const { me, peer, conv } = await fixture.pair();
    peer.client.sendText(conv, '周六去爬山吗？我们早上八点在地铁站集合，记得带水和午饭');
    await waitFor(() => held(me, conv, 1) !== undefined, 'the question');
    const question = me.client.stores.messages.view(conv).items[0];
    const quote = { seq: 1, from: question.from, kind: question.kind, excerpt: question.body.slice(0, 50) };
    const cid = me.client.sendText(conv, '好呀', { reply: quote })!;
    // Quoted in the pending bubble already.
    expect(me.client.stores.messages.view(conv).items.find((item) => item.key === cid)?.reply).toEqual(quote);
    await waitFor(() => held(peer, conv, 2) !== undefined, 'the reply');
    const reply = peer.client.stores.messages.view(conv).items.find((item) => item.seq === 2)!;
    expect(reply.reply).toEqual({ seq: 1, from: peer.client.stores.me.id, kind: 'text', excerpt: quote.excerpt });
    await waitFor(() => me.client.stores.messages.view(conv).items.some((item) => item.seq === 2), 'the ack');
    expect(me.client.stores.messages.view(conv).items.find((item) => item.seq === 2)?.reply).toEqual(quote);
  });

  it('a reply whose quoted message was recalled meanwhile still goes, without its quote', async () => {
    const { me, peer, conv } = await fixture.pair();
    peer.client.sendText(conv, '删掉的话');
    await waitFor(() => held(me, conv, 1) !== undefined, 'the message');
    const quote = { seq: 1, from: peer.client.stores.me.id, kind: 'text' as const, excerpt: '删掉的话' };
    me.client.stop();
    await peer.client.recall(conv, 1);
    me.client.sendText(conv, '收到', { reply: quote });
    me.client.start();
    await waitFor(() => held(peer, conv, 3)?.body === '收到', 'the reply to arrive as a plain message');
    expect(peer.client.stores.messages.view(conv).items.find((item) => item.seq === 3)?.reply).toBeUndefined();
    await waitFor(() => me.client.stores.messages.view(conv).items.every((item) => item.seq > 0), 'the ack');
    expect(me.client.stores.messages.view(conv).items.find((item) => item.seq === 3)).toMatchObject({
      body: '收到',
      status: 'sent',
    });
    expect(held(me, conv, 1)?.kind).toBe('recalled');
  });
});

describe('撤回 past the window', () => {
  const fixture = useServer({ env: { RECALL_WINDOW_S: '1' } });

  it('is refused for its sender (forbidden); the message stays', async () => {
    const { me, peer, conv } = await fixture.pair();
    me.client.sendText(conv, '太晚了');
    await waitFor(() => held(peer, conv, 1) !== undefined, 'the peer to hold it');
    await sleep(1500);
    expect((await refusal(me.client.recall(conv, 1))).code).toBe('forbidden');
    expect(held(me, conv, 1)).toEqual({ kind: 'text', body: '太晚了' });
  });
});
