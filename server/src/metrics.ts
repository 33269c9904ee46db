import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the server counts; the domain and transport report through this, not prom-client. */
export interface Metrics {
  connectionOpened(): void;
  connectionClosed(): void;
  messageStored(): void;
  /** Frames of type `message` handed to connections. */
  messagesDelivered(count: number): void;
  /** How long one `sync` took to answer, in seconds. */
  syncDuration(seconds: number): void;
  /** An `error` frame or HTTP error answered, by its code. */
  error(code: string): void;
  /** A reminder (WeChat subscription message) WeChat took. */
  reminderSent(): void;
  /** A stored message or a reminder dropped because a reminder queue was full. */
  reminderDropped(): void;
  /** A call to WeChat's API that failed, by API and errcode (or `timeout`, `unreachable`, `http_<status>`, `bad_answer`). */
  wechatError(api: string, errcode: string): void;
}

/** The Prometheus registry of one server instance (its own, so several can share a process). */
export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly connections = new Gauge(this.metric('chat_connections_open', 'WebSocket connections open now'));
  private readonly stored = new Counter(
    this.metric('chat_messages_stored_total', 'Messages stored (a resent cid counts once)'),
  );
  private readonly delivered = new Counter(
    this.metric('chat_messages_delivered_total', 'Message frames handed to connections'),
  );
  private readonly syncs = new Histogram({
    ...this.metric('chat_sync_duration_seconds', 'Time to answer a sync, from the frame to synced'),
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });
  private readonly errors = new Counter({
    ...this.metric('chat_errors_total', 'Errors answered to clients, by code'),
    labelNames: ['code'],
  });

  private readonly remindersSent = new Counter(
    this.metric('chat_reminders_sent_total', 'Reminders (WeChat subscription messages) WeChat took'),
  );
  private readonly remindersDropped = new Counter(
    this.metric('chat_reminders_dropped_total', 'Stored messages or reminders dropped: a reminder queue was full'),
  );
  private readonly wechatErrors = new Counter({
    ...this.metric('chat_wechat_errors_total', "Failed calls to WeChat's API, by API and errcode"),
    labelNames: ['api', 'errcode'],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  connectionOpened(): void {
    this.connections.inc();
  }

  connectionClosed(): void {
    this.connections.dec();
  }

  messageStored(): void {
    this.stored.inc();
  }

  messagesDelivered(count: number): void {
    if (count > 0) this.delivered.inc(count);
  }

  syncDuration(seconds: number): void {
    this.syncs.observe(seconds);
  }

  error(code: string): void {
    this.errors.inc({ code });
  }

  reminderSent(): void {
    this.remindersSent.inc();
  }

  reminderDropped(): void {
    this.remindersDropped.inc();
  }

  wechatError(api: string, errcode: string): void {
    this.wechatErrors.inc({ api, errcode });
  }

  /** A metric of this instance's registry, not prom-client's global one. */
  private metric(name: string, help: string): { name: string; help: string; registers: Registry[] } {
    return { name, help, registers: [this.registry] };
  }

  /** The text exposition format, for GET /metrics. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
