import type { ChatMessage, PublicUser } from '../../contract/frames';
import type { ForwardData } from '../../miniprogram/pages/forward/forward';
import type { MessageItem } from '../../miniprogram/stores/messages';
import { offlinePhone, waitFor, type Phone } from '../support/app';
import { useServer } from '../support/fixture';
import { renderPage, settle, texts, type RenderedPage } from '../support/pages';

type ModalAnswer = WechatMiniprogram.ShowModalSuccessCallbackResult;
const answer = (confirm: boolean): Promise<ModalAnswer> =>
  Promise.resolve({ confirm, cancel: !confirm, content: '', errMsg: 'showModal:ok' });
const ok = (api: string) => Promise.resolve({ errMsg: `${api}:ok` });

const userOf = (phone: Phone): PublicUser => phone.client.stores.me.user!;
const itemsOf = (phone: Phone, conv: string): MessageItem[] => phone.client.stores.messages.view(conv).items;

/** The stored messages of a conversation as [from, kind, body], without system tips. */
function said(phone: Phone, conv: string): Array<[string, string, string]> {
  return itemsOf(phone, conv)
    .filter((item) => item.seq > 0 && item.kind !== 'system')
    .map((item) => [item.from, item.kind, item.body]);
}

/** The picker as the message page opens it: the source conversation and the picked messages' keys. */
function picker(phone: Phone, conv: string, keys: string[]): RenderedPage<ForwardData> {
  return renderPage<ForwardData>('forward', phone.client, {
    conv,
    keys: encodeURIComponent(JSON.stringify(keys)),
  });
}

/** Taps the row of a conversation. */
async function tapRow(page: RenderedPage<ForwardData>, conv: string): Promise<void> {
  const index = page.data.rows.findIndex((row) => row.conv === conv);
  expect(index).toBeGreaterThanOrEqual(0);
  page.querySelectorAll('.row')[index].dispatchEvent('tap');
  await settle();
}

/** wx's modal, toast and navigateBack, watched (the modal answers `confirm`). */
function watchWx(confirm = true) {
  const modal = jest.spyOn(wx, 'showModal').mockImplementation(() => answer(confirm));
  const toast = jest.spyOn(wx, 'showToast').mockImplementation(() => ok('showToast'));
  const back = jest.spyOn(wx, 'navigateBack').mockImplementation(() => ok('navigateBack'));
  return {
    modal,
    toast,
    back,
    restore() {
      modal.mockRestore();
      toast.mockRestore();
      back.mockRestore();
    },
  };
}

describe('转发: the conversation picker, against the real server', () => {
  const fixture = useServer();

  /**
   * me with bob (the source: a text each way and an image), carol (a dm), a group 周末爬山 with
   * carol and dave, and a group me has left; the dm with bob pinned.
   */
  async function world() {
    const me = await fixture.phone();
    const bob = await fixture.phone();
    const carol = await fixture.phone();
    const dave = await fixture.phone();
    const source = me.client.conversationWith(userOf(bob));
    const bobSide = bob.client.conversationWith(userOf(me));
    me.client.sendText(source, '周六三点，断桥见');
    await waitFor(() => itemsOf(bob, bobSide).length === 1, 'the first text at bob');
    bob.client.sendText(bobSide, '好的');
    await waitFor(() => said(me, source).length === 2, 'the answer');
    const left = await me.client.groups.create([userOf(dave)], '旧群');
    await me.client.groups.leave(left);
    const dm = me.client.conversationWith(userOf(carol));
    me.client.sendText(dm, '在吗');
    const group = await me.client.groups.create([userOf(carol), userOf(dave)], '周末爬山');
    await waitFor(() => itemsOf(me, dm)[0]?.seq === 1 && me.client.stores.sessions.find(group) !== undefined, 'acks');
    await me.client.pin(source, true);
    const keys = itemsOf(me, source).map((item) => item.key);
    return { me, bob, carol, dave, source, dm, group, left, keys };
  }

  it('lists the chats as the session list orders them (pinned first), without groups left; search filters', async () => {
    const { me, source, dm, group, left, keys } = await world();
    const page = picker(me, source, keys);
    await settle();
    const order = me.client.stores.sessions.list.map((item) => item.conv);
    expect(order).toContain(left);
    expect(page.data.rows.map((row) => row.conv)).toEqual(order.filter((conv) => conv !== left));
    expect(page.data.rows.map((row) => row.conv)).toEqual([source, group, dm]);
    expect(texts(page, '.section')).toEqual(['最近聊天']);
    expect(texts(page, '.title')).toEqual(page.data.rows.map((row) => row.title));
    expect(texts(page, '.title')[1]).toBe('周末爬山');
    // Single mode: no check circles, no bottom bar; 多选 at the top.
    expect(page.querySelectorAll('.check')).toHaveLength(0);
    expect(page.querySelectorAll('.bar')).toHaveLength(0);
    expect(texts(page, '.mode')).toEqual(['多选']);

    page.querySelector('.search-input')!.dispatchEvent('input', { detail: { value: '爬山' } });
    await settle();
    expect(page.data.rows.map((row) => row.conv)).toEqual([group]);
    page.querySelector('.search-input')!.dispatchEvent('input', { detail: { value: '没有这个人' } });
    await settle();
    expect(page.querySelectorAll('.row')).toHaveLength(0);
    expect(texts(page, '.empty')).toEqual(['没有找到聊天']);
    page.querySelector('.search-input')!.dispatchEvent('input', { detail: { value: '' } });
    await settle();
    expect(page.data.rows).toHaveLength(3);

    // A chat that moves up while the page is open moves up here too.
    me.client.sendText(dm, '新消息');
    await waitFor(() => page.data.rows[1]?.conv === dm, 'the chat to move up');
    expect(page.data.rows.map((row) => row.conv)).toEqual([source, dm, group]);
    page.detach();
  });

  it('single pick: asks 发送给 with a preview, then sends each message anew and goes back', async () => {
    const { me, carol, source, dm, keys } = await world();
    const myId = me.client.stores.me.id;
    const calls = watchWx(false);
    const page = picker(me, source, keys);
    await settle();

    // Cancelled: nothing sent, the page stays.
    await tapRow(page, dm);
    expect(calls.modal).toHaveBeenCalledWith(
      expect.objectContaining({
        title: `发送给：${userOf(carol).nickname}`,
        content: '[逐条转发] 共2条消息',
        confirmText: '发送',
      }),
    );
    expect(calls.back).not.toHaveBeenCalled();
    expect(itemsOf(me, dm)).toHaveLength(1);

    calls.modal.mockImplementation(() => answer(true));
    await tapRow(page, dm);
    await waitFor(() => calls.back.mock.calls.length === 1, 'the way back');
    expect(calls.toast).toHaveBeenCalledWith(expect.objectContaining({ title: '已发送' }));
    const bobId = itemsOf(me, source)[1].from;
    await waitFor(() => said(carol, dm).length === 3, 'the forwards at carol');
    // Both messages, in order, now from me (bob's text too).
    expect(said(carol, dm)).toEqual([
      [myId, 'text', '在吗'],
      [myId, 'text', '周六三点，断桥见'],
      [myId, 'text', '好的'],
    ]);
    expect(bobId).not.toBe(myId);
    page.detach();

    // One message: its own text as the preview.
    const one = picker(me, source, [keys[1]]);
    await settle();
    await tapRow(one, dm);
    expect(calls.modal).toHaveBeenLastCalledWith(expect.objectContaining({ content: '好的' }));
    one.detach();
    calls.restore();
  });

  it('多选: check circles, 完成(N), then one confirmation for all', async () => {
    const { me, carol, dave, source, dm, group, keys } = await world();
    const myId = me.client.stores.me.id;
    const calls = watchWx();
    const page = picker(me, source, [keys[0]]);
    await settle();

    page.querySelector('.mode')!.dispatchEvent('tap');
    await settle();
    expect(texts(page, '.mode')).toEqual(['单选']);
    expect(page.querySelectorAll('.check')).toHaveLength(3);
    expect(texts(page, '.done')).toEqual(['完成']);
    // A tap ticks instead of sending; a second tap unticks.
    await tapRow(page, group);
    await tapRow(page, source);
    await tapRow(page, dm);
    await tapRow(page, source);
    expect(calls.modal).not.toHaveBeenCalled();
    expect(page.querySelectorAll('.check.on')).toHaveLength(2);
    expect(texts(page, '.done')).toEqual(['完成(2)']);
    expect(page.data.picked.map((row) => row.conv)).toEqual([group, dm]);

    page.querySelector('.done')!.dispatchEvent('tap');
    await waitFor(() => calls.back.mock.calls.length === 1, 'the way back');
    expect(calls.modal).toHaveBeenCalledWith(
      expect.objectContaining({ title: `发送给：周末爬山、${userOf(carol).nickname}`, content: '周六三点，断桥见' }),
    );
    await waitFor(() => said(dave, group).length === 1, 'the forward in the group');
    expect(said(dave, group)).toEqual([[myId, 'text', '周六三点，断桥见']]);
    await waitFor(() => said(carol, dm).length === 2, 'the forward in the dm');
    expect(said(carol, dm)[1]).toEqual([myId, 'text', '周六三点，断桥见']);
    page.detach();
    calls.restore();
  });
});

describe('转发: what cannot be forwarded, and the nine-chat limit', () => {
  const ME: PublicUser = { id: 'uMe000000001', nickname: '我', avatar: '' };
  const peers: PublicUser[] = Array.from({ length: 10 }, (_, i) => ({
    id: `uPeer${String(i).padStart(7, '0')}`,
    nickname: `朋友${i}`,
    avatar: '',
  }));
  const convOf = (peer: PublicUser) => `dm:${ME.id}:${peer.id}`;
  const source = convOf(peers[0]);
  const URL = 'http://127.0.0.1:9/uploads/photo.png';

  /** An offline phone holding ten chats and, in the first, one message of every sort. */
  function phone(): Phone {
    const p = offlinePhone(ME);
    let ts = Date.now();
    const message = (seq: number, kind: ChatMessage['kind'], body: string, from = peers[0].id): ChatMessage => ({
      conv: source,
      seq,
      cid: `c${seq}`,
      from,
      kind,
      body,
      ts: ts++,
    });
    const messages = [
      message(1, 'text', '第一条'),
      message(2, 'system', JSON.stringify({ event: 'recalled', seq: 3 })),
      message(3, 'recalled', ''),
      message(4, 'text', '删掉的', ME.id),
      message(5, 'image', URL),
    ];
    p.stores.messages.addHistory(source, messages, false, ME.id, false);
    p.stores.messages.deleteLocally(source, ['c4']);
    // An image still uploading: its bubble shows the phone's own file.
    p.stores.messages.addPending({ conv: source, cid: 'up', from: ME.id, kind: 'image', body: '/tmp/a.png', ts: ts++ });
    p.stores.sessions.replaceAll(
      peers.map((peer, i) => ({
        conv: convOf(peer),
        peer,
        last: { conv: convOf(peer), seq: 1, cid: `l${i}`, from: peer.id, kind: 'text', body: '你好', ts: ts - i },
        lastSeq: 1,
        readSeq: 1,
        peerReadSeq: 0,
        unread: 0,
      })),
    );
    return p;
  }

  it('leaves out system tips, recalled, deleted and uploading messages; forwards the rest', async () => {
    const p = phone();
    const calls = watchWx();
    const page = picker(p, source, ['c1', 'c2', 'c3', 'c4', 'c5', 'up']);
    await settle();
    const target = convOf(peers[3]);
    await tapRow(page, target);
    expect(calls.modal).toHaveBeenCalledWith(
      expect.objectContaining({ title: '发送给：朋友3', content: '[逐条转发] 共2条消息' }),
    );
    expect(calls.back).toHaveBeenCalledTimes(1);
    // Queued in the outbox (this phone never connects), shown as sending.
    expect(itemsOf(p, target).map((item) => [item.kind, item.body, item.status])).toEqual([
      ['text', '第一条', 'sending'],
      ['image', URL, 'sending'],
    ]);
    page.detach();
    calls.restore();
    p.client.stop();
  });

  it('opens one confirmation at a time: a second tap while it is open sends nothing twice', async () => {
    const p = phone();
    const calls = watchWx();
    let decide: (confirm: boolean) => void = () => undefined;
    calls.modal.mockImplementation(() => new Promise<ModalAnswer>((resolve) => (decide = (c) => resolve(answer(c)))));
    const page = picker(p, source, ['c1']);
    await settle();
    const target = convOf(peers[2]);
    await tapRow(page, target);
    await tapRow(page, target);
    expect(calls.modal).toHaveBeenCalledTimes(1);
    decide(true);
    await waitFor(() => calls.back.mock.calls.length === 1, 'the way back');
    expect(itemsOf(p, target).map((item) => item.body)).toEqual(['第一条']);
    page.detach();
    calls.restore();
    p.client.stop();
  });

  it('says so and goes back when none of the messages can be forwarded', async () => {
    const p = phone();
    const calls = watchWx();
    const page = picker(p, source, ['c2', 'c3', 'c4', 'up']);
    await settle();
    expect(calls.toast).toHaveBeenCalledWith({ title: '所选消息不支持转发', icon: 'none' });
    expect(calls.back).toHaveBeenCalledTimes(1);
    expect(calls.modal).not.toHaveBeenCalled();
    page.detach();
    calls.restore();
    p.client.stop();
  });

  it('ticks at most nine chats', async () => {
    const p = phone();
    const calls = watchWx();
    const page = picker(p, source, ['c1']);
    await settle();
    page.querySelector('.mode')!.dispatchEvent('tap');
    await settle();
    for (const peer of peers) await tapRow(page, convOf(peer));
    expect(texts(page, '.done')).toEqual(['完成(9)']);
    expect(page.querySelectorAll('.check.on')).toHaveLength(9);
    expect(calls.toast).toHaveBeenCalledWith({ title: '最多只能选择9个聊天', icon: 'none' });
    // A face in the bar unticks its chat.
    page.querySelectorAll('.small')[0].dispatchEvent('tap');
    await settle();
    expect(texts(page, '.done')).toEqual(['完成(8)']);
    page.detach();
    calls.restore();
    p.client.stop();
  });
});
