import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SubscriptionCredits, SubscriptionReport, SubscriptionState } from '../../../contract/http';
import { LIMITS } from '../../../contract/limits';
import { ChatError } from '../chat/errors';
import type { SubscriptionsService } from '../chat/subscriptions';
import { HttpError } from './errors';
import { RetryLaterError } from './upload-quota';
import { UserRate } from './user-rate';

/**
 * `POST /api/subscriptions` per user a minute (on this instance), saved up to as many: far above what
 * `wx.requestSubscribeMessage` taps can make, and credits stop at 50 anyway.
 */
export const SUBSCRIPTION_REPORTS_PER_MINUTE = 60;

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
  const rate = new UserRate(SUBSCRIPTION_REPORTS_PER_MINUTE, 'subscription reports');
  app.post<{ Body: SubscriptionReport }>(
    '/api/subscriptions',
    { preHandler: deps.authenticate, schema: reportSchema },
    async (request, reply): Promise<SubscriptionCredits> => {
      try {
        rate.take(request.userId);
      } catch (error) {
        if (error instanceof RetryLaterError) reply.header('retry-after', String(error.retryAfterS));
        throw error;
      }
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
