import crypto from 'node:crypto';
import type { DirectoryEntry, PublicUser } from '../../../contract/frames';
import type { ProfileUpdate } from '../../../contract/http';
import type { Identity, Store } from '../store/types';
import type { Fanout } from './ports';

/** The characters of a default nickname's random tail: no look-alikes (0/O, 1/l/I). */
const NICKNAME_ALPHABET = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/**
 * A new user's nickname, so they are recognisable before they choose one: 微信用户 + 4 random
 * characters. Random, never derived from what names them: in development mode the device id is
 * the login credential, and a nickname is shown to everyone.
 */
export function defaultNickname(): string {
  let tail = '';
  for (let i = 0; i < 4; i++) tail += NICKNAME_ALPHABET[crypto.randomInt(NICKNAME_ALPHABET.length)];
  return `微信用户${tail}`;
}

/** A page of the directory: how many entries, after how many. */
export interface DirectoryPage {
  limit: number;
  offset: number;
}

/** Where a user's presence comes from when the directory lists them. */
export interface OnlineCheck {
  isOnline(userId: string): Promise<boolean>;
}

/** The people: logging in, profiles, and the directory. HTTP routes reach users through here only. */
export class UsersService {
  constructor(
    private readonly store: Store,
    private readonly fanout: Fanout,
    private readonly presence: OnlineCheck,
  ) {}

  /** The user behind an identity; made on first sight, with the default nickname. */
  logIn(identity: Identity): Promise<PublicUser> {
    return this.store.userFor(identity, { nickname: defaultNickname() });
  }

  /** The user's own profile; null when the user no longer exists. */
  me(userId: string): Promise<PublicUser | null> {
    return this.store.getUser(userId);
  }

  /**
   * Changes the nickname, the avatar or both; null when the user no longer exists. A change that
   * changes something is told at once, as a `profile` frame through the bus, to everyone whose
   * screen shows this profile: the user's peers (their session lists) and the user's own
   * connections (their other devices). The peers' next `sessions` carries it too.
   */
  async updateProfile(userId: string, update: ProfileUpdate): Promise<PublicUser | null> {
    const before = await this.store.getUser(userId);
    if (!before) return null;
    const unchanged =
      (update.nickname ?? before.nickname) === before.nickname && (update.avatar ?? before.avatar) === before.avatar;
    if (unchanged) return before;
    const after = await this.store.updateProfile(userId, update);
    if (!after) return null;
    // Those who blocked the user are not told (they see nothing of them).
    const [peers, blockers] = await Promise.all([this.store.peersOf(userId), this.store.safety.blockersOf(userId)]);
    const blocked = new Set(blockers);
    this.fanout.deliver([userId, ...peers.filter((peer) => !blocked.has(peer))], { type: 'profile', user: after });
    return after;
  }

  /**
   * A page of the other users whose nickname contains `query` (by nickname), never the asker.
   * Whether someone is online is told only to people who share a conversation with them, as
   * `presence` frames are: a stranger's `online` is false.
   */
  async directory(query: string, askerId: string, page: DirectoryPage): Promise<DirectoryEntry[]> {
    // The store pages by limit only: the offset is skipped here, and bounded by the route.
    const [found, peers] = await Promise.all([
      this.store.searchUsers(query, askerId, page.offset + page.limit),
      this.store.peersOf(askerId),
    ]);
    return this.withPresence(found.slice(page.offset), new Set(peers));
  }

  /**
   * A page of the asker's peers (everyone who shares a conversation with them), in a stable
   * order (by id), each with whether they are online.
   */
  async peers(askerId: string, page: DirectoryPage): Promise<DirectoryEntry[]> {
    const ids = (await this.store.peersOf(askerId)).sort();
    const users = await Promise.all(
      ids.slice(page.offset, page.offset + page.limit).map((id) => this.store.getUser(id)),
    );
    return this.withPresence(
      users.filter((user): user is PublicUser => user !== null),
      new Set(ids),
    );
  }

  private withPresence(users: PublicUser[], peers: ReadonlySet<string>): Promise<DirectoryEntry[]> {
    return Promise.all(
      users.map(async (user) => ({ ...user, online: peers.has(user.id) && (await this.presence.isOnline(user.id)) })),
    );
  }
}
