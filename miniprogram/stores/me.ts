import { makeAutoObservable, observable } from 'mobx-miniprogram';
import type { PublicUser } from '../../contract/frames';

/** Who is logged in on this device. */
export class MeStore {
  user: PublicUser | null = null;

  constructor() {
    makeAutoObservable(this, { user: observable.ref });
  }

  get id(): string {
    return this.user ? this.user.id : '';
  }

  setUser(user: PublicUser | null): void {
    this.user = user;
  }
}

export type MeView = Pick<MeStore, 'user' | 'id'>;
