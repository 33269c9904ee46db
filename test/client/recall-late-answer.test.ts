import type { Phone } from '../support/app';
import { started, waitFor } from '../support/app';
import { FaultProxy } from '../support/fault-proxy';
import { useServer } from '../support/fixture';
import { RecallError } from '../../miniprogram/core/recalls';

/** What a phone holds of message `seq`: its kind and body. */
function held(phone: Phone, conv: string, seq: number): { kind: string; body: string } | undefined {
  const item = phone.client.stores.messages.view(conv).items.find((candidate) => candidate.seq === seq);
  return item ? { kind: item.kind, body: item.body } : undefined;
}

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

/**
 * Found while extending the chaos run with recalls (its `offline` recalls whose outcome only the
 * server knows): a recall the phone gave up on may still be stored by the server, and its answer
 * may then come on the same connection. The server sends the
 * recall's `message` to every connection but the recaller's (the ack is its answer), so a phone
 * that dropped the late ack held the message unrecalled, with a hole at the recall's seq, until
 * another message or a reconnect's sync repaired it — possibly never in a quiet conversation.
 */
describe('a recall answered after the phone gave up on it', () => {
  const fixture = useServer();
  const proxies: FaultProxy[] = [];

  afterAll(async () => {
    for (const proxy of proxies.splice(0)) await proxy.close();
  });

  it('shows as recalled all the same, on that connection, with no sync', async () => {
    const proxy = await FaultProxy.start(fixture.server.port);
    proxies.push(proxy);
    const peer = await fixture.phone();
    const me = await started(fixture.unstarted(proxy.url, { recallTimeoutMs: 300 }));
    const conv = me.client.conversationWith(peer.client.stores.me.user!);
    me.client.sendText(conv, '发错了');
    await waitFor(() => held(me, conv, 1)?.kind === 'text', 'the message to be acked');

    // Slow both ways (the connection lives: no heartbeat is missed), so the answer comes late.
    proxy.delay(400);
    const error = await refusal(me.client.recall(conv, 1));
    expect(error.code).toBe('offline');
    await waitFor(() => held(peer, conv, 1)?.kind === 'recalled', 'the peer to see it recalled');

    await waitFor(() => held(me, conv, 1)?.kind === 'recalled', 'the late answer to show here', 3000);
    expect(held(me, conv, 1)?.body).toBe('');
    expect(held(me, conv, 2)?.kind).toBe('system');
    expect(me.client.stores.messages.cursor(conv)).toBe(2);
    // No error shown for it, and the same connection throughout: no sync repaired it.
    expect(me.client.stores.errors.last).toBeNull();
    expect(proxy.accepted.filter((c) => c.firstLine.startsWith('GET /ws'))).toHaveLength(1);
    proxy.restore();
  });
});
