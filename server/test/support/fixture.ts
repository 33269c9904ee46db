/**
 * Jest hooks around real servers: call these at the top of a test file or a describe block, and
 * they start and stop what the tests of that scope use.
 */
import type WebSocket from 'ws';
import type { ServerConfig } from '../../src/config';
import { closeAll, person, startTestServer, TestSocket, type Person, type TestServer } from './server';

/**
 * Sockets the tests of this scope open: every one is cut after each test, or after the last test
 * for sockets the tests share (`'all'`, opened in a beforeAll).
 */
export function useSockets(scope: 'each' | 'all' = 'each'): TestSocket[] {
  const sockets: TestSocket[] = [];
  (scope === 'each' ? afterEach : afterAll)(() => closeAll(sockets));
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

/**
 * One server for the tests of the calling scope: started before its first test and stopped after
 * its last (`'each'`: a fresh one for every test). The settings may be a function, read when the
 * server starts, for values an earlier hook makes.
 */
export function useTestServer(
  overrides: Partial<ServerConfig> | (() => Partial<ServerConfig>) = {},
  scope: 'all' | 'each' = 'all',
): ServerFixture {
  const sockets: TestSocket[] = [];
  // The running server's fields (its addresses, store and stop) are copied in when it starts, so
  // the tests read them as they would a server's: only inside tests and hooks.
  const fixture = {
    sockets,
    person: (devId?: string) => person(fixture, sockets, devId),
    async open(token?: string, options?: WebSocket.ClientOptions) {
      const socket = await TestSocket.open(fixture.wsUrl, token, options);
      sockets.push(socket);
      return socket;
    },
  } as ServerFixture;
  const start = async () => {
    Object.assign(fixture, await startTestServer(typeof overrides === 'function' ? overrides() : overrides));
  };
  const stop = async () => {
    closeAll(sockets);
    // Absent when the server failed to start: that failure is the one to report.
    await fixture.stop?.();
  };
  if (scope === 'each') {
    beforeEach(start);
    afterEach(stop);
  } else {
    beforeAll(start);
    afterEach(() => closeAll(sockets));
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
