/**
 * Hold to talk: WeChat's one RecorderManager behind a small state machine that survives its traps.
 *
 * - `onStart` arrives a few hundred ms after `start()`, and a `stop()` before it is lost (the
 *   recording would run on to its limit): a release that early is remembered and carried out on
 *   `onStart`.
 * - The first press may raise the microphone prompt: that press only asks (the finger is long gone
 *   when the user answers), so no overlay is left waiting for a recording that never starts.
 * - Errors, interruptions (a call) and the 60 s limit all end in `onStop` or `onError`, and every
 *   path settles the one recording in progress.
 */
import { LIMITS } from '../../contract/limits';

/** What the recorder needs of `wx`. */
export type RecorderPlatform = Pick<WechatMiniprogram.Wx, 'getRecorderManager' | 'getSetting' | 'authorize'>;

/**
 * AAC (an .aac/.m4a file every platform plays: MP3 recorded on Android has failed on iOS), mono,
 * 16 kHz at 32 kbit/s — a combination WeChat accepts on every platform, about 4 KB a second.
 */
export const RECORD_OPTIONS: WechatMiniprogram.RecorderManagerStartOption = {
  duration: LIMITS.voiceMaxSeconds * 1000,
  sampleRate: 16000,
  numberOfChannels: 1,
  encodeBitRate: 32000,
  format: 'aac',
};

/** Shorter than this is 说话时间太短 and nothing is sent. */
export const MIN_RECORDING_MS = LIMITS.voiceMinSeconds * 1000;

export type BeginResult =
  /** Recording: the overlay shows. */
  | 'recording'
  /** The permission prompt was shown; the user presses again once they allowed it. */
  | 'asked'
  /** The microphone is refused: the page offers the settings (wx.openSetting). */
  | 'denied'
  /** The recorder failed to start (busy, a system error). */
  | 'failed';

export interface Recording {
  /** The recorder's temporary file. */
  tempFilePath: string;
  /** Whole seconds, as the message carries them (at least 1). */
  duration: number;
  durationMs: number;
}

export type FinishResult =
  | { kind: 'recorded'; recording: Recording }
  /** Under a second: 说话时间太短. */
  | { kind: 'short' }
  /** Cancelled, failed or nothing was recording. */
  | { kind: 'none' };

type State = 'idle' | 'starting' | 'recording' | 'stopping';

export class VoiceRecorder {
  private manager: WechatMiniprogram.RecorderManager | null = null;
  private state: State = 'idle';
  /** Released (or cancelled) before `onStart`: stop as soon as it starts. */
  private stopOnStart = false;
  private cancelled = false;
  private began: ((result: BeginResult) => void) | null = null;
  private finished: ((result: FinishResult) => void) | null = null;
  /** A recording that ended by itself (the limit, an interruption) before anyone asked for it. */
  private ended: FinishResult | null = null;
  /** Called when a recording ends by itself (the 60 s limit, a call): the page sends it then. */
  onAutoStop: (() => void) | null = null;
  /** Called when the recorder fails while recording (the system took the microphone away). */
  onFailed: (() => void) | null = null;

  constructor(private readonly platform: RecorderPlatform) {}

  /** Whether a recording is starting or running. */
  get active(): boolean {
    return this.state === 'starting' || this.state === 'recording';
  }

  /** The finger went down: checks the permission, then starts recording. */
  async begin(): Promise<BeginResult> {
    if (this.state !== 'idle') return 'failed';
    const permission = await this.permission();
    if (permission !== 'granted') return permission;
    const manager = this.recorder();
    this.state = 'starting';
    this.stopOnStart = false;
    this.cancelled = false;
    this.ended = null;
    return new Promise<BeginResult>((resolve) => {
      this.began = resolve;
      manager.start(RECORD_OPTIONS);
    });
  }

  /** The finger lifted: the recording, `short` under a second, or `none`. */
  finish(): Promise<FinishResult> {
    return this.end(false);
  }

  /** Slid up and released (松开手指，取消发送): nothing is sent. */
  cancel(): void {
    void this.end(true);
  }

  private end(cancel: boolean): Promise<FinishResult> {
    if (this.ended) {
      const ended = this.ended;
      this.ended = null;
      return Promise.resolve(cancel ? { kind: 'none' } : ended);
    }
    if (this.state === 'idle') return Promise.resolve({ kind: 'none' });
    this.cancelled = this.cancelled || cancel;
    const result = new Promise<FinishResult>((resolve) => {
      const earlier = this.finished;
      this.finished = (value) => {
        earlier?.({ kind: 'none' });
        resolve(value);
      };
    });
    if (this.state === 'starting') this.stopOnStart = true;
    else if (this.state === 'recording') {
      this.state = 'stopping';
      this.recorder().stop();
    }
    return result;
  }

  /** 'granted', or what was done instead: the prompt shown (`asked`), or `denied` before. */
  private async permission(): Promise<'granted' | 'asked' | 'denied'> {
    const setting = await new Promise<WechatMiniprogram.AuthSetting>((resolve) =>
      this.platform.getSetting({
        success: (result) => resolve(result.authSetting),
        fail: () => resolve({}),
      }),
    );
    const allowed = setting['scope.record'];
    if (allowed === true) return 'granted';
    if (allowed === false) return 'denied';
    // Never asked: this press shows WeChat's prompt and records nothing.
    return new Promise((resolve) =>
      this.platform.authorize({
        scope: 'scope.record',
        success: () => resolve('asked'),
        fail: () => resolve('denied'),
      }),
    );
  }

  private recorder(): WechatMiniprogram.RecorderManager {
    if (this.manager) return this.manager;
    const manager = this.platform.getRecorderManager();
    manager.onStart(() => this.started());
    manager.onStop((result) => this.stopped(result));
    manager.onError(() => this.failed());
    // A call or another app took the microphone: what was said so far is sent, as WeChat does.
    manager.onInterruptionBegin(() => {
      if (this.state === 'recording') {
        this.state = 'stopping';
        manager.stop();
      }
    });
    this.manager = manager;
    return manager;
  }

  private started(): void {
    if (this.state !== 'starting') return;
    this.state = 'recording';
    this.settleBegin('recording');
    if (this.stopOnStart) {
      this.state = 'stopping';
      this.recorder().stop();
    }
  }

  private stopped(result: WechatMiniprogram.OnStopListenerResult): void {
    if (this.state === 'idle') return;
    this.state = 'idle';
    this.settleBegin('failed');
    const outcome: FinishResult = this.cancelled
      ? { kind: 'none' }
      : result.duration < MIN_RECORDING_MS
        ? { kind: 'short' }
        : {
            kind: 'recorded',
            recording: {
              tempFilePath: result.tempFilePath,
              durationMs: result.duration,
              duration: Math.min(
                LIMITS.voiceMaxSeconds,
                Math.max(LIMITS.voiceMinSeconds, Math.round(result.duration / 1000)),
              ),
            },
          };
    if (this.finished) {
      const finished = this.finished;
      this.finished = null;
      finished(outcome);
      return;
    }
    // Nobody released: it stopped by itself (the limit, an interruption). The page sends it.
    this.ended = outcome;
    this.onAutoStop?.();
  }

  private failed(): void {
    if (this.state === 'idle') return;
    const wasRecording = this.state === 'recording';
    this.state = 'idle';
    this.settleBegin('failed');
    const finished = this.finished;
    this.finished = null;
    finished?.({ kind: 'none' });
    if (wasRecording && !finished) this.onFailed?.();
  }

  private settleBegin(result: BeginResult): void {
    const began = this.began;
    this.began = null;
    began?.(result);
  }
}
