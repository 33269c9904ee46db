import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ConversationPrefs, ConversationPrefsUpdate } from '../../../contract/http';
import { LIMITS } from '../../../contract/limits';
import type { ConversationPrefsService } from '../chat/prefs';
import { asHttp } from './chat-refusals';

export interface ConversationRouteDeps {
  prefs: ConversationPrefsService;
  authenticate: (request: FastifyRequest) => Promise<void>;
}

/** A conversation's settings for the caller (docs/protocol.md, "Message actions"). */
export function registerConversationRoutes(app: FastifyInstance, deps: ConversationRouteDeps): void {
  app.put<{ Params: { conv: string }; Body: ConversationPrefsUpdate }>(
    '/api/conversations/:conv',
    {
      preHandler: deps.authenticate,
      schema: {
        params: {
          type: 'object',
          properties: { conv: { type: 'string', minLength: 1, maxLength: LIMITS.maxIdLength } },
          required: ['conv'],
        },
        body: {
          type: 'object',
          properties: { muted: { type: 'boolean' }, pinned: { type: 'boolean' } },
          additionalProperties: false,
        },
      },
    },
    async (request): Promise<ConversationPrefs> => {
      return asHttp(() => deps.prefs.update(request.userId, request.params.conv, request.body));
    },
  );
}
