import { LIMITS } from '../../../contract/limits';
import type { VoiceMessages } from '../../core/voice';

/** How far up (px) the finger slides before releasing cancels the recording (松开手指，取消发送). */
export const CANCEL_SLIDE_PX = 80;

/** From this many seconds on, the overlay counts down to the limit (还可以说N秒). */
export const COUNTDOWN_FROM_S = 50;

/** What the overlay shows (the page's data). */
export interface HoldToTalkView {
  /** The finger is down on 按住 说话: the overlay shows. */
  holding: boolean;
  /** Slid up far enough: releasing cancels. */
  cancelZone: boolean;
  /** The time recorded so far, `0:07`. */
  recordLabel: string;
  /** Seconds left before the limit, from the 50th second on (0 before). */
  countdown: number;
}

export const IDLE_VIEW: HoldToTalkView = { holding: false, cancelZone: false, recordLabel: '0:00', countdown: 0 };

/**
 * The 按住 说话 button's gesture on the message page: the finger down starts a recording (the
 * overlay at once, gone again if it cannot start), sliding up past `CANCEL_SLIDE_PX` arms the
 * cancel, lifting the finger sends or cancels, and every way a recording ends closes the overlay.
 */
export class HoldToTalk {
  /** When recording began (ms; 0 while none runs): the overlay's clock. */
  startedAt = 0;
  private fingerDown = false;
  private startY = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private view: HoldToTalkView = IDLE_VIEW;

  constructor(
    private readonly voice: Pick<VoiceMessages, 'begin' | 'finish' | 'cancel'>,
    private readonly conv: string,
    /** Puts the overlay's changes on screen (the page's setData). */
    private readonly render: (patch: Partial<HoldToTalkView>) => void,
  ) {}

  /** The finger went down at `y` (px). */
  async press(y: number): Promise<void> {
    if (this.view.holding || this.fingerDown) return;
    this.fingerDown = true;
    this.startY = y;
    this.startedAt = 0;
    this.show({ ...IDLE_VIEW, holding: true });
    const result = await this.voice.begin(this.conv);
    if (result === 'recording') {
      this.startedAt = Date.now();
      this.timer = setInterval(() => this.tick(), 200);
      return;
    }
    this.fingerDown = false;
    this.close();
    if (result === 'denied') {
      const answer = await wx.showModal({
        title: '无法录音',
        content: '请在设置中允许使用麦克风，才能发送语音消息',
        confirmText: '去设置',
      });
      if (answer.confirm) void wx.openSetting({});
    } else if (result === 'failed') {
      void wx.showToast({ title: '录音失败，请重试', icon: 'none' });
    }
    // 'asked': WeChat's prompt was shown; the next press records.
  }

  /** The finger moved to `y`: above the cancel line or not. */
  move(y: number): void {
    if (!this.view.holding) return;
    const cancelZone = this.startY - y > CANCEL_SLIDE_PX;
    if (cancelZone !== this.view.cancelZone) this.show({ cancelZone });
  }

  /** The finger lifted: sent, cancelled, or 说话时间太短. */
  async release(): Promise<void> {
    if (!this.fingerDown) return;
    this.fingerDown = false;
    const cancelled = this.view.cancelZone;
    this.close();
    if (cancelled) {
      this.voice.cancel();
      return;
    }
    if ((await this.voice.finish()) === 'short') void wx.showToast({ title: '说话时间太短', icon: 'none' });
  }

  /** The recording ended by itself (the 60 s limit, a call, a failure) with the finger still down. */
  ended(): void {
    if (!this.view.holding || this.startedAt <= 0) return;
    this.fingerDown = false;
    this.close();
  }

  /** The overlay's clock: the elapsed time, and from the 50th second the countdown. */
  tick(): void {
    if (this.startedAt <= 0) return;
    const seconds = Math.floor((Date.now() - this.startedAt) / 1000);
    const recordLabel = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
    const countdown = seconds >= COUNTDOWN_FROM_S ? Math.max(1, LIMITS.voiceMaxSeconds - seconds) : 0;
    if (recordLabel !== this.view.recordLabel || countdown !== this.view.countdown)
      this.show({ recordLabel, countdown });
  }

  /** Closes the overlay and stops its clock (the page is left, or the recording is over). */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.startedAt = 0;
    if (this.view.holding) this.show({ holding: false, cancelZone: false, countdown: 0 });
  }

  /** Whether the overlay shows (a recording starting or running). */
  get holding(): boolean {
    return this.view.holding;
  }

  private show(patch: Partial<HoldToTalkView>): void {
    this.view = { ...this.view, ...patch };
    this.render(patch);
  }
}
