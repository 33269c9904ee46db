import { makeAutoObservable, observable } from 'mobx-miniprogram';
import type { PublicUser } from '../../contract/frames';

/**
 * The people the app knows of: their profiles (so a conversation can be listed before the server
 * lists it), who is online (the directory's snapshot, then `presence` frames: the one source the
 * pages read) and who is typing where. Live hints, never kept in storage.
 */
export class PeopleStore {
  /** Profiles by user id, from session lists, the directory, logins and `profile` frames. */
  private readonly profiles = new Map<string, PublicUser>();
  online: Record<string, boolean> = {};
  /** Per conversation, when the peer's "typing" hint runs out (ms since the epoch). */
  typingUntil: Record<string, number> = {};

  constructor() {
    // Profiles are looked up, never rendered from here: a plain map, not observed.
    makeAutoObservable<PeopleStore, 'profiles'>(this, {
      profiles: false,
      online: observable.ref,
      typingUntil: observable.ref,
    });
  }

  profile(userId: string): PublicUser | undefined {
    return this.profiles.get(userId);
  }

  isOnline(userId: string): boolean {
    return this.online[userId] === true;
  }

  isTyping(conv: string, now: number = Date.now()): boolean {
    return (this.typingUntil[conv] ?? 0) > now;
  }

  remember(users: readonly PublicUser[]): void {
    for (const { id, nickname, avatar } of users) this.profiles.set(id, { id, nickname, avatar });
  }

  setOnline(userId: string, online: boolean): void {
    if (this.online[userId] === online) return;
    this.online = { ...this.online, [userId]: online };
  }

  setTyping(conv: string, until: number): void {
    this.typingUntil = { ...this.typingUntil, [conv]: until };
  }

  stopTyping(conv: string): void {
    if (!(conv in this.typingUntil)) return;
    const next = { ...this.typingUntil };
    delete next[conv];
    this.typingUntil = next;
  }

  clear(): void {
    this.profiles.clear();
    this.online = {};
    this.typingUntil = {};
  }
}

export type PeopleView = Pick<PeopleStore, 'profile' | 'isOnline' | 'isTyping' | 'online' | 'typingUntil'>;
