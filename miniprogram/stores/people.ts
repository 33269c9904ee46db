import { makeAutoObservable, observable } from 'mobx-miniprogram';

/** Who is online, and who is typing where: live hints from the server, never stored. */
export class PeopleStore {
  online: Record<string, boolean> = {};
  /** Per conversation, when the peer's "typing" hint runs out (ms since the epoch). */
  typingUntil: Record<string, number> = {};

  constructor() {
    makeAutoObservable(this, { online: observable.ref, typingUntil: observable.ref });
  }

  isTyping(conv: string, now: number = Date.now()): boolean {
    return (this.typingUntil[conv] ?? 0) > now;
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
}
