import type { ChatMessage, SessionEntry } from '../../contract/frames';
import type { IndexData } from '../../miniprogram/pages/index/index';
import { SESSION_PAGE } from '../../miniprogram/stores/sessions';
import { LIMITS } from '../../contract/limits';
import { watchTabBadge, type TabBarApi } from '../../miniprogram/utils/tab-badge';
import { createPhone, offlinePhone, started, waitFor, type Phone } from '../support/app';
import { startWithManySessions, type ManySessions } from '../support/many-sessions';
import { useServer } from '../support/fixture';
import { renderPage, settle, texts } from '../support/pages';
import { startServerProcess } from '../support/server-process';

const ME = 'uMe000000001';

function entry(peerIndex: number, unread: number, ts: number, kind: 'text' | 'image' = 'text'): SessionEntry {
  const peer = `uPeer${String(peerIndex).padStart(7, '0')}`;
  const conv = `dm:${ME}:${peer}`;
  const last: ChatMessage = {
    conv,
    seq: unread + 1,
    cid: `c${peerIndex}`,
    from: peer,
    kind,
    body: kind === 'image' ? 'https://x/uploads/a.png' : `你好 ${peerIndex}`,
    ts,
  };
  return {
    conv,
    peer: { id: peer, nickname: `好友${peerIndex}`, avatar: '' },
    last,
    lastSeq: unread + 1,
    readSeq: 1,
    peerReadSeq: 0,
    unread,
  };
}

/** The user whose list is shown, on a phone that never connects. */
const offline = () => offlinePhone({ id: ME, nickname: '我', avatar: '' });

describe('session list page', () => {
  const fixture = useServer();
  const phone = () => fixture.phone();

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
    const convA = alice.client.conversationWith(me.stores.me.user!);
    const convB = bob.client.conversationWith(me.stores.me.user!);
    alice.client.sendText(convA, 'from alice 1');
    alice.client.sendText(convA, 'from alice 2');
    await waitFor(() => me.stores.sessions.find(convA)?.unread === 2, 'alice’s messages');
    bob.client.sendText(convB, 'from bob');
    await waitFor(() => me.stores.sessions.find(convB)?.unread === 1, 'bob’s message');

    const page = renderPage('index', me.client);
    await settle();
    const names = texts(page, '.name');
    expect(names).toEqual([bob.stores.me.user!.nickname, alice.stores.me.user!.nickname]);
    expect(texts(page, '.preview')).toEqual(['from bob', 'from alice 2']);
    expect(texts(page, '.badge')).toEqual(['1', '2']);

    // A newer message from alice moves her entry to the top, still one entry for her.
    alice.client.sendText(convA, 'again');
    await waitFor(() => me.stores.sessions.list[0].conv === convA, 'alice on top');
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
    const me = fixture.unstarted(own.url, { heartbeatMs: 60_000 });
    me.client.start();
    await waitFor(() => me.stores.connection.state === 'ready', 'ready');
    const page = renderPage('index', me.client);
    await settle();
    expect(page.querySelectorAll('.banner')).toHaveLength(0);
    await own.kill();
    await waitFor(() => me.stores.connection.state !== 'ready', 'the drop');
    await settle();
    expect(texts(page, '.banner')).toEqual(['连接中…']);
  });

  it('refreshes on pull-down and stops the spinner when the server has answered', async () => {
    const me = await phone();
    const page = renderPage<IndexData>('index', me.client);
    const stop = jest.spyOn(wx, 'stopPullDownRefresh');
    const instance = page.instance as unknown as { onPullDownRefresh(): Promise<void> };
    await instance.onPullDownRefresh();
    await waitFor(() => stop.mock.calls.length === 1, 'the spinner to stop');
    stop.mockRestore();
    page.detach();
  });
});

describe('session list: presentation', () => {
  it('shows previews ([图片] for images), relative times and 99+ badges', async () => {
    const { client, stores } = offline();
    const now = Date.now();
    stores.sessions.replaceAll([entry(1, 120, now - 10_000), entry(2, 3, now - 3 * 86_400_000, 'image')]);
    const page = renderPage<IndexData>('index', client);
    await settle();
    expect(texts(page, '.badge')).toEqual(['99+', '3']);
    expect(texts(page, '.preview')).toEqual(['你好 1', '[图片]']);
    expect(texts(page, '.time')[0]).toBe('刚刚');
    expect(texts(page, '.time')[1]).toMatch(/^\d{2}-\d{2}$|^\d{4}-\d{2}-\d{2}$/);
    page.detach();
  });

  it('pins, mutes and deletes with a long press, pinned entries on top', async () => {
    const { client, stores } = offline();
    const now = Date.now();
    const sessions = [entry(1, 1, now - 1000), entry(2, 1, now - 2000), entry(3, 1, now - 3000)];
    stores.sessions.replaceAll(sessions);
    const page = renderPage<IndexData>('index', client);
    await settle();

    const sheet = jest.spyOn(wx, 'showActionSheet');
    sheet.mockImplementationOnce(() => Promise.resolve({ tapIndex: 0, errMsg: 'showActionSheet:ok' }));
    page.querySelectorAll('.session')[2].dispatchEvent('longpress');
    await settle();
    expect(sheet).toHaveBeenLastCalledWith({ itemList: ['置顶该聊天', '消息免打扰', '删除该聊天'] });
    expect(texts(page, '.name')).toEqual(['好友3', '好友1', '好友2']);
    expect(page.querySelectorAll('.session.pinned')).toHaveLength(1);

    // A newer message elsewhere does not move anything above the pinned entry.
    stores.sessions.applyMessage({ ...sessions[1].last!, seq: 5, ts: now }, ME, false);
    await settle();
    expect(texts(page, '.name')).toEqual(['好友3', '好友2', '好友1']);

    sheet.mockImplementationOnce(() => Promise.resolve({ tapIndex: 2, errMsg: 'showActionSheet:ok' }));
    page.querySelectorAll('.session')[1].dispatchEvent('longpress');
    await settle();
    expect(texts(page, '.name')).toEqual(['好友3', '好友1']);

    sheet.mockImplementationOnce(() => Promise.resolve({ tapIndex: 0, errMsg: 'showActionSheet:ok' }));
    page.querySelectorAll('.session')[0].dispatchEvent('longpress');
    await settle();
    expect(sheet).toHaveBeenLastCalledWith({ itemList: ['取消置顶', '消息免打扰', '删除该聊天'] });
    expect(page.querySelectorAll('.session.pinned')).toHaveLength(0);
    sheet.mockRestore();
    page.detach();
  });

  it('keeps the tab badge equal to the total unread count', () => {
    const { stores } = offline();
    const calls: string[] = [];
    const api: TabBarApi = {
      setTabBarBadge: ((options: { text: string }) =>
        void calls.push(`set ${options.text}`)) as TabBarApi['setTabBarBadge'],
      removeTabBarBadge: (() => void calls.push('remove')) as TabBarApi['removeTabBarBadge'],
    };
    const stop = watchTabBadge(stores.sessions, api);
    stores.sessions.replaceAll([entry(1, 2, 1000), entry(2, 3, 2000)]);
    stores.sessions.replaceAll([entry(1, 2, 1000), entry(2, 150, 2000)]);
    stores.sessions.markRead(entry(1, 2, 1000).conv, 10);
    stores.sessions.markRead(entry(2, 150, 2000).conv, 1000);
    stop();
    expect(calls).toEqual(['remove', 'set 5', 'set 99+', 'set 99+', 'remove']);
  });

  it('shows the banner for every connection state, and none when ready', async () => {
    const { client, stores } = offline();
    const page = renderPage<IndexData>('index', client);
    const expected = {
      idle: [],
      connecting: ['连接中…'],
      waiting: ['连接中…'],
      syncing: ['收取中…'],
      offline: ['网络不可用'],
      failed: ['连接失败，点击重试'],
      ready: [],
    } as const;
    for (const [state, banner] of Object.entries(expected)) {
      stores.connection.setState(state as keyof typeof expected);
      await settle();
      expect([state, texts(page, '.banner')]).toEqual([state, banner]);
    }
    page.detach();
  });

  it('offers a retry in the banner only once the try limit is reached', async () => {
    const { client, stores } = offline();
    const retry = jest.spyOn(client, 'retry').mockImplementation(() => undefined);
    const page = renderPage<IndexData>('index', client);
    stores.connection.setState('waiting');
    await settle();
    expect(texts(page, '.banner')).toEqual(['连接中…']);
    page.querySelector('.banner')!.dispatchEvent('tap');
    await settle();
    expect(retry).not.toHaveBeenCalled();
    stores.connection.setState('failed');
    await settle();
    expect(texts(page, '.banner')).toEqual(['连接失败，点击重试']);
    page.querySelector('.banner')!.dispatchEvent('tap');
    await settle();
    expect(retry).toHaveBeenCalledTimes(1);
    page.detach();
  });
});

describe('session list: more sessions on the server than one page', () => {
  let world: ManySessions;
  const phones: Phone[] = [];
  beforeAll(async () => {
    world = await startWithManySessions({ quiet: 150 });
  });
  afterAll(async () => {
    for (const phone of phones.splice(0)) phone.client.stop();
    await world.server.stop();
  });

  it('loads the next page on onReachBottom once all held show, one request however often it fires', async () => {
    const me = createPhone(world.server.url, { storage: world.storage() });
    phones.push(me);
    await started(me);
    const page = renderPage<IndexData>('index', me.client);
    await settle();
    const instance = page.instance as unknown as { onReachBottom(): void };
    expect(page.querySelectorAll('.session')).toHaveLength(SESSION_PAGE);
    expect(texts(page, '.more')).toEqual(['上滑加载更多']);

    const ask = jest.spyOn(me.client, 'loadMoreSessions');
    // The first page (100) is held: scrolling shows it 30 at a time before asking the server.
    for (let shown = 2 * SESSION_PAGE; shown < LIMITS.sessionsPage; shown += SESSION_PAGE) {
      instance.onReachBottom();
      await settle();
      expect(page.querySelectorAll('.session')).toHaveLength(shown);
    }
    expect(ask).not.toHaveBeenCalled();
    instance.onReachBottom();
    instance.onReachBottom();
    instance.onReachBottom();
    expect(ask).toHaveBeenCalledTimes(1);
    expect(ask).toHaveReturnedWith(true);
    await waitFor(() => me.stores.sessions.list.length === 150, 'the second page');
    await settle();
    expect(page.querySelectorAll('.session')).toHaveLength(4 * SESSION_PAGE);

    instance.onReachBottom();
    await settle();
    const names = texts(page, '.name');
    expect(names).toHaveLength(150);
    expect(new Set(names).size).toBe(150);
    expect(texts(page, '.more')).toEqual(['没有更多了']);
    // At the end: nothing more to ask.
    instance.onReachBottom();
    expect(ask.mock.results.filter((result) => result.value === true)).toHaveLength(1);
    ask.mockRestore();
    page.detach();
  });

  it('shows 加载中… while a page is on its way, and no footer under a short list', async () => {
    const { client, stores } = offline();
    const now = Date.now();
    const many = Array.from({ length: SESSION_PAGE }, (_, i) => entry(i + 1, 1, now - i * 1000));
    stores.sessions.replaceAll(many, true);
    const page = renderPage<IndexData>('index', client);
    await settle();
    expect(texts(page, '.more')).toEqual(['上滑加载更多']);
    stores.sessions.setLoadingMore(true);
    await settle();
    expect(texts(page, '.more')).toEqual(['加载中…']);
    stores.sessions.replaceAll(many.slice(0, 3), false);
    await settle();
    expect(page.querySelectorAll('.more')).toHaveLength(0);
    page.detach();
  });
});
