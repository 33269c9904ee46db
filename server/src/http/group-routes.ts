import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LIMITS } from '../../../contract/limits';
import { GROUP_LIMITS, GroupError, type GroupService, type GroupUpdate } from '../chat/groups';
import type { ContentCheck } from '../chat/content-check';
import { HttpError } from './errors';
import { contentRefused } from './routes';
import { originOf } from './upload-urls';

/** The groups API (docs/protocol.md, "Groups"): every route needs the Bearer token. */
export interface GroupRouteDeps {
  groups: GroupService;
  authenticate: (request: FastifyRequest) => Promise<void>;
  /** The most members a request may name (refused as out of range beyond it, before any work). */
  maxMembers: number;
  /** WeChat's content check of group names and notices (WX_CONTENT_CHECK=1); absent: not checked. */
  contentCheck?: Pick<ContentCheck, 'text' | 'flag'>;
}

const STATUS: Record<GroupError['code'], number> = {
  bad_request: 400,
  forbidden: 403,
  not_found: 404,
  group_full: 409,
};

const id = { type: 'string', minLength: 1, maxLength: LIMITS.maxIdLength } as const;

/**
 * A group's texts, checked as `PUT /api/profile` checks a nickname: strings (never converted),
 * lengths in UTF-16 units (server/src/ajv-options.ts), taken as sent (no trimming; a notice may
 * hold newlines). The service checks the same limits again for callers other than these routes.
 */
const groupName = { type: 'string', minLength: 1, maxLength: GROUP_LIMITS.nameMax } as const;
const groupNotice = { type: 'string', maxLength: GROUP_LIMITS.noticeMax } as const;

function userList(maxMembers: number) {
  // Longer lists are over the limit whatever they hold; far longer ones are not read at all.
  return { type: 'array', items: id, maxItems: Math.max(maxMembers * 2, 1000) } as const;
}

const groupParams = {
  type: 'object',
  properties: { id },
  required: ['id'],
} as const;

const memberParams = {
  type: 'object',
  properties: { id, userId: id },
  required: ['id', 'userId'],
} as const;

/** A domain refusal as our HTTP error. */
async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof GroupError) throw new HttpError(STATUS[error.code], error.code, error.message);
    throw error;
  }
}

export function registerGroupRoutes(app: FastifyInstance, deps: GroupRouteDeps): void {
  const { groups, authenticate } = deps;

  /**
   * A group's new name and notice through the content check: risky → 422 content_refused, nothing
   * saved; answers the flags to file once saved (review, or no answer failing open).
   */
  const check = async (userId: string, texts: { name?: string; notice?: string }): Promise<string[]> => {
    const flags: string[] = [];
    if (!deps.contentCheck) return flags;
    for (const [field, kind, label] of [
      ['name', 'group_name', '群名'],
      ['notice', 'group_notice', '群公告'],
    ] as const) {
      const text = texts[field];
      if (text === undefined || text === '') continue;
      const verdict = await deps.contentCheck.text(userId, text, kind);
      if (verdict.refused) throw contentRefused(field === 'name' ? 'the group name' : 'the group notice');
      if (verdict.flag !== undefined) flags.push(`${verdict.flag}（${label}：${text.slice(0, 60)}）`);
    }
    return flags;
  };
  const flag = async (userId: string, groupId: string, flags: string[]) => {
    for (const reason of flags) await deps.contentCheck?.flag(`g:${groupId}`, null, userId, reason);
  };
  const users = userList(deps.maxMembers);

  app.post<{ Body: { name: string; members: string[] } }>(
    '/api/groups',
    {
      preHandler: authenticate,
      schema: {
        body: {
          type: 'object',
          properties: { name: groupName, members: users },
          required: ['name', 'members'],
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const flags = await check(request.userId, { name: request.body.name });
      const group = await answer(() => groups.create(request.userId, request.body.name, request.body.members));
      await flag(request.userId, group.id, flags);
      return reply.code(201).send({ group });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/groups/:id',
    { preHandler: authenticate, schema: { params: groupParams } },
    async (request) => answer(() => groups.get(request.userId, request.params.id)),
  );

  // wx.request cannot send PATCH (its methods stop at PUT/DELETE): PUT is the same partial update.
  app.route<{ Params: { id: string }; Body: GroupUpdate }>({
    method: ['PATCH', 'PUT'],
    url: '/api/groups/:id',
    preHandler: authenticate,
    schema: {
      params: groupParams,
      body: {
        type: 'object',
        properties: {
          name: groupName,
          notice: groupNotice,
          avatar: { type: 'string', maxLength: 512 },
        },
        additionalProperties: false,
      },
    },
    handler: async (request) => {
      const origin = originOf(request.protocol, request.host);
      const { name, notice } = request.body;
      // Only a change the caller may make goes to WeChat: a member's is refused (403) by `update`.
      const mayEdit =
        !deps.contentCheck ||
        (name === undefined && notice === undefined) ||
        (await answer(() => groups.get(request.userId, request.params.id))).members.some(
          (member) => member.id === request.userId && member.role !== 'member',
        );
      const flags = mayEdit ? await check(request.userId, { name, notice }) : [];
      const group = await answer(() => groups.update(request.userId, request.params.id, request.body, origin));
      await flag(request.userId, group.id, flags);
      return { group };
    },
  });

  app.post<{ Params: { id: string }; Body: { users: string[] } }>(
    '/api/groups/:id/members',
    {
      preHandler: authenticate,
      schema: {
        params: groupParams,
        body: { type: 'object', properties: { users }, required: ['users'], additionalProperties: false },
      },
    },
    async (request) => {
      const group = await answer(() => groups.invite(request.userId, request.params.id, request.body.users));
      return { group };
    },
  );

  app.delete<{ Params: { id: string; userId: string } }>(
    '/api/groups/:id/members/:userId',
    { preHandler: authenticate, schema: { params: memberParams } },
    async (request, reply) => {
      await answer(() => groups.remove(request.userId, request.params.id, request.params.userId));
      return reply.code(204).send();
    },
  );

  for (const [method, admin] of [
    ['PUT', true],
    ['DELETE', false],
  ] as const) {
    app.route<{ Params: { id: string; userId: string } }>({
      method,
      url: '/api/groups/:id/admins/:userId',
      preHandler: authenticate,
      schema: { params: memberParams },
      handler: async (request) => {
        const group = await answer(() =>
          groups.setAdmin(request.userId, request.params.id, request.params.userId, admin),
        );
        return { group };
      },
    });
  }

  app.get<{ Params: { id: string }; Querystring: { seq: string } }>(
    '/api/groups/:id/receipts',
    {
      preHandler: authenticate,
      schema: {
        params: groupParams,
        querystring: {
          type: 'object',
          properties: { seq: { type: 'string', pattern: '^[1-9][0-9]{0,14}$' } },
          required: ['seq'],
        },
      },
    },
    async (request) => answer(() => groups.receipts(request.userId, request.params.id, Number(request.query.seq))),
  );

  app.delete<{ Params: { id: string } }>(
    '/api/groups/:id',
    { preHandler: authenticate, schema: { params: groupParams } },
    async (request, reply) => {
      await answer(() => groups.dismiss(request.userId, request.params.id));
      return reply.code(204).send();
    },
  );
}
