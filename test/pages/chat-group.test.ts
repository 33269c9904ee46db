import type { ChatData } from '../../miniprogram/pages/chat/chat';
import type { MessageItem } from '../../miniprogram/stores/messages';
import { createTimeline } from '../../miniprogram/utils/timeline';
import type { Phone } from '../support/app';
import { waitFor } from '../support/app';
import { useServer } from '../support/fixture';
import { renderPage, settle, texts, type RenderedPage } from '../support/pages';

const nameOf = (phone: Phone): string => phone.client.stores.me.user!.nickname;
const idOf = (phone: Phone): string => phone.client.stores.me.id;

/** The page shown again or covered, as WeChat tells it (j-component has it; simulate's types do not). */
function pageLifetime(page: RenderedPage<ChatData>, name: 'show' | 'hide'): void {
  (page as unknown as { triggerPageLifeTime(lifetime: string): void }).triggerPageLifeTime(name);
}

describe('message page in a group', () => {
  const fixture = useServer();
  afterEach(() => jest.restoreAllMocks());

  /** The owner, two members and their group 周末爬山, listed by all three. */
  async function hikingGroup(): Promise<{ owner: Phone; bob: Phone; carol: Phone; conv: string }> {
    const owner = await fixture.phone();
    const bob = await fixture.phone();
    const carol = await fixture.phone();
    const conv = await owner.client.groups.create(
      [bob.client.stores.me.user!, carol.client.stores.me.user!],
      '周末爬山',
    );
    for (const member of [owner, bob, carol]) {
      await waitFor(() => member.client.stores.sessions.find(conv)?.lastSeq === 1, 'every member to list the group');
    }
    return { owner, bob, carol, conv };
  }

  /** Types `value` into the page's input as WeChat reports it (the cursor at the end). */
  async function type(page: RenderedPage<ChatData>, value: string): Promise<void> {
    page.querySelector('.input')!.dispatchEvent('input', { detail: { value, cursor: value.length } });
    await settle();
  }

  it("shows the group's name and member count, senders' names and faces above their bubbles, and system tips", async () => {
    const { owner, bob, carol, conv } = await hikingGroup();
    bob.client.sendText(conv, '大家好');
    await waitFor(() => carol.client.stores.sessions.find(conv)?.lastSeq === 2, 'carol to get it');
    const title = jest.spyOn(wx, 'setNavigationBarTitle');

    const page = renderPage<ChatData>('chat', carol.client, { conv });
    await waitFor(() => page.data.messages.length === 2, 'both messages');
    await waitFor(() => !!carol.client.stores.groups.details(conv), "the group's members");
    await settle();
    expect(title).toHaveBeenLastCalledWith(expect.objectContaining({ title: '周末爬山(3)' }));
    // The creation, from carol's side: a centred tip, no bubble, no avatar.
    expect(texts(page, '.tip')).toEqual([`"${nameOf(owner)}"邀请你和"${nameOf(bob)}"加入了群聊`]);
    expect(page.querySelectorAll('.row')).toHaveLength(1);
    // Bob's message: his name above the bubble, his initial for a face (he has no avatar).
    expect(texts(page, '.row.theirs .sender')).toEqual([nameOf(bob)]);
    expect(texts(page, '.row.theirs .sender-avatar')).toEqual([nameOf(bob).slice(0, 1)]);
    expect(texts(page, '.row.theirs .bubble')).toEqual(['大家好']);

    // Her own message: no name over it.
    await type(page, '我也在');
    page.querySelector('.send')!.dispatchEvent('tap');
    await settle();
    expect(texts(page, '.row.mine .bubble')).toEqual(['我也在']);
    expect(page.querySelectorAll('.row.mine .sender')).toHaveLength(0);
    expect(page.querySelectorAll('.group-bar')).toHaveLength(1);

    // ··· opens the group's settings.
    const navigateTo = jest
      .spyOn(wx, 'navigateTo')
      .mockImplementation(() => Promise.resolve({ errMsg: 'navigateTo:ok' }));
    page.querySelector('.group-more')!.dispatchEvent('tap');
    await settle();
    expect(navigateTo).toHaveBeenCalledWith({ url: `/pages/group-settings/group-settings?conv=${conv}` });
    page.detach();
  });

  it('a renamed group: the tip with both names, and the new name in the title', async () => {
    const { owner, bob, conv } = await hikingGroup();
    const title = jest.spyOn(wx, 'setNavigationBarTitle');
    const page = renderPage<ChatData>('chat', bob.client, { conv });
    await waitFor(() => !!bob.client.stores.groups.details(conv), "the group's members");
    await owner.client.groups.update(conv, { name: '周日爬山' });
    await waitFor(() => page.data.messages.length === 2, 'the rename tip');
    await waitFor(() => page.data.title === '周日爬山(3)', 'the new title');
    await settle();
    expect(texts(page, '.tip')[1]).toBe(`"${nameOf(owner)}"将"周末爬山"改名为"周日爬山"`);
    expect(title).toHaveBeenLastCalledWith(expect.objectContaining({ title: '周日爬山(3)' }));
    page.detach();
  });

  it('a dm is drawn as before: no names, no tips, no ···', async () => {
    const { me, peer, conv } = await fixture.pair();
    peer.client.sendText(conv, '在吗');
    const page = renderPage<ChatData>('chat', me.client, { conv });
    await waitFor(() => page.data.messages.length === 1, 'the message');
    await settle();
    expect(page.querySelectorAll('.sender')).toHaveLength(0);
    expect(page.querySelectorAll('.group-bar')).toHaveLength(0);
    expect(page.querySelectorAll('.receipt')).toHaveLength(0);
    expect(page.data.messages[0]).toMatchObject({ senderName: '', tip: '', receiptLabel: '' });
    page.detach();
  });

  it('typing @ opens the member picker (所有人 first for the owner); a choice is inserted and sent as a mention', async () => {
    const { owner, bob, carol, conv } = await hikingGroup();
    const page = renderPage<ChatData>('chat', owner.client, { conv });
    await waitFor(() => !!owner.client.stores.groups.details(conv), "the group's members");
    await settle();
    const send = jest.spyOn(owner.client, 'sendText');

    await type(page, '@');
    expect(page.data.showPicker).toBe(true);
    // Everyone but the user, in the group's order (longest-standing first).
    const others = (phone: Phone) =>
      phone.client.stores.groups
        .details(conv)!
        .members.filter((member) => member.id !== idOf(phone))
        .map((member) => member.nickname);
    expect(others(owner).sort()).toEqual([nameOf(bob), nameOf(carol)].sort());
    expect(texts(page, '.picker-name')).toEqual(['所有人', ...others(owner)]);
    // A search narrows the list.
    page.querySelector('.picker-search')!.dispatchEvent('input', { detail: { value: nameOf(carol) } });
    await settle();
    expect(texts(page, '.picker-name')).toEqual([nameOf(carol)]);
    page.querySelector('.picker-item')!.dispatchEvent('tap');
    await settle();
    expect(page.data.showPicker).toBe(false);
    expect(page.data.draft).toBe(`@${nameOf(carol)} `);

    await type(page, `@${nameOf(carol)} 周六来吗`);
    page.querySelector('.send')!.dispatchEvent('tap');
    await settle();
    expect(send).toHaveBeenCalledWith(
      conv,
      `@${nameOf(carol)} 周六来吗`,
      expect.objectContaining({ mentions: [idOf(carol)] }),
    );
    await waitFor(
      () => carol.client.stores.messages.view(conv).items.some((item) => item.body.endsWith('周六来吗')),
      'carol to get it',
    );
    expect(page.data.draft).toBe('');

    // A mention deleted from the text before sending is not sent; cancelling the picker keeps the @.
    await type(page, '@');
    page.querySelectorAll('.picker-item')[others(owner).indexOf(nameOf(bob)) + 1].dispatchEvent('tap');
    await settle();
    expect(page.data.draft).toBe(`@${nameOf(bob)} `);
    await type(page, '算了');
    await type(page, '算了@');
    expect(page.data.showPicker).toBe(true);
    page.querySelector('.picker-mask')!.dispatchEvent('tap');
    await settle();
    expect(page.data.showPicker).toBe(false);
    page.querySelector('.send')!.dispatchEvent('tap');
    await settle();
    expect(send).toHaveBeenLastCalledWith(conv, '算了@', undefined);

    // @所有人 (owner and admins).
    await type(page, '@');
    page.querySelector('.picker-item.everyone')!.dispatchEvent('tap');
    await settle();
    await type(page, '@所有人 集合');
    page.querySelector('.send')!.dispatchEvent('tap');
    await settle();
    expect(send).toHaveBeenLastCalledWith(conv, '@所有人 集合', ['all']);
    page.detach();
  });

  it('a member sees no 所有人 in the picker, and the mentioned member sees the mention (needs the server to store mentions)', async () => {
    const { owner, bob, carol, conv } = await hikingGroup();
    const page = renderPage<ChatData>('chat', bob.client, { conv });
    await waitFor(() => !!bob.client.stores.groups.details(conv), "the group's members");
    await settle();
    await type(page, '@');
    const names = bob.client.stores.groups
      .details(conv)!
      .members.filter((member) => member.id !== idOf(bob))
      .map((member) => member.nickname);
    expect([...names].sort()).toEqual([nameOf(owner), nameOf(carol)].sort());
    expect(texts(page, '.picker-name')).toEqual(names);
    page.querySelectorAll('.picker-item')[names.indexOf(nameOf(carol))].dispatchEvent('tap');
    await settle();
    await type(page, `@${nameOf(carol)} 带水`);
    page.querySelector('.send')!.dispatchEvent('tap');
    await settle();

    // Carol's side: the message names her, her list says [有人@我] until she reads it.
    await waitFor(() => carol.client.stores.sessions.find(conv)?.lastSeq === 2, 'carol to get it');
    const received = carol.client.stores.messages.view(conv).items.find((item) => item.seq === 2);
    expect(received?.mentions).toEqual([idOf(carol)]);
    expect(carol.client.stores.sessions.find(conv)?.mentioned).toBe(true);
    const carolPage = renderPage<ChatData>('chat', carol.client, { conv });
    await waitFor(() => carolPage.data.messages.length === 2, 'the message on her page');
    expect(carolPage.data.messages[1].mentionsMe).toBe(true);
    carolPage.detach();
    page.detach();
  });

  it('under the own last message: N人未读, then 全部已读 as members read; a tap opens who read it', async () => {
    const { owner, bob, carol, conv } = await hikingGroup();
    const page = renderPage<ChatData>('chat', owner.client, { conv });
    await settle();
    owner.client.sendText(conv, '周六早上八点出发');
    await waitFor(() => texts(page, '.receipt').length === 1, 'the receipt line');
    expect(texts(page, '.receipt')).toEqual(['2人未读']);
    expect(page.data.messages.findIndex((item) => item.receiptLabel)).toBe(page.data.messages.length - 1);

    // Bob reads; the line follows on the next ask (the page shown again here, or the 10 s poll).
    bob.client.openConversation(conv);
    await waitFor(async () => (await owner.client.groups.receipts(conv, 2)).read.length === 1, 'bob to read it');
    pageLifetime(page, 'show');
    await waitFor(() => texts(page, '.receipt')[0] === '1人未读', 'one unread');

    const navigateTo = jest
      .spyOn(wx, 'navigateTo')
      .mockImplementation(() => Promise.resolve({ errMsg: 'navigateTo:ok' }));
    page.querySelector('.receipt')!.dispatchEvent('tap');
    await settle();
    expect(navigateTo).toHaveBeenCalledWith({ url: `/pages/receipts/receipts?conv=${conv}&seq=2` });

    carol.client.openConversation(conv);
    await waitFor(async () => (await owner.client.groups.receipts(conv, 2)).unread.length === 0, 'carol to read it');
    pageLifetime(page, 'show');
    await waitFor(() => texts(page, '.receipt')[0] === '全部已读', 'all read');

    // A new message (bob and carol have left the conversation): the line moves under it and counts again.
    bob.client.closeConversation(conv);
    carol.client.closeConversation(conv);
    owner.client.sendText(conv, '别迟到');
    await waitFor(() => texts(page, '.receipt')[0] === '2人未读', 'the line under the new message');
    expect(page.querySelectorAll('.receipt')).toHaveLength(1);
    expect(page.data.messages.findIndex((item) => item.receiptLabel)).toBe(page.data.messages.length - 1);
    page.detach();
  });

  it('asks for receipts only while the page shows, and no more once everyone has read', async () => {
    const { owner, bob, carol, conv } = await hikingGroup();
    const page = renderPage<ChatData>('chat', owner.client, { conv });
    owner.client.sendText(conv, 'hi');
    await waitFor(() => texts(page, '.receipt')[0] === '2人未读', 'the receipt line');
    const asked = jest.spyOn(owner.client.groups, 'receipts');
    const clear = jest.spyOn(globalThis, 'clearInterval');
    pageLifetime(page, 'hide');
    expect(clear).toHaveBeenCalledTimes(1);
    pageLifetime(page, 'show');
    expect(asked).toHaveBeenCalledTimes(1);

    bob.client.openConversation(conv);
    carol.client.openConversation(conv);
    await waitFor(async () => (await owner.client.groups.receipts(conv, 2)).unread.length === 0, 'both to read');
    await waitFor(() => texts(page, '.receipt')[0] === '全部已读', 'all read');
    asked.mockClear();
    pageLifetime(page, 'show');
    expect(asked).not.toHaveBeenCalled();

    clear.mockClear();
    page.detach();
    expect(clear).toHaveBeenCalledTimes(1);
  });

  it('a member who was removed: the tip, the title without a count, and 你已不在群聊中 instead of the input', async () => {
    const { owner, carol, conv } = await hikingGroup();
    const title = jest.spyOn(wx, 'setNavigationBarTitle');
    const page = renderPage<ChatData>('chat', carol.client, { conv });
    await waitFor(() => !!carol.client.stores.groups.details(conv), "the group's members");
    await settle();
    expect(page.querySelectorAll('.input')).toHaveLength(1);
    expect(page.querySelectorAll('.left-bar')).toHaveLength(0);

    await owner.client.groups.remove(conv, idOf(carol));
    await waitFor(() => carol.client.stores.sessions.find(conv)?.left === true, 'carol to be out');
    await waitFor(() => page.data.left, 'the page to know');
    await settle();
    expect(texts(page, '.left-bar')).toEqual(['你已不在群聊中']);
    expect(page.querySelectorAll('.input')).toHaveLength(0);
    expect(page.querySelectorAll('.send')).toHaveLength(0);
    expect(texts(page, '.tip').at(-1)).toBe('你被移出了群聊');
    expect(title).toHaveBeenLastCalledWith(expect.objectContaining({ title: '周末爬山' }));
    page.detach();
  });
});

describe('the group timeline (pure)', () => {
  const me = 'me';
  const base = { conv: 'g:x', cid: '', kind: 'text' as const, status: 'sent' as const, ts: 0 };
  const item = (seq: number, from: string, body: string, extra: Partial<MessageItem> = {}): MessageItem => ({
    ...base,
    seq,
    key: `k${seq}`,
    from,
    body,
    mine: from === me,
    ...extra,
  });
  const members: Record<string, { nickname: string; avatar: string }> = {
    li: { nickname: '李想', avatar: '' },
    zhang: { nickname: '张三', avatar: 'http://x/a.jpg' },
  };
  const context = (receipt?: { seq: number; read: number; unread: number }) => ({
    peerReadSeq: 0,
    group: { meId: me, senderOf: (id: string) => members[id], receipt },
  });

  it('names senders, writes tips, marks mentions of the user, and puts the receipt under the last own message only', () => {
    const timeline = createTimeline(() => 0);
    const items = [
      item(1, 'zhang', JSON.stringify({ event: 'joined', users: ['li', me] }), { kind: 'system' }),
      item(2, 'zhang', '@李想 来吗', { mentions: [me] }),
      item(3, me, '来'),
      item(4, 'li', '@所有人 八点', { mentions: ['all'] }),
      item(5, me, '好'),
    ];
    const shown = timeline(items, context({ seq: 5, read: 1, unread: 1 }));
    expect(shown.map((m) => m.tip)).toEqual(['"张三"邀请你和"李想"加入了群聊', '', '', '', '']);
    expect(shown.map((m) => m.senderName)).toEqual(['', '张三', '', '李想', '']);
    expect(shown.map((m) => m.senderAvatar)).toEqual(['', 'http://x/a.jpg', '', '', '']);
    expect(shown.map((m) => m.mentionsMe)).toEqual([false, true, false, true, false]);
    expect(shown.map((m) => m.receiptLabel)).toEqual(['', '', '', '', '1人未读']);
    // A count for an older message is not shown under the newer one; the unchanged items keep their identity.
    const again = timeline(items, context({ seq: 3, read: 2, unread: 0 }));
    expect(again.map((m) => m.receiptLabel)).toEqual(['', '', '', '', '']);
    expect(again[1]).toBe(shown[1]);
    expect(timeline(items, context({ seq: 5, read: 2, unread: 0 }))[4].receiptLabel).toBe('全部已读');
  });
});
