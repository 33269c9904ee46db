import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

type Listener<T> = (result: T) => void;

/** What the next recording is: a real audio file and its length (the recorder reports that length). */
export interface RecordingSource {
  file: string;
  durationMs: number;
}

/** WeChat's accepted sample rate → encode bit rate ranges (RecorderManager.start's table). */
const BIT_RATES: Readonly<Record<number, readonly [number, number]>> = {
  8000: [16000, 48000],
  11025: [16000, 48000],
  12000: [24000, 64000],
  16000: [24000, 96000],
  22050: [32000, 128000],
  24000: [32000, 128000],
  32000: [48000, 192000],
  44100: [64000, 320000],
  48000: [64000, 320000],
};

/**
 * WeChat's RecorderManager as documented, including its traps: one per app (`getRecorderManager`
 * returns the same one), `on*` set one listener each (a later call replaces it), `onStart` comes
 * `startDelayMs` after `start` (~300 ms on phones), a `stop()` before that is lost, `start` while
 * recording fails, the `duration` limit stops it by itself, no microphone permission → `onError`.
 * Time is the recorder's own clock: `elapse(ms)` moves it on (what was "said"), so a test records a
 * 3 s message without waiting 3 s; the file written is the `source`'s real audio file.
 */
export class FakeRecorderManager {
  state: 'idle' | 'starting' | 'recording' = 'idle';
  startDelayMs = 300;
  /** Whether the microphone may be used (wx.authorize's answer for scope.record). */
  allowed = true;
  source: RecordingSource | null = null;
  /** Every `start` option, in order, and how many stop() calls were lost before onStart. */
  readonly starts: WechatMiniprogram.RecorderManagerStartOption[] = [];
  lostStops = 0;
  private elapsed = 0;
  private limitMs = 60_000;
  private startTimer: ReturnType<typeof setTimeout> | null = null;
  private listeners: {
    start?: Listener<WechatMiniprogram.GeneralCallbackResult>;
    stop?: Listener<WechatMiniprogram.OnStopListenerResult>;
    error?: Listener<WechatMiniprogram.GeneralCallbackResult>;
    interruptionBegin?: Listener<WechatMiniprogram.GeneralCallbackResult>;
  } = {};

  constructor(private readonly tempDir: string) {}

  start(options: WechatMiniprogram.RecorderManagerStartOption): void {
    this.starts.push(options);
    if (this.state !== 'idle') return this.fail('operateRecorder:fail recorder is recording or paused');
    if (!this.allowed) return this.fail('operateRecorder:fail auth deny');
    const range = options.sampleRate ? BIT_RATES[options.sampleRate] : undefined;
    const rate = options.encodeBitRate;
    if (options.sampleRate && (!range || (rate !== undefined && (rate < range[0] || rate > range[1])))) {
      return this.fail('operateRecorder:fail encodeBitRate not suitable for sampleRate');
    }
    this.state = 'starting';
    this.elapsed = 0;
    this.limitMs = options.duration ?? 60_000;
    this.startTimer = setTimeout(() => {
      this.startTimer = null;
      this.state = 'recording';
      this.listeners.start?.({ errMsg: 'operateRecorder:ok' });
    }, this.startDelayMs);
  }

  stop(): void {
    if (this.state === 'starting') {
      // WeChat's trap: a stop before onStart does nothing.
      this.lostStops++;
      return;
    }
    if (this.state === 'recording') this.finish();
  }

  /** Time passes while recording: at the `duration` limit it stops by itself. */
  elapse(ms: number): void {
    if (this.state !== 'recording') return;
    this.elapsed = Math.min(this.limitMs, this.elapsed + ms);
    if (this.elapsed >= this.limitMs) this.finish();
  }

  /** A phone call takes the microphone. */
  interrupt(): void {
    if (this.state === 'recording') this.listeners.interruptionBegin?.({ errMsg: 'ok' });
  }

  /** The recorder fails mid-recording (the system took it away). */
  breakDown(): void {
    if (this.state === 'idle') return;
    if (this.startTimer) clearTimeout(this.startTimer);
    this.state = 'idle';
    this.fail('operateRecorder:fail system error');
  }

  onStart(listener: Listener<WechatMiniprogram.GeneralCallbackResult>): void {
    this.listeners.start = listener;
  }
  onStop(listener: Listener<WechatMiniprogram.OnStopListenerResult>): void {
    this.listeners.stop = listener;
  }
  onError(listener: Listener<WechatMiniprogram.GeneralCallbackResult>): void {
    this.listeners.error = listener;
  }
  onInterruptionBegin(listener: Listener<WechatMiniprogram.GeneralCallbackResult>): void {
    this.listeners.interruptionBegin = listener;
  }
  onInterruptionEnd(): void {}
  onPause(): void {}
  onResume(): void {}
  onFrameRecorded(): void {}
  pause(): void {}
  resume(): void {}

  private finish(): void {
    this.state = 'idle';
    const tempFilePath = path.join(this.tempDir, `wxfile-tmp-${Date.now()}-${Math.random().toString(36).slice(2)}.aac`);
    if (this.source) fs.copyFileSync(this.source.file, tempFilePath);
    else fs.writeFileSync(tempFilePath, Buffer.alloc(64));
    const duration = this.source ? Math.min(this.elapsed, this.source.durationMs) || this.elapsed : this.elapsed;
    const fileSize = fs.statSync(tempFilePath).size;
    setTimeout(() => this.listeners.stop?.({ tempFilePath, duration, fileSize }), 0);
  }

  private fail(errMsg: string): void {
    setTimeout(() => this.listeners.error?.({ errMsg }), 0);
  }
}

/**
 * An InnerAudioContext: `play()` plays `src` (a file here or an http url) until `end()` (the sound
 * ran out) or `stop()`; a missing file or a failed url ends in `onError` as on a phone.
 */
export class FakeAudioContext {
  src = '';
  playing = false;
  /** Every src played, in order. */
  readonly played: string[] = [];
  private listeners: {
    ended: Array<() => void>;
    error: Array<Listener<WechatMiniprogram.InnerAudioContextOnErrorListenerResult>>;
  } = { ended: [], error: [] };

  play(): void {
    const src = this.src;
    this.played.push(src);
    this.playing = true;
    if (!src.startsWith('http') && !fs.existsSync(src)) {
      this.playing = false;
      setTimeout(() => {
        for (const listener of this.listeners.error) listener({ errCode: 10003, errMsg: `file not found: ${src}` });
      }, 0);
    }
  }

  stop(): void {
    this.playing = false;
  }

  /** The sound ran to its end. */
  end(): void {
    if (!this.playing) return;
    this.playing = false;
    for (const listener of this.listeners.ended) listener();
  }

  onEnded(listener: () => void): void {
    this.listeners.ended.push(listener);
  }
  onError(listener: Listener<WechatMiniprogram.InnerAudioContextOnErrorListenerResult>): void {
    this.listeners.error.push(listener);
  }
  destroy(): void {
    this.playing = false;
  }
}

/** The part of FileSystemManager the app uses, on a directory of its own (the phone's files). */
export class FakeFileSystem {
  constructor(readonly userDataPath: string) {
    fs.mkdirSync(userDataPath, { recursive: true });
  }

  saveFileSync(tempFilePath: string, filePath?: string): string {
    const target = filePath ?? path.join(this.userDataPath, `saved-${Date.now()}-${path.basename(tempFilePath)}`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(tempFilePath, target);
    fs.rmSync(tempFilePath, { force: true });
    return target;
  }

  mkdirSync(dirPath: string, recursive?: boolean): void {
    fs.mkdirSync(dirPath, { recursive: recursive === true });
  }

  accessSync(filePath: string): void {
    if (!fs.existsSync(filePath)) throw new Error(`accessSync:fail no such file or directory ${filePath}`);
  }

  unlink(options: WechatMiniprogram.UnlinkOption): void {
    fs.rm(options.filePath, (error) => {
      if (error) options.fail?.({ errCode: 1300002, errMsg: `unlink:fail ${error.message}` });
      else options.success?.({ errCode: 0, errMsg: 'unlink:ok' });
    });
  }

  /** The files saved here (for tests: what is left behind). */
  files(): string[] {
    const all: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else all.push(full);
      }
    };
    walk(this.userDataPath);
    return all;
  }
}

/** A phone's media: its recorder, its audio contexts, its files, its microphone permission. */
export class PhoneMedia {
  readonly recorder: FakeRecorderManager;
  readonly audio: FakeAudioContext[] = [];
  readonly files: FakeFileSystem;
  /** scope.record: undefined until asked, then the user's answer. */
  permission: boolean | undefined = undefined;
  /** What the user answers when WeChat asks for the microphone. */
  answer: 'allow' | 'deny' = 'allow';
  /** How often wx.openSetting was opened. */
  settingsOpened = 0;
  innerAudioOptions: WechatMiniprogram.SetInnerAudioOption[] = [];

  constructor(root: string = fs.mkdtempSync(path.join(os.tmpdir(), 'phone-'))) {
    this.files = new FakeFileSystem(path.join(root, 'usr'));
    const temp = path.join(root, 'tmp');
    fs.mkdirSync(temp, { recursive: true });
    this.recorder = new FakeRecorderManager(temp);
  }

  /** The wx methods over this media, to merge into a phone's wx. */
  wx() {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- wx's methods are called unbound.
    const media = this;
    return {
      env: { USER_DATA_PATH: media.files.userDataPath },
      getRecorderManager: () => media.recorder,
      getFileSystemManager: () => media.files,
      createInnerAudioContext() {
        const context = new FakeAudioContext();
        media.audio.push(context);
        return context;
      },
      setInnerAudioOption(options: WechatMiniprogram.SetInnerAudioOption) {
        media.innerAudioOptions.push(options);
        setTimeout(() => options.success?.({ errMsg: 'setInnerAudioOption:ok' }), 0);
      },
      getSetting(options: WechatMiniprogram.GetSettingOption) {
        const authSetting: WechatMiniprogram.AuthSetting =
          media.permission === undefined ? {} : { 'scope.record': media.permission };
        setTimeout(() => options.success?.({ authSetting, errMsg: 'getSetting:ok' } as never), 0);
      },
      authorize(options: WechatMiniprogram.AuthorizeOption) {
        // Asked once: afterwards WeChat answers with the earlier choice, without a prompt.
        if (media.permission === undefined) media.permission = media.answer === 'allow';
        media.recorder.allowed = media.permission;
        setTimeout(() => {
          if (media.permission) options.success?.({ errMsg: 'authorize:ok' });
          else options.fail?.({ errMsg: 'authorize:fail auth deny' });
        }, 0);
      },
      openSetting(options: WechatMiniprogram.OpenSettingOption) {
        media.settingsOpened++;
        setTimeout(() => options.success?.({ authSetting: {}, errMsg: 'openSetting:ok' } as never), 0);
      },
    };
  }
}
