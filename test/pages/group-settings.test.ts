import type { PublicUser } from '../../contract/frames';
import type { GroupCreateData } from '../../miniprogram/pages/group-create/group-create';
import type { GroupSettingsData } from '../../miniprogram/pages/group-settings/group-settings';
import { waitFor, type Phone } from '../support/app';
import { useServer } from '../support/fixture';
import { renderPage, settle, texts, type RenderedPage } from '../support/pages';

const ok = (api: string) => Promise.resolve({ errMsg: `${api}:ok` });
const userOf = (phone: Phone): PublicUser => phone.client.stores.me.user!;
const idOf = (phone: Phone): string => phone.client.stores.me.id;

type ModalAnswer = WechatMiniprogram.ShowModalSuccessCallbackResult;
const answer = (confirm: boolean, content = ''): Promise<ModalAnswer> =>
  Promise.resolve({ confirm, cancel: !confirm, content, errMsg: 'showModal:ok' });

describe('聊天信息: the group settings page, against the real server', () => {
  const fixture = useServer({ each: true });

  /** owner, bob (an admin) and carol (a member) in a group, every one listing it with details. */
  async function threeInAGroup(): Promise<{ owner: Phone; bob: Phone; carol: Phone; conv: string }> {
    const owner = await fixture.phone();
    const bob = await fixture.phone();
    const carol = await fixture.phone();
    const conv = await owner.client.groups.create([userOf(bob), userOf(carol)]);
    await owner.client.groups.setAdmin(conv, idOf(bob), true);
    for (const member of [owner, bob, carol]) {
      await waitFor(() => member.client.stores.sessions.find(conv)?.lastSeq === 2, 'every member to list the group');
    }
    return { owner, bob, carol, conv };
  }

  function settings(phone: Phone, conv: string): RenderedPage<GroupSettingsData> {
    return renderPage<GroupSettingsData>('group-settings', phone.client, { conv });
  }

  async function loaded(page: RenderedPage<GroupSettingsData>, members: number): Promise<void> {
    await waitFor(() => page.data.loaded && page.data.members.length === members, 'the members');
    await settle();
  }

  it('shows each role what it may do: the owner everything, an admin no 解散, a member no − and no edits', async () => {
    const { owner, bob, carol, conv } = await threeInAGroup();
    const title = jest.spyOn(wx, 'setNavigationBarTitle');
    const names = [owner, bob, carol].map((p) => userOf(p).nickname);

    const ownerPage = settings(owner, conv);
    await loaded(ownerPage, 3);
    // The owner first, as WeChat's grid.
    const grid = texts(ownerPage, '.member-name');
    expect(grid[0]).toBe(names[0]);
    expect(grid.slice().sort()).toEqual(names.slice().sort());
    expect(ownerPage.querySelectorAll('.add')).toHaveLength(1);
    expect(ownerPage.querySelectorAll('.minus')).toHaveLength(1);
    expect(texts(ownerPage, '.name-value')).toEqual([owner.client.stores.sessions.find(conv)!.title]);
    // Both rows editable (the chevron), 退出群聊 and 解散群聊.
    // (The third chevron: 投诉, for every member.)
    expect(ownerPage.querySelectorAll('.cell.link')).toHaveLength(3);
    expect(texts(ownerPage, '.leave')).toEqual(['退出群聊']);
    expect(texts(ownerPage, '.dismiss')).toEqual(['解散群聊']);
    expect(title).toHaveBeenLastCalledWith(expect.objectContaining({ title: '聊天信息(3)' }));

    const adminPage = settings(bob, conv);
    await loaded(adminPage, 3);
    expect(adminPage.querySelectorAll('.minus')).toHaveLength(1);
    expect(adminPage.querySelectorAll('.cell.link')).toHaveLength(3);
    expect(adminPage.querySelectorAll('.dismiss')).toHaveLength(0);
    expect(texts(adminPage, '.leave')).toEqual(['退出群聊']);

    const memberPage = settings(carol, conv);
    await loaded(memberPage, 3);
    expect(memberPage.querySelectorAll('.add')).toHaveLength(1);
    expect(memberPage.querySelectorAll('.minus')).toHaveLength(0);
    expect(texts(memberPage, '.cell.link .cell-label')).toEqual(['投诉']);
    // 投诉: the report form for the group conversation.
    const navigate = jest
      .spyOn(wx, 'navigateTo')
      .mockImplementation(() => Promise.resolve({ errMsg: 'navigateTo:ok' }));
    memberPage.querySelector('.report')!.dispatchEvent('tap');
    await settle();
    expect(navigate).toHaveBeenLastCalledWith({ url: `/pages/report/report?conv=${conv}` });
    expect(memberPage.querySelectorAll('.dismiss')).toHaveLength(0);
    expect(texts(memberPage, '.leave')).toEqual(['退出群聊']);
    // The name is read-only for a member: a tap opens no editor.
    const modal = jest.spyOn(wx, 'showModal');
    memberPage.querySelector('.name-value')!.dispatchEvent('tap');
    await settle();
    expect(modal).not.toHaveBeenCalled();
    for (const page of [ownerPage, adminPage, memberPage]) page.detach();
    modal.mockRestore();
    title.mockRestore();
  });

  it('lets the owner rename and write the notice; a member reads the notice', async () => {
    const { owner, carol, conv } = await threeInAGroup();
    const page = settings(owner, conv);
    await loaded(page, 3);
    const modal = jest.spyOn(wx, 'showModal');

    modal.mockImplementationOnce(() => answer(true, '  周日爬山 '));
    page.querySelectorAll('.cell.link')[0].dispatchEvent('tap');
    await waitFor(() => page.data.name === '周日爬山', 'the new name');
    expect(modal).toHaveBeenLastCalledWith(expect.objectContaining({ title: '修改群聊名称', editable: true }));
    await waitFor(() => carol.client.stores.sessions.find(conv)?.title === '周日爬山', 'the name at carol');

    modal.mockImplementationOnce(() => answer(true, '周日早上八点，地铁站集合'));
    page.querySelector('.notice')!.dispatchEvent('tap');
    await waitFor(() => page.data.notice === '周日早上八点，地铁站集合', 'the notice');
    await settle();
    expect(texts(page, '.notice-text')).toEqual(['周日早上八点，地铁站集合']);

    // An empty name is refused on the phone.
    const toast = jest.spyOn(wx, 'showToast');
    modal.mockImplementationOnce(() => answer(true, '   '));
    page.querySelectorAll('.cell.link')[0].dispatchEvent('tap');
    await waitFor(() => toast.mock.calls.length === 1, 'the toast');
    expect(toast).toHaveBeenCalledWith(expect.objectContaining({ title: '群聊名称不能为空', icon: 'none' }));
    expect(page.data.name).toBe('周日爬山');

    // Carol sees the notice, read-only.
    await carol.client.groups.load(conv);
    const memberPage = settings(carol, conv);
    await loaded(memberPage, 3);
    expect(texts(memberPage, '.notice-text')).toEqual(['周日早上八点，地铁站集合']);
    modal.mockImplementationOnce(() => answer(true));
    memberPage.querySelector('.notice')!.dispatchEvent('tap');
    await settle();
    expect(modal).toHaveBeenLastCalledWith(
      expect.objectContaining({ title: '群公告', content: '周日早上八点，地铁站集合', showCancel: false }),
    );
    expect(modal.mock.calls[modal.mock.calls.length - 1][0]).not.toHaveProperty('editable');
    modal.mockRestore();
    toast.mockRestore();
    page.detach();
    memberPage.detach();
  });

  it('invites through + (people not yet members), and the new member lists the group', async () => {
    const { owner, carol, conv } = await threeInAGroup();
    const dave = await fixture.phone();
    const page = settings(carol, conv);
    await loaded(page, 3);
    const navigateTo = jest.spyOn(wx, 'navigateTo').mockImplementation(() => ok('navigateTo'));
    page.querySelector('.invite-tile')!.dispatchEvent('tap');
    await settle();
    expect(navigateTo).toHaveBeenCalledWith({ url: `/pages/group-create/group-create?mode=invite&conv=${conv}` });
    navigateTo.mockRestore();

    // The picker, in invite mode: a search finds dave; a member found is checked and greyed.
    const picker = renderPage<GroupCreateData>('group-create', carol.client, { mode: 'invite', conv });
    await settle();
    expect(picker.querySelectorAll('.name-field')).toHaveLength(0);
    picker.querySelector('.search-input')!.dispatchEvent('input', { detail: { value: userOf(owner).nickname } });
    await waitFor(() => picker.data.rows.some((row) => row.id === idOf(owner)), 'the owner found');
    await settle();
    const ownerRow = picker.data.rows.find((row) => row.id === idOf(owner))!;
    expect(ownerRow).toMatchObject({ checked: true, fixed: true });
    picker.querySelectorAll('.row')[picker.data.rows.indexOf(ownerRow)].dispatchEvent('tap');
    await settle();
    expect(picker.data.chosen).toHaveLength(0);

    picker.querySelector('.search-input')!.dispatchEvent('input', { detail: { value: userOf(dave).nickname } });
    await waitFor(() => picker.data.rows.length === 1 && picker.data.rows[0].id === idOf(dave), 'dave found');
    await settle();
    picker.querySelectorAll('.row')[0].dispatchEvent('tap');
    await settle();
    expect(texts(picker, '.done')).toEqual(['完成(1)']);
    const navigateBack = jest.spyOn(wx, 'navigateBack').mockImplementation(() => ok('navigateBack'));
    picker.querySelector('.done')!.dispatchEvent('tap');
    await waitFor(() => navigateBack.mock.calls.length === 1, 'back to the settings');
    navigateBack.mockRestore();
    await waitFor(() => dave.client.stores.sessions.find(conv) !== undefined, 'dave to list the group');
    // The settings page under it follows: four members.
    await waitFor(() => page.data.members.length === 4, 'the new member in the grid');
    await settle();
    expect(texts(page, '.member-name')).toContain(userOf(dave).nickname);
    picker.detach();
    page.detach();
  });

  it('removes through −: an admin may pick plain members only, the owner anyone', async () => {
    const { owner, bob, carol, conv } = await threeInAGroup();
    const dave = await fixture.phone();
    await owner.client.groups.invite(conv, [idOf(dave)]);
    await waitFor(() => bob.client.stores.sessions.find(conv)?.lastSeq === 3, 'bob to hear of dave');
    await bob.client.groups.load(conv);
    const adminPage = settings(bob, conv);
    await loaded(adminPage, 4);
    const navigateTo = jest.spyOn(wx, 'navigateTo').mockImplementation(() => ok('navigateTo'));
    adminPage.querySelector('.remove-tile')!.dispatchEvent('tap');
    await settle();
    expect(navigateTo).toHaveBeenCalledWith({ url: `/pages/group-create/group-create?mode=remove&conv=${conv}` });
    navigateTo.mockRestore();

    const adminPicker = renderPage<GroupCreateData>('group-create', bob.client, { mode: 'remove', conv });
    await waitFor(() => adminPicker.data.rows.length === 2, 'the members bob may remove');
    await settle();
    expect(adminPicker.data.rows.map((row) => row.id).sort()).toEqual([idOf(carol), idOf(dave)].sort());
    expect(texts(adminPicker, '.done')).toEqual(['删除']);
    const daveRow = adminPicker.data.rows.findIndex((row) => row.id === idOf(dave));
    adminPicker.querySelectorAll('.row')[daveRow].dispatchEvent('tap');
    await settle();
    expect(texts(adminPicker, '.done')).toEqual(['删除(1)']);
    const navigateBack = jest.spyOn(wx, 'navigateBack').mockImplementation(() => ok('navigateBack'));
    adminPicker.querySelector('.done')!.dispatchEvent('tap');
    await waitFor(() => navigateBack.mock.calls.length === 1, 'back to the settings');
    await waitFor(() => dave.client.stores.sessions.find(conv)?.left === true, 'dave out');
    adminPicker.detach();

    const ownerPicker = renderPage<GroupCreateData>('group-create', owner.client, { mode: 'remove', conv });
    await waitFor(() => ownerPicker.data.rows.length === 2, 'the members the owner may remove');
    expect(ownerPicker.data.rows.map((row) => row.id).sort()).toEqual([idOf(bob), idOf(carol)].sort());
    ownerPicker.detach();
    navigateBack.mockRestore();
    // The admin's settings page under the picker follows: three members.
    await waitFor(() => adminPage.data.members.length === 3, 'dave gone from the grid');
    adminPage.detach();
  });

  it('lets the owner make a member an admin by tapping them; − shows only with someone to remove', async () => {
    const { owner, bob, carol, conv } = await threeInAGroup();
    const page = settings(owner, conv);
    await loaded(page, 3);
    const sheet = jest.spyOn(wx, 'showActionSheet');
    sheet.mockImplementationOnce(() => Promise.resolve({ tapIndex: 0, errMsg: 'showActionSheet:ok' }));
    const carolTile = page.data.members.findIndex((member) => member.id === idOf(carol));
    page.querySelectorAll('.person')[carolTile].dispatchEvent('tap');
    await waitFor(() => page.data.members[carolTile].role === 'admin', 'carol an admin');
    expect(sheet).toHaveBeenLastCalledWith(expect.objectContaining({ itemList: ['设为管理员'] }));

    // Bob, an admin, now has nobody he may remove: no −.
    await waitFor(() => bob.client.stores.sessions.find(conv)?.lastSeq === 3, 'bob to hear of it');
    await bob.client.groups.load(conv);
    const bobPage = settings(bob, conv);
    await loaded(bobPage, 3);
    expect(bobPage.querySelectorAll('.minus')).toHaveLength(0);
    // A member's tap on someone does nothing.
    const calls = sheet.mock.calls.length;
    bobPage.querySelectorAll('.person')[carolTile].dispatchEvent('tap');
    await settle();
    expect(sheet.mock.calls).toHaveLength(calls);

    sheet.mockImplementationOnce(() => Promise.resolve({ tapIndex: 0, errMsg: 'showActionSheet:ok' }));
    page.querySelectorAll('.person')[carolTile].dispatchEvent('tap');
    await waitFor(() => page.data.members[carolTile].role === 'member', 'carol a member again');
    expect(sheet).toHaveBeenLastCalledWith(expect.objectContaining({ itemList: ['取消管理员'] }));
    sheet.mockRestore();
    page.detach();
    bobPage.detach();
  });

  it('mutes and pins with the switches', async () => {
    const { carol, conv } = await threeInAGroup();
    const page = settings(carol, conv);
    await loaded(page, 3);
    page.querySelector('.mute-switch')!.dispatchEvent('change', { detail: { value: true } });
    page.querySelector('.pin-switch')!.dispatchEvent('change', { detail: { value: true } });
    await settle();
    expect(carol.client.stores.sessions.find(conv)).toMatchObject({ muted: true, pinned: true });
    expect(page.data).toMatchObject({ muted: true, pinned: true });
    page.querySelector('.mute-switch')!.dispatchEvent('change', { detail: { value: false } });
    await settle();
    expect(carol.client.stores.sessions.find(conv)!.muted).toBe(false);
    page.detach();
  });

  it('退出群聊: confirmed, the user is out and back at the list; the page then offers only 删除', async () => {
    const { owner, carol, conv } = await threeInAGroup();
    const page = settings(carol, conv);
    await loaded(page, 3);
    const modal = jest.spyOn(wx, 'showModal');
    const switchTab = jest.spyOn(wx, 'switchTab').mockImplementation(() => ok('switchTab'));

    // Cancelled: nothing happens.
    modal.mockImplementationOnce(() => answer(false));
    page.querySelector('.leave')!.dispatchEvent('tap');
    await settle();
    expect(switchTab).not.toHaveBeenCalled();

    modal.mockImplementationOnce(() => answer(true));
    page.querySelector('.leave')!.dispatchEvent('tap');
    await waitFor(() => switchTab.mock.calls.length === 1, 'back to the list');
    expect(modal).toHaveBeenLastCalledWith(expect.objectContaining({ title: '退出群聊', confirmText: '退出' }));
    expect(switchTab).toHaveBeenCalledWith({ url: '/pages/index/index' });
    expect(carol.client.stores.sessions.find(conv)!.left).toBe(true);
    await owner.client.groups.load(conv);
    expect(owner.client.stores.groups.details(conv)!.members.map((m) => m.id)).not.toContain(idOf(carol));

    // Still in the list, and its settings say so, with 删除 only.
    await settle();
    expect(texts(page, '.gone-text')).toEqual(['你已不在群聊中']);
    expect(texts(page, '.cell')).toEqual(['删除']);
    expect(page.querySelectorAll('.member')).toHaveLength(0);
    modal.mockImplementationOnce(() => answer(true));
    page.querySelector('.gone .danger')!.dispatchEvent('tap');
    await waitFor(() => switchTab.mock.calls.length === 2, 'back to the list again');
    expect(carol.client.stores.sessions.find(conv)).toBeUndefined();
    modal.mockRestore();
    switchTab.mockRestore();
    page.detach();
  });

  it('解散群聊 (owner): confirmed, every member is out; a member opening the settings sees 你已不在群聊中', async () => {
    const { owner, bob, conv } = await threeInAGroup();
    const page = settings(owner, conv);
    await loaded(page, 3);
    const modal = jest.spyOn(wx, 'showModal').mockImplementation(() => answer(true));
    const switchTab = jest.spyOn(wx, 'switchTab').mockImplementation(() => ok('switchTab'));
    page.querySelector('.dismiss')!.dispatchEvent('tap');
    await waitFor(() => switchTab.mock.calls.length === 1, 'back to the list');
    expect(modal).toHaveBeenLastCalledWith(expect.objectContaining({ title: '解散群聊', confirmText: '解散' }));
    expect(owner.client.stores.sessions.find(conv)!.left).toBe(true);
    await waitFor(() => bob.client.stores.sessions.find(conv)?.left === true, 'bob to see it dismissed');

    const bobPage = settings(bob, conv);
    await settle();
    expect(texts(bobPage, '.gone-text')).toEqual(['你已不在群聊中']);
    expect(bobPage.querySelectorAll('.leave')).toHaveLength(0);
    expect(bobPage.querySelectorAll('.dismiss')).toHaveLength(0);
    modal.mockRestore();
    switchTab.mockRestore();
    page.detach();
    bobPage.detach();
  });
});
