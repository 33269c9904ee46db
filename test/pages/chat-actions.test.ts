import type { ChatData } from '../../miniprogram/pages/chat/chat';
import type { Phone } from '../support/app';
import { waitFor } from '../support/app';
import { useServer } from '../support/fixture';
import { renderPage, settle, texts, type RenderedPage } from '../support/pages';

type ChatPage = RenderedPage<ChatData>;

/** Long-presses the bubble that says `text` and returns the menu it opens. */
async function longPress(page: ChatPage, text: string): Promise<string[]> {
  const index = texts(page, '.bubble').indexOf(text);
  if (index < 0) throw new Error(`no bubble says ${text}`);
  page.querySelectorAll('.bubble')[index].dispatchEvent('longpress');
  await settle();
  return texts(page, '.menu-item');
}

async function choose(page: ChatPage, label: string): Promise<void> {
  const index = texts(page, '.menu-item').indexOf(label);
  if (index < 0) throw new Error(`the menu has no ${label}`);
  page.querySelectorAll('.menu-item')[index].dispatchEvent('tap');
  await settle();
}

/** Waits until `phone` holds `count` stored messages in `conv`. */
async function holds(phone: Phone, conv: string, count: number): Promise<void> {
  await waitFor(
    () => phone.client.stores.messages.view(conv).items.filter((item) => item.seq > 0).length >= count,
    `${count} messages`,
  );
}

describe('message page: the long-press menu and what it does', () => {
  const fixture = useServer();
  afterEach(() => jest.restoreAllMocks());

  it("offers 撤回 on one's own fresh messages only, 复制 on texts only, and only 复制 while a send is pending", async () => {
    const { me, peer, conv } = await fixture.pair();
    peer.client.sendText(conv, '他的消息');
    await holds(me, conv, 1);
    me.client.sendText(conv, '我的消息');
    await holds(me, conv, 2);
    const page = renderPage<ChatData>('chat', me.client, { conv });
    await settle();
    expect(await longPress(page, '他的消息')).toEqual(['复制', '转发', '引用', '删除', '多选', '举报']);
    expect(await longPress(page, '我的消息')).toEqual(['复制', '转发', '引用', '撤回', '删除', '多选']);
    // Six actions wrap to a second row, as WeChat's menu does.
    expect(page.querySelector('.menu.two-rows')).toBeTruthy();
    me.client.stop();
    me.client.sendText(conv, '还没发出');
    await settle();
    expect(await longPress(page, '还没发出')).toEqual(['复制']);
    me.client.start();
    page.detach();
  });

  it('撤回: the bubble becomes the tip on both pages, 重新编辑 puts the text back for the recaller', async () => {
    const { me, peer, conv } = await fixture.pair();
    me.client.sendText(conv, '发错了');
    await holds(peer, conv, 1);
    const mine = renderPage<ChatData>('chat', me.client, { conv });
    const theirs = renderPage<ChatData>('chat', peer.client, { conv });
    await settle();
    await longPress(mine, '发错了');
    await choose(mine, '撤回');
    await waitFor(() => mine.data.messages.some((item) => item.kind === 'recalled'), 'the recall');
    await settle();
    expect(texts(mine, '.bubble')).toEqual([]);
    expect(texts(mine, '.tip')).toEqual(['你撤回了一条消息 重新编辑']);
    await waitFor(() => theirs.data.messages.some((item) => item.kind === 'recalled'), 'the peer page');
    await settle();
    expect(texts(theirs, '.bubble')).toEqual([]);
    expect(texts(theirs, '.tip')).toEqual([`"${me.client.stores.me.user!.nickname}"撤回了一条消息`]);
    expect(theirs.querySelector('.reedit')).toBeUndefined();

    mine.querySelector('.reedit')!.dispatchEvent('tap');
    await settle();
    expect(mine.data.draft).toBe('发错了');
    mine.detach();
    theirs.detach();
  });

  it("in a group the owner may recall anyone's message (群主撤回了一条成员消息); a member only their own", async () => {
    const owner = await fixture.phone();
    const bob = await fixture.phone();
    const carol = await fixture.phone();
    const conv = await owner.client.groups.create([bob.client.stores.me.user!, carol.client.stores.me.user!]);
    await waitFor(() => carol.client.stores.sessions.find(conv) !== undefined, 'carol to list the group');
    carol.client.sendText(conv, '卡罗尔的消息');
    await holds(owner, conv, 2);
    await holds(bob, conv, 2);
    const ownerPage = renderPage<ChatData>('chat', owner.client, { conv });
    const bobPage = renderPage<ChatData>('chat', bob.client, { conv });
    await waitFor(
      () => owner.client.stores.groups.details(conv)?.myRole === 'owner',
      'the owner page to know its role',
    );
    await waitFor(() => bob.client.stores.groups.details(conv)?.myRole === 'member', "bob's role");
    await settle();
    expect(await longPress(bobPage, '卡罗尔的消息')).not.toContain('撤回');
    expect(await longPress(ownerPage, '卡罗尔的消息')).toContain('撤回');
    await choose(ownerPage, '撤回');
    await waitFor(() => bobPage.data.messages.some((item) => item.kind === 'recalled'), 'the recall on bob’s page');
    await settle();
    expect(texts(bobPage, '.tip')).toContain('群主撤回了一条成员消息');
    expect(texts(ownerPage, '.tip')).toContain('你撤回了一条成员消息');
    ownerPage.detach();
    bobPage.detach();
  });

  it("撤回 refused (here: recalled first from the user's other device) says so plainly", async () => {
    const { me, peer, conv } = await fixture.pair();
    me.client.sendText(conv, '两台手机');
    await holds(peer, conv, 1);
    const tablet = await fixture.phone({ storage: new Map(me.adapter.storage) });
    await holds(tablet, conv, 1);
    const page = renderPage<ChatData>('chat', me.client, { conv });
    await settle();
    await longPress(page, '两台手机');
    me.client.stop();
    await tablet.client.recall(conv, 1);
    me.client.start();
    const modal = jest.spyOn(wx, 'showModal');
    await choose(page, '撤回');
    await waitFor(() => modal.mock.calls.length > 0, 'the dialog');
    expect(modal.mock.calls[0][0]).toMatchObject({
      content: '撤回失败：该消息已被撤回，或你没有撤回它的权限',
      showCancel: false,
    });
    // The other device's recall has arrived meanwhile.
    await waitFor(() => page.data.messages.some((item) => item.kind === 'recalled'), 'the recall from the tablet');
    page.detach();
  });

  it('引用: the quote shows under the input with ✕, goes with the message, and is drawn under its bubble', async () => {
    const { me, peer, conv } = await fixture.pair();
    peer.client.sendText(conv, '明天几点出发？');
    await holds(me, conv, 1);
    const page = renderPage<ChatData>('chat', me.client, { conv });
    await settle();
    const peerName = peer.client.stores.me.user!.nickname;
    await longPress(page, '明天几点出发？');
    await choose(page, '引用');
    expect(texts(page, '.quote-text')).toEqual([`${peerName}：明天几点出发？`]);
    // ✕ drops it; quoting again brings it back.
    page.querySelector('.quote-close')!.dispatchEvent('tap');
    await settle();
    expect(page.querySelector('.quote-bar')).toBeUndefined();
    await longPress(page, '明天几点出发？');
    await choose(page, '引用');
    page.querySelector('.input')!.dispatchEvent('input', { detail: { value: '八点' } });
    await settle();
    page.querySelector('.send')!.dispatchEvent('tap');
    await settle();
    expect(page.querySelector('.quote-bar')).toBeUndefined();
    expect(texts(page, '.row.mine .quote')).toEqual([`${peerName}：明天几点出发？`]);
    await holds(peer, conv, 2);
    const reply = peer.client.stores.messages.view(conv).items[1];
    expect(reply).toMatchObject({ body: '八点', reply: { seq: 1, excerpt: '明天几点出发？' } });

    // On the peer's page, under the reply; a tap goes to the quoted message.
    const theirs = renderPage<ChatData>('chat', peer.client, { conv });
    await settle();
    expect(texts(theirs, '.row.theirs .quote')).toEqual([`${peerName}：明天几点出发？`]);
    theirs.setData({ anchor: '' });
    theirs.querySelector('.quote')!.dispatchEvent('tap');
    await settle(60);
    expect(theirs.data.anchor).toBe('m0');
    page.detach();
    theirs.detach();
  });

  it('a tap on a quote older than what is held fetches back to it; once recalled, it says so', async () => {
    const { me, peer, conv } = await fixture.pair();
    peer.client.sendText(conv, '第一条');
    for (let i = 0; i < 40; i++) peer.client.sendText(conv, `消息${i}`);
    await holds(me, conv, 41);
    me.client.sendText(conv, '回复第一条', {
      reply: { seq: 1, from: peer.client.stores.me.id, kind: 'text', excerpt: '第一条' },
    });
    await holds(me, conv, 42);
    // A phone that holds only the newest page.
    me.stores.messages.clear();
    const page = renderPage<ChatData>('chat', me.client, { conv });
    await waitFor(() => me.client.stores.messages.view(conv).loaded, 'the newest page');
    await settle();
    expect(me.client.stores.messages.view(conv).items.some((item) => item.seq === 1)).toBe(false);
    page.querySelector('.quote')!.dispatchEvent('tap');
    await waitFor(() => page.data.messages[0]?.seq === 1, 'the pages back to the quoted message');
    await settle(60);
    expect(page.data.anchor).toBe('m0');
    expect(texts(page, '.bubble')[0]).toBe('第一条');

    await peer.client.recall(conv, 1);
    await waitFor(() => page.data.messages[0]?.kind === 'recalled', 'the recall');
    const toast = jest.spyOn(wx, 'showToast');
    page.querySelector('.quote')!.dispatchEvent('tap');
    await settle();
    expect(toast).toHaveBeenCalledWith(expect.objectContaining({ title: '引用内容已撤回' }));
    page.detach();
  });

  it('多选: tick several, 逐条转发 opens the picker with them in order, 删除 removes them here', async () => {
    const { me, peer, conv } = await fixture.pair();
    for (const text of ['一', '二', '三']) peer.client.sendText(conv, text);
    await holds(me, conv, 3);
    const page = renderPage<ChatData>('chat', me.client, { conv });
    await settle();
    await longPress(page, '三');
    await choose(page, '多选');
    expect(page.querySelectorAll('.check')).toHaveLength(3);
    expect(texts(page, '.select-count')).toEqual(['已选择1条']);
    expect(page.querySelector('.input-bar')).toBeUndefined();
    // Tick 一 (after 三): the picker gets them in the conversation's order.
    page.querySelectorAll('.row')[0].dispatchEvent('tap');
    await settle();
    expect(texts(page, '.select-count')).toEqual(['已选择2条']);
    const navigate = jest
      .spyOn(wx, 'navigateTo')
      .mockImplementation(() => Promise.resolve({ errMsg: 'navigateTo:ok' }));
    page.querySelector('.select-action')!.dispatchEvent('tap');
    await settle();
    const url = (navigate.mock.calls[0][0] as { url: string }).url;
    const query = new URLSearchParams(url.split('?')[1]);
    expect(url.startsWith('/pages/forward/forward?')).toBe(true);
    expect(query.get('conv')).toBe(conv);
    const items = me.client.stores.messages.view(conv).items;
    expect(JSON.parse(query.get('keys')!)).toEqual([items[0].key, items[2].key]);
    expect(page.data.selecting).toBe(false);

    // 多选 again, 删除 two after WeChat's question.
    await longPress(page, '一');
    await choose(page, '多选');
    page.querySelectorAll('.row')[1].dispatchEvent('tap');
    await settle();
    const sheet = jest
      .spyOn(wx, 'showActionSheet')
      .mockImplementation(() => Promise.resolve({ tapIndex: 0, errMsg: 'showActionSheet:ok' }));
    page.querySelectorAll('.select-action')[1].dispatchEvent('tap');
    await settle();
    expect(sheet.mock.calls[0][0]).toMatchObject({ alertText: '确定删除这2条消息？', itemList: ['删除'] });
    expect(texts(page, '.bubble')).toEqual(['三']);
    expect(page.data.selecting).toBe(false);
    page.detach();
  });
});

describe('message page: 举报 and refused sends (issue #19)', () => {
  const fixture = useServer();
  afterEach(() => jest.restoreAllMocks());

  it("举报 on someone else's message opens the report form for it; one's own has none", async () => {
    const { me, peer, conv } = await fixture.pair();
    peer.client.sendText(conv, '可疑链接');
    await holds(me, conv, 1);
    me.client.sendText(conv, '我自己的');
    await holds(me, conv, 2);
    const page = renderPage<ChatData>('chat', me.client, { conv });
    await settle();
    expect(await longPress(page, '我自己的')).not.toContain('举报');
    expect(await longPress(page, '可疑链接')).toContain('举报');
    const navigate = jest
      .spyOn(wx, 'navigateTo')
      .mockImplementation(() => Promise.resolve({ errMsg: 'navigateTo:ok' }));
    await choose(page, '举报');
    expect(navigate.mock.calls[0][0]).toMatchObject({ url: `/pages/report/report?conv=${conv}&seq=1` });
    page.detach();
  });

  it('a send the recipient refuses (blocked) and one the content check refuses: the red ! and a grey notice under each', async () => {
    const { me, peer, conv } = await fixture.pair();
    await peer.client.block(me.client.stores.me.user!);
    const cid = me.client.sendText(conv, '你好')!;
    const page = renderPage<ChatData>('chat', me.client, { conv });
    await waitFor(() => page.data.messages.some((item) => item.key === cid && item.status === 'failed'), 'the refusal');
    // A text the content check refused, as the send queue shows it (the check is off in tests).
    me.stores.messages.addPending({
      conv,
      cid: 'refused-1',
      from: me.client.stores.me.id,
      kind: 'text',
      body: '违规内容',
      ts: Date.now(),
    });
    me.stores.messages.setStatus(conv, 'refused-1', 'failed', '内容含有违规信息，发送失败');
    await settle();
    expect(texts(page, '.bubble')).toEqual(['你好', '违规内容']);
    expect(page.querySelectorAll('.state.failed')).toHaveLength(2);
    expect(texts(page, '.fail-notice')).toEqual(['消息已发出，但被对方拒收了', '内容含有违规信息，发送失败']);
    expect(peer.client.stores.messages.view(conv).items).toEqual([]);
    page.detach();
  });
});
