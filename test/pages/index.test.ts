import { createPhone, startPhone, waitFor, type Phone } from '../support/app';
import { renderPage, settle, texts } from '../support/pages';
import { startServerProcess, type ServerProcess } from '../support/server-process';

describe('session list page', () => {
  let server: ServerProcess;
  const phones: Phone[] = [];

  beforeAll(async () => {
    server = await startServerProcess();
  });
  afterAll(async () => {
    for (const phone of phones) phone.client.stop();
    await server.stop();
  });

  async function phone(): Promise<Phone> {
    const started = await startPhone(server.url);
    phones.push(started);
    return started;
  }

  it('shows an empty state that leads to contacts', async () => {
    const me = await phone();
    const page = renderPage('index', me.client);
    await settle();
    expect(texts(page, '.empty')[0]).toContain('还没有聊天');
    expect(page.querySelectorAll('.session')).toHaveLength(0);
  });

  it('lists one entry per peer, newest first, with unread badges, and opens a chat read', async () => {
    const me = await phone();
    const alice = await phone();
    const bob = await phone();
    const convA = alice.client.conversationWith(me.client.stores.me.user!);
    const convB = bob.client.conversationWith(me.client.stores.me.user!);
    alice.client.sendText(convA, 'from alice 1');
    alice.client.sendText(convA, 'from alice 2');
    await waitFor(() => me.client.stores.sessions.find(convA)?.unread === 2, 'alice’s messages');
    bob.client.sendText(convB, 'from bob');
    await waitFor(() => me.client.stores.sessions.find(convB)?.unread === 1, 'bob’s message');

    const page = renderPage('index', me.client);
    await settle();
    const names = texts(page, '.name');
    expect(names).toEqual([bob.client.stores.me.user!.nickname, alice.client.stores.me.user!.nickname]);
    expect(texts(page, '.preview')).toEqual(['from bob', 'from alice 2']);
    expect(texts(page, '.badge')).toEqual(['1', '2']);

    // A newer message from alice moves her entry to the top, still one entry for her.
    alice.client.sendText(convA, 'again');
    await waitFor(() => me.client.stores.sessions.list[0].conv === convA, 'alice on top');
    await settle();
    expect(texts(page, '.name')).toHaveLength(2);
    expect(texts(page, '.preview')[0]).toBe('again');
    expect(texts(page, '.badge')).toEqual(['3', '1']);

    const navigateTo = jest
      .spyOn(wx, 'navigateTo')
      .mockImplementation(() => Promise.resolve({ errMsg: 'navigateTo:ok' }));
    page.querySelectorAll('.session')[0].dispatchEvent('tap');
    await settle();
    expect(navigateTo).toHaveBeenCalledWith({ url: `/pages/chat/chat?conv=${convA}` });
    expect(texts(page, '.badge')).toEqual(['1']);
    navigateTo.mockRestore();
  });

  it('shows the connection banner while the server is away', async () => {
    const own = await startServerProcess();
    const me = createPhone(own.url, { heartbeatMs: 60_000 });
    phones.push(me);
    me.client.start();
    await waitFor(() => me.client.stores.connection.state === 'ready', 'ready');
    const page = renderPage('index', me.client);
    await settle();
    expect(page.querySelectorAll('.banner')).toHaveLength(0);
    await own.kill();
    await waitFor(() => me.client.stores.connection.state !== 'ready', 'the drop');
    await settle();
    expect(texts(page, '.banner')).toEqual(['连接中…']);
  });
});
