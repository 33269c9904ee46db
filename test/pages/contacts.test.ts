import http from 'node:http';
import type { PublicUser } from '../../contract/frames';
import type { LoginResponse } from '../../contract/http';
import { LIMITS } from '../../contract/limits';
import type { ContactsData } from '../../miniprogram/pages/contacts/contacts';
import { started, waitFor, type Phone } from '../support/app';
import { useServer } from '../support/fixture';
import { renderPage, settle, texts } from '../support/pages';
import { startServerProcess } from '../support/server-process';

/** A development login over plain HTTP (this test environment has no fetch). */
function devLogin(baseUrl: string, devId: string): Promise<LoginResponse> {
  const body = JSON.stringify({ code: 'x', devId });
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${baseUrl}/api/login`,
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          if (response.statusCode === 200) resolve(JSON.parse(text) as LoginResponse);
          else reject(new Error(`login: ${response.statusCode} ${text}`));
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

describe('contacts page', () => {
  const fixture = useServer();

  /** Makes `others` peers of `me`: one message to each, delivered. */
  async function talkTo(me: Phone, others: Phone[]): Promise<void> {
    for (const other of others) {
      const conv = me.client.conversationWith(other.client.stores.me.user!);
      me.client.sendText(conv, '你好');
      await waitFor(() => other.client.stores.messages.view(conv).items.length === 1, 'delivery');
    }
  }

  it('lists my peers with online dots when the box is empty, searches, and opens a conversation', async () => {
    const me = await fixture.phone();
    const peer = await fixture.phone();
    const offline = await fixture.phone();
    const stranger = await fixture.phone();
    await talkTo(me, [peer, offline]);
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

    // A search finds anyone, a stranger too (who is never shown online).
    const strangerName = stranger.client.stores.me.user!.nickname;
    page.querySelector('.search-input')!.dispatchEvent('input', { detail: { value: strangerName } });
    await waitFor(() => page.data.users.length === 1 && page.data.users[0].nickname === strangerName, 'the search');
    await settle();
    expect(texts(page, '.name')).toEqual([strangerName]);
    expect(page.querySelectorAll('.online')).toHaveLength(0);

    page.querySelector('.search-input')!.dispatchEvent('input', { detail: { value: peerName } });
    await waitFor(() => page.data.users.length === 1 && page.data.users[0].nickname === peerName, 'the search');
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
    expect(me.client.stores.sessions.find(conv)?.title).toBe(peerName);
    navigateTo.mockRestore();
  });

  it('asks for 2 characters instead of searching for one', async () => {
    const { me, peer } = await fixture.pair();
    await talkTo(me, [peer]);
    const page = renderPage<ContactsData>('contacts', me.client);
    await waitFor(() => page.data.users.length === 1, 'the directory');
    const search = jest.spyOn(me.client, 'directory');
    page.querySelector('.search-input')!.dispatchEvent('input', { detail: { value: '微' } });
    await settle();
    expect(texts(page, '.hint')).toEqual(['请输入至少2个字符']);
    expect(page.querySelectorAll('.contact')).toHaveLength(0);
    expect(search).not.toHaveBeenCalled();

    // Clearing the box lists the peers again.
    page.querySelector('.search-input')!.dispatchEvent('input', { detail: { value: '' } });
    await waitFor(() => page.data.users.length === 1, 'the peers again');
    await settle();
    expect(texts(page, '.hint')).toEqual([]);
    search.mockRestore();
    page.detach();
  });

  it('loads the next page of peers when scrolled to the bottom', async () => {
    const me = await fixture.phone();
    // 22 people who talked to me: a full first page (20) and 2 more.
    const others: PublicUser[] = [];
    for (let i = 0; i < LIMITS.directoryPage + 2; i++) {
      const devId = `paging-${i}-${Math.random().toString(36).slice(2, 10)}`;
      others.push((await devLogin(fixture.url, devId)).user);
    }
    for (const other of others) me.client.sendText(me.client.conversationWith(other), '你好');
    await waitFor(
      () =>
        others.every((other) =>
          me.client.stores.messages
            .view(me.client.conversationWith(other))
            .items.every((item) => item.status === 'sent'),
        ),
      'the messages stored',
    );

    const page = renderPage<ContactsData>('contacts', me.client);
    await waitFor(() => page.data.users.length === LIMITS.directoryPage, 'the first page');
    expect(page.data.more).toBe(true);
    await (page.instance as unknown as { onReachBottom(): Promise<void> }).onReachBottom();
    await waitFor(() => page.data.users.length === others.length, 'the next page');
    await settle();
    expect(page.data.more).toBe(false);
    expect(page.querySelectorAll('.contact')).toHaveLength(others.length);
    expect(new Set(page.data.users.map((user) => user.id))).toEqual(new Set(others.map((other) => other.id)));
    page.detach();
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
