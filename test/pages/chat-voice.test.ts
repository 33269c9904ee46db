import path from 'node:path';
import type { ChatData } from '../../miniprogram/pages/chat/chat';
import type { HoldToTalk } from '../../miniprogram/pages/chat/hold-to-talk';
import { voiceWidth } from '../../miniprogram/utils/timeline';
import type { Phone } from '../support/app';
import { waitFor } from '../support/app';
import { useServer } from '../support/fixture';
import { renderPage, settle, texts, type RenderedPage } from '../support/pages';

const VOICE_3S = { file: path.join(__dirname, '../../server/test/fixtures/audio/voice.aac'), durationMs: 3000 };

type ChatPage = RenderedPage<ChatData>;

// miniprogram-simulate takes touches as {x, y}; the page reads them as WeChat's clientX/clientY.
const touch = (y: number) => ({ touches: [{ x: 100, y }], changedTouches: [{ x: 100, y }] });

async function press(page: ChatPage, clientY = 600): Promise<void> {
  page.querySelector('.hold')!.dispatchEvent('touchstart', touch(clientY));
  await settle();
}

async function release(page: ChatPage): Promise<void> {
  page.querySelector('.hold')!.dispatchEvent('touchend', touch(0));
  await settle();
}

function allowMicrophone(phone: Phone): void {
  phone.adapter.media.permission = true;
  phone.adapter.media.recorder.source = VOICE_3S;
}

describe('message page: 按住 说话 and voice bubbles', () => {
  const fixture = useServer();
  afterEach(() => jest.restoreAllMocks());

  it('the switch shows 按住 说话; holding shows the overlay, sliding up turns it to cancel, releasing there sends nothing', async () => {
    const { me, conv } = await fixture.pair();
    allowMicrophone(me);
    const page = renderPage<ChatData>('chat', me.client, { conv });
    await settle();
    expect(page.querySelector('.hold')).toBeUndefined();
    page.querySelector('.voice-toggle')!.dispatchEvent('tap');
    await settle();
    expect(texts(page, '.hold')).toEqual(['按住 说话']);
    expect(page.querySelector('.input')).toBeUndefined();

    await press(page);
    expect(texts(page, '.hold')).toEqual(['松开 发送']);
    expect(texts(page, '.record-hint')).toEqual(['手指上滑，取消发送']);
    await waitFor(() => me.client.stores.voice.recording, 'the recording to start');
    page.querySelector('.hold')!.dispatchEvent('touchmove', touch(600 - 200));
    await settle();
    expect(page.querySelector('.record-box.cancel')).toBeTruthy();
    expect(texts(page, '.record-hint')).toEqual(['松开手指，取消发送']);
    // Back down: not cancelling any more; up again, and released there.
    page.querySelector('.hold')!.dispatchEvent('touchmove', touch(590));
    await settle();
    expect(page.querySelector('.record-box.cancel')).toBeUndefined();
    page.querySelector('.hold')!.dispatchEvent('touchmove', touch(300));
    await settle();
    me.adapter.media.recorder.elapse(3000);
    await release(page);
    expect(page.querySelector('.record-mask')).toBeUndefined();
    await waitFor(() => me.adapter.media.recorder.state === 'idle', 'the recorder to stop');
    await settle(50);
    expect(page.querySelectorAll('.bubble.voice')).toHaveLength(0);
    page.detach();
  });

  it('released: the bubble shows at once with its length; too short says 说话时间太短', async () => {
    const { me, peer, conv } = await fixture.pair();
    allowMicrophone(me);
    const page = renderPage<ChatData>('chat', me.client, { conv });
    await settle();
    page.querySelector('.voice-toggle')!.dispatchEvent('tap');
    await settle();
    await press(page);
    await waitFor(() => me.client.stores.voice.recording, 'the recording to start');
    // From the 50th second on, the overlay counts down to the limit.
    const { holdToTalk } = page.instance as unknown as { holdToTalk: HoldToTalk };
    holdToTalk.startedAt = Date.now() - 52_400;
    holdToTalk.tick();
    await settle();
    expect(texts(page, '.record-countdown')).toEqual(['8']);
    expect(texts(page, '.record-hint')).toEqual(['还可以说8秒']);
    expect(texts(page, '.record-time')).toEqual(['0:52']);
    me.adapter.media.recorder.elapse(3000);
    await release(page);
    await waitFor(() => page.querySelectorAll('.bubble.voice').length === 1, 'the voice bubble');
    expect(texts(page, '.voice-seconds')).toEqual(['3"']);
    await waitFor(() => peer.client.stores.messages.view(conv).items.length === 1, 'the peer to get it');

    const toast = jest.spyOn(wx, 'showToast');
    await press(page);
    await waitFor(() => me.client.stores.voice.recording, 'the second recording');
    me.adapter.media.recorder.elapse(400);
    await release(page);
    await waitFor(() => toast.mock.calls.length > 0, 'the toast');
    expect(toast).toHaveBeenCalledWith(expect.objectContaining({ title: '说话时间太短' }));
    expect(page.querySelectorAll('.bubble.voice')).toHaveLength(1);
    page.detach();
  });

  it('a first press that raises the microphone prompt leaves no overlay behind; refused, it offers the settings', async () => {
    const { me, conv } = await fixture.pair();
    me.adapter.media.answer = 'deny';
    const modal = jest
      .spyOn(wx, 'showModal')
      .mockImplementation(() => Promise.resolve({ confirm: true, cancel: false, errMsg: 'showModal:ok', content: '' }));
    const settings = jest
      .spyOn(wx, 'openSetting')
      .mockImplementation(() =>
        Promise.resolve({ authSetting: {}, subscriptionsSetting: { mainSwitch: true }, errMsg: 'openSetting:ok' }),
      );
    const page = renderPage<ChatData>('chat', me.client, { conv });
    await settle();
    page.querySelector('.voice-toggle')!.dispatchEvent('tap');
    await settle();
    await press(page);
    await release(page);
    await waitFor(() => modal.mock.calls.length === 1, 'the dialog');
    expect(modal.mock.calls[0][0]).toMatchObject({ confirmText: '去设置' });
    await settle();
    expect(settings).toHaveBeenCalled();
    expect(page.querySelector('.record-mask')).toBeUndefined();
    expect(page.data.holding).toBe(false);
    page.detach();
  });

  it('bubbles grow with their length; the peer sees a red dot until played, and the waves move while it plays', async () => {
    const { me, peer, conv } = await fixture.pair();
    allowMicrophone(me);
    for (const ms of [3000, 3000]) {
      expect(await me.client.voice.begin(conv)).toBe('recording');
      me.adapter.media.recorder.elapse(ms);
      expect(await me.client.voice.finish()).toBe('sent');
    }
    await waitFor(
      () => peer.client.stores.messages.view(conv).items.filter((item) => item.seq > 0).length === 2,
      'both',
    );
    const page = renderPage<ChatData>('chat', peer.client, { conv });
    await settle();
    expect(page.querySelectorAll('.voice-dot')).toHaveLength(2);
    page.querySelectorAll('.bubble.voice')[0].dispatchEvent('tap');
    await settle();
    expect(page.querySelectorAll('.bubble.voice.playing')).toHaveLength(1);
    expect(page.querySelectorAll('.voice-dot')).toHaveLength(1);
    // Leaving the page stops it.
    page.detach();
    expect(peer.client.stores.voice.playingKey).toBe('');
    expect(voiceWidth(1)).toBeLessThan(voiceWidth(3));
    expect(voiceWidth(10)).toBeLessThan(voiceWidth(60));
    expect(voiceWidth(60)).toBeLessThanOrEqual(460);
  });
});
