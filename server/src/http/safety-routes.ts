import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { BlockList, ReportCreated, ReportRequest } from '../../../contract/http';
import { LIMITS } from '../../../contract/limits';
import type { SafetyService } from '../chat/safety';
import { HttpError } from './errors';
import { asHttp } from './chat-refusals';

export interface SafetyRouteDeps {
  safety: SafetyService;
  authenticate: (request: FastifyRequest) => Promise<void>;
}

export const REPORT_REASON_MAX = 200;

const userParam = {
  params: {
    type: 'object',
    properties: { userId: { type: 'string', minLength: 1, maxLength: LIMITS.maxIdLength } },
    required: ['userId'],
  },
} as const;

const reportSchema = {
  body: {
    type: 'object',
    properties: {
      conv: { type: 'string', minLength: 1, maxLength: LIMITS.maxIdLength },
      seq: { type: 'integer', minimum: 1 },
      reason: { type: 'string', minLength: 1, maxLength: REPORT_REASON_MAX },
    },
    required: ['conv', 'reason'],
    additionalProperties: false,
  },
} as const;

/** Block (拉黑) and report (举报): docs/protocol.md, "Safety". */
export function registerSafetyRoutes(app: FastifyInstance, deps: SafetyRouteDeps): void {
  const { safety, authenticate } = deps;

  app.get('/api/blocks', { preHandler: authenticate }, async (request): Promise<BlockList> => {
    return safety.blockList(request.userId);
  });

  app.put<{ Params: { userId: string } }>(
    '/api/blocks/:userId',
    { preHandler: authenticate, schema: userParam },
    async (request, reply) => {
      await asHttp(() => safety.block(request.userId, request.params.userId));
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: { userId: string } }>(
    '/api/blocks/:userId',
    { preHandler: authenticate, schema: userParam },
    async (request, reply) => {
      await asHttp(() => safety.unblock(request.userId, request.params.userId));
      return reply.code(204).send();
    },
  );

  app.post<{ Body: ReportRequest }>(
    '/api/reports',
    { preHandler: authenticate, schema: reportSchema },
    async (request, reply): Promise<ReportCreated> => {
      if (request.body.reason.trim() === '') throw new HttpError(400, 'bad_request', '"reason" must not be blank');
      const created = await asHttp(() => safety.report(request.userId, request.body));
      void reply.code(201);
      return created;
    },
  );
}
