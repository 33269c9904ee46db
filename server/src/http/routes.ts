import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DirectoryEntry, PublicUser } from '../../../contract/frames';
import { LIMITS } from '../../../contract/limits';
import type { LoginRequest, LoginResponse, ProfileUpdate } from '../../../contract/http';
import { TokenError, bearerToken, type Tokens } from '../auth/tokens';
import { WechatLoginError, type WechatLogin } from '../auth/wechat';
import type { UsersService } from '../chat/users';
import type { Identity } from '../store/types';
import { originOf } from './upload-urls';
import type { ContentCheck } from '../chat/content-check';
import { HttpError } from './errors';

export { HttpError };

/** A text WeChat's content check refused: 422 content_refused (docs/protocol.md, "Safety"). */
export function contentRefused(what: string): HttpError {
  return new HttpError(422, 'content_refused', `${what} was not saved: WeChat's content check refused it`);
}

export interface RouteDeps {
  /** Every route that concerns a user goes through the domain, never straight to storage. */
  users: UsersService;
  tokens: Tokens;
  /** Set in production mode: login codes are exchanged with WeChat. Absent: development mode. */
  wechat?: WechatLogin;
  /** False once the server has begun shutting down. */
  accepting(): boolean;
  /**
   * The canonical URL of the upload a new avatar names (marked as used), or null when it names
   * none of ours; `origin` is the base the request reached us at. Absent: avatars are taken as sent.
   */
  avatarUrl?: (url: string, origin: string | undefined) => Promise<string | null>;
  /** WeChat's content check of nicknames (WX_CONTENT_CHECK=1); absent: not checked. */
  contentCheck?: Pick<ContentCheck, 'text' | 'flag'>;
  /**
   * The `@fastify/rate-limit` route config of `POST /api/login` (per client address); absent: no
   * limit. Checked in `onRequest`, before the body is read, so before WeChat and before any account.
   */
  loginLimit?: { max: number; timeWindow: number };
  /** A banned user's login answers `403 banned` while the ban lasts. */
  bans?: { activeBan(userId: string): Promise<{ until: number | null } | null> };
}

declare module 'fastify' {
  interface FastifyRequest {
    userId: string;
  }
}

/** `GET /api/users` (docs/protocol.md): a search of one character would list nearly everyone. */
const { directoryPage: DIRECTORY_PAGE, directoryPageMax: DIRECTORY_PAGE_MAX } = LIMITS;
const DIRECTORY_QUERY_MIN = LIMITS.directoryQueryMin;
/** The deepest page: the store pages searches by limit only, so an offset costs as many rows. */
const DIRECTORY_OFFSET_MAX = 1000;

const DEV_ID_PATTERN = '^[A-Za-z0-9_-]{8,64}$';

const loginSchema = {
  body: {
    type: 'object',
    properties: {
      code: { type: 'string', minLength: 1, maxLength: 256 },
      devId: { type: 'string', pattern: DEV_ID_PATTERN },
    },
    required: ['code'],
  },
} as const;

const profileSchema = {
  body: {
    type: 'object',
    properties: {
      nickname: { type: 'string', minLength: 1, maxLength: 32 },
      avatar: { type: 'string', maxLength: 512 },
    },
    additionalProperties: false,
  },
} as const;

const usersSchema = {
  querystring: {
    type: 'object',
    properties: {
      q: { type: 'string', maxLength: 64 },
      limit: { type: 'string', pattern: '^[0-9]{1,3}$' },
      offset: { type: 'string', pattern: '^[0-9]{1,6}$' },
    },
  },
} as const;

/**
 * The answer for a token whose user is no longer in the store. A token of a user this instance
 * never saw is refused with 401 before (`VerifiedTokens`); this is one it had seen, since removed.
 */
function userGone(): never {
  throw new HttpError(404, 'not_found', 'the user no longer exists');
}

/** The openid behind a login code; WeChat's refusals become the HTTP errors they map to. */
async function exchange(wechat: WechatLogin, code: string): Promise<string> {
  try {
    return (await wechat.exchange(code)).openid;
  } catch (error) {
    if (error instanceof WechatLoginError) throw new HttpError(error.status, error.code, error.message);
    throw error;
  }
}

/** The preHandler of routes that need `Authorization: Bearer <token>`: sets `request.userId`, or answers 401. */
export function bearerAuth(tokens: Tokens): (request: FastifyRequest) => Promise<void> {
  return async function authenticate(request: FastifyRequest): Promise<void> {
    try {
      const claims = await tokens.verify(bearerToken(request.headers.authorization));
      request.userId = claims.userId;
    } catch (error) {
      throw new HttpError(401, 'unauthorized', error instanceof TokenError ? error.message : 'bad token');
    }
  };
}

export function registerRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { users, tokens } = deps;
  const authenticate = bearerAuth(tokens);

  app.get('/healthz', async (_request, reply: FastifyReply) => {
    if (!deps.accepting()) return reply.code(503).send({ status: 'shutting down' });
    return { status: 'ok' };
  });

  const loginOptions = { schema: loginSchema, config: deps.loginLimit ? { rateLimit: deps.loginLimit } : {} };
  app.post<{ Body: LoginRequest }>('/api/login', loginOptions, async (request): Promise<LoginResponse> => {
    const { code, devId } = request.body;
    let identity: Identity;
    if (deps.wechat) {
      // Production mode: WeChat names the user by openid, which stays in the store (never answered);
      // a devId the app still sends is ignored.
      identity = { provider: 'wechat', externalId: await exchange(deps.wechat, code) };
    } else {
      // Development mode: the device's own stable id names the user.
      if (!devId) throw new HttpError(400, 'bad_request', 'development login needs a "devId"');
      identity = { provider: 'dev', externalId: devId };
    }
    const user = await users.logIn(identity);
    const ban = await deps.bans?.activeBan(user.id);
    if (ban) {
      const until = ban.until === null ? 'permanently' : `until ${new Date(ban.until).toISOString()}`;
      throw new HttpError(403, 'banned', `this account is banned ${until}`);
    }
    const { token, expiresAt } = await tokens.issue(user.id);
    return { token, user, expiresAt };
  });

  app.put<{ Body: ProfileUpdate }>(
    '/api/profile',
    { schema: profileSchema, preHandler: authenticate },
    async (request): Promise<PublicUser> => {
      const update = { ...request.body };
      // An avatar is one of our uploads, under our own URL, or "" (none).
      if (update.avatar && deps.avatarUrl) {
        const avatar = await deps.avatarUrl(update.avatar, originOf(request.protocol, request.host));
        if (avatar === null) {
          throw new HttpError(400, 'bad_request', '"avatar" must be the url POST /api/upload answered, or ""');
        }
        update.avatar = avatar;
      }
      // A new nickname goes through the content check: risky → 422 content_refused; review → saved and flagged.
      let flag: string | undefined;
      if (deps.contentCheck && update.nickname !== undefined) {
        const before = await users.me(request.userId);
        if (before && before.nickname !== update.nickname) {
          const verdict = await deps.contentCheck.text(request.userId, update.nickname, 'nickname');
          if (verdict.refused) throw contentRefused('the nickname');
          flag = verdict.flag;
        }
      }
      const user = (await users.updateProfile(request.userId, update)) ?? userGone();
      if (flag !== undefined && deps.contentCheck) {
        await deps.contentCheck.flag(`user:${user.id}`, null, user.id, `${flag}（昵称：${user.nickname}）`);
      }
      return user;
    },
  );

  // The app checks its token with this after a socket that never opened: 401 means log in again.
  app.get('/api/me', { preHandler: authenticate }, async (request): Promise<PublicUser> => {
    return (await users.me(request.userId)) ?? userGone();
  });

  app.get<{ Querystring: { q?: string; limit?: string; offset?: string } }>(
    '/api/users',
    { schema: usersSchema, preHandler: authenticate },
    async (request): Promise<DirectoryEntry[]> => {
      const { q = '', limit, offset } = request.query;
      const page = { limit: limit === undefined ? DIRECTORY_PAGE : Number(limit), offset: Number(offset ?? 0) };
      if (page.limit < 1 || page.limit > DIRECTORY_PAGE_MAX) {
        throw new HttpError(400, 'bad_request', `limit must be 1–${DIRECTORY_PAGE_MAX}`);
      }
      if (page.offset > DIRECTORY_OFFSET_MAX) {
        throw new HttpError(400, 'bad_request', `offset must be at most ${DIRECTORY_OFFSET_MAX}`);
      }
      // No query: the caller's own peers. A query: at least two characters, so nobody lists everyone.
      if (q === '') return users.peers(request.userId, page);
      if (q.length < DIRECTORY_QUERY_MIN) {
        throw new HttpError(400, 'bad_request', `q needs at least ${DIRECTORY_QUERY_MIN} characters`);
      }
      return users.directory(q, request.userId, page);
    },
  );
}
