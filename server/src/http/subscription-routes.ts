import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SubscriptionCredits, SubscriptionReport, SubscriptionState } from '../../../contract/http';
import { LIMITS } from '../../../contract/limits';
import { ChatError } from '../chat/errors';
import type { SubscriptionsService } from '../chat/subscriptions';
import { HttpError } from './errors';

export interface SubscriptionRouteDeps {
  subscriptions: SubscriptionsService;
  authenticate: (request: FastifyRequest) => Promise<void>;
}

const reportSchema = {
  body: {
    type: 'object',
    properties: {
      templateId: { type: 'string', minLength: 1, maxLength: LIMITS.maxIdLength },
      result: { type: 'string', enum: ['accept', 'reject', 'ban', 'filter'] },
    },
    required: ['templateId', 'result'],
    additionalProperties: false,
  },
} as const;

/** A user's reminder credits (docs/protocol.md, "Reaching a user whose app is closed"). */
export function registerSubscriptionRoutes(app: FastifyInstance, deps: SubscriptionRouteDeps): void {
  app.post<{ Body: SubscriptionReport }>(
    '/api/subscriptions',
    { preHandler: deps.authenticate, schema: reportSchema },
    async (request): Promise<SubscriptionCredits> => {
      try {
        return await deps.subscriptions.report(request.userId, request.body.templateId, request.body.result);
      } catch (error) {
        if (error instanceof ChatError) throw new HttpError(400, 'bad_request', error.message);
        throw error;
      }
    },
  );

  app.get('/api/subscriptions', { preHandler: deps.authenticate }, async (request): Promise<SubscriptionState> => {
    return deps.subscriptions.state(request.userId);
  });
}
