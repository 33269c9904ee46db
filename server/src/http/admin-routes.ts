import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LIMITS } from '../../../contract/limits';
import { parseCursor, type Moderator, type ModerationService } from '../chat/moderation';
import { HttpError } from './errors';
import { asHttp } from './chat-refusals';
import { REPORT_REASON_MAX } from './safety-routes';
import { carriesToken } from './security';

export interface AdminRouteDeps {
  moderation: ModerationService;
  /** ADMIN_TOKEN; unset: no admin route at all (every `/api/admin/*` answers 404). */
  token?: string;
}

const PAGE_DEFAULT = 20;
const PAGE_MAX = 100;

const pageQuery = {
  querystring: {
    type: 'object',
    properties: {
      limit: { type: 'string', pattern: '^[0-9]{1,3}$' },
      before: { type: 'string', maxLength: 80 },
    },
  },
} as const;

const idParam = {
  params: {
    type: 'object',
    properties: { id: { type: 'string', minLength: 1, maxLength: LIMITS.maxIdLength } },
    required: ['id'],
  },
} as const;

const reason = { type: 'string', maxLength: REPORT_REASON_MAX } as const;
const reportId = { type: 'string', minLength: 1, maxLength: 40 } as const;

const recallSchema = {
  body: {
    type: 'object',
    properties: {
      conv: { type: 'string', minLength: 1, maxLength: LIMITS.maxIdLength },
      seq: { type: 'integer', minimum: 1 },
      reason,
      report: reportId,
    },
    required: ['conv', 'seq'],
    additionalProperties: false,
  },
} as const;

const banSchema = {
  ...idParam,
  body: {
    type: 'object',
    properties: {
      reason: { type: 'string', minLength: 1, maxLength: REPORT_REASON_MAX },
      until: { type: 'integer', minimum: 0 },
      report: reportId,
    },
    required: ['reason'],
    additionalProperties: false,
  },
} as const;

const usersQuery = {
  querystring: {
    type: 'object',
    properties: { q: { type: 'string', maxLength: 64 } },
  },
} as const;

function page(query: { limit?: string; before?: string }) {
  const limit = query.limit === undefined ? PAGE_DEFAULT : Number(query.limit);
  if (limit < 1 || limit > PAGE_MAX) throw new HttpError(400, 'bad_request', `limit must be 1–${PAGE_MAX}`);
  return { limit, before: parseCursor(query.before) };
}

/** An optional `{reason}` body of the actions that need no other field. */
function optionalReason(body: unknown): string {
  if (typeof body !== 'object' || body === null || !('reason' in body)) return '';
  const text = body.reason;
  if (typeof text !== 'string' || text.length > REPORT_REASON_MAX) {
    throw new HttpError(400, 'bad_request', `"reason" must be a text of at most ${REPORT_REASON_MAX} characters`);
  }
  return text;
}

function moderator(request: FastifyRequest): Moderator {
  return { ip: request.ip };
}

/**
 * The moderation API (docs/protocol.md, "Safety"), behind `Authorization: Bearer <ADMIN_TOKEN>`
 * (compared in constant time); with no ADMIN_TOKEN nothing is registered, so every route 404s.
 */
export async function registerAdminRoutes(app: FastifyInstance, deps: AdminRouteDeps): Promise<void> {
  const { token, moderation } = deps;
  if (!token) return;
  await app.register(async (admin) => {
    admin.addHook('onRequest', async (request, reply) => {
      if (carriesToken(request, token)) return;
      void reply.header('www-authenticate', 'Bearer realm="admin"');
      throw new HttpError(401, 'unauthorized', 'the admin API needs Authorization: Bearer <ADMIN_TOKEN>');
    });

    admin.get<{ Querystring: { limit?: string; before?: string } }>(
      '/api/admin/reports',
      { schema: pageQuery },
      async (request) => {
        const { limit, before } = await asHttp(async () => page(request.query));
        const { items, next } = await moderation.reports(limit, before);
        return { reports: items, next };
      },
    );

    admin.post<{ Params: { id: string } }>(
      '/api/admin/reports/:id/dismiss',
      { schema: idParam },
      async (request, reply) => {
        const text = optionalReason(request.body);
        await asHttp(() => moderation.dismiss(moderator(request), request.params.id, text));
        return reply.code(204).send();
      },
    );

    admin.post<{ Body: { conv: string; seq: number; reason?: string; report?: string } }>(
      '/api/admin/recall',
      { schema: recallSchema },
      async (request) => {
        const event = await asHttp(() => moderation.recall(moderator(request), request.body));
        return { event };
      },
    );

    admin.post<{ Params: { id: string }; Body: { reason: string; until?: number; report?: string } }>(
      '/api/admin/users/:id/ban',
      { schema: banSchema },
      async (request) => {
        const ban = await asHttp(() => moderation.ban(moderator(request), request.params.id, request.body));
        return { ban };
      },
    );

    admin.delete<{ Params: { id: string } }>(
      '/api/admin/users/:id/ban',
      { schema: idParam },
      async (request, reply) => {
        const text = optionalReason(request.body);
        await asHttp(() => moderation.unban(moderator(request), request.params.id, text));
        return reply.code(204).send();
      },
    );

    admin.get<{ Querystring: { q?: string } }>('/api/admin/users', { schema: usersQuery }, async (request) => {
      return { users: await moderation.users(request.query.q ?? '') };
    });

    admin.get<{ Querystring: { limit?: string; before?: string } }>(
      '/api/admin/audit',
      { schema: pageQuery },
      async (request) => {
        const { limit, before } = await asHttp(async () => page(request.query));
        const { items, next } = await moderation.auditLog(limit, before);
        return { entries: items, next };
      },
    );

    admin.get('/api/admin/stats', async () => moderation.stats());
  });
}
