import type { PublicUser } from '../contract/frames';
import type { ChatData } from '../miniprogram/pages/chat/chat';
import type { GroupCreateData } from '../miniprogram/pages/group-create/group-create';
import type { GroupSettingsData } from '../miniprogram/pages/group-settings/group-settings';
import { waitFor, type Phone } from './support/app';
import { useServer } from './support/fixture';
import { renderPage, settle, texts, type RenderedPage } from './support/pages';

const ok = (api: string) => Promise.resolve({ errMsg: `${api}:ok` });
const confirmed = () => Promise.resolve({ confirm: true, cancel: false, content: '', errMsg: 'showModal:ok' });
const userOf = (phone: Phone): PublicUser => phone.client.stores.me.user!;
const nameOf = (phone: Phone): string => userOf(phone).nickname;

/** The last url a navigation spy was called with. */
function lastUrl(spy: jest.SpyInstance<unknown, [{ url: string }]>): string {
  return spy.mock.calls.at(-1)![0].url;
}

async function type(page: RenderedPage<ChatData>, value: string): Promise<void> {
  page.querySelector('.input')!.dispatchEvent('input', { detail: { value, cursor: value.length } });
  await settle();
}

/**
 * Three phones, each with its own wx, storage, client and stores, in one group through one real
 * server process, driving and reading the real pages: create from 通讯录, mention, read receipts,
 * leave, dismiss.
 */
describe('three users in one group, end to end', () => {
  const fixture = useServer();

  it('create, chat, mention, receipts, leave and dismiss, as each phone shows them', async () => {
    const alice = await fixture.phone();
    const bob = await fixture.phone();
    const carol = await fixture.phone();
    // Alice has talked to both before: they are in her contacts.
    for (const other of [bob, carol]) {
      const dm = alice.client.conversationWith(userOf(other));
      alice.client.sendText(dm, '你好');
      await waitFor(() => other.client.stores.sessions.find(dm) !== undefined, 'the dm to arrive');
    }
    const navigateTo = jest.spyOn(wx, 'navigateTo').mockImplementation(() => ok('navigateTo'));
    const redirectTo = jest.spyOn(wx, 'redirectTo').mockImplementation(() => ok('redirectTo'));
    const switchTab = jest.spyOn(wx, 'switchTab').mockImplementation(() => ok('switchTab'));
    const modal = jest.spyOn(wx, 'showModal').mockImplementation(confirmed);
    const bobList = renderPage('index', bob.client);
    const carolList = renderPage('index', carol.client);

    // Alice: 通讯录 → 发起群聊 → picks bob and carol → 完成(2) → the new group opens.
    const contacts = renderPage('contacts', alice.client);
    await settle();
    contacts.querySelector('.new-group')!.dispatchEvent('tap');
    await settle();
    expect(lastUrl(navigateTo)).toBe('/pages/group-create/group-create');
    const create = renderPage<GroupCreateData>('group-create', alice.client);
    await waitFor(() => create.data.rows.length === 2, 'bob and carol to be offered');
    await settle();
    for (const other of [bob, carol]) {
      const index = create.data.rows.findIndex((row) => row.id === userOf(other).id);
      create.querySelectorAll('.row')[index].dispatchEvent('tap');
      await settle();
    }
    expect(texts(create, '.done')).toEqual(['完成(2)']);
    create.querySelector('.done')!.dispatchEvent('tap');
    await waitFor(() => redirectTo.mock.calls.length === 1, 'the group to open');
    const conv = lastUrl(redirectTo).split('conv=')[1];
    expect(conv).toMatch(/^g:/);
    const groupName = [alice, bob, carol].map(nameOf).join('、');

    // Bob's and carol's lists show the group, with the tip that added them.
    for (const list of [bobList, carolList]) {
      await waitFor(() => texts(list, '.name').includes(groupName), 'the group in the list');
    }
    await waitFor(
      () =>
        texts(bobList, '.preview').some((text) =>
          text.includes(`"${nameOf(alice)}"邀请你和"${nameOf(carol)}"加入了群聊`),
        ),
      "bob's tip, from his point of view",
    );

    // Alice mentions bob through the @ picker and sends.
    const aliceChat = renderPage<ChatData>('chat', alice.client, { conv });
    await waitFor(() => texts(aliceChat, '.tip').length === 1, 'the created tip on alice’s page');
    expect(texts(aliceChat, '.tip')).toEqual([`你邀请"${nameOf(bob)}"、"${nameOf(carol)}"加入了群聊`]);
    await type(aliceChat, '@');
    await waitFor(() => texts(aliceChat, '.picker-name').includes(nameOf(bob)), 'the member picker');
    // Alice owns the group: 所有人 is hers to mention.
    expect(texts(aliceChat, '.picker-name')[0]).toBe('所有人');
    const bobItem = texts(aliceChat, '.picker-name').indexOf(nameOf(bob));
    aliceChat.querySelectorAll('.picker-item')[bobItem].dispatchEvent('tap');
    await settle();
    await type(aliceChat, `@${nameOf(bob)} 周六爬山吗`);
    aliceChat.querySelector('.send')!.dispatchEvent('tap');
    await settle();

    // Bob's list: [有人@我] and `昵称: 内容`; carol's: no mention.
    await waitFor(() => texts(bobList, '.mention').length === 1, '[有人@我] at bob');
    expect(texts(bobList, '.mention')).toEqual(['[有人@我]']);
    await waitFor(
      () => texts(carolList, '.preview').some((text) => text.includes('周六爬山吗')),
      'the message at carol',
    );
    expect(texts(carolList, '.mention')).toEqual([]);
    // Alice sees who has not read it.
    await waitFor(() => texts(aliceChat, '.receipt')[0] === '2人未读', '2人未读', 15_000);

    // Bob opens the group: alice's name above her bubble; reading clears his mention and alice's count drops.
    const bobChat = renderPage<ChatData>('chat', bob.client, { conv });
    await waitFor(() => texts(bobChat, '.row.theirs .bubble').includes(`@${nameOf(bob)} 周六爬山吗`), 'bob reads it');
    expect(texts(bobChat, '.row.theirs .sender')).toEqual([nameOf(alice)]);
    await waitFor(() => texts(bobList, '.mention').length === 0, 'the mention gone once read');
    await waitFor(() => texts(aliceChat, '.receipt')[0] === '1人未读', '1人未读', 15_000);
    bobChat.querySelector('.input')!.dispatchEvent('input', { detail: { value: '好啊', cursor: 2 } });
    await settle();
    bobChat.querySelector('.send')!.dispatchEvent('tap');
    await waitFor(() => texts(aliceChat, '.row.theirs .bubble').includes('好啊'), 'bob’s answer at alice');
    expect(texts(aliceChat, '.row.theirs .sender')).toEqual([nameOf(bob)]);

    // Carol leaves from the group's settings: her page says so; alice's shows the tip.
    const carolSettings = renderPage<GroupSettingsData>('group-settings', carol.client, { conv });
    await waitFor(() => carolSettings.data.members.length === 3, 'the members');
    await settle();
    carolSettings.querySelector('.leave')!.dispatchEvent('tap');
    await waitFor(() => carol.client.stores.sessions.find(conv)?.left === true, 'carol out');
    const carolChat = renderPage<ChatData>('chat', carol.client, { conv });
    await waitFor(() => texts(carolChat, '.left-bar').length === 1, 'no input for carol');
    expect(texts(carolChat, '.left-bar')).toEqual(['你已不在群聊中']);
    await waitFor(() => texts(aliceChat, '.tip').includes(`"${nameOf(carol)}"退出了群聊`), 'the leave tip at alice');

    // Alice dismisses the group: bob's list says so, and his page has no input.
    const aliceSettings = renderPage<GroupSettingsData>('group-settings', alice.client, { conv });
    await waitFor(() => aliceSettings.data.members.length === 2, 'two members left');
    await settle();
    aliceSettings.querySelector('.dismiss')!.dispatchEvent('tap');
    await waitFor(() => texts(bobList, '.preview').includes('群主已解散该群聊'), 'dismissed at bob');
    await waitFor(() => texts(bobChat, '.left-bar').length === 1, 'no input for bob');

    for (const page of [
      contacts,
      create,
      aliceChat,
      bobChat,
      carolChat,
      carolSettings,
      aliceSettings,
      bobList,
      carolList,
    ])
      page.detach();
    for (const spy of [navigateTo, redirectTo, switchTab, modal]) spy.mockRestore();
  }, 60_000);
});
