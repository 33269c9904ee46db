import { makeAutoObservable } from 'mobx-miniprogram';
import type { PublicUser } from '../../contract/frames';

/**
 * The people the user blocked (拉黑, the 黑名单 page), newest first: fetched on demand (the 黑名单
 * page, a dm's 聊天信息) and changed here at once when the user blocks or unblocks.
 */
export class BlocksStore {
  list: PublicUser[] = [];
  /** Fetched at least once since the app started. */
  loaded = false;
  /** A fetch is under way. */
  loading = false;

  constructor() {
    makeAutoObservable(this);
  }

  has(userId: string): boolean {
    return this.list.some((user) => user.id === userId);
  }

  setLoading(loading: boolean): void {
    this.loading = loading;
  }

  set(list: readonly PublicUser[]): void {
    this.list = list.map(({ id, nickname, avatar }) => ({ id, nickname, avatar }));
    this.loaded = true;
    this.loading = false;
  }

  add({ id, nickname, avatar }: PublicUser): void {
    this.list = [{ id, nickname, avatar }, ...this.list.filter((user) => user.id !== id)];
  }

  remove(userId: string): void {
    this.list = this.list.filter((user) => user.id !== userId);
  }

  clear(): void {
    this.list = [];
    this.loaded = false;
    this.loading = false;
  }
}

export type BlocksView = Pick<BlocksStore, 'list' | 'loaded' | 'loading' | 'has'>;
