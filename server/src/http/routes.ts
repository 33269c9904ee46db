import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type {
  DirectoryEntry,
  LoginRequest,
  LoginResponse,
  ProfileUpdate,
  PublicUser,
} from '../../../miniprogram/core/protocol';
import { TokenError, bearerToken, type Tokens } from '../auth/tokens';
import type { Store } from '../store/types';

export interface RouteDeps {
  store: Store;
  tokens: Tokens;
  isOnline(userId: string): boolean;
  /** False once the server has begun shutting down. */
  accepting(): boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    userId: string;
  }
}

/** An HTTP failure answered as `{error:{code,message}}` with its status. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

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
    properties: { q: { type: 'string', maxLength: 64 } },
  },
} as const;

/** A default nickname, so a new user is recognisable before they set one. */
function defaultNickname(userKey: string): string {
  return `微信用户${userKey.slice(-4)}`;
}

export function registerRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { store, tokens } = deps;

  async function authenticate(request: FastifyRequest): Promise<void> {
    try {
      const claims = await tokens.verify(bearerToken(request.headers.authorization));
      request.userId = claims.userId;
    } catch (error) {
      throw new HttpError(401, 'unauthorized', error instanceof TokenError ? error.message : 'bad token');
    }
  }

  app.get('/healthz', async (_request, reply: FastifyReply) => {
    if (!deps.accepting()) return reply.code(503).send({ status: 'shutting down' });
    return { status: 'ok' };
  });

  app.post<{ Body: LoginRequest }>('/api/login', { schema: loginSchema }, async (request): Promise<LoginResponse> => {
    const { devId } = request.body;
    // Development mode: the device's own stable id names the user. Production login through
    // WeChat's code2session replaces this branch when a secret is configured.
    if (!devId) throw new HttpError(400, 'bad_request', 'development login needs a "devId"');
    const user = await store.userFor({ provider: 'dev', externalId: devId }, { nickname: defaultNickname(devId) });
    const { token, expiresAt } = await tokens.issue(user.id);
    return { token, user, expiresAt };
  });

  app.put<{ Body: ProfileUpdate }>(
    '/api/profile',
    { schema: profileSchema, preHandler: authenticate },
    async (request): Promise<PublicUser> => {
      const user = await store.updateProfile(request.userId, request.body);
      if (!user) throw new HttpError(404, 'not_found', 'the user no longer exists');
      return user;
    },
  );

  app.get<{ Querystring: { q?: string } }>(
    '/api/users',
    { schema: usersSchema, preHandler: authenticate },
    async (request): Promise<DirectoryEntry[]> => {
      const users = await store.searchUsers(request.query.q ?? '', request.userId, 100);
      return users.map((user) => ({ ...user, online: deps.isOnline(user.id) }));
    },
  );
}
