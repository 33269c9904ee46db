import Fastify, { LogController, type FastifyBaseLogger, type FastifyError } from 'fastify';
import pino, { type Logger } from 'pino';
import { resolveTokenSecret, VerifiedTokens } from './auth/tokens';
import { KnownUsers } from './chat/known-users';
import { WechatLogin } from './auth/wechat';
import { LocalBus } from './bus/local';
import { RedisBus } from './bus/redis';
import type { Bus } from './bus/types';
import { PresenceService } from './chat/presence';
import { ChatService } from './chat/service';
import { UsersService } from './chat/users';
import type { ServerConfig } from './config';
import { bearerAuth, HttpError, registerRoutes } from './http/routes';
import { isUploadUrl, uploadRoutes } from './http/uploads';
import { PrometheusMetrics } from './metrics';
import { openStore } from './store';
import type { Store } from './store/types';
import { Gateway } from './ws/gateway';

export interface ChatServer {
  /** The port it listens on (the real one when the config asked for 0). */
  readonly port: number;
  readonly store: Store;
  readonly log: Logger;
  /** Stops accepting, closes sockets with 1001, closes storage. */
  stop(): Promise<void>;
}

/** JSON lines for machines; readable lines when a person watches a terminal (`npm start`). */
function createLogger(config: ServerConfig): Logger {
  if (!config.prettyLogs) return pino({ level: config.logLevel });
  return pino({
    level: config.logLevel,
    transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss', ignore: 'pid,hostname' } },
  });
}

/** Wires storage, the chat domain, HTTP routes and the socket gateway, and listens. */
export async function startServer(config: ServerConfig, log?: Logger): Promise<ChatServer> {
  const logger = log ?? createLogger(config);
  const store = await openStore(config, logger);
  // Several instances: deliveries and presence go through Redis. One: straight to the gateway.
  const bus: Bus = config.redisUrl
    ? new RedisBus({
        url: config.redisUrl,
        prefix: config.redisPrefix,
        instanceTtlMs: config.redisInstanceTtlMs,
        log: logger,
      })
    : new LocalBus();
  if (config.redisUrl && !config.tokenSecret) {
    logger.warn('REDIS_URL is set but TOKEN_SECRET is not: every instance must sign tokens with the same secret');
  }
  const knownUsers = new KnownUsers(store);
  const tokens = new VerifiedTokens(
    resolveTokenSecret(config.tokenSecret, config.dataDir),
    config.tokenTtlSeconds,
    knownUsers,
  );

  let accepting = true;
  const metrics = new PrometheusMetrics();
  // The domain reaches people through the bus; the bus reaches this instance's connections
  // through the gateway, and tells presence it finds out by itself to the presence service.
  const presence = new PresenceService(store, bus);
  const users = new UsersService(store, bus, presence);
  const chat = new ChatService(store, bus, {
    metrics,
    // An image message must show one of our uploads, never an arbitrary address.
    isImageUrl: (body) => isUploadUrl(body, config.publicUrl),
    users: knownUsers,
  });
  const gateway = new Gateway(chat, presence, tokens, logger, {
    heartbeatMs: config.heartbeatMs,
    sendRate: config.sendRate,
    frameRate: config.frameRate,
    requestRate: config.requestRate,
    typingRate: config.typingRate,
    user: {
      requests: config.userRequestRate,
      sends: config.userSendRate,
      bytesPerDay: config.userMessageBytesPerDay,
    },
    maxConnectionsPerUser: config.maxConnectionsPerUser,
    maxConnections: config.maxConnections,
    metrics,
  });
  await bus.start(gateway, presence);
  logger.info(
    { store: config.databaseUrl ? 'postgresql' : 'sqlite', bus: config.redisUrl ? 'redis' : 'in-process' },
    'storage and fan-out',
  );

  const app = Fastify({
    // Without the widening, Fastify's instance type carries pino's Logger and no longer matches
    // the FastifyInstance that routes are registered on.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
  });
  app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
    metrics.error(
      error instanceof HttpError ? error.code : error.validation ? 'bad_request' : String(error.statusCode ?? 500),
    );
    if (error instanceof HttpError) {
      return reply.code(error.statusCode).send({ error: { code: error.code, message: error.message } });
    }
    if (error.validation) {
      return reply.code(400).send({ error: { code: 'bad_request', message: error.message } });
    }
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error({ err: error }, 'request failed');
    const message = status === 500 ? 'internal error' : error.message;
    return reply.code(status).send({ error: { code: status === 500 ? 'internal' : 'bad_request', message } });
  });
  app.setNotFoundHandler((_request, reply) => {
    reply.code(404).send({ error: { code: 'not_found', message: 'no such route' } });
  });
  registerRoutes(app, {
    users,
    tokens,
    wechat: config.wechat ? new WechatLogin(config.wechat, logger) : undefined,
    accepting: () => accepting,
  });
  // Encapsulated: the multipart parser serves the upload route only.
  await app.register(uploadRoutes, {
    dataDir: config.dataDir,
    maxBytes: config.uploadMaxBytes,
    publicUrl: config.publicUrl,
    authenticate: bearerAuth(tokens),
  });
  // Operators' view; the reverse proxy keeps it off the public internet (docs/deploy.md).
  app.get('/metrics', async (_request, reply) => {
    return reply.type(metrics.contentType).send(await metrics.render());
  });
  gateway.attach(app.server);

  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;

  return {
    port,
    store,
    log: logger,
    async stop() {
      accepting = false;
      await gateway.close();
      // Fastify closes idle keep-alive connections at once; one still finishing a response
      // would otherwise hold the stop for the keep-alive timeout.
      const cut = setTimeout(() => app.server.closeAllConnections(), 1000);
      await app.close();
      clearTimeout(cut);
      await bus.close();
      await store.close();
    },
  };
}
