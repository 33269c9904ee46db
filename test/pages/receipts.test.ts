import type { ReceiptsData } from '../../miniprogram/pages/receipts/receipts';
import type { Phone } from '../support/app';
import { waitFor } from '../support/app';
import { useServer } from '../support/fixture';
import { renderPage, settle, texts } from '../support/pages';

const nameOf = (phone: Phone): string => phone.client.stores.me.user!.nickname;

describe('who read a message in a group', () => {
  const fixture = useServer();

  it('lists 未读 and 已读 members with their names and faces, 未读 first', async () => {
    const owner = await fixture.phone();
    const bob = await fixture.phone();
    const carol = await fixture.phone();
    const conv = await owner.client.groups.create(
      [bob.client.stores.me.user!, carol.client.stores.me.user!],
      '周末爬山',
    );
    owner.client.sendText(conv, '周六早上八点出发');
    await waitFor(() => bob.client.stores.sessions.find(conv)?.lastSeq === 2, 'bob to get it');
    bob.client.openConversation(conv);
    await waitFor(async () => (await owner.client.groups.receipts(conv, 2)).read.length === 1, 'bob to read it');

    const page = renderPage<ReceiptsData>('receipts', owner.client, { conv, seq: '2' });
    expect(texts(page, '.empty')).toEqual(['加载中…']);
    await waitFor(() => !page.data.loading, 'the lists');
    await settle();
    expect(texts(page, '.tab')).toEqual(['未读 1', '已读 1']);
    expect(page.data.tab).toBe('unread');
    expect(texts(page, '.person .name')).toEqual([nameOf(carol)]);
    expect(texts(page, '.person .avatar')).toEqual([nameOf(carol).slice(0, 1)]);

    page.querySelectorAll('.tab')[1].dispatchEvent('tap');
    await settle();
    expect(texts(page, '.person .name')).toEqual([nameOf(bob)]);
    page.detach();
    bob.client.closeConversation(conv);
  });

  it('opens on 已读 when everyone has read it, and offers a retry when the lists cannot be fetched', async () => {
    const owner = await fixture.phone();
    const bob = await fixture.phone();
    const conv = await owner.client.groups.create([bob.client.stores.me.user!]);
    owner.client.sendText(conv, 'hi');
    await waitFor(() => bob.client.stores.sessions.find(conv)?.lastSeq === 2, 'bob to get it');
    bob.client.openConversation(conv);
    await waitFor(async () => (await owner.client.groups.receipts(conv, 2)).unread.length === 0, 'bob to read it');

    const page = renderPage<ReceiptsData>('receipts', owner.client, { conv, seq: '2' });
    await waitFor(() => !page.data.loading, 'the lists');
    await settle();
    expect(page.data.tab).toBe('read');
    expect(texts(page, '.person .name')).toEqual([nameOf(bob)]);
    page.querySelectorAll('.tab')[0].dispatchEvent('tap');
    await settle();
    expect(texts(page, '.list .empty')).toEqual(['全部已读']);
    page.detach();

    const failing = jest.spyOn(owner.client.groups, 'receipts').mockRejectedValueOnce(new Error('offline'));
    const again = renderPage<ReceiptsData>('receipts', owner.client, { conv, seq: '2' });
    await waitFor(() => !!again.data.error, 'the failure');
    await settle();
    expect(texts(again, '.error')).toEqual(['加载失败，点击重试']);
    again.querySelector('.error')!.dispatchEvent('tap');
    await waitFor(() => again.data.read.length === 1, 'the retry');
    expect(failing).toHaveBeenCalledTimes(2);
    again.detach();
    bob.client.closeConversation(conv);
  });
});
