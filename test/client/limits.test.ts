/**
 * The app's client against the server's socket limits (issue 14): a socket replaced by another
 * device of the same user (4004) waits for the foreground, a full server (503) is retried with
 * the backoff, and `history`/`sync` refused for their budget are asked again, never lost.
 */
import { directConversationId } from '../../contract/conversations';
import type { Platform } from '../../miniprogram/core/platform';
import { createPhone, sleep, started, waitFor, type Phone, type PhoneOptions } from '../support/app';
import { startServerProcess, type ServerProcess } from '../support/server-process';

const phones: Phone[] = [];
const servers: ServerProcess[] = [];

afterEach(async () => {
  for (const phone of phones.splice(0)) phone.client.stop();
  for (const server of servers.splice(0)) await server.stop();
});

async function server(env: Record<string, string>): Promise<ServerProcess> {
  const running = await startServerProcess({ env });
  servers.push(running);
  return running;
}

/** A phone that counts its connection attempts. */
function phone(url: string, options: PhoneOptions = {}): Phone & { connects: () => number } {
  let connects = 0;
  const made = createPhone(url, {
    ...options,
    platform: (platform: Platform) => ({
      ...platform,
      connectSocket: (option) => {
        connects++;
        return platform.connectSocket(option);
      },
    }),
  });
  phones.push(made);
  return { ...made, connects: () => connects };
}

/** The frames of a type a phone's open socket receives from now on. */
function watch(target: Phone, type: string): string[] {
  const seen: string[] = [];
  const task = target.adapter.liveTasks()[0];
  task.ws.on('message', (data: Buffer) => {
    const text = data.toString();
    if (text.includes(`"type":"${type}"`)) seen.push(text);
  });
  return seen;
}

describe('4004: another device of the same user took the socket', () => {
  it('does not reconnect by itself; the foreground (App.onShow) or a user action brings it back', async () => {
    const running = await server({ MAX_CONNECTIONS_PER_USER: '1' });
    const first = phone(running.url);
    await started(first);
    // The same installation's storage: the same user, on a second phone.
    const second = phone(running.url, { storage: new Map(first.adapter.storage) });
    await started(second);

    await waitFor(() => first.client.stores.connection.state === 'paused', 'the first phone paused');
    expect(first.client.stores.connection.banner).toBe('');
    const attempts = first.connects();
    // Longer than the first backoff steps (0.5 s, 1 s): no reconnect loop.
    await sleep(1500);
    expect(first.client.stores.connection.state).toBe('paused');
    expect(first.connects()).toBe(attempts);
    expect(second.client.stores.connection.state).toBe('ready');

    // Back in the foreground: it connects, and now the second one is the oldest.
    first.client.onShow();
    await waitFor(() => first.client.stores.connection.state === 'ready', 'the first phone back');
    await waitFor(() => second.client.stores.connection.state === 'paused', 'the second phone paused');

    // A user action (sending) brings the second back, and the message goes out.
    const me = second.client.stores.me.user!;
    const peer = phone(running.url);
    await started(peer);
    const conv = directConversationId(me.id, peer.client.stores.me.id);
    second.client.conversationWith(peer.client.stores.me.user!);
    second.client.sendText(conv, '回来了');
    await waitFor(() => second.client.stores.connection.state === 'ready', 'the second phone back');
    await waitFor(() => peer.client.stores.messages.view(conv).items.length === 1, 'the message at the peer');
  });
});

describe('MAX_CONNECTIONS: a full server', () => {
  it('a refused connect (503) is retried with the backoff until there is room', async () => {
    const running = await server({ MAX_CONNECTIONS: '1' });
    const holder = phone(running.url);
    await started(holder);
    const waiting = phone(running.url, { backoff: { baseMs: 100, capMs: 400 } });
    waiting.client.start();
    await waitFor(() => waiting.connects() >= 3, 'several refused tries');
    expect(waiting.client.stores.connection.state).not.toBe('ready');
    holder.client.stop();
    await waitFor(() => waiting.client.stores.connection.state === 'ready', 'a connection once there is room');
  });
});

describe('rate_limited answers to history and sync', () => {
  it('a refused history is asked again: the waiter gets its page, nothing hangs', async () => {
    const running = await server({ REQUEST_RATE: '1', REQUEST_BURST: '1' });
    const me = phone(running.url);
    const a = phone(running.url);
    const b = phone(running.url);
    await Promise.all([started(me), started(a), started(b)]);
    const convs = [a, b].map((other) => {
      const conv = me.client.conversationWith(other.client.stores.me.user!);
      other.client.conversationWith(me.client.stores.me.user!);
      other.client.sendText(conv, `来自 ${other.client.stores.me.id}`);
      return conv;
    });
    await waitFor(
      () => convs.every((conv) => me.client.stores.sessions.find(conv)?.lastSeq === 1),
      'both conversations at me',
    );
    const refusals = watch(me, 'error');
    const pages = watch(me, 'history');
    // Two pages at once with a budget of one: the second is refused, then asked again.
    await Promise.all(convs.map((conv) => me.client.loadOlder(conv)));
    expect(refusals.some((text) => text.includes('rate_limited'))).toBe(true);
    for (const conv of convs) expect(pages.some((text) => text.includes(`"conv":"${conv}"`))).toBe(true);
    // Handled, not shown as a problem.
    expect(me.client.stores.errors.last).toBeNull();
  });

  it('a refused sync is sent again after a short delay; a refresh waiting for it resolves', async () => {
    const running = await server({ REQUEST_RATE: '1', REQUEST_BURST: '1' });
    const me = phone(running.url);
    await started(me);
    const refusals = watch(me, 'error');
    const synced = watch(me, 'synced');
    // The connect's sync spent the budget; two refreshes in a row: at least one is refused.
    await Promise.all([me.client.refresh(), me.client.refresh()]);
    await me.client.refresh();
    expect(refusals.some((text) => text.includes('"ref":"sync"'))).toBe(true);
    expect(synced.length).toBeGreaterThanOrEqual(1);
    expect(me.client.stores.connection.state).toBe('ready');
  });
});
