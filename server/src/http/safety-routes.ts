import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PublicUser } from '../../../contract/frames';
import type { BlockList, ReportCreated, ReportRequest } from '../../../contract/http';
import { CLOSE_CODES, LIMITS } from '../../../contract/limits';
import { ChatError } from '../chat/errors';
import { HttpError } from './errors';

/**
 * A PLACEHOLDER for the server's side of issue #19 (block and report), so the app's tests have
 * the routes of PROTOCOL.md "Safety" to talk to: the full version (both stores, bans through the
 * bus, the moderation console) replaces this file at merge. Blocks and reports live in memory.
 *
 * `PUT` / `DELETE /api/blocks/:userId`, `GET /api/blocks` → `[{id, nickname, avatar}]`;
 * `POST /api/reports {conv, seq?, reason}` → `201 {id}` (members only, else 403).
 * With `SAFETY_TEST_HOOKS=1` only (tests): `POST /api/test/ban/:userId` closes the user's sockets
 * with 4003 and makes their login answer `403 banned`.
 */
export class PlaceholderSafety {
  /** Blocker → the people they blocked, in the order blocked. */
  private readonly blocks = new Map<string, Set<string>>();
  readonly reports: Array<ReportRequest & { id: string; reporter: string }> = [];
  readonly banned = new Set<string>();

  /** Whether `recipient` blocked `sender` (the dm send path's hook). */
  blocked(recipient: string, sender: string): boolean {
    return this.blocks.get(recipient)?.has(sender) ?? false;
  }

  block(blocker: string, blocked: string): void {
    const set = this.blocks.get(blocker) ?? new Set<string>();
    set.delete(blocked);
    set.add(blocked);
    this.blocks.set(blocker, set);
  }

  unblock(blocker: string, blocked: string): void {
    this.blocks.get(blocker)?.delete(blocked);
  }

  /** Newest first. */
  list(blocker: string): string[] {
    return [...(this.blocks.get(blocker) ?? [])].reverse();
  }
}

export interface SafetyRouteDeps {
  safety: PlaceholderSafety;
  authenticate: (request: FastifyRequest) => Promise<void>;
  user(id: string): Promise<PublicUser | null>;
  /** Refuses (ChatError) unless the user is a member of the conversation. */
  members(userId: string, conv: string): Promise<string[]>;
  /** Closes every socket of the user with this code. */
  closeUser(userId: string, code: number, reason: string): void;
  testHooks: boolean;
}

const STATUS: Record<ChatError['code'], number> = { bad_frame: 400, forbidden: 403, not_found: 404, blocked: 403 };

const userParams = {
  type: 'object',
  properties: { userId: { type: 'string', minLength: 1, maxLength: LIMITS.maxIdLength } },
  required: ['userId'],
} as const;

export function registerSafetyRoutes(app: FastifyInstance, deps: SafetyRouteDeps): void {
  const { safety, authenticate } = deps;

  app.put<{ Params: { userId: string } }>(
    '/api/blocks/:userId',
    { preHandler: authenticate, schema: { params: userParams } },
    async (request, reply) => {
      const { userId } = request.params;
      if (userId === request.userId) throw new HttpError(400, 'bad_request', 'you cannot block yourself');
      if (!(await deps.user(userId))) throw new HttpError(404, 'not_found', `no user ${userId}`);
      safety.block(request.userId, userId);
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: { userId: string } }>(
    '/api/blocks/:userId',
    { preHandler: authenticate, schema: { params: userParams } },
    async (request, reply) => {
      safety.unblock(request.userId, request.params.userId);
      return reply.code(204).send();
    },
  );

  app.get('/api/blocks', { preHandler: authenticate }, async (request): Promise<BlockList> => {
    const users = await Promise.all(safety.list(request.userId).map((id) => deps.user(id)));
    return users
      .filter((user): user is PublicUser => user !== null)
      .map(({ id, nickname, avatar }) => ({ id, nickname, avatar }));
  });

  app.post<{ Body: ReportRequest }>(
    '/api/reports',
    {
      preHandler: authenticate,
      schema: {
        body: {
          type: 'object',
          properties: {
            conv: { type: 'string', minLength: 1, maxLength: LIMITS.maxIdLength },
            seq: { type: 'integer', minimum: 1 },
            reason: { type: 'string', minLength: 1, maxLength: 200 },
          },
          required: ['conv', 'reason'],
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      try {
        await deps.members(request.userId, request.body.conv);
      } catch (error) {
        if (!(error instanceof ChatError)) throw error;
        throw new HttpError(STATUS[error.code], error.code === 'bad_frame' ? 'bad_request' : error.code, error.message);
      }
      const created: ReportCreated = { id: `r${safety.reports.length + 1}` };
      safety.reports.push({ ...request.body, id: created.id, reporter: request.userId });
      return reply.code(201).send(created);
    },
  );

  // A banned user's login answers 403 banned (the user is known only once logged in).
  app.addHook('preSerialization', async (request, reply, payload: unknown) => {
    if (request.routeOptions.url !== '/api/login' || reply.statusCode !== 200) return payload;
    const user = (payload as { user?: PublicUser } | null)?.user;
    if (!user || !safety.banned.has(user.id)) return payload;
    reply.code(403);
    return { error: { code: 'banned', message: 'this account is banned' } };
  });

  if (!deps.testHooks) return;
  app.post<{ Params: { userId: string } }>(
    '/api/test/ban/:userId',
    { schema: { params: userParams } },
    async (request, reply) => {
      safety.banned.add(request.params.userId);
      deps.closeUser(request.params.userId, CLOSE_CODES.banned, 'banned');
      return reply.code(204).send();
    },
  );
}
