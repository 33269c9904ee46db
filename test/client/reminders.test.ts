import type { SubscriptionReport } from '../../contract/http';
import type { Platform } from '../../miniprogram/core/platform';
import { waitFor, type Phone, type PhoneOptions } from '../support/app';
import { useServer } from '../support/fixture';
import { httpCall } from '../support/http-call';
import { TEMPLATE_ID, useRemindersServer } from '../support/reminders-server';

/** A phone option that records every `POST /api/subscriptions` body the client sends. */
function recordingReports(reports: SubscriptionReport[]): PhoneOptions['platform'] {
  return (platform: Platform): Platform => ({
    ...platform,
    request(options) {
      if (options.method === 'POST' && options.url.endsWith('/api/subscriptions')) {
        reports.push(options.data as SubscriptionReport);
      }
      return platform.request(options);
    },
  });
}

/** The user's credits as the server counts them. */
async function serverCredits(port: number, phone: Phone): Promise<number> {
  const token = JSON.parse(phone.adapter.storage.get('chat.session') ?? '{}') as { token?: string };
  const answer = await httpCall(port, 'GET', '/api/subscriptions', { token: token.token });
  return (answer.body as { credits: number }).credits;
}

describe('new-message reminders (WeChat subscription messages), against the real server', () => {
  const fixture = useRemindersServer({ each: true });

  async function phone(options: PhoneOptions = {}): Promise<Phone> {
    const ready = await fixture.phone(options);
    await waitFor(() => ready.client.stores.reminders.enabled, 'the reminders state');
    return ready;
  }

  it('reads the server state after sync: on, its template, no credits yet', async () => {
    const me = await phone();
    expect(me.client.stores.reminders).toMatchObject({ enabled: true, templateId: TEMPLATE_ID, credits: 0, kept: '' });
    expect(me.client.stores.reminders.label).toBe('未开启');
  });

  it('asks only from a tap: a call outside one is refused by WeChat and nothing is reported', async () => {
    const reports: SubscriptionReport[] = [];
    const me = await phone({ platform: recordingReports(reports) });
    const prompt = me.adapter.subscribe;

    me.client.reminders.ask();
    await waitFor(() => prompt.calls.length === 1, 'the call');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(prompt.calls[0]).toMatchObject({ fromTap: false, prompted: false });
    expect(reports).toEqual([]);
    expect(me.client.stores.reminders.credits).toBe(0);

    // From a tap: WeChat's panel, the user accepts, the server counts one.
    expect(prompt.tap(() => me.client.reminders.ask())).toBe('asked');
    await waitFor(() => me.client.stores.reminders.credits === 1, 'one credit');
    expect(prompt.calls[1]).toMatchObject({ tmplIds: [TEMPLATE_ID], fromTap: true, prompted: true, outcome: 'accept' });
    expect(reports).toEqual([{ templateId: TEMPLATE_ID, result: 'accept' }]);
    expect(await serverCredits(fixture.server.port, me)).toBe(1);
    expect(me.client.stores.reminders.label).toBe('还可以收到1次提醒');
    // Without 总是保持以上选择 a send asks nothing (a send is a tap, but WeChat would show its panel).
    const conv = me.client.conversationWith({ id: 'u-nobody', nickname: '某人', avatar: '' });
    prompt.tap(() => me.client.reminders.afterSend(conv));
    expect(prompt.calls).toHaveLength(2);
  });

  it('reports every answer: a reject, a ban and a filter change nothing', async () => {
    const reports: SubscriptionReport[] = [];
    const me = await phone({ platform: recordingReports(reports) });
    const prompt = me.adapter.subscribe;
    for (const answer of ['reject', 'ban', 'filter'] as const) {
      prompt.answer = answer;
      prompt.tap(() => me.client.reminders.ask());
      await waitFor(() => reports.length === (answer === 'reject' ? 1 : answer === 'ban' ? 2 : 3), answer);
    }
    expect(reports.map((report) => report.result)).toEqual(['reject', 'ban', 'filter']);
    await waitFor(() => prompt.calls.length === 3, 'three calls');
    expect(await serverCredits(fixture.server.port, me)).toBe(0);
    expect(me.client.stores.reminders.credits).toBe(0);
    // Not kept: the next tap shows the panel again.
    prompt.answer = 'accept';
    prompt.tap(() => me.client.reminders.ask());
    await waitFor(() => me.client.stores.reminders.credits === 1, 'one credit');
    expect(prompt.prompts).toBe(4);
  });

  it('accepted with 总是保持以上选择: sends top the credits up without a panel, capped in time and at 50', async () => {
    const reports: SubscriptionReport[] = [];
    // The top-up interval is measured on a clock of the test's own: no timing in the test.
    let clock = 1_800_000_000_000;
    const me = await phone({
      platform: recordingReports(reports),
      reminderTopUpMs: 60_000,
      reminderClock: () => clock,
    });
    const prompt = me.adapter.subscribe;
    prompt.always = true;
    prompt.tap(() => me.client.reminders.ask());
    await waitFor(() => me.client.stores.reminders.kept === 'accept', 'the kept choice');
    expect(me.client.stores.reminders.credits).toBe(1);
    expect(prompt.prompts).toBe(1);

    const peer = await fixture.phone();
    const dm = me.client.conversationWith(peer.client.stores.me.user!);
    // The send button's tap: the message goes, and WeChat answers with the kept accept, no panel.
    prompt.tap(() => {
      me.client.sendText(dm, '你好');
      me.client.reminders.afterSend(dm);
    });
    await waitFor(() => me.client.stores.reminders.credits === 2, 'a quiet top-up');
    expect(prompt.calls[1]).toMatchObject({ fromTap: true, prompted: false, outcome: 'accept' });
    // A chatty user: the next sends inside the interval ask nothing.
    prompt.tap(() => me.client.reminders.afterSend(dm));
    prompt.tap(() => me.client.reminders.afterSend(dm));
    expect(prompt.calls).toHaveLength(2);
    clock += 60_000;
    prompt.tap(() => me.client.reminders.afterSend(dm));
    await waitFor(() => me.client.stores.reminders.credits === 3, 'the next top-up');
    expect(prompt.calls).toHaveLength(3);
    expect(prompt.prompts).toBe(1);

    // Up to the 50 the server keeps (taps on the switch), then sends ask no more.
    for (let credits = 4; credits <= 50; credits++) {
      prompt.tap(() => me.client.reminders.ask());
      await waitFor(() => me.client.stores.reminders.credits === credits, `${credits} credits`);
    }
    const calls = prompt.calls.length;
    clock += 60_000;
    prompt.tap(() => me.client.reminders.afterSend(dm));
    expect(prompt.calls).toHaveLength(calls);
    expect(await serverCredits(fixture.server.port, me)).toBe(50);
    expect(reports.every((report) => report.result === 'accept' && report.templateId === TEMPLATE_ID)).toBe(true);
  });

  it('rejected with 总是保持以上选择: never asked again, the page is told to send the user to settings', async () => {
    const reports: SubscriptionReport[] = [];
    const me = await phone({ platform: recordingReports(reports), reminderTopUpMs: 0 });
    const prompt = me.adapter.subscribe;
    prompt.always = true;
    prompt.answer = 'reject';
    prompt.tap(() => me.client.reminders.ask());
    await waitFor(() => me.client.stores.reminders.kept === 'reject', 'the kept choice');
    expect(reports).toEqual([{ templateId: TEMPLATE_ID, result: 'reject' }]);
    expect(me.client.stores.reminders.label).toBe('已拒绝，可在设置中开启');

    expect(prompt.tap(() => me.client.reminders.ask())).toBe('refused');
    const dm = me.client.conversationWith({ id: 'u-nobody', nickname: '某人', avatar: '' });
    prompt.tap(() => me.client.reminders.afterSend(dm));
    expect(prompt.calls).toHaveLength(1);
    // A relaunch knows it too (WeChat's getSetting), before any tap.
    const again = await phone({ storage: me.adapter.storage });
    again.adapter.subscribe.kept.set(TEMPLATE_ID, 'reject');
    await again.client.reminders.refresh();
    expect(again.adapter.subscribe.tap(() => again.client.reminders.ask())).toBe('refused');
    expect(again.adapter.subscribe.calls).toEqual([]);
  });

  it('subscriptions switched off in WeChat (mainSwitch false) count as a reject-always', async () => {
    const me = await phone();
    me.adapter.subscribe.mainSwitch = false;
    await me.client.reminders.refresh();
    expect(me.client.stores.reminders.kept).toBe('reject');
    expect(me.adapter.subscribe.tap(() => me.client.reminders.ask())).toBe('refused');
    expect(me.adapter.subscribe.calls).toEqual([]);
  });
});

describe('a server without reminders', () => {
  const fixture = useServer();

  it('says so: nothing to show, nothing asked', async () => {
    const me = await fixture.phone();
    await me.client.reminders.refresh();
    expect(me.client.stores.reminders).toMatchObject({ enabled: false, templateId: '', credits: 0 });
    expect(me.adapter.subscribe.tap(() => me.client.reminders.ask())).toBe('off');
    expect(me.adapter.subscribe.calls).toEqual([]);
  });
});
