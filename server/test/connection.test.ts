/**
 * The socket's life: authentication at the upgrade, the token running out while connected,
 * heartbeats (both kinds of ping, and dropping silent clients), and a graceful stop.
 */
import { CLOSE_CODES } from '../../contract/limits';
import { Tokens } from '../src/auth/tokens';
import { useOwnServers, useSockets, useTestServer } from './support/fixture';
import { fullHistory, login, refusedUpgrade, settle, settlesWithin, TestSocket } from './support/server';
import { waitFor } from './support/wait';

const SECRET = 'connection-test-secret';
const sockets = useSockets();
const ownServer = useOwnServers({ tokenSecret: SECRET });

async function open(url: string, token?: string): Promise<TestSocket> {
  const socket = await TestSocket.open(url, token);
  sockets.push(socket);
  return socket;
}

const UNAUTHORIZED = { error: { code: 'unauthorized', message: expect.any(String) } };

describe('the upgrade', () => {
  const server = useTestServer({ tokenSecret: SECRET });

  it('refuses a missing token with HTTP 401 before the upgrade', async () => {
    expect(await refusedUpgrade(server.wsUrl)).toEqual({ status: 401, body: UNAUTHORIZED });
    // A plain ws client without an 'unexpected-response' listener sees it as an error naming 401.
    await expect(TestSocket.open(server.wsUrl)).rejects.toThrow(/401/);
  });

  it('refuses a bad token, a token signed with another secret and an expired token with 401', async () => {
    const { user, token } = await login(server.url, 'upgrade-bad-tokens');
    const other = await new Tokens('some-other-secret', 3600).issue(user.id);
    const expired = await new Tokens(SECRET, -1).issue(user.id);
    for (const bad of ['garbage', token.slice(0, -3) + 'abc', other.token, expired.token]) {
      expect(await refusedUpgrade(server.wsUrl, { authorization: `Bearer ${bad}` })).toEqual({
        status: 401,
        body: UNAUTHORIZED,
      });
      expect(await refusedUpgrade(`${server.wsUrl}?token=${encodeURIComponent(bad)}`)).toEqual({
        status: 401,
        body: UNAUTHORIZED,
      });
    }
    const answer = await refusedUpgrade(server.wsUrl, { authorization: `Bearer ${expired.token}` });
    expect((answer.body as { error: { message: string } }).error.message).toMatch(/expired/);
  });

  it('accepts the token in an Authorization: Bearer header', async () => {
    const { token } = await login(server.url, 'upgrade-header');
    const socket = await open(server.wsUrl, token);
    socket.send({ type: 'ping' });
    expect(await socket.next('pong')).toEqual({ type: 'pong' });
  });

  it('accepts the token as ?token= for clients that cannot set headers', async () => {
    const { token } = await login(server.url, 'upgrade-query');
    const socket = await open(`${server.wsUrl}?token=${encodeURIComponent(token)}`);
    socket.send({ type: 'ping' });
    expect(await socket.next('pong')).toEqual({ type: 'pong' });
  });

  it('answers 404 for an upgrade on any path but /ws, even with a good token', async () => {
    const { token } = await login(server.url, 'upgrade-paths');
    const base = server.url.replace('http', 'ws');
    for (const route of ['/', '/socket', '/ws/', '/wsx', '/api/ws']) {
      expect(await refusedUpgrade(`${base}${route}?token=${token}`)).toEqual({
        status: 404,
        body: { error: { code: 'not_found', message: expect.any(String) } },
      });
    }
  });
});

describe('a token that runs out while connected', () => {
  it('closes the socket with 4001', async () => {
    // tokenTtlSeconds 2: tokens carry whole-second expiries, so this one lives between 1 and 2 s.
    const server = await ownServer({ tokenTtlSeconds: 2 });
    const { token, expiresAt } = await login(server.url, 'expiring-token');
    const socket = await open(server.wsUrl, token);
    socket.send({ type: 'ping' });
    await socket.next('pong');

    const closed = await socket.closed;
    expect(closed).toEqual({ code: CLOSE_CODES.tokenExpired, reason: 'token expired' });
    expect(closed.code).toBe(4001);
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt - 50);

    // And the same token no longer opens a socket.
    expect((await refusedUpgrade(server.wsUrl, { authorization: `Bearer ${token}` })).status).toBe(401);
  });
});

describe('ping', () => {
  const server = useTestServer();

  it('answers the JSON ping with a JSON pong, and extra fields are ignored', async () => {
    const { token } = await login(server.url, 'ping-json');
    const socket = await open(server.wsUrl, token);
    socket.send({ type: 'ping' });
    expect(await socket.next('pong')).toEqual({ type: 'pong' });
    socket.send({ type: 'ping', extra: 1 });
    expect(await socket.next('pong')).toEqual({ type: 'pong' });
    expect(socket.texts).toEqual(['{"type":"pong"}', '{"type":"pong"}']);
  });

  it('answers the bare text ping with the bare text pong', async () => {
    const { token } = await login(server.url, 'ping-text');
    const socket = await open(server.wsUrl, token);
    socket.ws.send('ping');
    await waitFor(() => socket.texts.length === 1, 'the pong');
    expect(socket.texts).toEqual(['pong']);
    // No JSON frame was produced for it.
    expect(socket.frames).toEqual([]);
  });
});

describe('heartbeat (heartbeatMs 200)', () => {
  it('drops a client that sends nothing within about 3 intervals', async () => {
    const server = await ownServer({ heartbeatMs: 200 });
    const { token } = await login(server.url, 'silent-client');
    const socket = await open(server.wsUrl, token);
    const started = Date.now();
    // Expected between 600 and 800 ms; a generous bound keeps this stable on a loaded machine.
    expect(await settlesWithin(socket.closed, 3000)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    // Dropped without a close handshake: the client sees an abnormal closure.
    expect((await socket.closed).code).toBe(1006);
  });

  it('keeps a client that pings every 100 ms connected well past 3 intervals', async () => {
    const server = await ownServer({ heartbeatMs: 200 });
    const { token } = await login(server.url, 'chatty-client');
    const jsonPinger = await open(server.wsUrl, token);
    const textPinger = await open(server.wsUrl, token);
    const timer = setInterval(() => {
      jsonPinger.send({ type: 'ping' });
      textPinger.ws.send('ping');
    }, 100);
    try {
      expect(await settlesWithin(Promise.race([jsonPinger.closed, textPinger.closed]), 1500)).toBe(false);
    } finally {
      clearInterval(timer);
    }
    expect(jsonPinger.ws.readyState).toBe(jsonPinger.ws.OPEN);
    expect(textPinger.ws.readyState).toBe(textPinger.ws.OPEN);
    await settle(jsonPinger);
  });
});

describe('heartbeat after the server was held up', () => {
  it('does not drop a client whose ping arrived while the event loop was blocked', async () => {
    const server = await ownServer({ heartbeatMs: 100 });
    const { token } = await login(server.url, 'patient-client');
    const socket = await open(server.wsUrl, token);
    await settle(socket);
    // The ping reaches the server's socket at once; the server (this process) reads it only after
    // a block of 5 heartbeat intervals, when its sweep is also due.
    socket.ws.send('ping');
    const blockedUntil = Date.now() + 500;
    while (Date.now() < blockedUntil) {
      // Busy: the event loop is held up.
    }
    await waitFor(() => socket.texts.includes('pong'), 'the pong');
    expect(socket.ws.readyState).toBe(socket.ws.OPEN);
    await settle(socket);
    expect(socket.ws.readyState).toBe(socket.ws.OPEN);
  });
});

describe('graceful stop', () => {
  it('closes every open socket with 1001 and stops answering', async () => {
    const server = await ownServer();
    const a = await login(server.url, 'stop-user-a');
    const b = await login(server.url, 'stop-user-b');
    const a1 = await open(server.wsUrl, a.token);
    const a2 = await open(server.wsUrl, a.token);
    const b1 = await open(server.wsUrl, b.token);
    await settle(a1, a2, b1);

    await server.stop();
    for (const socket of [a1, a2, b1]) {
      expect(await socket.closed).toEqual({ code: CLOSE_CODES.goingAway, reason: 'server shutting down' });
    }
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    await expect(TestSocket.open(server.wsUrl, a.token)).rejects.toThrow();
  });

  it('acks every send it stored before closing with 1001, and stores nothing it did not ack', async () => {
    const first = await ownServer();
    const a = await login(first.url, 'inflight-a');
    const b = await login(first.url, 'inflight-b');
    const socket = await open(first.wsUrl, a.token);
    const sendBatch = (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        socket.send({ type: 'send', cid: `c${i}`, to: b.user.id, kind: 'text', body: `m${i} ${'x'.repeat(1000)}` });
      }
    };
    const ackCount = () => socket.frames.filter((frame) => frame.type === 'ack').length;
    sendBatch(0, 300);
    await waitFor(() => ackCount() === 300, 'the first 300 acks');
    // Stop while the next ones are still arriving: some may be handled before the stop began,
    // the rest after it.
    sendBatch(300, 1000);
    await first.stop();
    expect((await socket.closed).code).toBe(CLOSE_CODES.goingAway);
    const acks = socket.frames.flatMap((frame) => (frame.type === 'ack' ? [frame] : []));

    const again = await ownServer({ dataDir: first.dataDir });
    const reader = await open(again.wsUrl, (await login(again.url, 'inflight-b')).token);
    reader.send({ type: 'sync', cursors: {} });
    const { sessions } = await reader.next('sessions');
    const stored = sessions[0]?.lastSeq ?? 0;
    expect(acks.length).toBeGreaterThanOrEqual(300);
    const messages = stored > 0 ? await fullHistory(reader, sessions[0].conv) : [];
    // One connection's frames are handled in order: what was stored is a prefix of what was sent.
    expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: stored }, (_, i) => i + 1));
    expect(messages.map((m) => m.cid)).toEqual(Array.from({ length: stored }, (_, i) => `c${i}`));
    // Every send the server received before stopping was both stored and acked before the
    // 1001; one that arrived later was neither, and the client resends it with the same cid.
    expect(acks.map((ack) => [ack.cid, ack.seq])).toEqual(messages.map((m) => [m.cid, m.seq]));
  });
});
