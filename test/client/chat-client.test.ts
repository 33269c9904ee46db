import type { OutboxEntry } from '../../miniprogram/core/outbox';
import { stored, waitFor } from '../support/app';
import { useServer } from '../support/fixture';

describe('ChatClient against the real server', () => {
  const fixture = useServer({ each: true });
  const phone = fixture.phone;

  it('logs in once per device and stays the same user across launches', async () => {
    const first = await phone();
    const id = first.client.stores.me.id;
    expect(id).toMatch(/^u/);
    first.client.stop();

    // Same storage: a relaunch of the same installation.
    const again = await phone({ storage: first.adapter.storage });
    expect(again.client.stores.me.id).toBe(id);

    // The token expired meanwhile: the device id still names the same user.
    const storage = new Map(first.adapter.storage);
    storage.delete('chat.session');
    const relogged = await phone({ storage });
    expect(relogged.client.stores.me.id).toBe(id);
  });

  it('sends a message that the peer receives once, listed with an unread count', async () => {
    const alice = await phone();
    const bob = await phone();
    const bobUser = bob.client.stores.me.user!;
    const conv = alice.client.conversationWith(bobUser);

    const cid = alice.client.sendText(conv, '你好');
    expect(cid).not.toBeNull();
    // Shown at once, as sending.
    expect(alice.client.stores.messages.view(conv).items).toMatchObject([{ body: '你好', status: 'sending', seq: 0 }]);

    await waitFor(() => alice.client.stores.messages.view(conv).items[0]?.status === 'sent', 'the ack');
    expect(alice.client.stores.messages.view(conv).items).toMatchObject([{ body: '你好', seq: 1, key: cid }]);

    await waitFor(() => bob.client.stores.sessions.list.length === 1, 'bob to list the conversation');
    const session = bob.client.stores.sessions.list[0];
    expect(session).toMatchObject({ conv, unread: 1, preview: '你好', badge: '1' });
    expect(session.peer?.id).toBe(alice.client.stores.me.id);
    expect(bob.client.stores.messages.view(conv).items.map((item) => item.body)).toEqual(['你好']);
    expect(bob.client.stores.sessions.totalUnread).toBe(1);
  });

  it('marks a conversation read on both of its sides', async () => {
    const alice = await phone();
    const bob = await phone();
    const conv = alice.client.conversationWith(bob.client.stores.me.user!);
    alice.client.sendText(conv, 'one');
    alice.client.sendText(conv, 'two');
    await waitFor(() => bob.client.stores.sessions.find(conv)?.unread === 2, 'two unread at bob');

    bob.client.openConversation(conv);
    expect(bob.client.stores.sessions.find(conv)?.unread).toBe(0);
    // Alice hears that bob read up to seq 2 (for "已读").
    await waitFor(() => alice.client.stores.sessions.find(conv)?.peerReadSeq === 2, 'alice to see the read state');

    // A fresh device of bob gets unread 0 from the server.
    const bobAgain = await phone({ storage: new Map(bob.adapter.storage) });
    expect(bobAgain.client.stores.sessions.find(conv)?.unread).toBe(0);
  });

  it("a send from one device clears the conversation's unread badge on the user's other device", async () => {
    const bob = await phone();
    const first = await phone();
    // The same installation on a second phone: the same user, another connection.
    const second = await phone({ storage: new Map([['chat.deviceId', first.adapter.storage.get('chat.deviceId')!]]) });
    expect(second.client.stores.me.id).toBe(first.client.stores.me.id);
    const me = first.client.stores.me.user!;
    const conv = first.client.conversationWith(bob.client.stores.me.user!);
    bob.client.conversationWith(me);

    for (const body of ['bob 1', 'bob 2', 'bob 3']) bob.client.sendText(conv, body);
    await waitFor(
      () => [first, second].every((device) => device.client.stores.sessions.find(conv)?.unread === 3),
      'three unread on both devices',
    );
    expect(second.client.stores.sessions.find(conv)?.badge).toBe('3');

    // The server's word for it: the states frames the second device receives from now on.
    const states: unknown[] = [];
    second.adapter.liveTasks()[0].ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { type: string };
      if (frame.type === 'states') states.push(frame);
    });
    // The first device replies from the list, without opening the conversation (no `read`).
    first.client.sendText(conv, 'a reply');
    await waitFor(() => second.client.stores.sessions.find(conv)?.unread === 0, 'the second device to clear its badge');
    expect(second.client.stores.sessions.find(conv)).toMatchObject({ readSeq: 4, lastSeq: 4, badge: '' });
    expect(second.client.stores.sessions.totalUnread).toBe(0);
    await waitFor(() => states.length === 1, 'the states of the send');
    expect(states).toEqual([{ type: 'states', conv, user: me.id, readSeq: 4 }]);
    expect(first.client.stores.sessions.find(conv)).toMatchObject({ readSeq: 4, unread: 0 });
    // Bob just has one more message to read.
    await waitFor(() => bob.client.stores.sessions.find(conv)?.unread === 1, 'bob to get the reply');
  });

  it('keeps the conversation open live: incoming messages are read at once', async () => {
    const alice = await phone();
    const bob = await phone();
    const conv = alice.client.conversationWith(bob.client.stores.me.user!);
    bob.client.openConversation(conv);
    alice.client.sendText(conv, 'live');
    await waitFor(() => bob.client.stores.messages.view(conv).items.length === 1, 'bob to receive');
    expect(bob.client.stores.sessions.find(conv)?.unread).toBe(0);
    await waitFor(() => alice.client.stores.sessions.find(conv)?.peerReadSeq === 1, 'the read state');
  });

  it('loads the newest page on open and older pages on demand, each message once', async () => {
    const alice = await phone();
    const bob = await phone();
    const conv = alice.client.conversationWith(bob.client.stores.me.user!);
    for (let i = 1; i <= 45; i++) alice.client.sendText(conv, `m${i}`);
    await waitFor(() => alice.client.stores.messages.view(conv).items.every((item) => item.seq > 0), 'all acks');

    // A new device of bob: sync brings the newest messages; history pages go further back.
    const fresh = await phone({ storage: new Map([['chat.deviceId', bob.adapter.storage.get('chat.deviceId')!]]) });
    expect(fresh.client.stores.me.id).toBe(bob.client.stores.me.id);
    const view = () => fresh.client.stores.messages.view(conv);
    expect(view().items).toHaveLength(45);
    expect(view().items.map((item) => item.seq)).toEqual(Array.from({ length: 45 }, (_, i) => i + 1));

    // Start over on history paging from an empty device that did not sync messages.
    fresh.stores.messages.clear();
    fresh.client.openConversation(conv);
    await waitFor(() => view().loaded, 'the newest page');
    expect(view().items.map((item) => item.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 26));
    expect(view().hasMore).toBe(true);
    await fresh.client.loadOlder(conv);
    await fresh.client.loadOlder(conv);
    expect(view().items.map((item) => item.seq)).toEqual(Array.from({ length: 45 }, (_, i) => i + 1));
    expect(view().hasMore).toBe(false);
  });

  it('queues sends made before the socket opens and sends them once it has synced', async () => {
    const bob = await phone();
    const bobUser = bob.client.stores.me.user!;
    const seed = await phone();
    const aliceStorage = new Map(seed.adapter.storage);
    const aliceId = seed.client.stores.me.id;
    seed.client.stop();

    const alice = fixture.unstarted(fixture.url, { storage: aliceStorage });
    // Not started: nothing is connected, yet the send is shown and kept.
    alice.stores.me.setUser({ id: aliceId, nickname: 'a', avatar: '' });
    const conv = alice.client.conversationWith(bobUser);
    alice.client.sendText(conv, 'queued');
    expect(stored<OutboxEntry[]>(alice, 'chat.outbox')).toHaveLength(1);

    alice.client.start();
    await waitFor(() => bob.client.stores.messages.view(conv).items.length === 1, 'bob to receive the queued send');
    expect(bob.client.stores.messages.view(conv).items[0]).toMatchObject({ body: 'queued', from: aliceId });
    await waitFor(() => stored<OutboxEntry[]>(alice, 'chat.outbox')?.length === 0, 'the outbox to drain');
  });

  it('drains a long outbox in order under the server’s rate limit, each message once', async () => {
    const alice = await phone();
    const bob = await phone();
    const conv = alice.client.conversationWith(bob.client.stores.me.user!);
    // More than the server's burst (40): the client paces itself instead of being refused.
    const bodies = Array.from({ length: 50 }, (_, i) => `burst ${i}`);
    for (const body of bodies) alice.client.sendText(conv, body);
    await waitFor(() => bob.client.stores.messages.view(conv).items.length === 50, 'bob to hold all 50', 15_000);
    const received = bob.client.stores.messages.view(conv).items;
    expect(received.map((item) => item.body)).toEqual(bodies);
    expect(received.map((item) => item.seq)).toEqual(bodies.map((_, i) => i + 1));
    await waitFor(() => stored<OutboxEntry[]>(alice, 'chat.outbox')?.length === 0, 'the outbox to drain');
    expect(alice.client.stores.errors.lastError).not.toContain('rate_limited');
  });

  it('shows the cached session list and latest messages at launch, before any connection', async () => {
    const alice = await phone();
    const bob = await phone();
    const conv = bob.client.conversationWith(alice.client.stores.me.user!);
    for (let i = 1; i <= 25; i++) bob.client.sendText(conv, `note ${i}`);
    await waitFor(() => alice.client.stores.messages.view(conv).items.length === 25, 'alice to receive 25');
    alice.client.stop();

    // Relaunch against a server that is not there: the first screen comes from storage.
    const offline = fixture.unstarted('http://127.0.0.1:9', { storage: alice.adapter.storage });
    expect(offline.client.stores.me.id).toBe(alice.client.stores.me.id);
    expect(offline.client.stores.sessions.list.map((item) => [item.conv, item.unread])).toEqual([[conv, 25]]);
    const cached = offline.client.stores.messages.view(conv);
    expect(cached.items.map((item) => item.body)).toEqual(Array.from({ length: 20 }, (_, i) => `note ${i + 6}`));
    expect(cached.hasMore).toBe(true);
    expect(offline.adapter.tasks).toHaveLength(0);

    // Online again, it syncs only what came after the cached messages, and pages back for more.
    bob.client.sendText(conv, 'while you were away');
    const back = await phone({ storage: alice.adapter.storage });
    await waitFor(() => back.client.stores.messages.view(conv).items.length === 21, 'the new message');
    expect(back.client.stores.messages.view(conv).items.at(-1)?.body).toBe('while you were away');
    await back.client.loadOlder(conv);
    expect(back.client.stores.messages.view(conv).items.map((item) => item.seq)).toEqual(
      Array.from({ length: 26 }, (_, i) => i + 1),
    );
  });

  it('reconnects after the server drops the socket and catches up with what it missed', async () => {
    const alice = await phone({ heartbeatMs: 50_000 });
    const bob = await phone();
    const conv = bob.client.conversationWith(alice.client.stores.me.user!);
    bob.client.sendText(conv, 'before');
    await waitFor(() => alice.client.stores.messages.view(conv).items.length === 1, 'the first message');

    // Cut alice's socket from her side of the network, then let bob talk while she is away.
    const task = alice.adapter.liveTasks()[0];
    task.ws.terminate();
    // Noticed: the connection is down, or (when the backoff drew a delay near 0) already replaced.
    await waitFor(
      () => alice.client.stores.connection.state !== 'ready' || alice.adapter.tasks.length > 1,
      'alice to notice',
    );
    bob.client.sendText(conv, 'while away');
    await waitFor(() => alice.client.stores.connection.state === 'ready', 'alice to come back', 8000);
    await waitFor(() => alice.client.stores.messages.view(conv).items.length === 2, 'the missed message');
    expect(alice.client.stores.messages.view(conv).items.map((item) => item.body)).toEqual(['before', 'while away']);
    expect(alice.adapter.maxConcurrentTasks).toBe(1);
  });
});
