import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ConversationPrefs, ConversationPrefsUpdate } from '../../../contract/http';
import { LIMITS } from '../../../contract/limits';
import { ChatError } from '../chat/errors';
import type { ConversationPrefsService } from '../chat/prefs';
import { HttpError } from './errors';

export interface ConversationRouteDeps {
  prefs: ConversationPrefsService;
  authenticate: (request: FastifyRequest) => Promise<void>;
}

const STATUS: Record<ChatError['code'], { status: number; code: string }> = {
  bad_frame: { status: 400, code: 'bad_request' },
  forbidden: { status: 403, code: 'forbidden' },
  not_found: { status: 404, code: 'not_found' },
  blocked: { status: 403, code: 'blocked' },
  rate_limited: { status: 429, code: 'rate_limited' },
  content_refused: { status: 422, code: 'content_refused' },
};

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
      try {
        return await deps.prefs.update(request.userId, request.params.conv, request.body);
      } catch (error) {
        if (!(error instanceof ChatError)) throw error;
        const { status, code } = STATUS[error.code];
        throw new HttpError(status, code, error.message);
      }
    },
  );
}
