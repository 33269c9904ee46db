import { makeAutoObservable, observable } from 'mobx-miniprogram';
import type { PublicUser } from '../../contract/frames';

/** Whether two profiles say the same (null is no one). */
export function samePerson(a: PublicUser | null | undefined, b: PublicUser | null | undefined): boolean {
  if (!a || !b) return a === b;
  return a.id === b.id && a.nickname === b.nickname && a.avatar === b.avatar;
}

/** Who is logged in on this device. */
export class MeStore {
  user: PublicUser | null = null;

  constructor() {
    makeAutoObservable(this, { user: observable.ref });
  }

  get id(): string {
    return this.user ? this.user.id : '';
  }

  /**
   * The same profile again (the answer to one's own change, then its `profile` frame) changes
   * nothing: a page bound to `user` must not see a change, which would reset what is being edited.
   */
  setUser(user: PublicUser | null): void {
    if (samePerson(this.user, user)) return;
    this.user = user;
  }
}

export type MeView = Pick<MeStore, 'user' | 'id'>;
