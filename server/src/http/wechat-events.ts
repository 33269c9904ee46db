/**
 * WeChat's message push (消息推送) to `/wechat/events` (docs/protocol.md, "Safety"; docs/deploy.md):
 * the `GET` with `echostr` that verifies the URL, and `POST`s of events in JSON (plain mode), of
 * which we act on `wxa_media_check` (an image's or voice message's verdict). Every request must be
 * signed with WX_PUSH_TOKEN: `signature` = sha1 of the sorted [token, timestamp, nonce]; anything
 * else is `403 forbidden` and changes nothing.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { isSuggest, validPushSignature, type ContentCheck } from '../chat/content-check';
import { HttpError } from './errors';

export interface WechatEventsDeps {
  pushToken: string;
  contentCheck: Pick<ContentCheck, 'mediaVerdict'>;
  log: Logger;
}

interface PushQuery {
  signature?: string;
  timestamp?: string;
  nonce?: string;
  echostr?: string;
}

const querySchema = {
  type: 'object',
  properties: {
    signature: { type: 'string', maxLength: 100 },
    timestamp: { type: 'string', maxLength: 20 },
    nonce: { type: 'string', maxLength: 100 },
    echostr: { type: 'string', maxLength: 200 },
  },
} as const;

/** Registers the push routes (encapsulated: their body parser serves them only). */
export async function wechatEventRoutes(app: FastifyInstance, deps: WechatEventsDeps): Promise<void> {
  // WeChat's JSON may come labelled otherwise; it is parsed here, after the signature check.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  const verify = (request: FastifyRequest<{ Querystring: PushQuery }>) => {
    if (!validPushSignature(deps.pushToken, request.query)) {
      deps.log.warn({ ip: request.ip }, 'wechat events: a push with a wrong signature was refused');
      throw new HttpError(403, 'forbidden', 'the signature does not match');
    }
  };

  app.get<{ Querystring: PushQuery }>(
    '/wechat/events',
    { schema: { querystring: querySchema } },
    async (request, reply) => {
      verify(request);
      return reply.type('text/plain; charset=utf-8').send(request.query.echostr ?? '');
    },
  );

  app.post<{ Querystring: PushQuery; Body: unknown }>(
    '/wechat/events',
    { schema: { querystring: querySchema } },
    async (request, reply) => {
      verify(request);
      let event: unknown = request.body;
      if (typeof event === 'string') {
        try {
          event = JSON.parse(event);
        } catch {
          throw new HttpError(400, 'bad_request', 'the push must be JSON (the message-push data format: JSON)');
        }
      }
      const push = (typeof event === 'object' && event !== null ? event : {}) as {
        Event?: unknown;
        trace_id?: unknown;
        result?: { suggest?: unknown };
      };
      if (push.Event === 'wxa_media_check' && typeof push.trace_id === 'string') {
        const suggest = push.result?.suggest;
        if (isSuggest(suggest)) await deps.contentCheck.mediaVerdict(push.trace_id, suggest);
      }
      // WeChat takes "success" (or an empty answer) as received; anything else, it retries.
      return reply.type('text/plain; charset=utf-8').send('success');
    },
  );
}
