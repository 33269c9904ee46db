import crypto from 'node:crypto';
import type { DirectoryEntry, PublicUser } from '../../../contract/frames';
import type { ProfileUpdate } from '../../../contract/http';
import type { Identity, Store } from '../store/types';
import type { Fanout } from './ports';

/** Most entries one directory answer lists (docs/protocol.md, `GET /api/users`). */
const DIRECTORY_LIMIT = 100;

/**
 * A new user's nickname, so they are recognisable before they choose one: 微信用户 + 4 characters
 * of what names them. For a WeChat user, of a hash of the openid, so that no part of it shows.
 */
function defaultNickname(identity: Identity): string {
  const key =
    identity.provider === 'wechat'
      ? crypto.createHash('sha256').update(identity.externalId).digest('hex')
      : identity.externalId;
  return `微信用户${key.slice(-4)}`;
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
    return this.store.userFor(identity, { nickname: defaultNickname(identity) });
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
    const peers = await this.store.peersOf(userId);
    this.fanout.deliver([userId, ...peers], { type: 'profile', user: after });
    return after;
  }

  /**
   * Other users whose nickname contains `query` (all when empty), never the asker, each with
   * whether they are connected to any instance now.
   */
  async directory(query: string, askerId: string): Promise<DirectoryEntry[]> {
    const users = await this.store.searchUsers(query, askerId, DIRECTORY_LIMIT);
    return Promise.all(users.map(async (user) => ({ ...user, online: await this.presence.isOnline(user.id) })));
  }
}
