/**
 * Jest hooks around real servers: call these at the top of a test file or a describe block, and
 * they start and stop what the tests of that scope use.
 */
import type WebSocket from 'ws';
import type { ServerConfig } from '../../src/config';
import { closeAll, person, startTestServer, TestSocket, type Person, type TestServer } from './server';

/** Sockets the tests of this scope open: every one is cut after each test. */
export function useSockets(): TestSocket[] {
  const sockets: TestSocket[] = [];
  afterEach(() => closeAll(sockets));
  return sockets;
}

/** The shared server of a scope, as its tests see it: whichever one is running now. */
export interface ServerFixture extends TestServer {
  /** Sockets opened through `person` and `open`, cut after each test. */
  readonly sockets: TestSocket[];
  /** Logs a device in (a fresh one unless named) and opens a socket for it, cut after the test. */
  person(devId?: string): Promise<Person>;
  /** Opens a socket with this token (none: an upgrade without one), cut after the test. */
  open(token?: string, options?: WebSocket.ClientOptions): Promise<TestSocket>;
}

class RunningServer implements ServerFixture {
  server?: TestServer;
  readonly sockets: TestSocket[] = [];

  private get running(): TestServer {
    if (!this.server) throw new Error('the test server is not running: use it inside tests and hooks');
    return this.server;
  }

  get port() {
    return this.running.port;
  }
  get store() {
    return this.running.store;
  }
  get log() {
    return this.running.log;
  }
  get url() {
    return this.running.url;
  }
  get wsUrl() {
    return this.running.wsUrl;
  }
  get dataDir() {
    return this.running.dataDir;
  }

  stop(): Promise<void> {
    return this.running.stop();
  }

  person(devId?: string): Promise<Person> {
    return person(this.running, this.sockets, devId);
  }

  async open(token?: string, options?: WebSocket.ClientOptions): Promise<TestSocket> {
    const socket = await TestSocket.open(this.wsUrl, token, options);
    this.sockets.push(socket);
    return socket;
  }
}

/**
 * One server for the tests of the calling scope: started before its first test and stopped after
 * its last (`'each'`: a fresh one for every test). The settings may be a function, read when the
 * server starts, for values an earlier hook makes.
 */
export function useTestServer(
  overrides: Partial<ServerConfig> | (() => Partial<ServerConfig>) = {},
  scope: 'all' | 'each' = 'all',
): ServerFixture {
  const fixture = new RunningServer();
  const start = async () => {
    fixture.server = await startTestServer(typeof overrides === 'function' ? overrides() : overrides);
  };
  const stop = async () => {
    closeAll(fixture.sockets);
    await fixture.server?.stop();
    fixture.server = undefined;
  };
  if (scope === 'each') {
    beforeEach(start);
    afterEach(stop);
  } else {
    beforeAll(start);
    afterEach(() => closeAll(fixture.sockets));
    afterAll(stop);
  }
  return fixture;
}

/**
 * Servers tests start for themselves (settings of their own, a restart on the same data): each
 * is stopped after its test, unless the test stopped it already.
 */
export function useOwnServers(
  defaults: Partial<ServerConfig> = {},
): (overrides?: Partial<ServerConfig>) => Promise<TestServer> {
  const started: TestServer[] = [];
  afterEach(async () => {
    for (const server of started.splice(0)) await server.stop();
  });
  return async (overrides = {}) => {
    const server = await startTestServer({ ...defaults, ...overrides });
    started.push(server);
    return server;
  };
}
