import type { ChatData } from '../../miniprogram/pages/chat/chat';
import type { ProfileData } from '../../miniprogram/pages/profile/profile';
import { waitFor, type Phone } from '../support/app';
import { useServer } from '../support/fixture';
import { renderPage, settle, texts, type RenderedPage } from '../support/pages';
import { TEMPLATE_ID, useRemindersServer } from '../support/reminders-server';
import { tapNow } from '../support/wx-subscribe';

/** A tap on `selector`, as WeChat runs it: the handler's calls count as from a tap. */
function tap(phone: Phone, page: RenderedPage<unknown>, selector: string): void {
  tapNow(phone.adapter.subscribe, page.querySelector(selector));
}

async function remindersKnown(phone: Phone): Promise<void> {
  await waitFor(() => phone.client.stores.reminders.enabled, 'the reminders state');
}

describe('新消息提醒 on the profile page', () => {
  const fixture = useRemindersServer();
  afterEach(() => jest.restoreAllMocks());

  it('says in plain words whether reminders are on; a tap asks WeChat, and the switch follows', async () => {
    const me = await fixture.phone();
    await remindersKnown(me);
    const page = renderPage<ProfileData>('profile', me.client);
    await settle();
    expect(texts(page, '.reminders-title')).toEqual(['新消息提醒']);
    expect(texts(page, '.reminders-label')).toEqual(['未开启']);
    expect(page.data.remindersOn).toBe(false);

    tap(me, page, '.reminders');
    expect(me.adapter.subscribe.calls).toMatchObject([{ tmplIds: [TEMPLATE_ID], fromTap: true, prompted: true }]);
    await waitFor(() => page.data.remindersOn, 'the switch on');
    await settle();
    expect(texts(page, '.reminders-label')).toEqual(['还可以收到1次提醒']);
    tap(me, page, '.reminders');
    await waitFor(() => page.data.remindersLabel === '还可以收到2次提醒', 'two');

    // All spent (the server sent them while the app was closed): it says so, and a tap renews.
    me.stores.reminders.setCredits(0);
    await settle();
    expect(texts(page, '.reminders-label')).toEqual(['已开启，提醒次数已用完，点击续订']);
    expect(page.data.remindersOn).toBe(false);
    tap(me, page, '.reminders');
    await waitFor(() => page.data.remindersOn, 'renewed');
    page.detach();
  });

  it("after a reject with 总是保持以上选择 it asks no more: a tap offers WeChat's settings", async () => {
    const me = await fixture.phone();
    await remindersKnown(me);
    const prompt = me.adapter.subscribe;
    prompt.always = true;
    prompt.answer = 'reject';
    const modal = jest
      .spyOn(wx, 'showModal')
      .mockImplementation(() => Promise.resolve({ confirm: true, cancel: false, errMsg: 'showModal:ok', content: '' }));
    const settings = jest
      .spyOn(wx, 'openSetting')
      .mockImplementation(() =>
        Promise.resolve({ authSetting: {}, subscriptionsSetting: { mainSwitch: true }, errMsg: 'openSetting:ok' }),
      );
    const page = renderPage<ProfileData>('profile', me.client);
    await settle();
    tap(me, page, '.reminders');
    await waitFor(() => page.data.remindersLabel === '已拒绝，可在设置中开启', 'the kept reject');
    expect(modal).not.toHaveBeenCalled();

    tap(me, page, '.reminders');
    await waitFor(() => settings.mock.calls.length === 1, 'the settings');
    expect(modal.mock.calls[0][0]).toMatchObject({ title: '新消息提醒', confirmText: '去设置' });
    expect(settings.mock.calls[0][0]).toMatchObject({ withSubscriptions: true });
    expect(prompt.calls).toHaveLength(1);
    page.detach();
  });
});

describe('新消息提醒 hidden when the server sends none', () => {
  const fixture = useServer();

  it('shows no cell', async () => {
    const me = await fixture.phone();
    await me.client.reminders.refresh();
    const page = renderPage<ProfileData>('profile', me.client);
    await settle();
    expect(page.querySelector('.reminders')).toBeUndefined();
    page.detach();
  });
});

describe('对方离线时，开启新消息提醒 in a conversation', () => {
  const fixture = useRemindersServer({ each: true });

  async function send(phone: Phone, page: RenderedPage<ChatData>, text: string): Promise<void> {
    page.querySelector('.input')!.dispatchEvent('input', { detail: { value: text } });
    await settle();
    tap(phone, page, '.send');
    await settle();
  }

  it('shows after the user sent to a peer who is offline; a tap asks, and once accepted it goes', async () => {
    const { me, peer, conv } = await fixture.pair();
    await remindersKnown(me);
    peer.client.sendText(conv, '在吗');
    await waitFor(() => me.client.stores.sessions.find(conv)?.lastSeq === 1, 'the message');
    // The directory says who of the user's peers is online.
    await me.client.directory();
    expect(me.client.stores.people.isOnline(peer.client.stores.me.id)).toBe(true);

    const page = renderPage<ChatData>('chat', me.client, { conv });
    await settle();
    expect(page.querySelector('.reminder-bar')).toBeUndefined();
    await send(me, page, '在的');
    // Sent, but the peer is online: nothing to offer.
    expect(page.querySelector('.reminder-bar')).toBeUndefined();

    peer.client.stop();
    await waitFor(() => page.data.reminderBar, 'the bar');
    await settle();
    expect(texts(page, '.reminder-ask')).toEqual(['对方离线时，开启新消息提醒']);

    tap(me, page, '.reminder-ask');
    expect(me.adapter.subscribe.calls).toMatchObject([{ tmplIds: [TEMPLATE_ID], fromTap: true, prompted: true }]);
    await waitFor(() => !page.data.reminderBar, 'the bar to go');
    expect(me.client.stores.reminders.credits).toBe(1);
    page.detach();
  });

  it('✕ hides it in that conversation for the session; it never shows before a send', async () => {
    const { me, peer, conv } = await fixture.pair();
    await remindersKnown(me);
    peer.client.sendText(conv, '在吗');
    await waitFor(() => me.client.stores.sessions.find(conv)?.lastSeq === 1, 'the message');
    peer.client.stop();
    await waitFor(() => me.client.stores.people.online[peer.client.stores.me.id] === false, 'the peer offline');

    const page = renderPage<ChatData>('chat', me.client, { conv });
    await settle();
    expect(page.data.reminderBar).toBe(false);
    await send(me, page, '你好');
    await waitFor(() => page.data.reminderBar, 'the bar');
    tap(me, page, '.reminder-close');
    await waitFor(() => !page.data.reminderBar, 'the bar to go');
    expect(me.adapter.subscribe.calls).toEqual([]);
    page.detach();

    // Opened again, and after another send: still closed.
    const again = renderPage<ChatData>('chat', me.client, { conv });
    await settle();
    await send(me, again, '还在吗');
    expect(again.querySelector('.reminder-bar')).toBeUndefined();
    again.detach();
  });

  it('with 总是保持以上选择 accepted, the send button tops the credits up in its own tap, without a panel', async () => {
    const { me, conv } = await fixture.pair();
    await remindersKnown(me);
    me.adapter.subscribe.kept.set(TEMPLATE_ID, 'accept');
    await me.client.reminders.refresh();
    const page = renderPage<ChatData>('chat', me.client, { conv });
    await settle();
    await send(me, page, '晚点聊');
    await waitFor(() => me.client.stores.reminders.credits === 1, 'a quiet top-up');
    expect(me.adapter.subscribe.calls).toMatchObject([{ fromTap: true, prompted: false, outcome: 'accept' }]);
    // The next send within the minute asks nothing.
    await send(me, page, '好的');
    expect(me.adapter.subscribe.calls).toHaveLength(1);
    page.detach();
  });
});
