import type { ChatMessage, GroupSessionEntry, PublicUser } from '../../contract/frames';
import type { GroupMember } from '../../contract/http';
import type { IndexData } from '../../miniprogram/pages/index/index';
import { offlinePhone, waitFor, type Phone } from '../support/app';
import { useServer } from '../support/fixture';
import { renderPage, settle, texts } from '../support/pages';

const ME: PublicUser = { id: 'uMe000000001', nickname: '我', avatar: '' };
const userOf = (phone: Phone): PublicUser => phone.client.stores.me.user!;

/** Members u1…uN, every other one with an avatar. */
function members(count: number): GroupMember[] {
  return Array.from({ length: count }, (_, i) => ({
    id: i === 0 ? ME.id : `uMember${String(i).padStart(5, '0')}`,
    nickname: i === 0 ? ME.nickname : `成员${i}`,
    avatar: i % 2 === 1 ? `https://x/uploads/face${i}.jpg` : '',
    role: i === 0 ? ('owner' as const) : ('member' as const),
  }));
}

/** Each entry made is a minute older than the one before: the list keeps the order they are made in. */
let clock = Date.now();

/** A group's entry whose last message, from member 1, is `body`. */
function groupEntry(
  id: string,
  count: number,
  body: string,
  extra: Partial<GroupSessionEntry> & { avatar?: string } = {},
): GroupSessionEntry {
  const conv = `g:${id}`;
  const last: ChatMessage = {
    conv,
    seq: 5,
    cid: `c-${id}`,
    from: 'uMember00001',
    kind: 'text',
    body,
    ts: (clock -= 60_000),
  };
  const { avatar = '', ...rest } = extra;
  return {
    conv,
    group: { id, name: `群${id}`, avatar, memberCount: count },
    last,
    lastSeq: 5,
    readSeq: 3,
    unread: 2,
    mentioned: false,
    left: false,
    ...rest,
  };
}

/** A phone holding `entries`, with each group's members (as `GET /api/groups/:id` would give them). */
function phoneWith(groups: Array<{ entry: GroupSessionEntry; count: number }>): Phone {
  const phone = offlinePhone(ME);
  for (const { entry, count } of groups) {
    const group = { ...entry.group, conv: entry.conv, notice: '', owner: ME.id };
    phone.stores.people.remember(members(count).map(({ id, nickname, avatar }) => ({ id, nickname, avatar })));
    phone.stores.groups.set(entry.conv, group, members(count), ME.id);
  }
  phone.stores.sessions.replaceAll(groups.map(({ entry }) => entry));
  return phone;
}

describe('session list: group entries', () => {
  it('draws a group without its own avatar as a 2×2 or 3×3 grid of member faces, else its avatar', async () => {
    const { client } = phoneWith([
      { entry: groupEntry('nine', 12, '九宫格'), count: 12 },
      { entry: groupEntry('three', 3, '三个人'), count: 3 },
      { entry: groupEntry('five', 5, '五个人'), count: 5 },
      { entry: groupEntry('own', 4, '有头像', { avatar: 'https://x/uploads/group.jpg' }), count: 4 },
    ]);
    const page = renderPage<IndexData>('index', client);
    await settle();
    // Three grids (the fourth group has its own avatar): at most nine faces, 3×3 from five on.
    expect(page.querySelectorAll('.grid')).toHaveLength(3);
    expect(page.querySelectorAll('.grid-3')).toHaveLength(2);
    expect(page.querySelectorAll('.grid-2')).toHaveLength(1);
    expect(page.data.sessions.map((item) => item.faces.length)).toEqual([9, 3, 5, 0]);
    expect(page.querySelectorAll('.face')).toHaveLength(9 + 3 + 5);
    // Members without an avatar: the grey silhouette.
    expect(page.querySelectorAll('.face.blank')).toHaveLength(5 + 2 + 3);
    expect(page.data.sessions[3].avatar).toBe('https://x/uploads/group.jpg');
    expect(texts(page, '.name')).toEqual(['群nine', '群three', '群five', '群own']);
    page.detach();
  });

  it('shows `昵称: 内容`, a red [有人@我] while mentioned, and a muted group with a bell and a dot', async () => {
    const { client, stores } = phoneWith([
      { entry: groupEntry('at', 3, '@我 周末爬山吗', { mentioned: true }), count: 3 },
      { entry: groupEntry('quiet', 3, '有人吗'), count: 3 },
      { entry: groupEntry('gone', 3, '再见', { left: true, unread: 0, readSeq: 5 }), count: 3 },
    ]);
    stores.sessions.refreshGroups();
    const page = renderPage<IndexData>('index', client);
    await settle();
    expect(texts(page, '.mention')).toEqual(['[有人@我]']);
    expect(texts(page, '.preview')).toEqual(['[有人@我] 成员1: @我 周末爬山吗', '成员1: 有人吗', '成员1: 再见']);
    expect(texts(page, '.badge')).toEqual(['2', '2']);
    expect(page.querySelectorAll('.muted-icon')).toHaveLength(0);

    // Muted with a long press: no count, a dot on the avatar, [2条] and the bell; unmuted again the same way.
    const sheet = jest.spyOn(wx, 'showActionSheet');
    sheet.mockImplementationOnce(() => Promise.resolve({ tapIndex: 1, errMsg: 'showActionSheet:ok' }));
    page.querySelectorAll('.session')[1].dispatchEvent('longpress');
    await settle();
    expect(sheet).toHaveBeenLastCalledWith({ itemList: ['置顶该聊天', '消息免打扰', '删除该聊天'] });
    expect(stores.sessions.find('g:quiet')!.muted).toBe(true);
    expect(texts(page, '.badge')).toEqual(['2']);
    expect(page.querySelectorAll('.dot.muted-dot')).toHaveLength(1);
    expect(page.querySelectorAll('.muted-icon')).toHaveLength(1);
    expect(texts(page, '.preview')[1]).toBe('[2条] 成员1: 有人吗');

    sheet.mockImplementationOnce(() => Promise.resolve({ tapIndex: 1, errMsg: 'showActionSheet:ok' }));
    page.querySelectorAll('.session')[1].dispatchEvent('longpress');
    await settle();
    expect(sheet).toHaveBeenLastCalledWith({ itemList: ['置顶该聊天', '取消免打扰', '删除该聊天'] });
    expect(page.querySelectorAll('.muted-icon')).toHaveLength(0);
    // A group the user left stays listed.
    expect(texts(page, '.name')).toContain('群gone');
    sheet.mockRestore();
    page.detach();
  });
});

describe('session list: a group from the server', () => {
  const fixture = useServer();

  it('lists a new group with its member grid, `昵称: 内容` and [有人@我] until read (server mentions)', async () => {
    const owner = await fixture.phone();
    const me = await fixture.phone();
    const bob = await fixture.phone();
    const page = renderPage<IndexData>('index', me.client);
    const conv = await owner.client.groups.create([userOf(me), userOf(bob)]);
    await waitFor(() => me.client.stores.sessions.find(conv) !== undefined, 'the group in my list');
    // The list fetches the members of a group it shows: the grid has their three faces.
    await waitFor(async () => (await settle(), page.querySelectorAll('.face').length === 3), 'the grid');
    expect(texts(page, '.name')).toEqual([me.client.stores.sessions.find(conv)!.title]);

    owner.client.sendText(conv, '@我 周末爬山吗', { mentions: [userOf(me).id] });
    await waitFor(() => me.client.stores.sessions.find(conv)?.lastSeq === 2, 'the message');
    await settle();
    expect(texts(page, '.preview')).toEqual([`[有人@我] ${userOf(owner).nickname}: @我 周末爬山吗`]);
    expect(texts(page, '.badge')).toEqual(['1']);

    const navigateTo = jest
      .spyOn(wx, 'navigateTo')
      .mockImplementation(() => Promise.resolve({ errMsg: 'navigateTo:ok' }));
    page.querySelector('.session')!.dispatchEvent('tap');
    await settle();
    expect(navigateTo).toHaveBeenCalledWith({ url: `/pages/chat/chat?conv=${conv}` });
    expect(page.querySelectorAll('.mention')).toHaveLength(0);
    expect(page.querySelectorAll('.badge')).toHaveLength(0);
    navigateTo.mockRestore();
    page.detach();
  });
});
