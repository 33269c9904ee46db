import pino from 'pino';
import { tempDataDir } from '../../../test/support/tmp';
import { RELAXED_LOGIN_RATE, TEST_METRICS_TOKEN } from '../../../test/support/server-settings';
import WebSocket from 'ws';
import { startServer, type ChatServer } from '../../src/app';
import { loadConfig, type ServerConfig } from '../../src/config';
import { directConversationId } from '../../../contract/conversations';
import { LIMITS } from '../../../contract/limits';
import type { ChatMessage, ClientFrame, ServerFrame } from '../../../contract/frames';
import type { HttpErrorBody, LoginResponse } from '../../../contract/http';

const UNLIMITED = { perSecond: 1e9, burst: 1e9 };

/**
 * The limits a server of the tests starts with unless a test sets them: off, as most tests log in
 * many users, open many sockets and send faster than a person. A test about a limit sets it.
 */
export const RELAXED_LIMITS = {
  sendRate: UNLIMITED,
  frameRate: UNLIMITED,
  requestRate: UNLIMITED,
  userRequestRate: UNLIMITED,
  userSendRate: { perMinute: 1e9, burst: 1e9 },
  userMessageBytesPerDay: 1e15,
  typingRate: UNLIMITED,
  maxConnectionsPerUser: 1e6,
  maxConnections: 1e6,
} satisfies Partial<ServerConfig>;

/** A server started by a test, with the addresses its clients use. */
export interface TestServer extends ChatServer {
  readonly url: string;
  readonly wsUrl: string;
  readonly dataDir: string;
}

/** The HTTP and WebSocket addresses of a server listening at `url` (`http://host:port`). */
export function endpoints(url: string): { url: string; wsUrl: string } {
  return { url, wsUrl: url.replace(/^http/, 'ws') + '/ws' };
}

/**
 * A real server on a free port over a fresh SQLite file in a temporary folder, logging nowhere
 * unless given a logger. Stopping it a second time does nothing, so a test may stop it itself and
 * its fixture stop it again after.
 */
export async function startTestServer(overrides: Partial<ServerConfig> = {}, log?: pino.Logger): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? tempDataDir();
  const config: ServerConfig = {
    ...loadConfig({}),
    port: 0,
    host: '127.0.0.1',
    dataDir,
    logLevel: 'silent',
    ...RELAXED_LIMITS,
    // Off (0) likewise: the upload tests upload far more than 20 a minute with one token.
    uploadRate: 0,
    // Tests log many users in from 127.0.0.1; the login limit's own tests set it.
    loginRate: RELAXED_LOGIN_RATE,
    metricsToken: TEST_METRICS_TOKEN,
    ...overrides,
  };
  const server = await startServer(config, log ?? pino({ level: 'silent' }));
  let stopped: Promise<void> | undefined;
  return {
    ...server,
    ...endpoints(`http://127.0.0.1:${server.port}`),
    dataDir,
    stop: () => (stopped ??= server.stop()),
  };
}

export async function login(baseUrl: string, devId: string): Promise<LoginResponse> {
  const response = await fetch(`${baseUrl}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: 'dev-code', devId }),
  });
  if (!response.ok) throw new Error(`login failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as LoginResponse;
}

/** A valid 1×1 PNG: the smallest upload. */
export const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

/** Uploads an image as the app does (`POST /api/upload`, field `file`) and answers its URL; throws on a refusal. */
export async function uploadImage(baseUrl: string, token: string, bytes: Buffer = TINY_PNG): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), 'photo.png');
  const response = await fetch(`${baseUrl}/api/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  if (!response.ok) throw new Error(`upload failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { url: string }).url;
}

/** The server's /metrics (with the test servers' token), as `name{labels}` → value. */
export async function readMetrics(baseUrl: string, token = TEST_METRICS_TOKEN): Promise<Map<string, number>> {
  const response = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  const text = await response.text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

/** The text of a received frame, whichever shape `ws` handed it in. */
function rawText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** A raw protocol client: frames in arrival order, and waits for the next frame that matches. */
export class TestSocket {
  readonly frames: ServerFrame[] = [];
  readonly texts: string[] = [];
  private waiters: Array<{ match: (frame: ServerFrame) => boolean; resolve: (frame: ServerFrame) => void }> = [];
  closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const text = rawText(data);
      this.texts.push(text);
      if (isBinary || text === 'pong') return;
      const frame = JSON.parse(text) as ServerFrame;
      this.frames.push(frame);
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.match(frame)) return true;
        waiter.resolve(frame);
        return false;
      });
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  static open(wsUrl: string, token?: string, options: WebSocket.ClientOptions = {}): Promise<TestSocket> {
    const headers = { ...options.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) };
    const ws = new WebSocket(wsUrl, { ...options, headers });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new TestSocket(ws)));
      ws.once('error', reject);
    });
  }

  send(frame: ClientFrame | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** The next frame (already received or yet to come) of a type that also passes `where`. */
  next<T extends ServerFrame['type']>(
    type: T,
    where: (frame: Extract<ServerFrame, { type: T }>) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<Extract<ServerFrame, { type: T }>> {
    const match = (frame: ServerFrame) => frame.type === type && where(frame as Extract<ServerFrame, { type: T }>);
    const seen = this.frames.find(match);
    if (seen) {
      this.frames.splice(this.frames.indexOf(seen), 1);
      return Promise.resolve(seen as Extract<ServerFrame, { type: T }>);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${type}" frame within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (frame) => {
          clearTimeout(timer);
          this.frames.splice(this.frames.indexOf(frame), 1);
          resolve(frame as Extract<ServerFrame, { type: T }>);
        },
      });
    });
  }

  close(): void {
    this.ws.close();
  }
}

/** The whole history of a conversation, ascending, fetched page by page as a client pages back. */
export async function fullHistory(socket: TestSocket, conv: string): Promise<ChatMessage[]> {
  const messages: ChatMessage[] = [];
  let before: number | undefined;
  for (;;) {
    socket.send({ type: 'history', conv, limit: LIMITS.historyMax, ...(before === undefined ? {} : { before }) });
    const page = await socket.next('history', (frame) => frame.conv === conv);
    messages.unshift(...page.messages);
    if (!page.hasMore || page.messages.length === 0) return messages;
    before = page.messages[0].seq;
  }
}

/**
 * A round trip on one socket: the server handles a connection's frames in order and fans out
 * synchronously, so once the pong is back everything the earlier frames caused has arrived.
 */
export async function settle(...sockets: TestSocket[]): Promise<void> {
  await Promise.all(
    sockets.map(async (socket) => {
      socket.send({ type: 'ping' });
      await socket.next('pong');
    }),
  );
}

/** Whether `promise` settles within `ms` (it is left running either way). */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface Refusal {
  status: number;
  /** The `Retry-After` header, only when the refusal has one. */
  retryAfter?: string;
  body: unknown;
}

/** Tries an upgrade that the server is expected to refuse; its HTTP status, Retry-After (if any) and JSON body. */
export function refusedUpgrade(wsUrl: string, headers: Record<string, string> = {}): Promise<Refusal> {
  const ws = new WebSocket(wsUrl, { headers });
  return new Promise((resolve, reject) => {
    ws.on('open', () => {
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.on('unexpected-response', (request, response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        request.destroy();
        try {
          const retryAfter = response.headers['retry-after'];
          resolve({
            status: response.statusCode ?? 0,
            ...(retryAfter === undefined ? {} : { retryAfter }),
            body: text ? JSON.parse(text) : null,
          });
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
    // After the request is destroyed the client may report an error; the answer is already in.
    ws.on('error', reject);
  });
}

export interface ApiAnswer {
  status: number;
  contentType: string;
  body: unknown;
}

/** One HTTP request to the server; the body parsed as JSON when it is JSON. */
export async function api(
  baseUrl: string,
  method: string,
  route: string,
  options: { token?: string; json?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<ApiAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.raw !== undefined) {
    body = options.raw;
  }
  const response = await fetch(`${baseUrl}${route}`, { method, headers, body });
  const contentType = response.headers.get('content-type') ?? '';
  const text = await response.text();
  return { status: response.status, contentType, body: contentType.includes('json') && text ? JSON.parse(text) : text };
}

/**
 * Checks an HTTP failure: its status and the JSON `{error:{code,message}}` body every failure
 * answers with, a message and never a stack trace. Returns the message.
 */
export function expectFailure(
  answer: { status: number; body: unknown; contentType?: string },
  status: number,
  code: string,
): string {
  expect({ status: answer.status, body: answer.body }).toEqual({
    status,
    body: { error: { code, message: expect.any(String) } },
  });
  if (answer.contentType !== undefined) expect(answer.contentType).toContain('application/json');
  const { message } = (answer.body as HttpErrorBody).error;
  expect(message.length).toBeGreaterThan(0);
  expect(message).not.toMatch(/\bat .+\(.+:\d+:\d+\)/);
  return message;
}

/** A logged-in user with one open socket. */
export interface Person {
  id: string;
  token: string;
  login: LoginResponse;
  socket: TestSocket;
  /** Opens one more connection of the same user. */
  connect(): Promise<TestSocket>;
}

/**
 * Logs a fresh device in and opens a socket for it. Every socket opened through here is also
 * recorded in `sockets`, so an afterEach can close them all.
 */
export async function person(
  server: { url: string; wsUrl: string },
  sockets: TestSocket[],
  devId: string = `dev-${Math.random().toString(36).slice(2, 12)}`,
): Promise<Person> {
  const answer = await login(server.url, devId);
  const connect = async () => {
    const socket = await TestSocket.open(server.wsUrl, answer.token);
    sockets.push(socket);
    return socket;
  };
  return { id: answer.user.id, token: answer.token, login: answer, socket: await connect(), connect };
}

/** Two people on fresh devices, a socket open for each, and the id of their one-to-one conversation. */
export async function twoPeople(
  server: { url: string; wsUrl: string },
  sockets: TestSocket[],
): Promise<{ alice: Person; bob: Person; conv: string }> {
  const alice = await person(server, sockets);
  const bob = await person(server, sockets);
  return { alice, bob, conv: directConversationId(alice.id, bob.id) };
}

/** Closes every socket in the list (and empties it). */
export function closeAll(sockets: TestSocket[]): void {
  for (const socket of sockets.splice(0)) socket.ws.terminate();
}

/**
 * The check every attack test makes while its attack runs: two people who have nothing to do
 * with the attacker log in, connect, and one's text reaches the other (acked, delivered, and in
 * the receiver's sync), and `/healthz` answers. Throws (with what failed) otherwise.
 */
export async function chatStillWorks(server: { url: string; wsUrl: string }): Promise<void> {
  const sockets: TestSocket[] = [];
  try {
    const health = await fetch(`${server.url}/healthz`);
    if (health.status !== 200) throw new Error(`/healthz answered ${health.status}`);
    const { alice, bob, conv } = await twoPeople(server, sockets);
    const cid = `still-works-${Math.random().toString(36).slice(2, 10)}`;
    alice.socket.send({ type: 'send', cid, to: bob.id, kind: 'text', body: '还能聊天吗？' });
    const ack = await alice.socket.next('ack', (frame) => frame.cid === cid);
    const delivered = await bob.socket.next('message', (frame) => frame.cid === cid);
    expect(delivered).toMatchObject({ conv, seq: ack.seq, from: alice.id, body: '还能聊天吗？' });
    bob.socket.send({ type: 'sync', cursors: {} });
    const sessions = await bob.socket.next('sessions');
    expect(sessions.sessions.map((session) => session.conv)).toContain(conv);
    await bob.socket.next('synced');
  } finally {
    closeAll(sockets);
  }
}
