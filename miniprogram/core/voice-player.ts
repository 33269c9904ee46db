import type { VoiceStore } from '../stores/voice';

/** What the player needs of `wx`. */
export type PlayerPlatform = Pick<WechatMiniprogram.Wx, 'createInnerAudioContext' | 'setInnerAudioOption'>;

/** A voice message to play: its key and where its audio is (the server's url, or a file here). */
export interface Playable {
  key: string;
  src: string;
}

/**
 * Plays voice messages through one shared InnerAudioContext (one sound at a time, as in WeChat),
 * in iOS silent mode too (`obeyMuteSwitch: false`). When one ends, the next unplayed voice message
 * of the same sender plays (`next`), as WeChat does. The store says what plays and what was played.
 */
export class VoicePlayer {
  private context: WechatMiniprogram.InnerAudioContext | null = null;
  /** What the context is playing (or about to): its events are about this one. */
  private current: Playable | null = null;

  constructor(
    private readonly platform: PlayerPlatform,
    private readonly store: VoiceStore,
    /** The voice message to play after `key` ended, or null to stop there. */
    private readonly next: (key: string) => Playable | null,
    /** The played set changed (to keep it in storage). */
    private readonly playedChanged: () => void,
    /** Playback failed (a file gone, no network): tell the user. */
    private readonly failed: () => void,
  ) {}

  /** A tap on a voice bubble: plays it, or stops it when it is the one playing. */
  toggle(item: Playable): void {
    if (this.store.playingKey === item.key) this.stop();
    else this.play(item);
  }

  /** Stops whatever plays (the page is left, another sound starts). */
  stop(): void {
    if (!this.current) return;
    this.current = null;
    this.store.setPlaying('');
    this.context?.stop();
  }

  private play(item: Playable): void {
    const context = this.audio();
    if (this.current) context.stop();
    this.current = item;
    this.store.setPlaying(item.key);
    this.store.markPlayed(item.key);
    this.playedChanged();
    context.src = item.src;
    context.play();
  }

  private ended(): void {
    const finished = this.current;
    if (!finished) return;
    this.current = null;
    const following = this.next(finished.key);
    if (following) this.play(following);
    else this.store.setPlaying('');
  }

  private audio(): WechatMiniprogram.InnerAudioContext {
    if (this.context) return this.context;
    // Voice is speech the user asked for: play it even with the phone's mute switch on.
    this.platform.setInnerAudioOption({ obeyMuteSwitch: false, mixWithOther: false, fail: () => undefined });
    const context = this.platform.createInnerAudioContext();
    context.onEnded(() => this.ended());
    context.onError(() => {
      if (!this.current) return;
      this.current = null;
      this.store.setPlaying('');
      this.failed();
    });
    this.context = context;
    return context;
  }
}
