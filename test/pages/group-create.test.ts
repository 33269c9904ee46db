import type { PublicUser } from '../../contract/frames';
import { defaultGroupName } from '../../miniprogram/core/groups';
import type { GroupCreateData } from '../../miniprogram/pages/group-create/group-create';
import { waitFor, type Phone } from '../support/app';
import { useServer } from '../support/fixture';
import { renderPage, settle, texts, type RenderedPage } from '../support/pages';

const ok = (api: string) => Promise.resolve({ errMsg: `${api}:ok` });

/** Makes `others` peers of `me` (the directory's empty box lists them): one message to each, delivered. */
async function talkTo(me: Phone, others: Phone[]): Promise<void> {
  for (const other of others) {
    const conv = me.client.conversationWith(other.client.stores.me.user!);
    me.client.sendText(conv, '你好');
    await waitFor(() => other.client.stores.messages.view(conv).items.length === 1, 'delivery');
  }
}

const userOf = (phone: Phone): PublicUser => phone.client.stores.me.user!;

/** Taps the row of `user` in the picker. */
async function tapRow(page: RenderedPage<GroupCreateData>, user: PublicUser): Promise<void> {
  const index = page.data.rows.findIndex((row) => row.id === user.id);
  expect(index).toBeGreaterThanOrEqual(0);
  page.querySelectorAll('.row')[index].dispatchEvent('tap');
  await settle();
}

function doneButton(page: RenderedPage<GroupCreateData>) {
  return page.querySelector('.done')!;
}

describe('发起群聊: from the contacts page to a new group', () => {
  const fixture = useServer();

  it('opens from 发起群聊 on the contacts page', async () => {
    const me = await fixture.phone();
    const navigateTo = jest.spyOn(wx, 'navigateTo').mockImplementation(() => ok('navigateTo'));
    const contacts = renderPage('contacts', me.client);
    await settle();
    expect(texts(contacts, '.entry-name')).toEqual(['发起群聊']);
    contacts.querySelector('.new-group')!.dispatchEvent('tap');
    await settle();
    expect(navigateTo).toHaveBeenCalledWith({ url: '/pages/group-create/group-create' });
    navigateTo.mockRestore();
    contacts.detach();
  });

  it('picks people, shows the default name, creates the group on the server and opens it', async () => {
    const me = await fixture.phone();
    const bob = await fixture.phone();
    const carol = await fixture.phone();
    const dave = await fixture.phone();
    await talkTo(me, [bob, carol, dave]);

    const page = renderPage<GroupCreateData>('group-create', me.client);
    await waitFor(() => page.data.rows.length === 3, 'my peers');
    await settle();
    expect(texts(page, '.nickname').sort()).toEqual([bob, carol, dave].map((p) => userOf(p).nickname).sort());
    // Nobody picked: 完成 without a count, and disabled.
    expect(texts(page, '.done')).toEqual(['完成']);
    expect(page.data.chosen).toHaveLength(0);
    expect(page.querySelectorAll('.check.on')).toHaveLength(0);

    await tapRow(page, userOf(carol));
    await tapRow(page, userOf(bob));
    await tapRow(page, userOf(dave));
    // Tapping again unchecks.
    await tapRow(page, userOf(dave));
    expect(page.querySelectorAll('.check.on')).toHaveLength(2);
    expect(texts(page, '.done')).toEqual(['完成(2)']);
    expect(page.data.chosen.map((user) => user.id)).toEqual([userOf(carol).id, userOf(bob).id]);
    // The name field offers the default name, as the group would be called.
    const expectedName = defaultGroupName(userOf(me), [userOf(carol), userOf(bob)]);
    expect(page.data.placeholder).toBe(expectedName);

    const redirectTo = jest.spyOn(wx, 'redirectTo').mockImplementation(() => ok('redirectTo'));
    doneButton(page).dispatchEvent('tap');
    await waitFor(() => redirectTo.mock.calls.length === 1, 'the new conversation to open');
    const url = (redirectTo.mock.calls[0][0] as { url: string }).url;
    expect(url).toMatch(/^\/pages\/chat\/chat\?conv=g:/);
    const conv = url.slice('/pages/chat/chat?conv='.length);
    redirectTo.mockRestore();

    // On the server: the three of us, under the default name, listed by every member.
    expect(me.client.stores.groups.details(conv)).toMatchObject({
      group: { name: expectedName, memberCount: 3 },
      myRole: 'owner',
    });
    for (const member of [bob, carol]) {
      await waitFor(() => member.client.stores.sessions.find(conv)?.title === expectedName, 'the group at a member');
    }
    await bob.client.groups.load(conv);
    expect(
      bob.client.stores.groups
        .details(conv)!
        .members.map((member) => member.id)
        .sort(),
    ).toEqual([me, bob, carol].map((p) => userOf(p).id).sort());
    expect(dave.client.stores.sessions.find(conv)).toBeUndefined();
    page.detach();
  });

  it('takes a typed name, and finds people by search without losing those picked', async () => {
    const me = await fixture.phone();
    const bob = await fixture.phone();
    const stranger = await fixture.phone();
    await talkTo(me, [bob]);

    const page = renderPage<GroupCreateData>('group-create', me.client);
    await waitFor(() => page.data.rows.length === 1, 'my peer');
    await tapRow(page, userOf(bob));
    page.querySelector('.search-input')!.dispatchEvent('input', { detail: { value: userOf(stranger).nickname } });
    await waitFor(() => page.data.rows.length === 1 && page.data.rows[0].id === userOf(stranger).id, 'the search');
    await tapRow(page, userOf(stranger));
    expect(texts(page, '.done')).toEqual(['完成(2)']);
    // The picks show as faces in the bar; tapping one unpicks it, tapping the row picks it again.
    expect(page.querySelectorAll('.small')).toHaveLength(2);
    page.querySelectorAll('.small')[1].dispatchEvent('tap');
    await settle();
    expect(page.data.chosen.map((user) => user.id)).toEqual([userOf(bob).id]);
    expect(page.querySelectorAll('.check.on')).toHaveLength(0);
    await tapRow(page, userOf(stranger));
    expect(page.querySelectorAll('.small')).toHaveLength(2);

    page.querySelector('.name-input')!.dispatchEvent('input', { detail: { value: '周末爬山' } });
    await settle();
    const redirectTo = jest.spyOn(wx, 'redirectTo').mockImplementation(() => ok('redirectTo'));
    doneButton(page).dispatchEvent('tap');
    await waitFor(() => redirectTo.mock.calls.length === 1, 'the new conversation to open');
    const conv = (redirectTo.mock.calls[0][0] as { url: string }).url.split('conv=')[1];
    redirectTo.mockRestore();
    await waitFor(() => stranger.client.stores.sessions.find(conv)?.title === '周末爬山', 'the named group');
    expect(me.client.stores.groups.details(conv)!.group.memberCount).toBe(3);
    page.detach();
  });

  it('with=<user> (+ in a one-to-one 聊天信息): that person ticked and kept ticked, in the group with those picked', async () => {
    const me = await fixture.phone();
    const bob = await fixture.phone();
    const carol = await fixture.phone();
    const dave = await fixture.phone();
    // Dave is no peer yet: he heads the list all the same. Bob and carol are in the directory's list.
    await talkTo(me, [bob, carol]);
    me.client.conversationWith(userOf(dave));

    const page = renderPage<GroupCreateData>('group-create', me.client, { with: userOf(dave).id });
    await waitFor(() => page.data.rows.length === 3, 'the peers and dave');
    await settle();
    expect(page.data.rows[0]).toMatchObject({ id: userOf(dave).id, checked: true, fixed: true });
    expect(page.querySelectorAll('.row.fixed')).toHaveLength(1);
    // Dave alone makes no group: 完成 waits for someone more, and tapping dave does not untick him.
    expect(texts(page, '.done')).toEqual(['完成']);
    await tapRow(page, userOf(dave));
    expect(page.data.rows[0]).toMatchObject({ checked: true, fixed: true });
    expect(page.data.chosen).toHaveLength(0);

    await tapRow(page, userOf(carol));
    expect(texts(page, '.done')).toEqual(['完成(1)']);
    const expectedName = defaultGroupName(userOf(me), [userOf(dave), userOf(carol)]);
    expect(page.data.placeholder).toBe(expectedName);
    // A search keeps him ticked where he shows.
    page.querySelector('.search-input')!.dispatchEvent('input', { detail: { value: userOf(dave).nickname } });
    await waitFor(() => page.data.rows.length === 1 && page.data.rows[0].id === userOf(dave).id, 'the search');
    expect(page.data.rows[0]).toMatchObject({ checked: true, fixed: true });

    const redirectTo = jest.spyOn(wx, 'redirectTo').mockImplementation(() => ok('redirectTo'));
    doneButton(page).dispatchEvent('tap');
    await waitFor(() => redirectTo.mock.calls.length === 1, 'the new conversation to open');
    const conv = (redirectTo.mock.calls[0][0] as { url: string }).url.split('conv=')[1];
    redirectTo.mockRestore();
    expect(me.client.stores.groups.details(conv)).toMatchObject({ group: { name: expectedName, memberCount: 3 } });
    expect(
      me.client.stores.groups
        .details(conv)!
        .members.map((member) => member.id)
        .sort(),
    ).toEqual([me, dave, carol].map((p) => userOf(p).id).sort());
    await waitFor(() => dave.client.stores.sessions.find(conv) !== undefined, 'dave to list the group');
    expect(bob.client.stores.sessions.find(conv)).toBeUndefined();
    page.detach();
  });
});

describe('发起群聊: failures', () => {
  // A group of at most 2 members: the owner and one more.
  const fixture = useServer({ env: { GROUP_MAX_MEMBERS: '2' } });

  it('says why in a toast and stays on the page', async () => {
    const me = await fixture.phone();
    const bob = await fixture.phone();
    const carol = await fixture.phone();
    await talkTo(me, [bob, carol]);
    const page = renderPage<GroupCreateData>('group-create', me.client);
    await waitFor(() => page.data.rows.length === 2, 'my peers');
    await tapRow(page, userOf(bob));
    await tapRow(page, userOf(carol));
    const toast = jest.spyOn(wx, 'showToast');
    const redirectTo = jest.spyOn(wx, 'redirectTo');
    doneButton(page).dispatchEvent('tap');
    await waitFor(() => toast.mock.calls.length === 1, 'the toast');
    expect(toast).toHaveBeenCalledWith(expect.objectContaining({ title: '群成员人数已达上限', icon: 'none' }));
    expect(redirectTo).not.toHaveBeenCalled();
    await settle();
    expect(page.data.busy).toBe(false);
    expect(texts(page, '.done')).toEqual(['完成(2)']);
    toast.mockRestore();
    redirectTo.mockRestore();
    page.detach();
  });
});
