import path from 'node:path';
import type { Phone } from '../support/app';
import { sleep, waitFor } from '../support/app';
import { useServer } from '../support/fixture';
import { PhoneMedia } from '../support/wx-media';
import { watchErrors, type ToastApi } from '../../miniprogram/utils/error-toast';

/** A real 3-second AAC (ADTS) recording, as WeChat's recorder writes one. */
const VOICE_3S = { file: path.join(__dirname, '../../server/test/fixtures/audio/voice.aac'), durationMs: 3000 };

const voices = (phone: Phone, conv: string) =>
  phone.client.stores.messages.view(conv).items.filter((item) => item.kind === 'voice');

/** Records `ms` of speech on `phone` in `conv` (the microphone allowed) and releases. */
async function record(phone: Phone, conv: string, ms: number): Promise<string> {
  const { recorder } = phone.adapter.media;
  phone.adapter.media.permission = true;
  recorder.allowed = true;
  recorder.source = VOICE_3S;
  expect(await phone.client.voice.begin(conv)).toBe('recording');
  recorder.elapse(ms);
  return phone.client.voice.finish();
}

describe('voice messages through the client, against the real server', () => {
  const fixture = useServer({ each: true });

  it('hold, talk, release: shown at once, uploaded, sent with its duration; the peer gets it; the file is cleaned up', async () => {
    const { me, peer, conv } = await fixture.pair();
    expect(await record(me, conv, 3000)).toBe('sent');
    // Shown at once, from the file kept in the app's own files.
    const pending = voices(me, conv)[0];
    expect(pending).toMatchObject({ kind: 'voice', duration: 3, seq: 0, status: 'sending' });
    expect(pending.body.startsWith(me.adapter.media.files.userDataPath)).toBe(true);
    // Recorded as WeChat's recorder is asked to on every platform: AAC, mono, 16 kHz.
    expect(me.adapter.media.recorder.starts[0]).toMatchObject({
      format: 'aac',
      numberOfChannels: 1,
      sampleRate: 16000,
    });

    await waitFor(() => voices(peer, conv).length === 1, 'the peer to get it');
    const received = voices(peer, conv)[0];
    expect(received).toMatchObject({ kind: 'voice', duration: 3, from: me.client.stores.me.id });
    expect(received.body).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/uploads\//);
    expect(peer.client.stores.sessions.find(conv)?.preview).toBe('[语音]');
    await waitFor(() => voices(me, conv)[0]?.seq === 1, 'the ack');
    // Once the server has it, the recording kept for it goes.
    await waitFor(() => me.adapter.media.files.files().length === 0, 'the file to be deleted');
  });

  it('a release before the recorder started (its onStart comes late) is not lost: 说话时间太短, nothing runs on', async () => {
    const { me, conv } = await fixture.pair();
    const { recorder } = me.adapter.media;
    me.adapter.media.permission = true;
    recorder.startDelayMs = 300;
    const began = me.client.voice.begin(conv);
    await waitFor(() => recorder.state === 'starting', 'the recorder to be starting');
    const finished = me.client.voice.finish();
    expect(await began).toBe('recording');
    expect(await finished).toBe('short');
    // The stop was held back until onStart: none was lost, nothing records on.
    expect(recorder.lostStops).toBe(0);
    expect(recorder.state).toBe('idle');
    expect(voices(me, conv)).toEqual([]);
    // The next press works as usual.
    expect(await record(me, conv, 2000)).toBe('sent');
  });

  it('under a second is 说话时间太短; slid up and released sends nothing', async () => {
    const { me, conv } = await fixture.pair();
    expect(await record(me, conv, 600)).toBe('short');
    me.adapter.media.recorder.source = VOICE_3S;
    expect(await me.client.voice.begin(conv)).toBe('recording');
    me.adapter.media.recorder.elapse(3000);
    me.client.voice.cancel();
    await waitFor(() => me.adapter.media.recorder.state === 'idle', 'the recorder to stop');
    await sleep(50);
    expect(voices(me, conv)).toEqual([]);
    expect(me.client.stores.voice.recording).toBe(false);
  });

  it('the microphone: the first press only asks; refused, every press says so (for the settings)', async () => {
    const { me, conv } = await fixture.pair();
    const media = me.adapter.media;
    media.answer = 'allow';
    expect(await me.client.voice.begin(conv)).toBe('asked');
    expect(media.recorder.starts).toHaveLength(0);
    expect(me.client.stores.voice.recording).toBe(false);
    media.recorder.source = VOICE_3S;
    expect(await me.client.voice.begin(conv)).toBe('recording');
    media.recorder.elapse(2000);
    expect(await me.client.voice.finish()).toBe('sent');

    const { me: other, conv: otherConv } = await fixture.pair();
    other.adapter.media.answer = 'deny';
    expect(await other.client.voice.begin(otherConv)).toBe('denied');
    expect(await other.client.voice.begin(otherConv)).toBe('denied');
    expect(other.adapter.media.recorder.starts).toHaveLength(0);
  });

  it('at the 60 s limit the recorder stops by itself and the message goes without a release', async () => {
    const { me, conv } = await fixture.pair();
    me.adapter.media.permission = true;
    expect(await me.client.voice.begin(conv)).toBe('recording');
    me.adapter.media.recorder.elapse(61_000);
    await waitFor(() => voices(me, conv).length === 1, 'the message to be sent by itself');
    expect(voices(me, conv)[0].duration).toBe(60);
    expect(me.client.stores.voice.recording).toBe(false);
    // The finger lifts afterwards: nothing more.
    expect(await me.client.voice.finish()).toBe('none');
  });

  it('a recorder failure mid-recording ends it: nothing sent, nothing stuck', async () => {
    const { me, conv } = await fixture.pair();
    me.adapter.media.permission = true;
    const toasts: string[] = [];
    const stopToasts = watchErrors(me.client.stores.errors, {
      showToast: ((options: { title: string }) => void toasts.push(options.title)) as ToastApi['showToast'],
    });
    // A server's refusal is for the record, not for the user's eyes.
    me.stores.errors.record('rate_limited', 'too many frames');
    expect(await me.client.voice.begin(conv)).toBe('recording');
    me.adapter.media.recorder.elapse(2000);
    me.adapter.media.recorder.breakDown();
    // The page's overlay follows the store: it closes; the user is told.
    await waitFor(() => !me.client.stores.voice.recording, 'the recording to end');
    expect(me.client.stores.errors.last?.message).toBe('录音失败，请重试');
    expect(toasts).toEqual(['录音失败，请重试']);
    stopToasts();
    // The finger lifts afterwards: nothing to send.
    expect(await me.client.voice.finish()).toBe('none');
    expect(voices(me, conv)).toEqual([]);
    // The next press records again.
    me.adapter.media.recorder.source = VOICE_3S;
    expect(await record(me, conv, 2000)).toBe('sent');
  });

  it('recorded offline, the app killed: sent after the relaunch from the kept file, then the file goes', async () => {
    const { me, peer, conv } = await fixture.pair();
    me.client.stop();
    expect(await record(me, conv, 3000)).toBe('sent');
    expect(me.adapter.media.files.files()).toHaveLength(1);
    // The app is killed; WeChat's temporary files are gone, the app's own stay.
    const relaunched = await fixture.phone({ storage: new Map(me.adapter.storage), media: me.adapter.media });
    await waitFor(() => voices(peer, conv).length === 1, 'the peer to get it after the relaunch');
    expect(voices(peer, conv)[0].duration).toBe(3);
    await waitFor(() => voices(relaunched, conv)[0]?.seq === 1, 'the ack');
    await waitFor(() => relaunched.adapter.media.files.files().length === 0, 'the file to be deleted');
  });

  it('playback: one at a time, the unplayed dot goes, the next unplayed one of the sender follows, kept per device', async () => {
    const { me, peer, conv } = await fixture.pair();
    for (let i = 0; i < 3; i++) expect(await record(me, conv, 3000)).toBe('sent');
    await waitFor(() => voices(peer, conv).filter((item) => item.seq > 0).length === 3, 'three voice messages');
    const [first, second, third] = voices(peer, conv);
    const played = peer.client.stores.voice;
    expect([first, second, third].map((item) => played.isPlayed(item.key))).toEqual([false, false, false]);

    peer.client.voice.toggle(conv, second.key);
    const audio = peer.adapter.media.audio;
    expect(audio).toHaveLength(1);
    expect(audio[0].src).toBe(second.body);
    expect(played.playingKey).toBe(second.key);
    expect(played.isPlayed(second.key)).toBe(true);
    // Plays in iOS silent mode too.
    expect(peer.adapter.media.innerAudioOptions[0]).toMatchObject({ obeyMuteSwitch: false });
    // It ends: the next unplayed of the same sender follows (the first was before it: not that one).
    audio[0].end();
    expect(played.playingKey).toBe(third.key);
    audio[0].end();
    expect(played.playingKey).toBe('');
    // A tap on the playing one stops it.
    peer.client.voice.toggle(conv, first.key);
    expect(played.playingKey).toBe(first.key);
    peer.client.voice.toggle(conv, first.key);
    expect(played.playingKey).toBe('');
    expect(audio[0].playing).toBe(false);
    // Played stays played on this device after a relaunch, and only here.
    peer.client.stop();
    const again = await fixture.phone({ storage: new Map(peer.adapter.storage) });
    expect(again.client.stores.voice.isPlayed(second.key)).toBe(true);
    const tablet = await fixture.phone({
      storage: new Map([...peer.adapter.storage].filter(([key]) => key === 'chat.session' || key === 'chat.deviceId')),
    });
    expect(tablet.client.stores.voice.isPlayed(second.key)).toBe(false);
  });
});

describe('the wx adapter recorder double is faithful to WeChat', () => {
  it('a stop before onStart is lost, and the recording runs on to its limit', async () => {
    const media = new PhoneMedia();
    const recorder = media.recorder;
    const stops: number[] = [];
    recorder.onStop((result) => stops.push(result.duration));
    recorder.start({ duration: 2000, sampleRate: 16000, encodeBitRate: 32000, format: 'aac' });
    recorder.stop();
    expect(recorder.lostStops).toBe(1);
    await waitFor(() => recorder.state === 'recording', 'onStart');
    recorder.elapse(5000);
    await waitFor(() => stops.length === 1, 'the limit');
    expect(stops).toEqual([2000]);
  });

  it('refuses a bit rate the sample rate does not allow, and a start while recording', async () => {
    const media = new PhoneMedia();
    const errors: string[] = [];
    media.recorder.onError((result) => errors.push(result.errMsg));
    media.recorder.start({ sampleRate: 16000, encodeBitRate: 192000, format: 'aac' });
    await waitFor(() => errors.length === 1, 'the error');
    media.recorder.start({ sampleRate: 16000, encodeBitRate: 32000, format: 'aac' });
    media.recorder.start({ sampleRate: 16000, encodeBitRate: 32000, format: 'aac' });
    await waitFor(() => errors.length === 2, 'the second error');
    expect(errors[1]).toMatch(/recording/);
  });
});
