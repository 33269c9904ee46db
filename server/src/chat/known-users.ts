import { BoundedSet } from '../bounded-set';
import type { Store } from '../store/types';

/** Users remembered as existing; beyond this many the oldest are looked up again when asked. */
const REMEMBERED = 100_000;

/**
 * Whether a user exists, asked on every upgrade and every `send` with `to`. Users are never
 * deleted, so a yes is remembered and the store is asked only once per user (per instance); a no
 * is never remembered (the user may log in on another instance a moment later).
 */
export class KnownUsers {
  private readonly remembered = new BoundedSet<string>(REMEMBERED);

  constructor(private readonly store: Pick<Store, 'getUser'>) {}

  /** Known to exist, without asking the store (no promise: the send path asks on every message). */
  known(userId: string): boolean {
    return this.remembered.has(userId);
  }

  async exists(userId: string): Promise<boolean> {
    if (this.remembered.has(userId)) return true;
    if (!(await this.store.getUser(userId))) return false;
    this.remembered.add(userId);
    return true;
  }
}
