import type { Stores } from '../stores/index';
import type { Platform } from './platform';
import type { SendQueue } from './send-queue';
import { VoicePlayer, type Playable } from './voice-player';
import { VoiceRecorder, type BeginResult } from './voice-recorder';

/** Where recordings wait until they are sent: the app's own files, which survive a relaunch. */
const VOICE_DIR = 'voice';

export type FinishOutcome = 'sent' | 'short' | 'none';

/**
 * Voice messages for the pages (`client.voice`): hold to record, release to send, and playback.
 * A recording is moved out of WeChat's temporary files into the app's own (USER_DATA_PATH) before
 * it goes into the outbox, so a message recorded offline is still there to upload after a kill;
 * the send queue deletes the file once the server has the message.
 */
export class VoiceMessages {
  private readonly recorder: VoiceRecorder;
  private readonly player: VoicePlayer;
  /** The conversation the recording in progress is for. */
  private conv = '';
  /** The conversation whose voice messages play (the next one comes from there). */
  private playingConv = '';

  constructor(
    private readonly platform: Platform,
    private readonly stores: Stores,
    private readonly sends: SendQueue,
    playedChanged: () => void,
  ) {
    this.recorder = new VoiceRecorder(platform);
    // The 60 s limit (or a call) ended it with the finger still down: it is sent, as in WeChat.
    this.recorder.onAutoStop = () => void this.finish();
    this.recorder.onFailed = () => {
      this.stores.voice.setRecording(false);
      stores.errors.tell('record_failed', '录音失败，请重试');
    };
    this.player = new VoicePlayer(
      platform,
      stores.voice,
      (key) => this.nextUnplayed(key),
      playedChanged,
      () => stores.errors.tell('voice_failed', '语音播放失败，请稍后重试'),
    );
  }

  /** The finger went down on 按住 说话 in `conv`. */
  async begin(conv: string): Promise<BeginResult> {
    this.player.stop();
    this.conv = conv;
    const result = await this.recorder.begin();
    if (result === 'recording') this.stores.voice.setRecording(true);
    return result;
  }

  /** The finger lifted: the recording is sent (`sent`), or was too short, or there was none. */
  async finish(): Promise<FinishOutcome> {
    const result = await this.recorder.finish();
    this.stores.voice.setRecording(false);
    if (result.kind === 'short') return 'short';
    if (result.kind === 'none' || !this.conv) return 'none';
    const { tempFilePath, duration } = result.recording;
    const kept = this.keep(tempFilePath);
    return this.sends.sendVoice(this.conv, kept, duration) ? 'sent' : 'none';
  }

  /** Slid up and released: nothing is sent. */
  cancel(): void {
    this.recorder.cancel();
    this.stores.voice.setRecording(false);
  }

  /** A tap on a voice bubble of `conv`: plays it (or stops it when it plays). */
  toggle(conv: string, key: string): void {
    const item = this.stores.messages.view(conv).items.find((candidate) => candidate.key === key);
    if (!item || item.kind !== 'voice' || !item.body) return;
    this.playingConv = conv;
    this.player.toggle({ key, src: item.body });
  }

  /** The page is left or covered: playback stops. */
  stopPlaying(): void {
    this.player.stop();
  }

  /** Moves a recording into the app's own files; the temporary path if that fails (it still sends). */
  private keep(tempFilePath: string): string {
    try {
      const files = this.platform.getFileSystemManager();
      const dir = `${this.platform.env.USER_DATA_PATH}/${VOICE_DIR}`;
      try {
        files.accessSync(dir);
      } catch {
        files.mkdirSync(dir, true);
      }
      const name = tempFilePath.slice(tempFilePath.lastIndexOf('/') + 1);
      return files.saveFileSync(tempFilePath, `${dir}/${Date.now()}-${name}`);
    } catch {
      return tempFilePath;
    }
  }

  /** After `key` ended: the next voice message of the same sender not yet played here. */
  private nextUnplayed(key: string): Playable | null {
    const items = this.stores.messages.view(this.playingConv).items;
    const index = items.findIndex((item) => item.key === key);
    if (index < 0) return null;
    const sender = items[index].from;
    for (const item of items.slice(index + 1)) {
      if (item.kind === 'voice' && item.from === sender && item.seq > 0 && !this.stores.voice.isPlayed(item.key)) {
        return { key: item.key, src: item.body };
      }
    }
    return null;
  }
}
