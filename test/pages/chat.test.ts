import fs from 'node:fs';
import path from 'node:path';
import type { ChatData } from '../../miniprogram/pages/chat/chat';
import { formatMessageTime } from '../../miniprogram/utils/timeline';
import { stored, waitFor } from '../support/app';
import { PNG } from '../support/fixtures';
import { useServer } from '../support/fixture';
import { renderPage, settle, texts } from '../support/pages';
import { tempDataDir } from '../support/tmp';

describe('message page', () => {
  const fixture = useServer();
  const { pair } = fixture;
  afterEach(() => jest.restoreAllMocks());

  it('shows the history on open and sends from the input bar', async () => {
    const { me, peer, conv } = await pair();
    peer.client.sendText(conv, '在吗？');
    await waitFor(() => me.client.stores.messages.view(conv).items.length === 1, 'the first message');
    me.stores.messages.clear();

    const page = renderPage<ChatData>('chat', me.client, { conv });
    await waitFor(() => me.client.stores.messages.view(conv).loaded, 'the history page');
    await settle();
    expect(texts(page, '.bubble')).toEqual(['在吗？']);
    expect(page.querySelectorAll('.row.theirs')).toHaveLength(1);

    const input = page.querySelector('.input')!;
    input.dispatchEvent('input', { detail: { value: '在的' } });
    await settle();
    page.querySelector('.send')!.dispatchEvent('tap');
    await settle();
    // Shown at once on the right, then confirmed in place.
    expect(texts(page, '.row.mine .bubble')).toEqual(['在的']);
    expect(page.data.draft).toBe('');
    await waitFor(() => peer.client.stores.messages.view(conv).items.length === 2, 'the peer to receive');
    await settle();
    expect(page.querySelectorAll('.status')).toHaveLength(0);
    expect(page.data.anchor).toBe('m1');
  });

  it('keeps a draft longer than the limit (counted in UTF-16 units) and says so, sending nothing', async () => {
    const { me, conv } = await pair();
    const page = renderPage<ChatData>('chat', me.client, { conv });
    await settle();
    const toast = jest.spyOn(wx, 'showToast');
    const draft = '😀'.repeat(2001); // 2,001 emoji: 4,002 units, over the 4,000 the server takes
    page.querySelector('.input')!.dispatchEvent('input', { detail: { value: draft } });
    await settle();
    page.querySelector('.send')!.dispatchEvent('tap');
    await settle();
    expect(toast).toHaveBeenCalledWith(expect.objectContaining({ title: '消息过长，最多4000字' }));
    expect(page.data.draft).toBe(draft);
    expect(texts(page, '.bubble')).toEqual([]);
    expect(me.client.stores.messages.view(conv).items).toHaveLength(0);
  });

  it('shows incoming messages at once and keeps the conversation read', async () => {
    const { me, peer, conv } = await pair();
    const page = renderPage<ChatData>('chat', me.client, { conv });
    await settle();
    peer.client.sendText(conv, 'one');
    peer.client.sendText(conv, 'two');
    await waitFor(() => me.client.stores.messages.view(conv).items.length === 2, 'two messages');
    await settle();
    expect(texts(page, '.row.theirs .bubble')).toEqual(['one', 'two']);
    expect(me.client.stores.sessions.find(conv)?.unread).toBe(0);
    page.detach();
  });

  it('opens a long conversation on its newest page and reveals what it holds page by page', async () => {
    const { me, peer, conv } = await pair();
    for (let i = 1; i <= 45; i++) peer.client.sendText(conv, `n${i}`);
    await waitFor(() => me.client.stores.messages.view(conv).items.length === 45, 'sync to deliver', 15_000);

    const page = renderPage<ChatData>('chat', me.client, { conv });
    await settle();
    expect(texts(page, '.bubble')).toEqual(Array.from({ length: 20 }, (_, i) => `n${i + 26}`));
    expect(page.data.hasMore).toBe(true);

    page.querySelector('.messages')!.dispatchEvent('scrolltoupper');
    await waitFor(() => page.data.messages.length === 40, 'the second page');
    await settle();
    expect(texts(page, '.bubble')[0]).toBe('n6');
    expect(page.data.anchor).toBe('m20');
    page.querySelector('.messages')!.dispatchEvent('scrolltoupper');
    await waitFor(() => page.data.messages.length === 45, 'the rest');
    await settle();
    expect(page.data.hasMore).toBe(false);
    expect(page.data.loadingOlder).toBe(false);
    page.detach();
  });

  it('loads older pages when scrolled to the top, keeping the first message in view', async () => {
    const { me, peer, conv } = await pair();
    for (let i = 1; i <= 30; i++) peer.client.sendText(conv, `m${i}`);
    await waitFor(() => peer.client.stores.messages.view(conv).items.every((item) => item.seq > 0), 'all acks');
    await waitFor(() => me.client.stores.messages.view(conv).items.length === 30, 'sync to deliver');
    me.stores.messages.clear();

    const page = renderPage<ChatData>('chat', me.client, { conv });
    await waitFor(() => me.client.stores.messages.view(conv).loaded, 'the newest page');
    await settle();
    expect(page.querySelectorAll('.bubble')).toHaveLength(20);
    expect(texts(page, '.more')).toEqual(['下拉查看更多消息']);

    page.querySelector('.messages')!.dispatchEvent('scrolltoupper');
    await waitFor(() => me.client.stores.messages.view(conv).items.length === 30, 'the older page');
    await waitFor(() => !page.data.loadingOlder, 'the page to settle');
    await settle();
    expect(texts(page, '.bubble')[0]).toBe('m1');
    expect(page.querySelectorAll('.more')).toHaveLength(0);
    // m11 was first before the older page arrived; it is the anchor now, at index 10.
    expect(page.data.anchor).toBe('m10');
  });

  it('separates messages more than five minutes apart with the time', () => {
    const now = new Date(2026, 10, 24, 15, 0).getTime();
    expect(formatMessageTime(new Date(2026, 10, 24, 9, 5).getTime(), now)).toBe('09:05');
    expect(formatMessageTime(new Date(2026, 10, 23, 21, 30).getTime(), now)).toBe('昨天 21:30');
    expect(formatMessageTime(new Date(2026, 2, 3, 8, 0).getTime(), now)).toBe('3月3日 08:00');
    expect(formatMessageTime(new Date(2025, 11, 31, 23, 59).getTime(), now)).toBe('2025年12月31日 23:59');
  });

  it('shows a time label on the first message and after a gap, and 已读 under the last message read', async () => {
    const { me, peer, conv } = await pair();
    me.client.sendText(conv, 'first');
    me.client.sendText(conv, 'second');
    await waitFor(() => peer.client.stores.messages.view(conv).items.length === 2, 'delivery');
    const page = renderPage<ChatData>('chat', me.client, { conv });
    await settle();
    expect(page.data.messages.map((item) => Boolean(item.timeLabel))).toEqual([true, false]);
    expect(texts(page, '.time')).toHaveLength(1);
    expect(page.querySelectorAll('.read')).toHaveLength(0);

    // A message after a six-minute gap gets its own label (the store holds it as the server would send it).
    const last = me.client.stores.messages.view(conv).items[1];
    me.stores.messages.addStored(
      [{ ...last, seq: 3, cid: 'later', body: 'later', ts: last.ts + 6 * 60_000 }],
      peer.client.stores.me.id,
    );
    await settle();
    expect(page.data.messages.map((item) => Boolean(item.timeLabel))).toEqual([true, false, true]);

    // The peer reads: "已读" appears under my last message they have read.
    peer.client.openConversation(conv);
    await waitFor(() => me.client.stores.sessions.find(conv)?.peerReadSeq === 2, 'the read state');
    await settle();
    expect(texts(page, '.read')).toEqual(['已读']);
    expect(page.data.messages.findIndex((item) => item.readMark)).toBe(1);
    peer.client.closeConversation(conv);
    page.detach();
  });

  it('says in the title that the peer is typing, and sends typing while the user types', async () => {
    const { me, peer, conv } = await pair();
    // Typing is relayed only in a stored conversation: one message first.
    me.client.sendText(conv, '在吗');
    await waitFor(() => peer.client.stores.messages.view(conv).items.length === 1, 'the first message');
    const title = jest.spyOn(wx, 'setNavigationBarTitle');
    const page = renderPage<ChatData>('chat', me.client, { conv });
    await settle();
    expect(title).toHaveBeenLastCalledWith(expect.objectContaining({ title: peer.client.stores.me.user!.nickname }));

    const peerPage = renderPage<ChatData>('chat', peer.client, { conv });
    peerPage.querySelector('.input')!.dispatchEvent('input', { detail: { value: '正在' } });
    await waitFor(() => page.data.typing, 'the typing hint');
    await settle();
    expect(title).toHaveBeenLastCalledWith(expect.objectContaining({ title: '对方正在输入…' }));
    peer.client.sendText(conv, '打完了');
    await waitFor(() => !page.data.typing, 'the hint to end');
    await settle();
    expect(title).toHaveBeenLastCalledWith(expect.objectContaining({ title: peer.client.stores.me.user!.nickname }));
    peerPage.detach();
    page.detach();
  });

  it('keeps the reader where they are when scrolled up, with a tip for new messages', async () => {
    const { me, peer, conv } = await pair();
    const page = renderPage<ChatData>('chat', me.client, { conv });
    peer.client.sendText(conv, 'one');
    await waitFor(() => page.data.messages.length === 1, 'the first message');
    await settle();
    expect(page.data.anchor).toBe('m0');

    page.querySelector('.messages')!.dispatchEvent('scroll', { detail: { deltaY: 120, scrollTop: 0 } });
    peer.client.sendText(conv, 'two');
    peer.client.sendText(conv, 'three');
    await waitFor(() => page.data.messages.length === 3, 'two more');
    await settle();
    expect(page.data.anchor).toBe('m0');
    expect(texts(page, '.new-tip')).toEqual(['2条新消息']);

    page.querySelector('.new-tip')!.dispatchEvent('tap');
    await settle();
    expect(page.data.anchor).toBe('m2');
    expect(page.querySelectorAll('.new-tip')).toHaveLength(0);
    page.detach();
  });

  it('inserts emoji from the panel and sends on confirm', async () => {
    const { me, peer, conv } = await pair();
    const page = renderPage<ChatData>('chat', me.client, { conv });
    await settle();
    page.querySelector('.emoji-toggle')!.dispatchEvent('tap');
    await settle();
    const emoji = page.querySelectorAll('.emoji');
    expect(emoji.length).toBeGreaterThanOrEqual(30);
    page.querySelector('.input')!.dispatchEvent('input', { detail: { value: '好的' } });
    await settle();
    emoji[20].dispatchEvent('tap');
    await settle();
    expect(page.data.draft).toBe('好的👍');
    page.querySelector('.input')!.dispatchEvent('confirm', { detail: { value: page.data.draft } });
    await waitFor(() => peer.client.stores.messages.view(conv).items.length === 1, 'delivery');
    expect(peer.client.stores.messages.view(conv).items[0].body).toBe('好的👍');
    page.detach();
  });

  it('sends a picture: chosen, compressed, uploaded with progress, then shown and previewed', async () => {
    const { me, peer, conv } = await pair();
    const picked = path.join(tempDataDir(), 'picked.png');
    const compressed = path.join(tempDataDir(), 'compressed.png');
    fs.writeFileSync(picked, PNG);
    fs.writeFileSync(compressed, PNG);
    jest.spyOn(wx, 'chooseMedia').mockImplementation(() =>
      Promise.resolve({
        tempFiles: [{ tempFilePath: picked, size: PNG.length, fileType: 'image' }],
        type: 'image',
        errMsg: 'chooseMedia:ok',
      }),
    );
    const compress = jest.spyOn(wx, 'compressImage').mockImplementation(() =>
      Promise.resolve({
        tempFilePath: compressed,
        errMsg: 'compressImage:ok',
      }),
    );
    const page = renderPage<ChatData>('chat', me.client, { conv });
    await settle();
    page.querySelector('.image-button')!.dispatchEvent('tap');
    await waitFor(() => page.data.messages.length === 1, 'the picture at once');
    expect(compress).toHaveBeenCalledWith({ src: picked, quality: 80 });
    expect(page.data.messages[0]).toMatchObject({ kind: 'image', body: compressed });
    await waitFor(() => peer.client.stores.messages.view(conv).items.length === 1, 'delivery');
    const url = peer.client.stores.messages.view(conv).items[0].body;
    await waitFor(() => page.data.messages[0].seq === 1, 'the ack');
    await settle();
    expect(page.data.messages[0].body).toBe(url);

    const preview = jest
      .spyOn(wx, 'previewImage')
      .mockImplementation(() => Promise.resolve({ errMsg: 'previewImage:ok' }));
    page.querySelector('.picture')!.dispatchEvent('tap');
    await settle();
    expect(preview).toHaveBeenCalledWith({ current: url, urls: [url] });
    page.detach();
  });

  it('copies a message from its long-press menu, and resends a failed one on tap', async () => {
    const { me, conv } = await pair();
    me.client.stop();
    const page = renderPage<ChatData>('chat', me.client, { conv });
    me.client.sendText(conv, '复制我');
    await settle();
    me.stores.messages.setStatus(conv, page.data.messages[0].cid, 'failed');
    await settle();
    expect(page.querySelectorAll('.state.failed')).toHaveLength(1);

    const clipboard = jest
      .spyOn(wx, 'setClipboardData')
      .mockImplementation(() => Promise.resolve({ errMsg: 'setClipboardData:ok' }));
    page.querySelector('.bubble')!.dispatchEvent('longpress');
    await settle();
    // A send not yet stored can be copied, not deleted.
    expect(texts(page, '.menu-item')).toEqual(['复制']);
    page.querySelector('.menu-item')!.dispatchEvent('tap');
    await settle();
    expect(clipboard).toHaveBeenCalledWith({ data: '复制我' });
    expect(page.querySelectorAll('.menu')).toHaveLength(0);

    page.querySelector('.state.failed')!.dispatchEvent('tap');
    await settle();
    expect(page.querySelectorAll('.state.failed')).toHaveLength(0);
    expect(page.querySelectorAll('.state.sending')).toHaveLength(1);
    me.client.start();
    await waitFor(() => page.data.messages[0]?.seq === 1, 'the resend to be acked');
    await settle();
    expect(page.querySelectorAll('.state')).toHaveLength(0);
    page.detach();
  });

  it('删除 from the long-press menu removes a message from this device only, also after a restart', async () => {
    const { me, peer, conv } = await pair();
    for (const text of ['第一条', '删掉我', '第三条']) {
      peer.client.sendText(conv, text);
      await waitFor(() => me.client.stores.messages.view(conv).items.some((item) => item.body === text), text);
    }
    const page = renderPage<ChatData>('chat', me.client, { conv });
    await settle();
    const sheet = jest.spyOn(wx, 'showActionSheet');
    const target = texts(page, '.bubble').indexOf('删掉我');
    page.querySelectorAll('.bubble')[target].dispatchEvent('longpress');
    await settle();
    expect(texts(page, '.menu-item')).toEqual(['复制', '转发', '引用', '删除', '多选', '举报']);
    // Tapping elsewhere closes the menu; nothing happens.
    page.querySelector('.messages')!.dispatchEvent('tap');
    await settle();
    expect(page.querySelectorAll('.menu')).toHaveLength(0);

    // Cancelled at WeChat's question: still there.
    sheet.mockImplementationOnce(() => Promise.reject(new Error('showActionSheet:fail cancel')));
    page.querySelectorAll('.bubble')[target].dispatchEvent('longpress');
    await settle();
    page.querySelectorAll('.menu-item')[3].dispatchEvent('tap');
    await settle();
    expect(texts(page, '.bubble')).toEqual(['第一条', '删掉我', '第三条']);

    sheet.mockImplementationOnce(() => Promise.resolve({ tapIndex: 0, errMsg: 'showActionSheet:ok' }));
    page.querySelectorAll('.bubble')[target].dispatchEvent('longpress');
    await settle();
    // 复制 转发 引用 删除 多选 (the peer's messages: no 撤回).
    page.querySelectorAll('.menu-item')[3].dispatchEvent('tap');
    await settle();
    expect(sheet).toHaveBeenLastCalledWith(expect.objectContaining({ itemList: ['删除'] }));
    expect(texts(page, '.bubble')).toEqual(['第一条', '第三条']);
    // Deleting the last one: the list shows the one before it.
    const last = texts(page, '.bubble').length - 1;
    sheet.mockImplementationOnce(() => Promise.resolve({ tapIndex: 0, errMsg: 'showActionSheet:ok' }));
    page.querySelectorAll('.bubble')[last].dispatchEvent('longpress');
    await settle();
    page.querySelectorAll('.menu-item')[3].dispatchEvent('tap');
    await settle();
    expect(texts(page, '.bubble')).toEqual(['第一条']);
    expect(me.client.stores.sessions.find(conv)).toMatchObject({ preview: '第一条', lastSeq: 3 });
    sheet.mockRestore();
    page.detach();

    // The peer keeps it; this phone, relaunched from its storage, neither shows nor stores it.
    expect(peer.client.stores.messages.view(conv).items.map((item) => item.body)).toContain('删掉我');
    me.client.stop();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(JSON.stringify(stored(me, 'chat.cache'))).not.toContain('删掉我');
    const relaunched = await fixture.phone({ storage: new Map(me.adapter.storage) });
    const again = renderPage<ChatData>('chat', relaunched.client, { conv });
    await waitFor(() => relaunched.client.stores.messages.view(conv).items.length === 3, 'the sync after the restart');
    await settle();
    expect(texts(again, '.bubble')).toEqual(['第一条']);
    // The list too, though the server's entry names the deleted message as the last.
    expect(relaunched.client.stores.sessions.find(conv)?.preview).toBe('第一条');
    again.detach();
  });
});
