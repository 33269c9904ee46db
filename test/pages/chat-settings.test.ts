import type { PublicUser } from '../../contract/frames';
import type { ChatData } from '../../miniprogram/pages/chat/chat';
import type { ChatSettingsData } from '../../miniprogram/pages/chat-settings/chat-settings';
import type { GroupCreateData } from '../../miniprogram/pages/group-create/group-create';
import { waitFor, type Phone } from '../support/app';
import { useServer } from '../support/fixture';
import { renderPage, settle, texts, type RenderedPage } from '../support/pages';

const ok = (api: string) => Promise.resolve({ errMsg: `${api}:ok` });
const userOf = (phone: Phone): PublicUser => phone.client.stores.me.user!;

/** Waits until `phone` holds `count` stored messages in `conv`. */
async function holds(phone: Phone, conv: string, count: number): Promise<void> {
  await waitFor(
    () => phone.client.stores.messages.view(conv).items.filter((item) => item.seq > 0).length >= count,
    `${count} messages`,
  );
}

describe('聊天信息 of a one-to-one conversation, against the real server', () => {
  const fixture = useServer({ each: true });
  afterEach(() => jest.restoreAllMocks());

  function settings(phone: Phone, conv: string): RenderedPage<ChatSettingsData> {
    return renderPage<ChatSettingsData>('chat-settings', phone.client, { conv });
  }

  it('shows the peer (an initial without an avatar), + and the cells', async () => {
    const { me, peer, conv } = await fixture.pair();
    const page = settings(me, conv);
    await settle();
    const nickname = userOf(peer).nickname;
    expect(page.data.peer).toMatchObject({ id: userOf(peer).id, nickname });
    expect(texts(page, '.member-name')).toEqual([nickname]);
    expect(texts(page, '.person .avatar')).toEqual([nickname[0]]);
    expect(page.querySelectorAll('.add')).toHaveLength(1);
    expect(texts(page, '.cell-label')).toEqual(['消息免打扰', '置顶聊天', '清空聊天记录', '加入黑名单', '投诉']);
    expect(page.querySelectorAll('.cells')).toHaveLength(3);
    expect(page.data).toMatchObject({ muted: false, pinned: false });
    page.detach();
  });

  it('mutes and pins with the switches; another device of the user follows, and its change shows here', async () => {
    const { me, peer, conv } = await fixture.pair();
    peer.client.sendText(conv, '在吗');
    await holds(me, conv, 1);
    // The same user on a second phone.
    const tablet = await fixture.phone({ storage: new Map(me.adapter.storage) });
    await waitFor(() => tablet.client.stores.sessions.find(conv) !== undefined, 'the tablet to list it');

    const page = settings(me, conv);
    await settle();
    page.querySelector('.mute-switch')!.dispatchEvent('change', { detail: { value: true } });
    page.querySelector('.pin-switch')!.dispatchEvent('change', { detail: { value: true } });
    await settle();
    // Optimistic: here at once (the switches' `checked` is bound to these).
    expect(me.client.stores.sessions.find(conv)).toMatchObject({ muted: true, pinned: true });
    expect(page.data).toMatchObject({ muted: true, pinned: true });
    await waitFor(() => {
      const there = tablet.client.stores.sessions.find(conv);
      return there?.muted === true && there.pinned === true;
    }, 'the tablet to follow');
    // The peer's own settings are theirs.
    expect(peer.client.stores.sessions.find(conv)).toMatchObject({ muted: false, pinned: false });

    // Undone on the tablet: the switches here follow.
    await tablet.client.mute(conv, false);
    await tablet.client.pin(conv, false);
    await waitFor(() => !page.data.muted && !page.data.pinned, 'the switches to follow the tablet');
    page.detach();
  });

  it('清空聊天记录: confirmed, every message goes from this device only, and stays gone after a relaunch', async () => {
    const { me, peer, conv } = await fixture.pair();
    const count = 25; // More than a history page (20): older ones are fetched to go too.
    for (let n = 1; n <= count; n++) peer.client.sendText(conv, `第${n}条`);
    await holds(me, conv, count);
    await holds(peer, conv, count);
    // Another device of the user that holds only the newest page.
    const tablet = await fixture.phone({ storage: new Map(me.adapter.storage) });
    await waitFor(() => tablet.client.stores.sessions.find(conv)?.lastSeq === count, 'the tablet to list it');
    const page = settings(me, conv);
    await settle();
    const sheet = jest.spyOn(wx, 'showActionSheet');
    const toast = jest.spyOn(wx, 'showToast');

    // Cancelled: nothing goes.
    sheet.mockImplementationOnce(() => Promise.reject(new Error('showActionSheet:fail cancel')));
    page.querySelector('.clear')!.dispatchEvent('tap');
    await settle();
    expect(me.client.stores.messages.view(conv).items.filter((item) => !item.deleted)).toHaveLength(count);

    sheet.mockImplementationOnce(() => Promise.resolve({ tapIndex: 0, errMsg: 'showActionSheet:ok' }));
    page.querySelector('.clear')!.dispatchEvent('tap');
    await waitFor(() => toast.mock.calls.length === 1, 'the toast');
    expect(sheet).toHaveBeenLastCalledWith(
      expect.objectContaining({
        alertText: `确定删除和${userOf(peer).nickname}的聊天记录吗？`,
        itemList: ['清空聊天记录'],
        itemColor: '#fa5151',
      }),
    );
    expect(toast).toHaveBeenCalledWith(expect.objectContaining({ title: '已清空' }));
    const items = me.client.stores.messages.view(conv).items;
    expect(items.filter((item) => item.seq > 0)).toHaveLength(count);
    expect(items.every((item) => item.deleted)).toBe(true);
    expect(me.client.stores.sessions.find(conv)!.preview).toBe('');
    page.detach();

    // The peer keeps them.
    expect(peer.client.stores.messages.view(conv).items.filter((item) => !item.deleted)).toHaveLength(count);

    // The tablet, with only the newest page: older pages are fetched and go too.
    expect(tablet.client.stores.messages.view(conv).items.filter((item) => item.seq > 0).length).toBeLessThan(count);
    const tabletPage = settings(tablet, conv);
    await settle();
    sheet.mockImplementationOnce(() => Promise.resolve({ tapIndex: 0, errMsg: 'showActionSheet:ok' }));
    tabletPage.querySelector('.clear')!.dispatchEvent('tap');
    await waitFor(() => toast.mock.calls.length === 2, 'the toast on the tablet');
    const tabletView = tablet.client.stores.messages.view(conv);
    expect(tabletView.hasMore).toBe(false);
    expect(tabletView.items.filter((item) => item.seq > 0)).toHaveLength(count);
    expect(tabletView.items.every((item) => item.deleted)).toBe(true);
    tabletPage.detach();

    // Relaunched from its storage: the message page shows nothing, scrolling up brings nothing back.
    me.client.stop();
    await new Promise((resolve) => setTimeout(resolve, 400));
    const relaunched = await fixture.phone({ storage: new Map(me.adapter.storage) });
    const chat = renderPage<ChatData>('chat', relaunched.client, { conv });
    await waitFor(() => relaunched.client.stores.messages.view(conv).loaded, 'the newest page after the restart');
    while (relaunched.client.stores.messages.view(conv).hasMore) await relaunched.client.loadOlder(conv);
    await settle();
    expect(relaunched.client.stores.messages.view(conv).items.filter((item) => item.seq > 0)).toHaveLength(count);
    expect(texts(chat, '.bubble')).toEqual([]);
    expect(relaunched.client.stores.sessions.find(conv)?.preview).toBe('');
    chat.detach();
  });

  it('+ opens 发起群聊 with the peer ticked and kept ticked', async () => {
    const { me, peer, conv } = await fixture.pair();
    const page = settings(me, conv);
    await settle();
    const navigateTo = jest.spyOn(wx, 'navigateTo').mockImplementation(() => ok('navigateTo'));
    page.querySelector('.add-tile')!.dispatchEvent('tap');
    await settle();
    expect(navigateTo).toHaveBeenCalledWith({ url: `/pages/group-create/group-create?with=${userOf(peer).id}` });
    page.detach();

    const picker = renderPage<GroupCreateData>('group-create', me.client, { with: userOf(peer).id });
    await waitFor(() => picker.data.rows.some((row) => row.id === userOf(peer).id), 'the peer in the list');
    await settle();
    const index = picker.data.rows.findIndex((row) => row.id === userOf(peer).id);
    expect(picker.data.rows[index]).toMatchObject({ checked: true, fixed: true });
    // Tapping the peer does not untick them.
    picker.querySelectorAll('.row')[index].dispatchEvent('tap');
    await settle();
    expect(picker.data.rows[index]).toMatchObject({ checked: true, fixed: true });
    expect(picker.querySelectorAll('.check.on')).toHaveLength(1);
    picker.detach();
  });
});
