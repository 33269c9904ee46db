import type { ChatData } from '../../miniprogram/pages/chat/chat';
import type { IndexData } from '../../miniprogram/pages/index/index';
import { stored, waitFor } from '../support/app';
import { useServer } from '../support/fixture';
import { renderPage, settle, texts } from '../support/pages';

describe('drafts: text typed and not sent stays with its conversation', () => {
  const fixture = useServer();

  it('is kept while away, shown as [草稿] in the list, survives a kill, and goes once sent', async () => {
    const { me, peer, conv } = await fixture.pair();
    // Something to list: one message from the peer.
    peer.client.sendText(conv, '在吗');
    await waitFor(() => me.client.stores.sessions.find(conv)?.lastSeq === 1, 'the message');

    const chat = renderPage<ChatData>('chat', me.client, { conv });
    await settle();
    chat.querySelector('.input')!.dispatchEvent('input', { detail: { value: '晚点回你', cursor: 4 } });
    await settle();
    chat.detach();

    // The list shows the draft in place of the last message.
    const list = renderPage<IndexData>('index', me.client);
    await settle();
    expect(texts(list, '.draft')).toEqual(['[草稿]']);
    expect(texts(list, '.preview')).toEqual(['[草稿] 晚点回你']);
    list.detach();

    // A kill: a new app on the same storage, pointed at nowhere, shows it from the phone alone.
    me.client.stop();
    const relaunched = fixture.unstarted('http://127.0.0.1:9', { storage: new Map(me.adapter.storage) });
    expect(relaunched.client.stores.sessions.find(conv)?.draft).toBe('晚点回你');
    const again = renderPage<ChatData>('chat', relaunched.client, { conv });
    await settle();
    expect(again.data.draft).toBe('晚点回你');
    again.detach();

    // Sent: the draft is gone, here and in storage.
    const sending = renderPage<ChatData>('chat', peer.client, { conv });
    await settle();
    const back = await fixture.phone({ storage: new Map(me.adapter.storage) });
    const mine = renderPage<ChatData>('chat', back.client, { conv });
    await settle();
    expect(mine.data.draft).toBe('晚点回你');
    mine.querySelector('.send')!.dispatchEvent('tap');
    await settle();
    expect(mine.data.draft).toBe('');
    expect(stored<{ drafts: Record<string, string> }>(back, 'chat.drafts')?.drafts).toEqual({});
    await waitFor(() => sending.data.messages.some((item) => item.body === '晚点回你'), 'the peer to get it');
    sending.detach();
    mine.detach();
  });
});
