import type { BlacklistData } from '../../miniprogram/pages/blacklist/blacklist';
import type { ChatSettingsData } from '../../miniprogram/pages/chat-settings/chat-settings';
import type { ProfileData } from '../../miniprogram/pages/profile/profile';
import { waitFor } from '../support/app';
import { useServer } from '../support/fixture';
import { renderPage, settle, texts } from '../support/pages';

const ok = (api: string) => Promise.resolve({ errMsg: `${api}:ok` });

describe('拉黑 and the 黑名单, against the real server', () => {
  const fixture = useServer();
  afterEach(() => jest.restoreAllMocks());

  it('加入黑名单 in 聊天信息 asks first (WeChat’s words); cancelled, nothing; confirmed, blocked; off again, unblocked', async () => {
    const { me, peer, conv } = await fixture.pair();
    const page = renderPage<ChatSettingsData>('chat-settings', me.client, { conv });
    await waitFor(() => me.client.stores.blocks.loaded, 'the 黑名单 fetched on demand');
    await settle();
    expect(page.data.blocked).toBe(false);

    const modal = jest
      .spyOn(wx, 'showModal')
      .mockImplementationOnce(() =>
        Promise.resolve({ confirm: false, cancel: true, content: '', errMsg: 'showModal:ok' }),
      )
      .mockImplementationOnce(() =>
        Promise.resolve({ confirm: true, cancel: false, content: '', errMsg: 'showModal:ok' }),
      );
    const block = page.querySelector('.block-switch')!;
    block.dispatchEvent('change', { detail: { value: true } });
    await settle();
    expect(modal.mock.calls[0][0]).toMatchObject({ content: '加入黑名单后，你将不再收到对方的消息' });
    expect(page.data.blocked).toBe(false);
    expect(me.client.stores.blocks.list).toEqual([]);

    block.dispatchEvent('change', { detail: { value: true } });
    await waitFor(() => page.data.blocked, 'the switch on');
    expect(me.client.stores.blocks.list.map((user) => user.id)).toEqual([peer.client.stores.me.id]);
    // The peer's sends are refused now: they see WeChat's notice, I see nothing.
    const cid = peer.client.sendText(conv, '在吗')!;
    await waitFor(
      () => peer.client.stores.messages.view(conv).items.find((item) => item.key === cid)?.status === 'failed',
      'the refusal',
    );
    expect(me.client.stores.messages.view(conv).items).toEqual([]);

    block.dispatchEvent('change', { detail: { value: false } });
    await waitFor(() => !page.data.blocked, 'the switch off');
    expect(modal).toHaveBeenCalledTimes(2);
    expect(me.client.stores.blocks.list).toEqual([]);
    page.detach();
  });

  it('投诉 in 聊天信息 opens the report form for the conversation', async () => {
    const { me, conv } = await fixture.pair();
    const page = renderPage<ChatSettingsData>('chat-settings', me.client, { conv });
    await settle();
    const navigate = jest.spyOn(wx, 'navigateTo').mockImplementation(() => ok('navigateTo'));
    page.querySelector('.report')!.dispatchEvent('tap');
    await settle();
    expect(navigate.mock.calls[0][0]).toMatchObject({ url: `/pages/report/report?conv=${conv}` });
    page.detach();
  });

  it('我 → 黑名单 lists the people blocked, newest first; 移出黑名单 takes one off', async () => {
    const me = await fixture.phone();
    const a = await fixture.phone();
    const b = await fixture.phone();
    await me.client.block(a.client.stores.me.user!);
    await me.client.block(b.client.stores.me.user!);

    const profile = renderPage<ProfileData>('profile', me.client);
    await settle();
    const navigate = jest.spyOn(wx, 'navigateTo').mockImplementation(() => ok('navigateTo'));
    expect(texts(profile, '.blacklist-label')).toEqual(['黑名单']);
    profile.querySelector('.blacklist')!.dispatchEvent('tap');
    await settle();
    expect(navigate.mock.calls[0][0]).toMatchObject({ url: '/pages/blacklist/blacklist' });
    profile.detach();

    // Fetched on opening, as another device of mine would see it.
    const other = await fixture.phone({ storage: new Map(me.adapter.storage) });
    const page = renderPage<BlacklistData>('blacklist', other.client);
    await waitFor(() => page.data.people.length === 2, 'the list');
    await settle();
    const names = [b, a].map((phone) => phone.client.stores.me.user!.nickname);
    expect(texts(page, '.name')).toEqual(names);
    expect(texts(page, '.unblock')).toEqual(['移出黑名单', '移出黑名单']);

    const toast = jest.spyOn(wx, 'showToast').mockImplementation(() => ok('showToast'));
    page.querySelectorAll('.unblock')[0].dispatchEvent('tap');
    await waitFor(() => page.data.people.length === 1, 'one left');
    await settle();
    expect(texts(page, '.name')).toEqual([names[1]]);
    expect(toast.mock.calls[0][0]).toMatchObject({ title: '已移出黑名单' });
    await me.client.loadBlocks();
    expect(me.client.stores.blocks.list.map((user) => user.id)).toEqual([a.client.stores.me.id]);

    page.querySelectorAll('.unblock')[0].dispatchEvent('tap');
    await waitFor(() => page.data.people.length === 0, 'none left');
    await settle();
    expect(texts(page, '.empty')).toEqual(['暂无黑名单']);
    page.detach();
  });
});
