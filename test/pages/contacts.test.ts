import type { ContactsData } from '../../miniprogram/pages/contacts/contacts';
import { started, waitFor } from '../support/app';
import { useServer } from '../support/fixture';
import { renderPage, settle, texts } from '../support/pages';
import { startServerProcess } from '../support/server-process';

describe('contacts page', () => {
  const fixture = useServer();

  it('lists the other users with online dots, searches, and opens a conversation', async () => {
    const me = await fixture.phone();
    const peer = await fixture.phone();
    const offline = await fixture.phone();
    offline.client.stop();
    const offlineId = offline.client.stores.me.id;
    // The server hears the close a moment later.
    for (let seen = true; seen;) {
      seen = (await me.client.directory()).some((user) => user.id === offlineId && user.online);
    }

    const page = renderPage<ContactsData>('contacts', me.client);
    await waitFor(() => page.data.users.length === 2, 'the directory');
    await settle();
    const peerName = peer.client.stores.me.user!.nickname;
    expect(texts(page, '.name').sort()).toEqual([peerName, offline.client.stores.me.user!.nickname].sort());
    expect(page.querySelectorAll('.online')).toHaveLength(1);

    page.querySelector('.search-input')!.dispatchEvent('input', { detail: { value: peerName } });
    await waitFor(() => page.data.users.length === 1, 'the search');
    await settle();
    expect(texts(page, '.name')).toEqual([peerName]);

    const navigateTo = jest
      .spyOn(wx, 'navigateTo')
      .mockImplementation(() => Promise.resolve({ errMsg: 'navigateTo:ok' }));
    page.querySelector('.contact')!.dispatchEvent('tap');
    await settle();
    const conv = me.client.conversationWith(peer.client.stores.me.user!);
    expect(navigateTo).toHaveBeenCalledWith({ url: `/pages/chat/chat?conv=${conv}` });
    // Listed at once, before any message.
    expect(me.client.stores.sessions.find(conv)?.peer.nickname).toBe(peerName);
    navigateTo.mockRestore();
  });

  it('keeps the online dots live: presence moves them without asking the directory again', async () => {
    const { me, peer, conv } = await fixture.pair();
    // Peers (they share a conversation with a message in it) hear each other's presence.
    me.client.sendText(conv, '在吗');
    await waitFor(() => peer.client.stores.messages.view(conv).items.length === 1, 'delivery');
    const page = renderPage<ContactsData>('contacts', me.client);
    await waitFor(() => page.data.users.some((user) => user.id === peer.client.stores.me.id), 'the directory');
    const dots = () => page.querySelectorAll('.online').length;
    // Other tests' users are in the directory too, and stay as they are: the peer's dot is the difference.
    await waitFor(async () => (await settle(), page.data.online[peer.client.stores.me.id] === true), 'the dot');
    const withPeer = dots();
    expect(withPeer).toBeGreaterThanOrEqual(1);
    const search = jest.spyOn(me.client, 'directory');
    peer.client.stop();
    await waitFor(async () => (await settle(), dots() === withPeer - 1), 'the dot to go');
    peer.client.start();
    await waitFor(async () => (await settle(), dots() === withPeer), 'the dot to come back');
    expect(search).not.toHaveBeenCalled();
    search.mockRestore();
    page.detach();
  });

  it('says so when nobody else is there yet', async () => {
    const own = await startServerProcess();
    const me = await started(fixture.unstarted(own.url));
    const page = renderPage<ContactsData>('contacts', me.client);
    await waitFor(() => !page.data.loading, 'the directory');
    await settle();
    expect(texts(page, '.empty')).toEqual(['暂无联系人']);
    page.detach();
    me.client.stop();
    await own.stop();
  });

  it('offers a retry when the server cannot be reached', async () => {
    const own = await startServerProcess();
    const me = await started(fixture.unstarted(own.url));
    await own.kill();
    const page = renderPage<ContactsData>('contacts', me.client);
    await waitFor(() => page.data.error !== '', 'the error');
    await settle();
    expect(texts(page, '.banner')).toEqual(['加载失败，点击重试']);
  });
});
