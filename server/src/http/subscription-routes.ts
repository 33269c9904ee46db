import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SubscriptionCredits, SubscriptionReport, SubscriptionState } from '../../../contract/http';
import { HttpError } from './errors';

/**
 * A stand-in for the app's side of issue #18 (the full version, with the sending, replaces this
 * file): `GET` / `POST /api/subscriptions` with credits kept in memory per user.
 */
export interface SubscriptionRouteDeps {
  authenticate: (request: FastifyRequest) => Promise<void>;
  /** The template the app asks for ('' or absent: reminders off). */
  templateId?: string;
}

/** At most this many credits are kept (docs/protocol.md). */
const MAX_CREDITS = 50;

export function registerSubscriptionRoutes(app: FastifyInstance, deps: SubscriptionRouteDeps): void {
  const templateId = deps.templateId ?? '';
  const credits = new Map<string, number>();

  app.get('/api/subscriptions', { preHandler: deps.authenticate }, async (request): Promise<SubscriptionState> => {
    if (!templateId) return { enabled: false, templateId: '', credits: 0 };
    return { enabled: true, templateId, credits: credits.get(request.userId) ?? 0 };
  });

  app.post<{ Body: SubscriptionReport }>(
    '/api/subscriptions',
    {
      preHandler: deps.authenticate,
      schema: {
        body: {
          type: 'object',
          properties: {
            templateId: { type: 'string', minLength: 1, maxLength: 128 },
            result: { type: 'string', enum: ['accept', 'reject', 'ban', 'filter'] },
          },
          required: ['templateId', 'result'],
          additionalProperties: false,
        },
      },
    },
    async (request): Promise<SubscriptionCredits> => {
      if (!templateId || request.body.templateId !== templateId) {
        throw new HttpError(400, 'bad_request', 'not the template this server sends');
      }
      const held = credits.get(request.userId) ?? 0;
      const next = request.body.result === 'accept' ? Math.min(MAX_CREDITS, held + 1) : held;
      credits.set(request.userId, next);
      return { templateId, credits: next };
    },
  );
}
