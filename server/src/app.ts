import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import { CLOSE_CODES, LIMITS } from '../../contract/limits';
import pino, { type Logger } from 'pino';
import { resolveTokenSecret, VerifiedTokens } from './auth/tokens';
import { KnownUsers } from './chat/known-users';
import { WechatLogin } from './auth/wechat';
import { LocalBus } from './bus/local';
import { RedisBus } from './bus/redis';
import type { Bus } from './bus/types';
import { PresenceService } from './chat/presence';
import { GroupService } from './chat/groups';
import { ConversationPrefsService } from './chat/prefs';
import { ChatService } from './chat/service';
import { UsersService } from './chat/users';
import type { ServerConfig } from './config';
import { clientErrorHandler, frameworkErrors, installErrorHandlers } from './http/errors';
import { loginLimit, registerLoginLimit } from './http/login-limit';
import { bearerAuth, registerRoutes } from './http/routes';
import { registerGroupRoutes } from './http/group-routes';
import { registerConversationRoutes } from './http/conversation-routes';
import { registerSubscriptionRoutes } from './http/subscription-routes';
import { SubscriptionsService } from './chat/subscriptions';
import { Reminders } from './notify/reminders';
import { WechatAccessToken, WechatSubscribeApi } from './notify/wechat-api';
import { registerSafetyRoutes } from './http/safety-routes';
import { registerAdminRoutes } from './http/admin-routes';
import { wechatEventRoutes } from './http/wechat-events';
import { ContentCheck } from './chat/content-check';
import { registerAdminPage } from './http/admin-page';
import { SafetyService } from './chat/safety';
import { MinuteCounter, ModerationService } from './chat/moderation';
import { routeAjvOptions } from './ajv-options';
import { registerMetricsRoute, registerSecurityHeaders } from './http/security';
import { uploadRoutes } from './http/uploads';
import { UploadStore, uploadsDir } from './http/upload-store';
import { PrometheusMetrics } from './metrics';
import { openStore } from './store';
import type { Store } from './store/types';
import { Gateway } from './ws/gateway';

export interface ChatServer {
  /** The port it listens on (the real one when the config asked for 0). */
  readonly port: number;
  readonly store: Store;
  readonly log: Logger;
  /** Reminders of users whose app is closed; undefined when they are off (tests wait for `idle`). */
  readonly reminders?: Pick<Reminders, 'idle' | 'backlog'>;
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

/**
 * Node's HTTP server settings for HTTP_IDLE_TIMEOUT_MS: a connection silent that long is closed,
 * whether it never sent a byte, stalled within a request, or sits idle between keep-alive
 * requests; headers that trickle in take no longer than that in all. After a WebSocket upgrade
 * none of these apply (ws clears the socket's timeout; its heartbeat rule takes over), and a slow
 * upload that keeps sending is the upload floor rate's to cut (server/src/http/uploads.ts).
 */
function idleTimeouts(ms: number) {
  return {
    // socket.setTimeout: inactivity from the connection on, until a response is done.
    connectionTimeout: ms,
    // Between requests on a kept-alive connection (Node swaps the socket timeout for this one).
    keepAliveTimeout: ms,
    // The whole request is not bounded (an upload may take long); only its headers are.
    requestTimeout: 0,
    // Node checks headers' deadlines this often (30 s by default); 0 turns every limit off.
    http: {
      headersTimeout: ms,
      connectionsCheckingInterval: ms > 0 ? Math.max(50, Math.min(30_000, Math.floor(ms / 2))) : 30_000,
    },
  };
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
  const safety = new SafetyService(store, {
    users: knownUsers,
    reportsPerHour: config.reportRate,
    clock: config.safetyClock,
  });
  const tokens = new VerifiedTokens(
    resolveTokenSecret(config.tokenSecret, config.dataDir),
    config.tokenTtlSeconds,
    knownUsers,
    safety,
  );

  let accepting = true;
  const metrics = new PrometheusMetrics();
  // The domain reaches people through the bus; the bus reaches this instance's connections
  // through the gateway, and tells presence it finds out by itself to the presence service.
  const presence = new PresenceService(store, bus);
  const users = new UsersService(store, bus, presence);
  // Image bodies and avatars must name one of our uploads, never an arbitrary address.
  const uploads = new UploadStore({
    dir: uploadsDir(config.dataDir),
    store,
    graceS: config.uploadGraceS,
    publicUrl: config.publicUrl,
    log: logger,
  });
  // Calls to WeChat's server API (reminders, the content check) share one access token.
  const remindersAbort = new AbortController();
  const apiOptions = config.wechat
    ? { ...config.wechat, metrics, log: logger, signal: remindersAbort.signal }
    : undefined;
  const accessToken = apiOptions ? new WechatAccessToken(apiOptions) : undefined;
  // Reminders (WeChat subscription messages): only with WeChat login and a template configured.
  const reminders =
    apiOptions && accessToken && config.subscribe
      ? (() => {
          const { subscribe } = config;
          return new Reminders({
            store,
            isOnline: (userId) => presence.isOnline(userId),
            sender: new WechatSubscribeApi(apiOptions, accessToken),
            templateId: subscribe.templateId,
            keywords: subscribe.keywords,
            miniprogramState: subscribe.miniprogramState,
            cooldownMs: config.notifyCooldownS * 1000,
            metrics,
            log: logger,
            sendConcurrency: config.notifySendConcurrency,
          });
        })()
      : undefined;
  if (reminders) {
    logger.info(
      { template: config.subscribe?.templateId, cooldownS: config.notifyCooldownS },
      'reminders are on: a user whose app is closed gets a WeChat subscription message',
    );
  } else {
    const missing = [
      ...(config.wechat ? [] : ['WX_APPID', 'WX_SECRET']),
      ...(config.subscribe ? [] : ['WX_SUBSCRIBE_TEMPLATE_ID', 'WX_SUBSCRIBE_FIELDS']),
    ];
    logger.info(`reminders are off (${missing.join(', ')} not set)`);
  }
  const subscriptions = new SubscriptionsService(store, reminders ? config.subscribe?.templateId : undefined);
  // WeChat's content check (WX_CONTENT_CHECK=1): texts before they are stored, media after.
  // `recall` is bound once the chat service exists (a risky image is recalled as a moderator would).
  let recall: (conv: string, seq: number, cid: string) => Promise<unknown> = () => Promise.resolve();
  const contentCheck =
    config.contentCheck && config.wechat && accessToken
      ? new ContentCheck({
          store,
          tokens: accessToken,
          apiBase: config.wechat.apiBase,
          metrics,
          log: logger,
          fail: config.contentCheck.fail,
          timeoutMs: config.contentCheck.timeoutMs,
          concurrency: config.contentCheck.concurrency,
          media: config.contentCheck.pushToken !== undefined,
          recall: (conv, seq, cid) => recall(conv, seq, cid),
          signal: remindersAbort.signal,
        })
      : undefined;
  if (config.contentCheck) {
    logger.info(
      { fail: config.contentCheck.fail, media: config.contentCheck.pushToken !== undefined },
      'content check is on: texts through msg_sec_check, images and voice through media_check_async',
    );
    if (!config.contentCheck.pushToken) {
      logger.warn(
        'WX_CONTENT_CHECK=1 without WX_PUSH_TOKEN: images and voice are not checked (no verdict could arrive)',
      );
    }
  }
  // Messages stored in the last minute, for the moderation console's live panel.
  const lastMinute = new MinuteCounter();
  const chat = new ChatService(store, bus, {
    metrics: {
      messageStored() {
        metrics.messageStored();
        lastMinute.add();
      },
    },
    imageUrl: (body, origin) => uploads.claim(body, origin, 'image'),
    voiceUrl: (body, origin, durationS) =>
      uploads.claimVoice(body, origin, durationS, LIMITS.voiceDurationSlackSeconds * 1000),
    users: knownUsers,
    recallWindowS: config.recallWindowS,
    isOnline: (userId) => bus.isOnline(userId),
    ...(reminders ? { stored: (message, members) => reminders.messageStored(message, members) } : {}),
    ...(contentCheck ? { contentCheck } : {}),
  });
  recall = (conv, seq, cid) => chat.moderatorRecall(conv, seq, cid);
  const prefs = new ConversationPrefsService(store, bus, knownUsers);
  const groups = new GroupService(store, bus, {
    maxMembers: config.groupMaxMembers,
    avatarUrl: (url, origin) => uploads.claim(url, origin),
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
  const moderation = new ModerationService(store, chat, safety, {
    disconnect: (userId) => bus.disconnect([userId], CLOSE_CODES.banned, 'banned'),
    stats: () => ({ online: gateway.users().length, messagesLastMinute: lastMinute.total() }),
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
    // The client address (the login limit's key) from X-Forwarded-For of these proxies only.
    trustProxy: config.trustProxy ?? false,
    ...idleTimeouts(config.httpIdleTimeoutMs),
    ajv: { customOptions: routeAjvOptions },
    frameworkErrors: frameworkErrors(metrics),
    clientErrorHandler: clientErrorHandler(metrics),
  });
  installErrorHandlers(app, metrics);
  // JSON only: a text/plain body is 415, not a string that fails the schema.
  app.removeContentTypeParser('text/plain');
  await registerSecurityHeaders(app);
  await registerLoginLimit(app, config.loginRate);
  registerRoutes(app, {
    loginLimit: loginLimit(config.loginRate),
    users,
    tokens,
    wechat: config.wechat ? new WechatLogin(config.wechat, logger) : undefined,
    accepting: () => accepting,
    avatarUrl: (url, origin) => uploads.claim(url, origin),
    bans: safety,
    contentCheck,
  });
  registerSafetyRoutes(app, { safety, authenticate: bearerAuth(tokens) });
  await registerAdminRoutes(app, { moderation, token: config.adminToken });
  registerGroupRoutes(app, {
    groups,
    authenticate: bearerAuth(tokens),
    maxMembers: config.groupMaxMembers,
    contentCheck,
  });
  if (contentCheck && config.contentCheck?.pushToken) {
    await app.register(wechatEventRoutes, { pushToken: config.contentCheck.pushToken, contentCheck, log: logger });
  }
  registerAdminPage(app, { token: config.adminToken, publicUrl: config.publicUrl });
  registerConversationRoutes(app, { prefs, authenticate: bearerAuth(tokens) });
  registerSubscriptionRoutes(app, { subscriptions, authenticate: bearerAuth(tokens) });
  // Encapsulated: the multipart parser serves the upload route only.
  await app.register(uploadRoutes, {
    uploads,
    store,
    maxBytes: config.uploadMaxBytes,
    audioMaxBytes: config.uploadAudioMaxBytes,
    perMinute: config.uploadRate,
    bytesPerDay: config.uploadBytesPerDay,
    minBytesPerS: config.uploadMinBytesPerS,
    paceWindowMs: config.uploadPaceWindowMs,
    publicUrl: config.publicUrl,
    authenticate: bearerAuth(tokens),
  });
  // Operators' view, with METRICS_TOKEN only (docs/deploy.md).
  registerMetricsRoute(app, metrics, config.metricsToken);
  gateway.attach(app.server);

  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;

  return {
    port,
    store,
    log: logger,
    ...(reminders ? { reminders } : {}),
    async stop() {
      accepting = false;
      await gateway.close();
      // Calls to WeChat under way are cut; what waits is dropped.
      remindersAbort.abort();
      await reminders?.close();
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
