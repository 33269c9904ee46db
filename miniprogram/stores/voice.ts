import { makeAutoObservable, observable } from 'mobx-miniprogram';

/** How many played voice messages a device remembers (the oldest are forgotten first). */
export const PLAYED_KEPT = 2000;

/**
 * Voice playback on this device: which message is playing, and which have been played (WeChat's
 * red dot shows on a voice message until it is first played — per device, as in WeChat).
 */
export class VoiceStore {
  /** The key of the voice message playing now, '' when none. */
  playingKey = '';
  /** A recording is running (hold to talk): it may end by itself at the limit. */
  recording = false;
  private readonly played = observable.set<string>();

  constructor() {
    makeAutoObservable(this);
  }

  isPlayed(key: string): boolean {
    return this.played.has(key);
  }

  setRecording(recording: boolean): void {
    this.recording = recording;
  }

  setPlaying(key: string): void {
    this.playingKey = key;
  }

  markPlayed(key: string): void {
    if (this.played.has(key)) return;
    this.played.add(key);
    // Bounded: a set iterates in insertion order, so the first is the oldest.
    if (this.played.size > PLAYED_KEPT) this.played.delete(this.played.values().next().value as string);
  }

  /** The played keys, oldest first (for storage). */
  playedKeys(): string[] {
    return [...this.played];
  }

  /** Restores the played keys from storage. */
  setPlayed(keys: readonly string[]): void {
    this.played.replace(keys.slice(-PLAYED_KEPT));
  }

  clear(): void {
    this.playingKey = '';
    this.recording = false;
    this.played.clear();
  }
}

export type VoiceView = Pick<VoiceStore, 'playingKey' | 'recording' | 'isPlayed'>;
