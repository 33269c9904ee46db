import type { ChatData } from '../../miniprogram/pages/chat/chat';
import { startPhone, waitFor, type Phone } from '../support/app';
import { renderPage, settle, texts } from '../support/pages';
import { startServerProcess, type ServerProcess } from '../support/server-process';

describe('message page', () => {
  let server: ServerProcess;
  const phones: Phone[] = [];

  beforeAll(async () => {
    server = await startServerProcess();
  });
  afterAll(async () => {
    for (const phone of phones) phone.client.stop();
    await server.stop();
  });

  async function pair(): Promise<{ me: Phone; peer: Phone; conv: string }> {
    const me = await startPhone(server.url);
    const peer = await startPhone(server.url);
    phones.push(me, peer);
    return { me, peer, conv: me.client.conversationWith(peer.client.stores.me.user!) };
  }

  it('shows the history on open and sends from the input bar', async () => {
    const { me, peer, conv } = await pair();
    peer.client.sendText(conv, '在吗？');
    await waitFor(() => me.client.stores.messages.view(conv).items.length === 1, 'the first message');
    me.client.stores.messages.clear();

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
    me.client.stores.messages.clear();

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
});
