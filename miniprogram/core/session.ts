import type { PublicUser } from '../../contract/frames';
import type { LoginResponse } from '../../contract/http';
import { ApiError, type Api } from './api';
import { newDeviceId } from './ids';
import type { Platform } from './platform';

const STORAGE = { deviceId: 'chat.deviceId', session: 'chat.session' } as const;

/** A saved token with less than this left is renewed before a connection uses it. */
const RENEW_BEFORE_MS = 60_000;

/**
 * Who the app is logged in as, and the token it connects with. It logs in (wx.login, then
 * `POST /api/login` with this installation's device id), keeps the session in storage across
 * launches and finds out whether a refused connection was refused for its token. The socket
 * asks it for the token before every connection, so a login is part of connecting and shares
 * the socket's backoff: a failed login is a failed attempt, retried like one.
 */
export class Session {
  private current: LoginResponse | null = null;
  /** A token check is under way: one at a time. */
  private checking = false;
  /** Bumped by a logout: a login that was under way then must not log the user back in. */
  private generation = 0;

  constructor(
    private readonly platform: Platform,
    private readonly api: Api,
    private readonly random: () => number,
    /** A login, or a profile change, made this user the one logged in. */
    private readonly onUser: (user: PublicUser) => void,
  ) {}

  /** The user of the last launch, shown before any network (even when their token has run out). */
  restore(): PublicUser | null {
    const saved = this.platform.getStorageSync<LoginResponse | ''>(STORAGE.session);
    if (saved && saved.user) this.current = saved;
    return this.current ? this.current.user : null;
  }

  /** The token HTTP calls carry, if any. */
  get token(): string | undefined {
    return this.current?.token || undefined;
  }

  /** The token for the next connection: the saved one while it has a while left, else a new login. */
  async connectToken(): Promise<string> {
    const saved = this.current;
    if (saved && saved.token && saved.expiresAt > Date.now() + RENEW_BEFORE_MS) return saved.token;
    return (await this.login()).token;
  }

  /** The server closed the connection for an expired token: the next connection logs in again. */
  expire(): void {
    this.platform.removeStorageSync(STORAGE.session);
    this.current = null;
  }

  /**
   * A connection closed before it opened, and wx does not say why: the server is asked whether the
   * token still holds. True when it does not — 401, or 404 as our server says it (`not_found`: its
   * user is gone, as after a new data folder), not as a proxy in between might. Any other failure
   * is the network, which the socket's backoff already handles.
   */
  async refusedForToken(): Promise<boolean> {
    const token = this.token;
    if (this.checking || !token) return false;
    this.checking = true;
    try {
      await this.api.me();
      return false;
    } catch (error) {
      const refused =
        error instanceof ApiError && (error.status === 401 || (error.status === 404 && error.code === 'not_found'));
      // A login meanwhile replaced the token: the answer is about one that is gone.
      return refused && this.token === token;
    } finally {
      this.checking = false;
    }
  }

  /** The user's profile changed: kept with the session, so the next launch shows it. */
  updateUser(user: PublicUser): void {
    if (!this.current || this.current.user.id !== user.id) return;
    this.current = { ...this.current, user };
    this.platform.setStorageSync(STORAGE.session, this.current);
  }

  /** Logout: forgets the session. The device id stays: it names this installation's user in development. */
  clear(): void {
    this.generation++;
    this.expire();
  }

  private async login(): Promise<LoginResponse> {
    const generation = this.generation;
    const { code } = await new Promise<WechatMiniprogram.LoginSuccessCallbackResult>((resolve, reject) =>
      this.platform.login({ success: resolve, fail: (failure) => reject(new Error(failure.errMsg)) }),
    );
    const session = await this.api.login({ code, devId: this.deviceId() });
    if (generation !== this.generation) throw new Error('logged out during the login');
    this.platform.setStorageSync(STORAGE.session, session);
    this.current = session;
    this.onUser(session.user);
    return session;
  }

  private deviceId(): string {
    let id = this.platform.getStorageSync<string>(STORAGE.deviceId);
    if (!id) {
      id = newDeviceId(this.random);
      this.platform.setStorageSync(STORAGE.deviceId, id);
    }
    return id;
  }
}
